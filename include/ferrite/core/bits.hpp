// SPDX-License-Identifier: Apache-2.0
// Bit tricks on unsigned integers: branch-free next_pow2, is_pow2, align_up/align_down (and a
// checked align_up), log2_floor/log2_ceil, and popcount helpers (parity, isolate_lowest,
// clear_lowest, low_mask). Every function is constexpr, noexcept, total over its documented
// domain, and computes in T itself: the integer promotions of uint8_t/uint16_t are undone
// explicitly, so results wrap modulo 2^digits exactly as documented and never widen.
#pragma once

#include <bit>
#include <concepts>
#include <limits>
#include <optional>
#include <type_traits>

#include "ferrite/core/contract.hpp"

namespace ferrite {

namespace detail {
template <class T>
inline constexpr bool is_character_type =
    std::same_as<T, char> || std::same_as<T, wchar_t> || std::same_as<T, char8_t> ||
    std::same_as<T, char16_t> || std::same_as<T, char32_t>;

// Index of the highest set bit of (x | 1), so 0 for both 0 and 1. The operand is never 0,
// which lets the compiler emit a bare bsr/lzcnt: std::countl_zero(0) costs a test and
// branch on targets without lzcnt (baseline x86-64).
// (digits - 1) ^ clz equals (digits - 1) - clz for clz in [0, digits - 1] (digits is a power
// of two), and folds with the xor inside x86's clz-from-bsr into the bsr alone.
template <class T>
constexpr int highest_bit_or_zero(T x) noexcept {
  return std::countl_zero(static_cast<T>(x | 1U)) ^ (std::numeric_limits<T>::digits - 1);
}
}  // namespace detail

/// An unsigned integer type in the arithmetic sense: unsigned char (std::uint8_t) through
/// unsigned long long, without cv-qualifiers. `bool` and the character types (char, wchar_t,
/// char8_t, char16_t, char32_t) are excluded: they are not numbers, exactly as for
/// std::bit_ceil and friends.
template <class T>
concept unsigned_integer =
    std::unsigned_integral<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
    !std::same_as<T, bool> && !detail::is_character_type<T>;

/// Number of value bits of T (8 for std::uint8_t).
template <unsigned_integer T>
inline constexpr int digits_v = std::numeric_limits<T>::digits;

/// The largest power of two representable in T (0x80 for std::uint8_t).
template <unsigned_integer T>
inline constexpr T max_pow2_v = static_cast<T>(T{1} << (digits_v<T> - 1));

/// True when `x` is a power of two. 0 is not a power of two.
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr bool is_pow2(T x) noexcept {
  return (x != 0) & (static_cast<T>(x & static_cast<T>(x - 1U)) == 0);
}

/// The smallest power of two >= `x`, computed without branches.
/// Edge cases (decided, total): `next_pow2(0) == 1`; for x > max_pow2_v<T> the result is not
/// representable and wraps to 0 (where std::bit_ceil is undefined).
/// Complexity: O(1): one bsr/lzcnt, two shifts, no branch.
template <unsigned_integer T>
[[nodiscard]] constexpr T next_pow2(T x) noexcept {
  // below = x - 1 for x >= 1 and 0 for x == 0: every x <= 1 then shares below == 0.
  const auto below = static_cast<T>(x - static_cast<T>(x != 0));
  // For below >= 1, 2 << highest_bit(below) is the answer; past max_pow2 the shift count is
  // digits - 1 (in range) and the bit leaves T: the documented wrap to 0, no UB. For
  // below == 0 it gives 2, and subtracting 1 makes it 1 (cheaper than a second shift).
  const auto up = static_cast<T>(T{2} << detail::highest_bit_or_zero(below));
  return static_cast<T>(up - static_cast<T>(below == 0));
}

/// `x` rounded up to a multiple of `alignment`. Wraps modulo 2^digits when the result is not
/// representable (use checked_align_up to detect that). Only `x` decides T: the alignment
/// converts to it, so `align_up(std::uintptr_t{13}, 8)` compiles (in align_down and
/// checked_align_up too).
/// Preconditions: `alignment` is a power of two (FERRITE_DEBUG_ASSERT).
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr T align_up(T x, std::type_identity_t<T> alignment) noexcept {
  FERRITE_DEBUG_ASSERT(is_pow2(alignment), "alignment must be a power of two");
  const auto mask = static_cast<T>(alignment - 1U);
  return static_cast<T>(static_cast<T>(x + mask) & static_cast<T>(~mask));
}

/// `x` rounded down to a multiple of `alignment`. Never overflows.
/// Preconditions: `alignment` is a power of two (FERRITE_DEBUG_ASSERT).
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr T align_down(T x, std::type_identity_t<T> alignment) noexcept {
  FERRITE_DEBUG_ASSERT(is_pow2(alignment), "alignment must be a power of two");
  return static_cast<T>(x & static_cast<T>(~static_cast<T>(alignment - 1U)));
}

/// `x` rounded up to a multiple of `alignment`, or std::nullopt when that multiple is not
/// representable in T.
/// Preconditions: `alignment` is a power of two (FERRITE_DEBUG_ASSERT).
/// Complexity: O(1).
template <unsigned_integer T>
[[nodiscard]] constexpr std::optional<T> checked_align_up(
    T x, std::type_identity_t<T> alignment) noexcept {
  const T up = align_up(x, alignment);
  // Without overflow up >= x; with it, up <= x + alignment - 1 - 2^digits < x.
  if (up < x) {
    return std::nullopt;
  }
  return up;
}

/// floor(log2(x)) as an int: the index of the highest set bit. `log2_floor(0) == -1`
/// (decided: the only value with no set bit; callers that exclude 0 never see it).
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr int log2_floor(T x) noexcept {
  return detail::highest_bit_or_zero(x) - static_cast<int>(x == 0);
}

/// ceil(log2(x)) as an int: the exponent of next_pow2(x) for x <= max_pow2_v<T>, and
/// digits_v<T> above it. `log2_ceil(0) == log2_ceil(1) == 0` (decided).
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr int log2_ceil(T x) noexcept {
  const auto below = static_cast<T>(x - static_cast<T>(x != 0));
  return detail::highest_bit_or_zero(below) + static_cast<int>(below != 0);
}

/// Number of set bits.
template <unsigned_integer T>
[[nodiscard]] constexpr int popcount(T x) noexcept {
  return std::popcount(x);
}

/// Parity of the number of set bits: 1 when odd, 0 when even.
template <unsigned_integer T>
[[nodiscard]] constexpr int parity(T x) noexcept {
  return std::popcount(x) & 1;
}

/// The lowest set bit of `x` alone (x & -x); 0 for 0.
template <unsigned_integer T>
[[nodiscard]] constexpr T isolate_lowest(T x) noexcept {
  return static_cast<T>(x & static_cast<T>(static_cast<T>(~x) + 1U));
}

/// `x` without its lowest set bit (x & (x - 1)); 0 for 0.
template <unsigned_integer T>
[[nodiscard]] constexpr T clear_lowest(T x) noexcept {
  return static_cast<T>(x & static_cast<T>(x - 1U));
}

/// A T with its `n` low bits set: low_mask<std::uint8_t>(3) == 0b111. n == 0 gives 0 and
/// n == digits_v<T> gives all ones, without a branch and without an oversized shift.
/// Preconditions: 0 <= n <= digits_v<T> (FERRITE_DEBUG_ASSERT).
/// Complexity: O(1), branch-free.
template <unsigned_integer T>
[[nodiscard]] constexpr T low_mask(int n) noexcept {
  constexpr int digits = digits_v<T>;
  static_assert(std::has_single_bit(static_cast<unsigned>(digits)), "shift masking needs 2^k bits");
  FERRITE_DEBUG_ASSERT(n >= 0 && n <= digits, "n must be in [0, digits]");
  constexpr auto ones = static_cast<T>(~T{0});
  // n in [1, digits]: shift right by digits - n (in [0, digits - 1]). n == 0: the masked
  // shift is 0 and the multiplication by (n != 0) zeroes the result.
  const auto shifted = static_cast<T>(ones >> ((digits - n) & (digits - 1)));
  return static_cast<T>(shifted * static_cast<T>(n != 0));
}

}  // namespace ferrite
