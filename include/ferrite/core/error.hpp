// SPDX-License-Identifier: Apache-2.0
// ferrite::error: the error type of every std::expected in ferrite. Small and trivially
// copyable (no allocation on the failure path): a code, a static context string naming the
// operation, and two numbers whose meaning the code gives (expected/actual size, the
// offending bits, an errno). message() renders all of it for humans.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ferrite {

/// What went wrong. Stable numeric values: they may be logged and compared across builds.
enum class errc : std::uint8_t {
  ok = 0,
  invalid_argument = 1,     ///< a parameter is outside its domain
  out_of_range = 2,         ///< an index or value outside the valid range
  overflow = 3,             ///< size arithmetic would overflow
  size_mismatch = 4,        ///< a byte range has the wrong length (a: expected, b: actual)
  misaligned = 5,           ///< an address is not aligned (a: required alignment, b: address)
  length_not_multiple = 6,  ///< a length is not a multiple of the element size (a: size, b: length)
  invalid_bits = 7,         ///< undeclared bits set in a flag set (a: the undeclared bits)
  no_memory = 8,            ///< an allocation failed
  would_block = 9,          ///< the operation would block (try_ variants)
  closed = 10,              ///< the channel, queue or socket is closed
  timed_out = 11,
  cancelled = 12,
  parse_error = 13,  ///< malformed input (a: byte offset)
  unsupported = 14,  ///< not available on this platform or kernel
  system = 15,       ///< an OS call failed (a: errno)
};

/// The short description of a code ("size mismatch"); never null.
const char* to_string(errc code) noexcept;

/// An error: code plus context. Construct with the operation's name as `what`.
class error {
 public:
  constexpr error() noexcept = default;
  constexpr explicit error(errc code, const char* what = "", std::uint64_t a = 0,
                           std::uint64_t b = 0) noexcept
      : code_(code), what_(what != nullptr ? what : ""), a_(a), b_(b) {}

  /// An error for a failed OS call, from its errno value.
  static error from_errno(int errno_value, const char* what) noexcept {
    return error(errc::system, what, static_cast<std::uint64_t>(errno_value));
  }

  constexpr errc code() const noexcept { return code_; }
  /// The operation that failed, e.g. "try_cast"; "" when not given.
  constexpr std::string_view what() const noexcept { return what_; }
  /// The code-specific numbers (see errc).
  constexpr std::uint64_t detail_a() const noexcept { return a_; }
  constexpr std::uint64_t detail_b() const noexcept { return b_; }

  /// Human-readable, e.g. "try_cast: size mismatch (expected 8 bytes, got 5)".
  std::string message() const;

  friend constexpr bool operator==(const error& x, const error& y) noexcept {
    return x.code_ == y.code_ && x.a_ == y.a_ && x.b_ == y.b_;
  }
  friend constexpr bool operator==(const error& x, errc c) noexcept { return x.code_ == c; }

 private:
  errc code_ = errc::ok;
  const char* what_ = "";
  std::uint64_t a_ = 0;
  std::uint64_t b_ = 0;
};

}  // namespace ferrite
