// SPDX-License-Identifier: Apache-2.0
// flags<E>: a type-safe set of bit flags over an enum class, like Rust's bitflags. An enum
// opts in by declaring, next to itself, a consteval `ferrite_flags(E)` (found by ADL) that
// lists its flags with their names; flags<E> then offers set algebra that never leaves the
// declared bits, iteration over the flags present, "READ|WRITE" rendering, and checked
// (from_bits) or truncating (from_bits_truncate) conversion from raw bits.
//
// ```cpp
// namespace app {
// enum class perm : std::uint8_t { read = 1, write = 2, exec = 4, read_write = 3 };
// consteval auto ferrite_flags(perm) {
//   using ferrite::flag_def;
//   return std::array{flag_def{perm::read, "READ"}, flag_def{perm::write, "WRITE"},
//                     flag_def{perm::exec, "EXEC"},
//                     flag_def{perm::read_write, "READ_WRITE"}};  // a composite
// }
// FERRITE_FLAG_OPERATORS(perm);  // perm::read | perm::write is a flags<perm>
// }  // namespace app
//
// ferrite::flags<app::perm> p = app::perm::read | app::perm::write;
// p.to_string();                                  // "READ|WRITE"
// for (app::perm f : ~p) { ... }                  // app::perm::exec
// auto q = ferrite::flags<app::perm>::from_bits(0x80);  // error: invalid_bits, detail_a 0x80
// ```
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <expected>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>

#include "ferrite/core/bits.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/error.hpp"

namespace ferrite {

/// One named flag (or named combination of flags) of a flag enum, as listed by the enum's
/// `ferrite_flags` function. `value` must be nonzero; `name` non-empty, unique among the
/// enum's definitions and free of '|'.
template <class E>
struct flag_def {
  E value;
  std::string_view name;
};
template <class E>
flag_def(E, std::string_view) -> flag_def<E>;

namespace detail {
template <class T>
struct flag_def_array : std::false_type {};
template <class E, std::size_t N>
struct flag_def_array<std::array<flag_def<E>, N>> : std::bool_constant<(N > 0)> {
  using enum_type = E;
};

template <class E>
concept declares_flags =
    requires { ferrite_flags(E{}); } &&
    flag_def_array<std::remove_cvref_t<decltype(ferrite_flags(E{}))>>::value &&
    std::same_as<
        typename flag_def_array<std::remove_cvref_t<decltype(ferrite_flags(E{}))>>::enum_type, E>;
}  // namespace detail

/// An enum usable with flags<E>: a scoped enum with an unsigned underlying type (so bits()
/// and from_bits() never meet a sign bit) and a `consteval auto ferrite_flags(E)` returning
/// a non-empty `std::array<flag_def<E>, N>`, declared in E's namespace right after E.
template <class E>
concept flag_enum = std::is_scoped_enum_v<E> && unsigned_integer<std::underlying_type_t<E>> &&
                    detail::declares_flags<E>;

namespace detail {
/// The declaration of a flag enum, digested at compile time. A definition is *composite*
/// when it is the union of the other definitions whose bits it strictly contains
/// (READ_WRITE = READ | WRITE); the others are *primary*. Iteration and to_string() use the
/// primary flags only, in declaration order.
template <class Bits, std::size_t N>
struct flag_table {
  std::array<Bits, N> primary{};  ///< primary values; the first `count` entries are used
  std::array<std::string_view, N> names{};
  std::size_t count = 0;
  Bits all = 0;  ///< union of every definition
  bool nonzero = true;
  bool names_valid = true;  ///< non-empty, no '|'
  bool names_unique = true;
  bool disjoint = true;  ///< primary flags share no bit
};

template <class Bits>
consteval bool strictly_inside(Bits inner, Bits outer) {
  return inner != outer && static_cast<Bits>(inner & static_cast<Bits>(~outer)) == 0;
}

template <class E, std::size_t N>
consteval auto make_flag_table(const std::array<flag_def<E>, N>& defs) {
  using bits = std::underlying_type_t<E>;
  flag_table<bits, N> t;
  for (std::size_t i = 0; i < N; ++i) {
    const auto v = static_cast<bits>(defs[i].value);
    t.nonzero = t.nonzero && v != 0;
    t.names_valid =
        t.names_valid && !defs[i].name.empty() && defs[i].name.find('|') == std::string_view::npos;
    bits covered = 0;
    for (std::size_t j = 0; j < N; ++j) {
      const auto w = static_cast<bits>(defs[j].value);
      t.names_unique = t.names_unique && (i == j || defs[i].name != defs[j].name);
      if (strictly_inside(w, v)) {
        covered = static_cast<bits>(covered | w);
      }
    }
    t.all = static_cast<bits>(t.all | v);
    if (covered == v) {
      continue;  // composite
    }
    for (std::size_t k = 0; k < t.count; ++k) {
      t.disjoint = t.disjoint && static_cast<bits>(t.primary[k] & v) == 0;
    }
    t.primary[t.count] = v;
    t.names[t.count] = defs[i].name;
    ++t.count;
  }
  return t;
}

template <class E>
inline constexpr auto flag_table_of = make_flag_table(ferrite_flags(E{}));
}  // namespace detail

/// A set of the flags declared for E. Invariant: bits() holds declared bits only, so
/// complement and all() are relative to the declaration, never to the underlying type.
/// Every operation is constexpr, noexcept (except to_string) and O(1), except iteration,
/// to_string and construction from a list, which are O(number of definitions).
template <flag_enum E>
class flags {
  static constexpr const auto& table_ = detail::flag_table_of<E>;
  static_assert(table_.nonzero, "ferrite_flags: every flag value must be nonzero");
  static_assert(table_.names_valid, "ferrite_flags: names must be non-empty and without '|'");
  static_assert(table_.names_unique, "ferrite_flags: two definitions share a name");
  static_assert(table_.disjoint,
                "ferrite_flags: two non-composite flags share a bit (a composite must be the "
                "union of the flags it contains)");

