// SPDX-License-Identifier: Apache-2.0
// The byte format of io::append_log and its scanner, apart from the file handling so that
// the fuzzer and the tests can drive the scanner over arbitrary bytes.
//
//   file   := file_header record*
//   file_header (8 bytes) := "FRTLOG" 0x00 0x01      magic, then format version 1
//   record := length:le32  crc:le32  payload[length]
//   crc    := crc32c(length's 4 bytes ++ payload)     (covers the length too)
//
// A scan walks the records from the header on and stops at the first that is not intact:
//   torn     the frame header or payload runs past the end of the bytes (a cut write)
//   too_long the length exceeds the configured maximum (a corrupt length, never allocated)
//   checksum the crc does not match (a corrupt byte, or a torn write that left old bytes)
// All-zero bytes (a preallocated or zero-filled tail) fail the checksum: crc32c of four zero
// bytes is not zero.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ferrite::io {

/// Why a log scan stopped before the end of the file.
enum class log_damage : std::uint8_t {
  none = 0,  ///< every byte belongs to an intact record
  torn,      ///< the last record is incomplete (a cut write)
  too_long,  ///< a length field exceeds the maximum record size
  checksum,  ///< a record's crc32c does not match its bytes
};

/// "none", "torn", "too long", "checksum mismatch".
[[nodiscard]] const char* to_string(log_damage d) noexcept;

namespace detail {

inline constexpr std::array<std::byte, 8> log_magic{std::byte{'F'}, std::byte{'R'}, std::byte{'T'},
                                                    std::byte{'L'}, std::byte{'O'}, std::byte{'G'},
                                                    std::byte{0},   std::byte{1}};
inline constexpr std::size_t log_header_size = log_magic.size();
inline constexpr std::size_t frame_header_size = 8;  // length + crc

/// The outcome of a scan. Offsets count from the start of the scanned bytes.
struct log_scan {
  std::size_t valid_end = 0;  ///< end of the last intact record: where the log continues
  std::uint64_t records = 0;  ///< intact records seen (and passed to the callback)
  log_damage damage = log_damage::none;
};

/// Called once per intact record with its payload.
using log_record_fn = void (*)(void* context, std::span<const std::byte> payload);

/// Scans `body` (the bytes after the file header) as records, calling fn(context, payload)
/// for each intact one in order, and stops at the first damaged one. Records longer than
/// `max_record` count as damaged (too_long). O(body.size()); never reads outside `body`.
log_scan scan_log(std::span<const std::byte> body, std::size_t max_record, log_record_fn fn,
                  void* context);

/// Writes the 8-byte frame header of `payload` into `out`.
void encode_frame_header(std::span<const std::byte> payload,
                         std::span<std::byte, frame_header_size> out) noexcept;

}  // namespace detail
}  // namespace ferrite::io
