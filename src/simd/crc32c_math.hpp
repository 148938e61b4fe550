// SPDX-License-Identifier: Apache-2.0
// CRC-32C arithmetic evaluated at compile time: powers of x modulo the polynomial and the
// PCLMULQDQ multipliers derived from them, so that no kernel carries an unexplained constant.
// consteval throughout: nothing here is ever emitted as code, so the per-ISA units may
// include it (see kernels.hpp's rule).
//
// Representation (docs/simd.md derives the formulas). The CRC is reflected: a register value
// r stands for the polynomial sum r_i x^(31-i) (bit 31 is x^0), and a 64-bit word loaded
// little-endian from the message for sum w_j x^(63-j) (bit 0 of the first byte is its highest
// term). PCLMULQDQ of two such words gives their product times x in the same convention. So
// to multiply a register r by x^e modulo P with one PCLMULQDQ and one crc32 instruction,
//   crc32_u64(0, clmul(r, reflect32(x^(e - 33) mod P)))   == r x^e mod P,
// and to move a 128-bit lane (low word L, high word H) forward over D message bits,
//   clmul(L, reflect32(x^(D + 31) mod P)) ^ clmul(H, reflect32(x^(D - 33) mod P)).
#pragma once

#include <cstdint>

namespace ferrite::simd::detail::crc32c_math {

/// The Castagnoli polynomial with its x^32 term, in normal order (bit d is x^d).
inline constexpr std::uint64_t polynomial = 0x1'1EDC'6F41;
/// The same polynomial without x^32, reflected (bit 31 is x^0): the table and bitwise form.
inline constexpr std::uint32_t polynomial_reflected = 0x82F6'3B78;

/// x^e mod P in normal order (bit d is x^d). O(e): only for the constants below.
consteval std::uint32_t x_pow_mod(std::uint64_t e) {
  std::uint64_t v = 1;
  for (std::uint64_t i = 0; i < e; ++i) {
    v <<= 1U;
    if ((v >> 32U) != 0) v ^= polynomial;
  }
  return static_cast<std::uint32_t>(v);
}

/// The bits of `v` in reverse order: normal order to reflected and back.
consteval std::uint32_t reflect32(std::uint32_t v) {
  std::uint32_t r = 0;
  for (unsigned i = 0; i < 32; ++i) r |= ((v >> i) & 1U) << (31U - i);
  return r;
}

/// The multiplier that moves a register forward over `bytes` message bytes (r x^(8 bytes)),
/// for crc32_u64(0, clmul(r, k)). Preconditions: bytes >= 5.
consteval std::uint64_t shift_multiplier(std::uint64_t bytes) {
  return reflect32(x_pow_mod(8 * bytes - 33));
}

/// The multipliers that move a 128-bit lane forward over `bits` message bits: the low word's
/// (fold_low) and the high word's (fold_high). Preconditions: bits >= 64, a multiple of 64.
consteval std::uint64_t fold_low(std::uint64_t bits) { return reflect32(x_pow_mod(bits + 31)); }
consteval std::uint64_t fold_high(std::uint64_t bits) { return reflect32(x_pow_mod(bits - 33)); }

}  // namespace ferrite::simd::detail::crc32c_math
