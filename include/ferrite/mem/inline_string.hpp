// SPDX-License-Identifier: Apache-2.0
// inline_string<N>: a string of at most N chars stored inside the object, always followed by
// a NUL (so c_str() is free), never allocating. Usable in constant expressions. Growth past N
// is reported three ways: the plain members throw std::length_error (as std::string does past
// max_size()), the try_ members return false and leave the string unchanged, and
// append_truncate() keeps what fits. Numbers are appended with std::to_chars straight into
// the free capacity (try_append_int, try_append_float, try_append_all), with the same
// all-or-nothing rule. For N <= 255 the size lives in the last byte as `N - size`, which is 0
// (the terminating NUL) exactly when the string is full: sizeof(inline_string<15>) == 16.
#pragma once

#include <algorithm>
#include <charconv>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::mem {

namespace detail {
[[noreturn]] FERRITE_COLD inline void throw_length_error(const char* what) {
  throw std::length_error(what);
}

/// Where an inline_string keeps its size. N <= 255: in the last byte of the buffer, as the
/// remaining capacity N - size (0 = NUL when full). Larger N: in a separate field.
template <std::size_t N, bool Compact = (N <= UINT8_MAX)>
struct inline_string_rep {
  char buf_[N + 1];
  constexpr std::size_t get_size() const noexcept {
    return N - static_cast<unsigned char>(buf_[N]);
  }
  constexpr void set_size(std::size_t n) noexcept {
    buf_[n] = '\0';
    buf_[N] = static_cast<char>(N - n);  // the NUL itself when n == N
  }
};
template <std::size_t N>
struct inline_string_rep<N, false> {
  char buf_[N + 1];
  std::conditional_t<N <= UINT16_MAX, std::uint16_t, std::size_t> size_;
  constexpr std::size_t get_size() const noexcept { return size_; }
  constexpr void set_size(std::size_t n) noexcept {
    buf_[n] = '\0';
    size_ = static_cast<decltype(size_)>(n);
  }
};
}  // namespace detail

/// A NUL-terminated string of at most N chars, stored inline; never allocates.
///
/// Invariants: size() <= N and data()[size()] == '\0', after every operation, including one
/// that failed. Trivially copyable. The contents are plain bytes: embedded NULs are allowed
/// (c_str() then stops early, as with std::string).
/// Thread-safety: none. Complexity: every operation is O(chars touched); no allocation ever.
template <std::size_t N>
class inline_string {
 public:
  using value_type = char;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = char&;
  using const_reference = const char&;
  using pointer = char*;
  using const_pointer = const char*;
  using iterator = char*;
  using const_iterator = const char*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  // ---- construction ------------------------------------------------------------------------

  /// The empty string. O(1) at run time (O(N) in constant evaluation).
  constexpr inline_string() noexcept {
    if consteval {
      std::fill_n(rep_.buf_, N + 1, '\0');
    }
    rep_.set_size(0);
  }
  /// A copy of `s`. Throws std::length_error when s.size() > N.
  constexpr explicit inline_string(std::string_view s) : inline_string() { assign(s); }
  /// A copy of the NUL-terminated `s`. Preconditions: s != nullptr. Throws std::length_error
  /// when it is longer than N.
  constexpr inline_string(const char* s) : inline_string(std::string_view(s)) {}  // NOLINT
  /// `n` copies of `c`. Throws std::length_error when n > N.
  constexpr inline_string(size_type n, char c) : inline_string() { append(n, c); }

  /// Replaces the contents with `s` (which may view *this). Throws std::length_error when
  /// s.size() > N, leaving the string unchanged.
  constexpr inline_string& assign(std::string_view s) {
    if (!try_assign(s)) detail::throw_length_error("inline_string::assign");
    return *this;
  }
  /// Replaces the contents with `s`, or returns false and changes nothing when it is too long.
  constexpr bool try_assign(std::string_view s) noexcept {
    if (s.size() > N) return false;
    std::copy_n(s.data(), s.size(), rep_.buf_);  // forward copy: safe for s inside *this
    rep_.set_size(s.size());
    return true;
  }
  constexpr inline_string& operator=(std::string_view s) { return assign(s); }
  constexpr inline_string& operator=(const char* s) { return assign(s); }

  // ---- access ------------------------------------------------------------------------------

