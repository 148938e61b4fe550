// SPDX-License-Identifier: Apache-2.0
// Byte search for protocol parsers: the first occurrence of a byte (find_byte), of any byte of
// a set (find_any_of, with the set prepared once as a byte_set), of the two bytes "\r\n"
// (find_crlf), and the number of occurrences of a byte (count_byte). Each returns an offset
// into its input (npos when there is none) and reads only the input's bytes: no read past the
// end or before the start, whatever the length and alignment (the AVX-512 kernels use masked
// loads for partial vectors, the AVX2 ones copy a partial tail to a local buffer).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
std::size_t find_all_crlf(const void* data, std::size_t size, std::size_t* out,
                          std::size_t capacity) noexcept;
std::size_t count_byte(const void* data, std::size_t size, unsigned char needle) noexcept;

/// Bit 7 of byte k is set where p[k] == '\r' and p[k + 1] == '\n', k < 8; exact for the
/// lowest such k (the zero-byte test's borrow may set bits above it). Little-endian words.
/// Preconditions: 9 readable bytes at p.
[[nodiscard]] inline std::uint64_t crlf_bits(const unsigned char* p) noexcept {
  constexpr std::uint64_t ones = 0x0101'0101'0101'0101U;
  std::uint64_t here = 0;
  std::uint64_t next = 0;
  // SAFETY: bytes [0, 8) and [1, 9) of p, readable by the precondition.
  std::memcpy(&here, p, sizeof(here));
  std::memcpy(&next, p + 1, sizeof(next));
  const std::uint64_t t = (here ^ (ones * '\r')) | (next ^ (ones * '\n'));  // 0 where matched
  return (t - ones) & ~t & (ones * 0x80U);
}

/// find_crlf with its first 16 positions tested inline (two words, no call): protocol lines
/// are mostly that short, and a parser's next search waits for this one's result, so the
/// dispatched kernel's call and vector setup would be most of the cost.
[[nodiscard]] inline std::size_t find_crlf_inline(const void* data, std::size_t size) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (size >= 17) {
      const auto* p = static_cast<const unsigned char*>(data);
      // SAFETY: size >= 17: the 9 bytes from p + 8 are in the input.
      const std::uint64_t low = crlf_bits(p);
      const std::uint64_t high = crlf_bits(p + 8);
      if ((low | high) != 0) {  // one branch, whichever word holds it (a select, not a jump)
        const int bit = low != 0 ? std::countr_zero(low) : 64 + std::countr_zero(high);
        return static_cast<std::size_t>(bit) / 8;
      }
      // Positions 0..15 are ruled out: the rest starts at 16.
      const std::size_t r = find_crlf(p + 16, size - 16);
      return r == npos ? npos : r + 16;
    }
  }
  return find_crlf(data, size);
}
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
/// O(n), reads only `text`. The first 16 positions are tested inline (portable word
/// arithmetic), the rest by the dispatched kernel.
[[nodiscard]] inline std::size_t find_crlf(std::string_view text) noexcept {
  return detail::find_crlf_inline(text.data(), text.size());
}
/// find_crlf on bytes.
[[nodiscard]] inline std::size_t find_crlf(std::span<const std::byte> bytes) noexcept {
  return detail::find_crlf_inline(bytes.data(), bytes.size());
}

/// The offsets of the "\r\n"s of `text` (of their '\r'), in order, written to `out` until it
/// is full; returns how many were written. All the line ends of a receive buffer in one pass:
/// a vector of text yields the positions of every line end in it at once, so the cost per
/// line is a bit-scan, where a find_crlf per line waits for each search's result before the
/// next can start. When the result equals out.size() there may be more: continue with
/// text.substr(out.back() + 2), offsets relative to it. O(n), reads only `text`.
[[nodiscard]] inline std::size_t find_all_crlf(std::string_view text,
                                               std::span<std::size_t> out) noexcept {
  return detail::find_all_crlf(text.data(), text.size(), out.data(), out.size());
}
/// find_all_crlf on bytes.
[[nodiscard]] inline std::size_t find_all_crlf(std::span<const std::byte> bytes,
                                               std::span<std::size_t> out) noexcept {
  return detail::find_all_crlf(bytes.data(), bytes.size(), out.data(), out.size());
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
