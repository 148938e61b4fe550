// SPDX-License-Identifier: Apache-2.0
// io's CRC-32C: simd::crc32c (hardware instructions, dispatched at run time), and the
// bit-at-a-time definition the tests and fuzzers compare it against.
#include "ferrite/io/detail/crc32c.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferrite/simd/crc32c.hpp"

namespace ferrite::io::detail {

namespace {

constexpr std::uint32_t polynomial = 0x82F63B78U;  // Castagnoli, reflected

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) noexcept {
  return simd::crc32c_extend(crc, bytes);  // hardware CRC32 / VPCLMULQDQ, dispatched
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
