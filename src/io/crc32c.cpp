// SPDX-License-Identifier: Apache-2.0
// Portable CRC-32C, slicing-by-8 (Intel's "slicing-by-8" technique: eight table lookups per
// eight input bytes). See include/ferrite/io/detail/crc32c.hpp for the MERGE NOTE: the switch
// to simd::crc32c happens in crc32c() below.
#include "ferrite/io/detail/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace ferrite::io::detail {

namespace {

constexpr std::uint32_t polynomial = 0x82F63B78U;  // Castagnoli, reflected

using table_set = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr table_set make_tables() {
  table_set t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1U) != 0 ? polynomial : 0U);
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s) {
    for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFU];
  }
  return t;
}

constexpr table_set tables = make_tables();

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) noexcept {
  // MERGE NOTE: with ferrite::simd available, this body becomes
  //   return simd::crc32c(bytes, crc);
  std::uint32_t c = ~crc;
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  while (n >= 8) {
    std::uint64_t w = 0;
    // SAFETY: n >= 8 bytes remain at p; copying them into an integer is valid.
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = std::byteswap(w);
    w ^= c;  // little-endian: the low 32 bits are the first four bytes
    c = tables[7][w & 0xFFU] ^ tables[6][(w >> 8) & 0xFFU] ^ tables[5][(w >> 16) & 0xFFU] ^
        tables[4][(w >> 24) & 0xFFU] ^ tables[3][(w >> 32) & 0xFFU] ^ tables[2][(w >> 40) & 0xFFU] ^
        tables[1][(w >> 48) & 0xFFU] ^ tables[0][w >> 56];
    p += 8;  // SAFETY: 8 of the n remaining bytes were consumed
    n -= 8;
  }
  for (std::size_t i = 0; i < n; ++i) {
    c = (c >> 8) ^ tables[0][(c ^ std::to_integer<std::uint32_t>(p[i])) & 0xFFU];
  }
  return ~c;
}

std::uint32_t crc32c_reference(std::span<const std::byte> bytes, std::uint32_t crc) noexcept {
  std::uint32_t c = ~crc;
  for (const std::byte b : bytes) {
    c ^= std::to_integer<std::uint32_t>(b);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1U) != 0 ? polynomial : 0U);
  }
  return ~c;
}

}  // namespace ferrite::io::detail
