// SPDX-License-Identifier: Apache-2.0
// CRC-32C with SSE4.2's crc32 instruction, the avx2 target's kernel and the avx512 target's
// below its folding minimum. crc32 has a latency of three cycles and a throughput of one per
// cycle, so one chain of it runs at a third of the instruction's rate: long inputs are split
// into three blocks whose chains run interleaved, and the three registers are then joined by
// moving the first two forward over the blocks after them, each with one PCLMULQDQ and one
// crc32 (crc32c_math.hpp has the identity). Block sizes step down (4096, 512, 64 bytes) so
// the join, a dozen cycles, stays small against the blocks it joins. Compiled with -msse4.2
// -mpclmul; follows kernels.hpp's rule (no inline functions from standard headers).
#include "crc32c_math.hpp"
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::sse42 {

namespace {

std::uint64_t load64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  // SAFETY: the caller passes 8 readable bytes; x86-64 is little-endian, as the CRC reads.
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

/// The product of a register and a 32-bit multiplier, as the low word of the PCLMULQDQ result
/// (both factors below 2^32: the product fits in 63 bits).
__m128i clmul(std::uint32_t crc, std::uint64_t multiplier) noexcept {
  return _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(crc)),
                              _mm_cvtsi64_si128(static_cast<long long>(multiplier)), 0x00);
}

std::uint32_t crc32_word(std::uint32_t crc, std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(_mm_crc32_u64(crc, word));
}

/// Consumes whole rounds of three `Block`-byte blocks from [p, p + n): crc's chain over the
/// first block, chains from 0 over the other two, joined.
template <std::size_t Block>
void three_way(std::uint32_t& crc, const unsigned char*& p, std::size_t& n) noexcept {
  static_assert(Block % 8 == 0 && Block >= 8);
  constexpr std::uint64_t over_one = crc32c_math::shift_multiplier(Block);
  constexpr std::uint64_t over_two = crc32c_math::shift_multiplier(2 * Block);
  for (; n >= 3 * Block; n -= 3 * Block, p += 3 * Block) {
    std::uint32_t c0 = crc;
    std::uint32_t c1 = 0;
    std::uint32_t c2 = 0;
    for (std::size_t i = 0; i < Block; i += 8) {
      c0 = crc32_word(c0, load64(p + i));
      c1 = crc32_word(c1, load64(p + Block + i));
      c2 = crc32_word(c2, load64(p + 2 * Block + i));
    }
    // crc32 from 0 is linear, so the two moved registers share one reduction.
    const __m128i moved = _mm_xor_si128(clmul(c0, over_two), clmul(c1, over_one));
    crc = crc32_word(0, static_cast<std::uint64_t>(_mm_cvtsi128_si64(moved))) ^ c2;
  }
}

}  // namespace

std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept {
  if (n == 0) return crc;
  three_way<4096>(crc, p, n);
  three_way<512>(crc, p, n);
  three_way<64>(crc, p, n);
  for (; n >= 8; n -= 8, p += 8) crc = crc32_word(crc, load64(p));
  for (; n > 0; --n, ++p) crc = _mm_crc32_u8(crc, *p);
  return crc;
}

}  // namespace ferrite::simd::detail::sse42
