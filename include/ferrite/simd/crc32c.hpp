// SPDX-License-Identifier: Apache-2.0
// CRC-32C (Castagnoli; iSCSI, ext4, SCTP, RocksDB, ferrite-kv's log): the finished CRC of a
// byte range, its extension by more bytes, and the combination of two CRCs computed apart.
// Bit-exact with the reflected Castagnoli definition (polynomial 0x1EDC6F41, reflected
// 0x82F63B78, initial value and final xor 0xFFFFFFFF): crc32c("123456789") == 0xE3069283.
// The avx2 target runs SSE4.2's crc32 instruction on three interleaved streams joined with
// PCLMULQDQ; the avx512 target folds 256 bytes per step with VPCLMULQDQ where the CPU has it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ferrite::simd {

namespace detail {
// The dispatched entry point (src/simd/dispatch.cpp): the finished CRC of `crc`'s data
// followed by `size` bytes at `data`.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept;
}  // namespace detail

/// The CRC-32C of `bytes`, finished (initial value and final xor applied): the value iSCSI,
/// ext4 and the published check values use. crc32c of no bytes is 0. O(n).
[[nodiscard]] inline std::uint32_t crc32c(std::span<const std::byte> bytes) noexcept {
  return detail::crc32c_extend(0, bytes.data(), bytes.size());
}
/// crc32c on characters: crc32c("123456789") == 0xE3069283.
[[nodiscard]] inline std::uint32_t crc32c(std::string_view text) noexcept {
  return detail::crc32c_extend(0, text.data(), text.size());
}

/// The CRC-32C of A followed by `bytes`, given `crc` == crc32c(A): so that
/// crc32c_extend(crc32c(a), b) == crc32c(a + b), and crc32c(x) == crc32c_extend(0, x). O(n).
[[nodiscard]] inline std::uint32_t crc32c_extend(std::uint32_t crc,
                                                 std::span<const std::byte> bytes) noexcept {
  return detail::crc32c_extend(crc, bytes.data(), bytes.size());
}
/// crc32c_extend on characters.
[[nodiscard]] inline std::uint32_t crc32c_extend(std::uint32_t crc,
                                                 std::string_view text) noexcept {
  return detail::crc32c_extend(crc, text.data(), text.size());
}

/// The CRC-32C of A followed by B, given crc1 == crc32c(A), crc2 == crc32c(B) and len2 ==
/// B's length in bytes: crc1 multiplied by x^(8 len2) modulo the polynomial, xor crc2. For
/// CRCs computed in parallel or stored per block. O(log len2) carry-less multiplications of
/// 32-bit values (portable code, not dispatched: it costs about a microsecond at most).
[[nodiscard]] std::uint32_t crc32c_combine(std::uint32_t crc1, std::uint32_t crc2,
                                           std::uint64_t len2) noexcept;

}  // namespace ferrite::simd