  constexpr const char* data() const noexcept { return rep_.buf_; }
  /// Writable access to the size() chars (not to the NUL or the size byte).
  constexpr char* data() noexcept { return rep_.buf_; }
  /// The contents followed by NUL. Never null.
  constexpr const char* c_str() const noexcept { return rep_.buf_; }
  constexpr std::string_view view() const noexcept { return {rep_.buf_, size()}; }
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit

  /// Preconditions: i < size() (FERRITE_DEBUG_ASSERT).
  constexpr char& operator[](size_type i) noexcept {
    FERRITE_DEBUG_ASSERT(i < size(), "inline_string index out of range");
    return rep_.buf_[i];
  }
  constexpr const char& operator[](size_type i) const noexcept {
    FERRITE_DEBUG_ASSERT(i < size(), "inline_string index out of range");
    return rep_.buf_[i];
  }
  /// Throws std::out_of_range when i >= size().
  constexpr char& at(size_type i) {
    if (i >= size()) throw std::out_of_range("inline_string::at");
    return rep_.buf_[i];
  }
  constexpr const char& at(size_type i) const {
    if (i >= size()) throw std::out_of_range("inline_string::at");
    return rep_.buf_[i];
  }
  /// Preconditions: !empty().
  constexpr char& front() noexcept { return (*this)[0]; }
  constexpr char front() const noexcept { return (*this)[0]; }
  constexpr char& back() noexcept { return (*this)[size() - 1]; }
  constexpr char back() const noexcept { return (*this)[size() - 1]; }

  constexpr iterator begin() noexcept { return rep_.buf_; }
  constexpr const_iterator begin() const noexcept { return rep_.buf_; }
  constexpr const_iterator cbegin() const noexcept { return rep_.buf_; }
  constexpr iterator end() noexcept { return rep_.buf_ + size(); }
  constexpr const_iterator end() const noexcept { return rep_.buf_ + size(); }
  constexpr const_iterator cend() const noexcept { return end(); }
  constexpr reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  constexpr const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  constexpr reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  constexpr const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  // ---- size --------------------------------------------------------------------------------

  constexpr size_type size() const noexcept { return rep_.get_size(); }
  constexpr size_type length() const noexcept { return size(); }
  [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] constexpr bool full() const noexcept { return size() == N; }
  static constexpr size_type capacity() noexcept { return N; }
  static constexpr size_type max_size() noexcept { return N; }
  /// Chars that can still be appended: N - size().
  constexpr size_type remaining() const noexcept { return N - size(); }

  // ---- modifiers ---------------------------------------------------------------------------

