// SPDX-License-Identifier: Apache-2.0
// The portable CRC-32C (Castagnoli) of the io module: reflected polynomial 0x82F63B78, initial
// value and final xor 0xFFFFFFFF, the checksum of iSCSI, ext4 and LevelDB ("123456789" ->
// 0xE3069283). The one function append_log checksums through: simd::crc32c_extend, in
// src/io/crc32c.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ferrite::io::detail {

/// CRC-32C of `bytes`, continuing from `crc` (the value returned for the preceding bytes, 0 to
/// start): crc32c(b, crc32c(a)) == crc32c(a ++ b). O(n).
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> bytes,
                                   std::uint32_t crc = 0) noexcept;

/// The bit-at-a-time definition, for tests to compare the fast one against. O(8n).
[[nodiscard]] std::uint32_t crc32c_reference(std::span<const std::byte> bytes,
                                             std::uint32_t crc = 0) noexcept;

}  // namespace ferrite::io::detail
