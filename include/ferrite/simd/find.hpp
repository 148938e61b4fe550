// SPDX-License-Identifier: Apache-2.0
// Byte search for protocol parsers: the first occurrence of a byte (find_byte), of any byte of
// a set (find_any_of, with the set prepared once as a byte_set), of the two bytes "\r\n"
// (find_crlf), and the number of occurrences of a byte (count_byte). Each returns an offset
// into its input (npos when there is none) and reads only the input's bytes: no read past the
// end or before the start, whatever the length and alignment (the AVX-512 kernels use masked
// loads for partial vectors, the AVX2 ones copy a partial tail to a local buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ferrite/simd/detail/byte_set_tables.hpp"

namespace ferrite::simd {

/// The offset returned when nothing is found; equal to std::string_view::npos.
inline constexpr std::size_t npos = std::string_view::npos;

/// A set of bytes to search for with find_any_of: any number of members (the kernels'
/// speed does not depend on it beyond three). Build it once, outside the loop that searches:
/// construction is constexpr and costs a pass over the members.
class byte_set {
 public:
  /// The empty set: find_any_of finds nothing.
  constexpr byte_set() noexcept = default;

  /// The set of the bytes of `members` (duplicates are ignored). E.g. byte_set("\r\n $").
  constexpr explicit byte_set(std::string_view members) noexcept {
    for (const char c : members) insert(static_cast<unsigned char>(c));
  }

  /// Adds byte `c` (no effect if it is a member already).
  constexpr void insert(unsigned char c) noexcept {
    if (contains(c)) return;
    std::uint8_t* rows = c < 128 ? tables_.rows_low : tables_.rows_high;
    rows[c & 15U] = static_cast<std::uint8_t>(rows[c & 15U] | (1U << ((c >> 4U) & 7U)));
    if (tables_.size < 3) tables_.first[tables_.size] = c;
    ++tables_.size;
  }

  /// Whether byte `c` is a member.
  [[nodiscard]] constexpr bool contains(unsigned char c) const noexcept {
    const std::uint8_t* rows = c < 128 ? tables_.rows_low : tables_.rows_high;
    return ((rows[c & 15U] >> ((c >> 4U) & 7U)) & 1U) != 0;
  }

  /// The number of distinct members, 0..256.
  [[nodiscard]] constexpr std::size_t size() const noexcept { return tables_.size; }

  /// The tables the kernels read.
  [[nodiscard]] constexpr const detail::byte_set_tables& tables() const noexcept { return tables_; }

 private:
  detail::byte_set_tables tables_{};
};

namespace detail {
// The dispatched entry points (src/simd/dispatch.cpp); the typed overloads below forward.
std::size_t find_byte(const void* data, std::size_t size, unsigned char needle) noexcept;
std::size_t find_any_of(const void* data, std::size_t size, const byte_set& set) noexcept;
std::size_t find_crlf(const void* data, std::size_t size) noexcept;
std::size_t count_byte(const void* data, std::size_t size, unsigned char needle) noexcept;
}  // namespace detail

/// The offset of the first byte of `bytes` equal to `needle`, or npos. Like memchr, with an
/// offset for a result. O(n), reads only `bytes`.
[[nodiscard]] inline std::size_t find_byte(std::span<const std::byte> bytes,
                                           std::byte needle) noexcept {
  return detail::find_byte(bytes.data(), bytes.size(), std::to_integer<unsigned char>(needle));
}
/// find_byte on characters.
[[nodiscard]] inline std::size_t find_byte(std::string_view text, char needle) noexcept {
  return detail::find_byte(text.data(), text.size(), static_cast<unsigned char>(needle));
}

/// The offset of the first byte of `bytes` that is a member of `set`, or npos. Like
/// std::string_view::find_first_of, without the per-call cost of analysing the set. O(n).
[[nodiscard]] inline std::size_t find_any_of(std::span<const std::byte> bytes,
                                             const byte_set& set) noexcept {
  return detail::find_any_of(bytes.data(), bytes.size(), set);
}
/// find_any_of on characters.
[[nodiscard]] inline std::size_t find_any_of(std::string_view text, const byte_set& set) noexcept {
  return detail::find_any_of(text.data(), text.size(), set);
}

/// The offset of the first "\r\n" in `text` (of its '\r'), or npos: the line terminator of
/// RESP, HTTP/1 and SMTP. A '\r' not followed by '\n' is skipped, as is a final lone '\r'.
/// O(n), reads only `text`.
[[nodiscard]] inline std::size_t find_crlf(std::string_view text) noexcept {
  return detail::find_crlf(text.data(), text.size());
}
/// find_crlf on bytes.
[[nodiscard]] inline std::size_t find_crlf(std::span<const std::byte> bytes) noexcept {
  return detail::find_crlf(bytes.data(), bytes.size());
}

/// The number of bytes of `bytes` equal to `needle`. O(n).
[[nodiscard]] inline std::size_t count_byte(std::span<const std::byte> bytes,
                                            std::byte needle) noexcept {
  return detail::count_byte(bytes.data(), bytes.size(), std::to_integer<unsigned char>(needle));
}
/// count_byte on characters.
[[nodiscard]] inline std::size_t count_byte(std::string_view text, char needle) noexcept {
  return detail::count_byte(text.data(), text.size(), static_cast<unsigned char>(needle));
}

}  // namespace ferrite::simd