 public:
  using enum_type = E;
  using bits_type = std::underlying_type_t<E>;
  class iterator;

  /// The empty set.
  constexpr flags() noexcept = default;
  /// The set holding `flag` (implicit, so an E can be passed where flags<E> is expected).
  /// Preconditions: `flag` has no undeclared bit (FERRITE_DEBUG_ASSERT; they are dropped).
  constexpr flags(E flag) noexcept : bits_(truncate(static_cast<bits_type>(flag))) {
    FERRITE_DEBUG_ASSERT(bits_ == static_cast<bits_type>(flag), "undeclared bits in flag");
  }
  /// The union of `list`: flags<perm>{perm::read, perm::write}.
  constexpr flags(std::initializer_list<E> list) noexcept {
    for (const E flag : list) {
      *this |= flags(flag);
    }
  }

  /// Every declared flag.
  [[nodiscard]] static constexpr flags all_flags() noexcept { return flags(table_.all, raw{}); }
  /// The set with exactly `bits`, or errc::invalid_bits with detail_a() = the bits of
  /// `bits` that no definition declares.
  [[nodiscard]] static constexpr std::expected<flags, error> from_bits(bits_type bits) noexcept {
    const auto undeclared = static_cast<bits_type>(bits & static_cast<bits_type>(~table_.all));
    if (undeclared != 0) {
      return std::unexpected(error(errc::invalid_bits, "flags::from_bits", undeclared));
    }
    return flags(bits, raw{});
  }
  /// The set with the declared bits of `bits`; the others are dropped.
  [[nodiscard]] static constexpr flags from_bits_truncate(bits_type bits) noexcept {
    return flags(truncate(bits), raw{});
  }

  /// The raw bits (a subset of all_flags().bits()).
  [[nodiscard]] constexpr bits_type bits() const noexcept { return bits_; }
  /// True when every bit of `other` is in this set (so always for an empty `other`).
  [[nodiscard]] constexpr bool contains(flags other) const noexcept {
    return static_cast<bits_type>(other.bits_ & static_cast<bits_type>(~bits_)) == 0;
  }
  /// True when the two sets share a bit.
  [[nodiscard]] constexpr bool intersects(flags other) const noexcept {
    return static_cast<bits_type>(bits_ & other.bits_) != 0;
  }
  /// True when some flag is set.
  [[nodiscard]] constexpr bool any() const noexcept { return bits_ != 0; }
  /// True when every declared flag is set.
  [[nodiscard]] constexpr bool all() const noexcept { return bits_ == table_.all; }
  /// True when no flag is set.
  [[nodiscard]] constexpr bool none() const noexcept { return bits_ == 0; }

  constexpr flags& insert(flags other) noexcept { return *this |= other; }
  constexpr flags& remove(flags other) noexcept { return *this -= other; }
  constexpr flags& toggle(flags other) noexcept { return *this ^= other; }
  /// insert(other) when `value`, else remove(other).
  constexpr flags& set(flags other, bool value) noexcept {
    return value ? insert(other) : remove(other);
  }

  /// The primary flags present (composite definitions skipped), in declaration order: a
  /// forward range of E.
  [[nodiscard]] constexpr iterator begin() const noexcept { return iterator(bits_, 0); }
  [[nodiscard]] constexpr iterator end() const noexcept { return iterator(bits_, table_.count); }

  /// The names of the primary flags present joined by '|' in declaration order
  /// ("READ|WRITE"; composite names are not used); "" for the empty set.
  [[nodiscard]] std::string to_string() const {
    std::string out;
    for (std::size_t i = 0; i < table_.count; ++i) {
      if (contains(flags(table_.primary[i], raw{}))) {
        if (!out.empty()) {
          out += '|';
        }
        out += table_.names[i];
      }
    }
    return out;
  }

