// SPDX-License-Identifier: Apache-2.0
// The scalar target's byte search: portable C++ and libc's memchr (vectorized by libc where
// it can be; the floor on any architecture). Also the reference the vector kernels are
// fuzzed against, so each is the plainest correct loop.
#include <cstring>

#include "kernels.hpp"

namespace ferrite::simd::detail::scalar {

namespace {
constexpr std::size_t not_found = static_cast<std::size_t>(-1);

bool member(const byte_set_tables& s, unsigned char c) noexcept {
  const std::uint8_t* rows = c < 128 ? s.rows_low : s.rows_high;
  return ((rows[c & 15U] >> ((c >> 4U) & 7U)) & 1U) != 0;
}

/// The offset of `found` (a pointer memchr returned) from `p`, or not_found for null.
std::size_t offset_of(const void* found, const unsigned char* p) noexcept {
  if (found == nullptr) return not_found;
  // SAFETY: memchr returned a pointer into the range it searched, which starts at p.
  return static_cast<std::size_t>(static_cast<const unsigned char*>(found) - p);
}
}  // namespace

std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  if (n == 0) return not_found;  // memchr's pointer must be valid even for n == 0
  return offset_of(std::memchr(p, b, n), p);
}

std::size_t find_any_of(const unsigned char* p, std::size_t n, const byte_set_tables& s) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (member(s, p[i])) return i;
  }
  return not_found;
}

std::size_t find_crlf(const unsigned char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  // A '\r' can start a match only where a byte follows it: search [i, n - 1).
  while (n - i >= 2) {
    // SAFETY: i + (n - i - 1) = n - 1 <= n, so memchr reads inside [p, p + n).
    const std::size_t k = offset_of(std::memchr(p + i, '\r', n - i - 1), p + i);
    if (k == not_found) return not_found;
    if (p[i + k + 1] == '\n') return i + k;  // i + k + 1 <= n - 1
    i += k + 1;
  }
  return not_found;
}

std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept {
  std::size_t count = 0;
  for (std::size_t at = 0; count < capacity && at < n; ++count) {
    const std::size_t k = find_crlf(p + at, n - at);
    if (k == not_found) break;
    out[count] = at + k;
    at += k + 2;
  }
  return count;
}

std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += p[i] == b ? 1U : 0U;
  return count;
}

}  // namespace ferrite::simd::detail::scalar
