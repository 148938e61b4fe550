// SPDX-License-Identifier: Apache-2.0
// The scalar target's CRC-32C: slicing-by-8 (eight 256-entry tables, generated at compile
// time, eight bytes per step with no carried dependency but the register), and the GF(2)
// arithmetic behind crc32c_combine (multiplication modulo P, powers x^(2^k) by squaring).
#include <array>
#include <bit>
#include <cstring>

#include "crc32c_math.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::scalar {

namespace {

using crc32c_math::polynomial_reflected;

/// table[k][b]: the register after byte b followed by k zero bytes, from register 0.
using slice_tables = std::array<std::array<std::uint32_t, 256>, 8>;

consteval slice_tables make_tables() {
  slice_tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t r = b;
    for (int bit = 0; bit < 8; ++bit)
      r = (r & 1U) != 0 ? (r >> 1U) ^ polynomial_reflected : r >> 1U;
    t[0][b] = r;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8U) ^ t[0][t[k - 1][b] & 0xffU];
  }
  return t;
}

constexpr slice_tables tables = make_tables();

/// Four message bytes as the register sees them: little-endian.
std::uint32_t load_le32(const unsigned char* p) noexcept {
  std::uint32_t v = 0;
  // SAFETY: the caller passes 4 readable bytes; uint32_t is trivially copyable.
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = std::byteswap(v);
  return v;
}

/// a * b modulo P, both reflected (bit 31 is x^0).
std::uint32_t multiply(std::uint32_t a, std::uint32_t b) noexcept {
  std::uint32_t product = 0;
  for (std::uint32_t m = 0x8000'0000U; m != 0; m >>= 1U) {  // a's terms x^0, x^1, ...
    if ((a & m) != 0) product ^= b;
    b = (b & 1U) != 0 ? (b >> 1U) ^ polynomial_reflected : b >> 1U;  // b *= x
  }
  return product;
}

/// powers[k] == x^(2^k) mod P, reflected; 67 entries cover x^(8 n) for any 64-bit n.
using power_table = std::array<std::uint32_t, 67>;

constexpr power_table make_powers() {
  power_table p{};
  p[0] = 0x4000'0000U;  // x^1
  for (std::size_t k = 1; k < p.size(); ++k) {
    // Square by the same loop as multiply(), here at compile time.
    std::uint32_t a = p[k - 1];
    std::uint32_t b = p[k - 1];
    std::uint32_t product = 0;
    for (std::uint32_t m = 0x8000'0000U; m != 0; m >>= 1U) {
      if ((a & m) != 0) product ^= b;
      b = (b & 1U) != 0 ? (b >> 1U) ^ polynomial_reflected : b >> 1U;
    }
    p[k] = product;
  }
  return p;
}

constexpr power_table powers = make_powers();

}  // namespace

std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept {
  for (; n >= 8; n -= 8, p += 8) {
    const std::uint32_t lo = crc ^ load_le32(p);
    const std::uint32_t hi = load_le32(p + 4);
    crc = tables[7][lo & 0xffU] ^ tables[6][(lo >> 8U) & 0xffU] ^ tables[5][(lo >> 16U) & 0xffU] ^
          tables[4][lo >> 24U] ^ tables[3][hi & 0xffU] ^ tables[2][(hi >> 8U) & 0xffU] ^
          tables[1][(hi >> 16U) & 0xffU] ^ tables[0][hi >> 24U];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8U) ^ tables[0][(crc ^ *p) & 0xffU];
  return crc;
}

std::uint32_t crc32c_shift(std::uint32_t crc, std::uint64_t n) noexcept {
  // x^(8 n) is the product of x^(2^(k + 3)) over the set bits k of n.
  for (std::size_t k = 3; n != 0; n >>= 1U, ++k) {
    if ((n & 1U) != 0) crc = multiply(powers[k], crc);
  }
  return crc;
}

}  // namespace ferrite::simd::detail::scalar