  constexpr flags& operator|=(flags o) noexcept { return assign(bits_ | o.bits_); }
  constexpr flags& operator&=(flags o) noexcept { return assign(bits_ & o.bits_); }
  constexpr flags& operator^=(flags o) noexcept { return assign(bits_ ^ o.bits_); }
  /// Set difference: removes the flags of `o`.
  constexpr flags& operator-=(flags o) noexcept { return assign(bits_ & ~o.bits_); }

  [[nodiscard]] friend constexpr flags operator|(flags a, flags b) noexcept { return a |= b; }
  [[nodiscard]] friend constexpr flags operator&(flags a, flags b) noexcept { return a &= b; }
  [[nodiscard]] friend constexpr flags operator^(flags a, flags b) noexcept { return a ^= b; }
  [[nodiscard]] friend constexpr flags operator-(flags a, flags b) noexcept { return a -= b; }
  /// The declared flags not in `a` (never undeclared bits).
  [[nodiscard]] friend constexpr flags operator~(flags a) noexcept {
    return flags(truncate(static_cast<bits_type>(~a.bits_)), raw{});
  }
  friend constexpr bool operator==(const flags&, const flags&) noexcept = default;

  /// Writes to_string(), or "(empty)" for the empty set. Needs <ostream> where it is used.
  template <class Traits>
  friend std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os,
                                                      const flags& f) {
    return f.none() ? (os << "(empty)") : (os << f.to_string());
  }

 private:
  struct raw {};
  constexpr flags(bits_type bits, raw) noexcept : bits_(bits) {}

  static constexpr bits_type truncate(bits_type bits) noexcept {
    return static_cast<bits_type>(bits & table_.all);
  }
  // Takes the promoted result of a bitwise operation on two subsets of the declared bits.
  template <class Int>
  constexpr flags& assign(Int promoted) noexcept {
    bits_ = truncate(static_cast<bits_type>(promoted));
    return *this;
  }

  bits_type bits_ = 0;
};

/// Forward iterator over the primary flags present in a flags<E> (see flags::begin).
template <flag_enum E>
class flags<E>::iterator {
 public:
  using value_type = E;
  using difference_type = std::ptrdiff_t;
  using iterator_concept = std::forward_iterator_tag;
  using iterator_category = std::input_iterator_tag;  // operator* yields a prvalue

  constexpr iterator() noexcept = default;

  constexpr E operator*() const noexcept {
    FERRITE_DEBUG_ASSERT(index_ < table_.count, "dereferencing the end iterator");
    return static_cast<E>(table_.primary[index_]);
  }
  constexpr iterator& operator++() noexcept {
    index_ = skip_absent(index_ + 1);
    return *this;
  }
  constexpr iterator operator++(int) noexcept {
    iterator old = *this;
    ++*this;
    return old;
  }
  friend constexpr bool operator==(const iterator&, const iterator&) noexcept = default;

 private:
  friend class flags;
  constexpr iterator(bits_type set, std::size_t index) noexcept
      : set_(set), index_(skip_absent(index)) {}

  // The first primary flag at or after `i` whose bits are all in the set.
  constexpr std::size_t skip_absent(std::size_t i) const noexcept {
    while (i < table_.count &&
           static_cast<bits_type>(table_.primary[i] & static_cast<bits_type>(~set_)) != 0) {
      ++i;
    }
    return i;
  }

  bits_type set_ = 0;
  std::size_t index_ = 0;
};

}  // namespace ferrite

/// Defines `|`, `&`, `^` and `~` on raw values of the flag enum E, returning flags<E>, so
/// that `perm::read | perm::write` is a flags<perm>. Use at namespace scope in E's namespace,
/// after `ferrite_flags`, followed by a semicolon. The operators are [[maybe_unused]]: in an
/// anonymous namespace, the ones a translation unit does not use would otherwise warn.
#define FERRITE_FLAG_OPERATORS(E)                                               \
  [[maybe_unused]] constexpr ::ferrite::flags<E> operator|(E a, E b) noexcept { \
    return ::ferrite::flags<E>(a) | ::ferrite::flags<E>(b);                     \
  }                                                                             \
  [[maybe_unused]] constexpr ::ferrite::flags<E> operator&(E a, E b) noexcept { \
    return ::ferrite::flags<E>(a) & ::ferrite::flags<E>(b);                     \
  }                                                                             \
  [[maybe_unused]] constexpr ::ferrite::flags<E> operator^(E a, E b) noexcept { \
    return ::ferrite::flags<E>(a) ^ ::ferrite::flags<E>(b);                     \
  }                                                                             \
  [[maybe_unused]] constexpr ::ferrite::flags<E> operator~(E a) noexcept {      \
    return ~::ferrite::flags<E>(a);                                             \
  }                                                                             \
  static_assert(::ferrite::flag_enum<E>, "FERRITE_FLAG_OPERATORS: " #E " is not a flag_enum")
