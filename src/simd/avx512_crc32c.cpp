// SPDX-License-Identifier: Apache-2.0
// CRC-32C by VPCLMULQDQ folding, the avx512 target's kernel on CPUs with VPCLMULQDQ. From
// 256 bytes, four 512-bit accumulators hold the message's first 256 bytes (the initial
// register xored into its first four); each step moves every 128-bit lane forward over 2048
// bits with two carry-less multiplications and xors in the next 256 bytes; the accumulators
// are then folded into one. From 64 bytes, one accumulator starts with the first 64. The
// remaining 64-byte blocks are folded into it, its four lanes folded into one 128-bit value,
// and that value reduced to the register by two crc32 instructions (crc32 of a word from
// register r is (r x^64 + word) x^32 mod P, which is the reduction itself). The tail under 64
// bytes and inputs under 64 bytes go to the crc32 instruction kernel (sse42).
// crc32c_math.hpp derives the multipliers. Compiled with the avx512 flags plus -mvpclmulqdq
// -mpclmul -msse4.2; follows kernels.hpp's rule (no inline functions from standard headers).
#include "crc32c_math.hpp"
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::avx512 {

namespace {

constexpr std::size_t fold_minimum = 64;

/// Lane multipliers that move every 128-bit lane forward over `bits` bits.
__m512i fold_by(std::uint64_t low, std::uint64_t high) noexcept {
  return _mm512_set_epi64(static_cast<long long>(high), static_cast<long long>(low),
                          static_cast<long long>(high), static_cast<long long>(low),
                          static_cast<long long>(high), static_cast<long long>(low),
                          static_cast<long long>(high), static_cast<long long>(low));
}

template <std::uint64_t Bits>
__m512i fold_multipliers() noexcept {
  return fold_by(crc32c_math::fold_low(Bits), crc32c_math::fold_high(Bits));
}

/// x moved forward by the multipliers k, xor `next`.
__m512i fold(__m512i x, __m512i k, __m512i next) noexcept {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                   _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96);
}

__m512i load(const unsigned char* p) noexcept {
  // SAFETY: the caller passes 64 readable bytes at p.
  return _mm512_loadu_si512(p);
}

}  // namespace

std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept {
  if (n < fold_minimum) return sse42::crc32c_update(crc, p, n);
  const __m512i initial = _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(crc)));
  const __m512i by_64_bytes = fold_multipliers<512>();
  __m512i x;
  if (n >= 256) {
    const __m512i by_256_bytes = fold_multipliers<2048>();
    __m512i x0 = _mm512_xor_si512(load(p), initial);
    __m512i x1 = load(p + 64);
    __m512i x2 = load(p + 128);
    __m512i x3 = load(p + 192);
    p += 256;
    n -= 256;
    for (; n >= 256; n -= 256, p += 256) {
      x0 = fold(x0, by_256_bytes, load(p));
      x1 = fold(x1, by_256_bytes, load(p + 64));
      x2 = fold(x2, by_256_bytes, load(p + 128));
      x3 = fold(x3, by_256_bytes, load(p + 192));
    }
    x = fold(x0, fold_multipliers<1536>(),
             fold(x1, fold_multipliers<1024>(), fold(x2, by_64_bytes, x3)));
  } else {
    x = _mm512_xor_si512(load(p), initial);
    p += 64;
    n -= 64;
  }
  for (; n >= 64; n -= 64, p += 64) x = fold(x, by_64_bytes, load(p));
  // Lanes 0..2 move forward over 384, 256 and 128 bits onto lane 3, which stays.
  const __m512i to_last =
      _mm512_set_epi64(0, 0, static_cast<long long>(crc32c_math::fold_high(128)),
                       static_cast<long long>(crc32c_math::fold_low(128)),
                       static_cast<long long>(crc32c_math::fold_high(256)),
                       static_cast<long long>(crc32c_math::fold_low(256)),
                       static_cast<long long>(crc32c_math::fold_high(384)),
                       static_cast<long long>(crc32c_math::fold_low(384)));
  const __m512i lanes = fold(x, to_last, _mm512_maskz_mov_epi64(0xc0, x));
  const __m256i halves =
      _mm256_xor_si256(_mm512_castsi512_si256(lanes), _mm512_extracti64x4_epi64(lanes, 1));
  const __m128i z =
      _mm_xor_si128(_mm256_castsi256_si128(halves), _mm256_extracti128_si256(halves, 1));
  crc = static_cast<std::uint32_t>(
      _mm_crc32_u64(0, static_cast<std::uint64_t>(_mm_cvtsi128_si64(z))));
  crc = static_cast<std::uint32_t>(
      _mm_crc32_u64(crc, static_cast<std::uint64_t>(_mm_extract_epi64(z, 1))));
  return sse42::crc32c_update(crc, p, n);
}

}  // namespace ferrite::simd::detail::avx512