  constexpr void clear() noexcept { rep_.set_size(0); }
  /// Resizes to `n`, filling new chars with `c`. Throws std::length_error when n > N.
  constexpr void resize(size_type n, char c = '\0') {
    if (n > N) detail::throw_length_error("inline_string::resize");
    const size_type old = size();
    if (n > old) std::fill(rep_.buf_ + old, rep_.buf_ + n, c);
    rep_.set_size(n);
  }
  /// Appends `c`. Throws std::length_error when full.
  constexpr void push_back(char c) {
    if (!try_push_back(c)) detail::throw_length_error("inline_string::push_back");
  }
  /// Appends `c`, or returns false when full.
  constexpr bool try_push_back(char c) noexcept {
    const size_type n = size();
    if (n == N) return false;
    rep_.buf_[n] = c;
    rep_.set_size(n + 1);
    return true;
  }
  /// Removes the last char. Preconditions: !empty() (FERRITE_DEBUG_ASSERT).
  constexpr void pop_back() noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "pop_back on an empty inline_string");
    rep_.set_size(size() - 1);
  }

  /// Appends `s` (which may view *this). Throws std::length_error when it does not fit,
  /// leaving the string unchanged.
  constexpr inline_string& append(std::string_view s) {
    if (!try_append(s)) detail::throw_length_error("inline_string::append");
    return *this;
  }
  /// Appends `n` copies of `c`. Throws std::length_error when they do not fit (no change).
  constexpr inline_string& append(size_type n, char c) {
    if (n > remaining()) detail::throw_length_error("inline_string::append");
    resize(size() + n, c);
    return *this;
  }
  /// Appends `s`, or returns false and changes nothing when it does not fit.
  constexpr bool try_append(std::string_view s) noexcept {
    const size_type n = size();
    if (s.size() > N - n) return false;
    // A view of *this ends at or before buf_ + n, so the copy never overwrites its source.
    std::copy_n(s.data(), s.size(), rep_.buf_ + n);
    rep_.set_size(n + s.size());
    return true;
  }
  /// Appends as much of `s` as fits and returns how many chars that was.
  constexpr size_type append_truncate(std::string_view s) noexcept {
    const size_type k = std::min(s.size(), remaining());
    (void)try_append(s.substr(0, k));
    return k;
  }
  constexpr inline_string& operator+=(std::string_view s) { return append(s); }
  constexpr inline_string& operator+=(const char* s) { return append(s); }
  constexpr inline_string& operator+=(char c) {
    push_back(c);
    return *this;
  }

  // ---- numbers (std::to_chars into the free capacity) ---------------------------------------

  /// Appends `value` in `base` (2..36), with a leading '-' when negative; returns false and
  /// changes nothing when it does not fit. A `char` is a number here (bool is rejected).
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  bool try_append_int(I value, int base = 10) noexcept {
    return commit(std::to_chars(end(), rep_.buf_ + N, value, base));
  }
  /// Appends `value` in the shortest form that reads back exactly (std::to_chars without a
  /// precision); returns false and changes nothing when it does not fit.
  template <std::floating_point F>
  bool try_append_float(F value) noexcept {
    return commit(std::to_chars(end(), rep_.buf_ + N, value));
  }
  /// Appends `value` in `fmt` with `precision` digits (std::to_chars rules); false and no
  /// change when it does not fit.
  template <std::floating_point F>
  bool try_append_float(F value, std::chars_format fmt, int precision) noexcept {
    return commit(std::to_chars(end(), rep_.buf_ + N, value, fmt, precision));
  }

  /// Appends every argument in order: chars as chars, bools as "true"/"false", other
  /// integers and floating-point values as try_append_int/try_append_float do, anything
  /// convertible to std::string_view as text. All or nothing: when the whole does not fit,
  /// returns false and the string is unchanged.
  template <class... Args>
  bool try_append_all(const Args&... args) noexcept {
    const size_type old = size();
    if ((append_one(args) && ...)) return true;
    rep_.set_size(old);
    return false;
  }

  // ---- comparison --------------------------------------------------------------------------

  template <std::size_t M>
  friend constexpr bool operator==(const inline_string& a, const inline_string<M>& b) noexcept {
    return a.view() == b.view();
  }
  template <std::size_t M>
  friend constexpr std::strong_ordering operator<=>(const inline_string& a,
                                                    const inline_string<M>& b) noexcept {
    return a.view() <=> b.view();
  }
  friend constexpr bool operator==(const inline_string& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend constexpr std::strong_ordering operator<=>(const inline_string& a,
                                                    std::string_view b) noexcept {
    return a.view() <=> b;
  }

  /// Writes the contents (embedded NULs included), honouring the stream's width and fill.
  template <class Traits>
  friend std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os,
                                                      const inline_string& s) {
    return os << s.view();
  }

 private:
  // Accepts a to_chars result written at end(): grows the size, or restores the NUL that a
  // failed conversion may have overwritten.
  bool commit(std::to_chars_result r) noexcept {
    if (r.ec != std::errc{}) {
      rep_.set_size(size());
      return false;
    }
    rep_.set_size(static_cast<size_type>(r.ptr - rep_.buf_));
    return true;
  }
  template <class A>
  bool append_one(const A& a) noexcept {
    if constexpr (std::same_as<A, char>) {
      return try_push_back(a);
    } else if constexpr (std::same_as<A, bool>) {
      return try_append(a ? "true" : "false");
    } else if constexpr (std::integral<A>) {
      return try_append_int(a);
    } else if constexpr (std::floating_point<A>) {
      return try_append_float(a);
    } else {
      static_assert(std::convertible_to<const A&, std::string_view>,
                    "try_append_all: argument is not a char, number or string");
      return try_append(std::string_view(a));
    }
  }

  detail::inline_string_rep<N> rep_;
};

}  // namespace ferrite::mem

/// Hashes the contents exactly as std::hash<std::string_view> does, so an inline_string and
/// a std::string with the same chars hash alike.
template <std::size_t N>
struct std::hash<ferrite::mem::inline_string<N>> {
  std::size_t operator()(const ferrite::mem::inline_string<N>& s) const noexcept {
    return std::hash<std::string_view>{}(s.view());
  }
};
