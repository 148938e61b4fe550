// SPDX-License-Identifier: Apache-2.0
// inline_vector<T, N>: a vector with a fixed capacity of N elements stored inside the object
// itself. It never allocates (Rust's ArrayVec, C++26's std::inplace_vector): the std::vector
// interface minus growth, where running out of room throws std::bad_alloc before anything is
// modified, or is reported by the try_ functions (nullptr), or is a precondition of the
// unchecked_ functions. For trivial T (trivially default constructible and trivially
// copyable) the storage is a plain array, the whole type is usable in constant expressions
// and is itself trivially copyable; for other T the storage is a union whose elements are
// constructed and destroyed one by one. The size is kept in the smallest unsigned type that
// holds N, widened to alignof(T) where that costs no space: sizeof(inline_vector<char, 15>) ==
// 16, and sizeof(inline_vector<int, 8>) == 36 with a 32-bit size.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <ranges>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/mem/detail/inline_vector_storage.hpp"
#include "ferrite/mem/detail/synth_three_way.hpp"

namespace ferrite::mem {

/// A contiguous sequence of at most N elements of T, stored inline; never allocates.
///
/// Differences from std::vector: capacity() == max_size() == N always; growing past N throws
/// std::bad_alloc (strong guarantee: nothing was modified) or fails softly through the try_
/// members; iterators are raw pointers; a move cannot steal storage, it moves the elements
/// one by one (O(size)). Moved-from state: for trivial T the source is unchanged (the move
/// is a copy, and inline_vector<T, N> is then trivially copyable), otherwise it is empty.
///
/// Exception guarantees are std::vector's: strong for push_back/emplace_back/resize and for
/// insertions at the end, strong for a failing capacity check everywhere, basic when a move
/// constructor or assignment of T throws in the middle of a shift.
/// Thread-safety: none (like std::vector). constexpr: all members, for trivial T.
///
/// \warning References into an inline_vector do not survive a move or swap of the vector
/// (the elements are inside the object).
template <class T, std::size_t N>
class inline_vector {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "inline_vector<T, N>: T must be a cv-unqualified object type");
  static constexpr bool trivial = detail::inline_trivial<T>;
  using stored_size = detail::inline_stored_size_t<T, N>;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  // ---- construction, assignment, destruction ----------------------------------------------

  /// An empty vector. O(1) at run time (O(N) in constant evaluation, which must initialize
  /// every slot).
  constexpr inline_vector() noexcept {
    if constexpr (trivial && N > 0) {
      if consteval {
        std::fill_n(storage_.slots_, N, T{});
      }
    }
  }
  /// `n` value-initialized elements. Throws std::bad_alloc when n > N.
  constexpr explicit inline_vector(size_type n) : inline_vector() { resize(n); }
  /// `n` copies of `value`. Throws std::bad_alloc when n > N.
  constexpr inline_vector(size_type n, const T& value) : inline_vector() { assign(n, value); }
  /// The elements of [first, last). Throws std::bad_alloc when there are more than N.
  template <std::input_iterator It>
  constexpr inline_vector(It first, It last) : inline_vector() {
    assign(first, last);
  }
  constexpr inline_vector(std::initializer_list<T> il) : inline_vector() { assign(il); }

  constexpr inline_vector(const inline_vector&)
    requires trivial
  = default;
  constexpr inline_vector(const inline_vector& other) : inline_vector() {
    append_copies(other.begin(), other.end());
  }
  constexpr inline_vector(inline_vector&&) noexcept
    requires trivial
  = default;
  /// Moves the elements one by one and leaves `other` empty. O(size).
  constexpr inline_vector(inline_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : inline_vector() {
    append_copies(std::make_move_iterator(other.begin()), std::make_move_iterator(other.end()));
    other.clear();
  }

  constexpr inline_vector& operator=(const inline_vector&)
    requires trivial
  = default;
  constexpr inline_vector& operator=(const inline_vector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  constexpr inline_vector& operator=(inline_vector&&) noexcept
    requires trivial
  = default;
  /// Move-assigns the elements one by one and leaves `other` empty. O(size + other.size()).
  constexpr inline_vector& operator=(inline_vector&& other) noexcept(
      std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>) {
    if (this != &other) {
      assign(std::make_move_iterator(other.begin()), std::make_move_iterator(other.end()));
      other.clear();
    }
    return *this;
  }
  constexpr inline_vector& operator=(std::initializer_list<T> il) {
    assign(il);
    return *this;
  }

  constexpr ~inline_vector()
    requires std::is_trivially_destructible_v<T>
  = default;
  constexpr ~inline_vector() { clear(); }

  /// Replaces the contents with `n` copies of `value` (which may refer to an element).
  /// Throws std::bad_alloc when n > N, before modifying anything. Basic guarantee otherwise.
  constexpr void assign(size_type n, const T& value) {
    if (n > N) detail::throw_bad_alloc();
    const size_type common = std::min(n, size());
    std::fill_n(data(), common, value);
    if (n > common) {
      append_fill(n - common, value);
    } else {
      truncate(n);
    }
  }
  /// Replaces the contents with [first, last) (not iterators into *this). For forward
  /// iterators, throws std::bad_alloc before modifying anything when the range exceeds N;
  /// for input iterators the overflow is found on the way (basic guarantee).
  template <std::input_iterator It>
  constexpr void assign(It first, It last) {
    if constexpr (std::forward_iterator<It>) {
      const auto n = static_cast<size_type>(std::distance(first, last));
      if (n > N) detail::throw_bad_alloc();
      const size_type common = std::min(n, size());
      It mid = std::next(first, static_cast<difference_type>(common));
      std::copy(first, mid, data());
      truncate(common);
      append_copies(mid, last);
    } else {
      clear();
      for (; first != last; ++first) emplace_back(*first);
    }
  }
  constexpr void assign(std::initializer_list<T> il) { assign(il.begin(), il.end()); }

  // ---- element access ----------------------------------------------------------------------

  /// Bounds-checked access: throws std::out_of_range when i >= size().
  constexpr reference at(size_type i) {
    if (i >= size()) detail::throw_out_of_range("inline_vector::at");
    return data()[i];
  }
  constexpr const_reference at(size_type i) const {
    if (i >= size()) detail::throw_out_of_range("inline_vector::at");
    return data()[i];
  }
  /// Preconditions: i < size() (FERRITE_DEBUG_ASSERT).
  constexpr reference operator[](size_type i) noexcept {
    FERRITE_DEBUG_ASSERT(i < size(), "inline_vector index out of range");
    return data()[i];
  }
  constexpr const_reference operator[](size_type i) const noexcept {
    FERRITE_DEBUG_ASSERT(i < size(), "inline_vector index out of range");
    return data()[i];
  }
  /// Preconditions: !empty() (FERRITE_DEBUG_ASSERT).
  constexpr reference front() noexcept { return (*this)[0]; }
  constexpr const_reference front() const noexcept { return (*this)[0]; }
  constexpr reference back() noexcept { return (*this)[size() - 1]; }
  constexpr const_reference back() const noexcept { return (*this)[size() - 1]; }
  /// The first slot; nullptr when N == 0.
  constexpr T* data() noexcept { return storage_.ptr(); }
  constexpr const T* data() const noexcept { return storage_.ptr(); }

  // ---- iterators ---------------------------------------------------------------------------

  constexpr iterator begin() noexcept { return data(); }
  constexpr const_iterator begin() const noexcept { return data(); }
  constexpr const_iterator cbegin() const noexcept { return data(); }
  constexpr iterator end() noexcept { return data() + size_; }
  constexpr const_iterator end() const noexcept { return data() + size_; }
  constexpr const_iterator cend() const noexcept { return end(); }
  constexpr reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  constexpr const_reverse_iterator rbegin() const noexcept { return crbegin(); }
  constexpr const_reverse_iterator crbegin() const noexcept {
    return const_reverse_iterator(end());
  }
  constexpr reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  constexpr const_reverse_iterator rend() const noexcept { return crend(); }
  constexpr const_reverse_iterator crend() const noexcept {
    return const_reverse_iterator(begin());
  }

  // ---- size --------------------------------------------------------------------------------

  [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] constexpr bool full() const noexcept { return size_ == N; }
  constexpr size_type size() const noexcept { return size_; }
  static constexpr size_type capacity() noexcept { return N; }
  static constexpr size_type max_size() noexcept { return N; }
  /// Room left: N - size().
  constexpr size_type remaining() const noexcept { return N - size_; }

  /// Resizes to `n`, value-initializing new elements. Throws std::bad_alloc when n > N
  /// (nothing modified); strong guarantee when an element constructor throws.
  constexpr void resize(size_type n) { resize_with(n); }
  /// Resizes to `n`, copying `value` into new elements. Same guarantees as resize(n).
  constexpr void resize(size_type n, const T& value) { resize_with(n, value); }

  // ---- modifiers ---------------------------------------------------------------------------

  /// Appends T(args...) and returns it. Throws std::bad_alloc when full (nothing modified);
  /// strong guarantee. O(1).
  template <class... Args>
  constexpr reference emplace_back(Args&&... args) {
    if (full()) detail::throw_bad_alloc();
    return unchecked_emplace_back(std::forward<Args>(args)...);
  }
  constexpr reference push_back(const T& value) { return emplace_back(value); }
  constexpr reference push_back(T&& value) { return emplace_back(std::move(value)); }

  /// Appends T(args...) and returns a pointer to it, or returns nullptr when full (the
  /// arguments are then untouched). Strong guarantee. O(1).
  template <class... Args>
  constexpr T* try_emplace_back(Args&&... args) {
    if (full()) return nullptr;
    return std::addressof(unchecked_emplace_back(std::forward<Args>(args)...));
  }
  constexpr T* try_push_back(const T& value) { return try_emplace_back(value); }
  constexpr T* try_push_back(T&& value) { return try_emplace_back(std::move(value)); }

  /// Appends T(args...) without a capacity check.
  /// Preconditions: !full() (FERRITE_DEBUG_ASSERT). Strong guarantee. O(1).
  template <class... Args>
  constexpr reference unchecked_emplace_back(Args&&... args) {
    FERRITE_DEBUG_ASSERT(!full(), "inline_vector is full");
    // SAFETY: size_ < N (precondition), so the slot is inside the storage and holds no live
    // element (non-trivial T) or a dead-by-contract trivial one that may be overwritten.
    // The size is read once, before the element is built: re-reading it after the store
    // would have to reload it whenever the size type may alias T (uint32_t next to int).
    const stored_size n = size_;
    T* slot = std::construct_at(data() + n, std::forward<Args>(args)...);
    size_ = static_cast<stored_size>(n + 1);
    return *slot;
  }
  constexpr reference unchecked_push_back(const T& value) { return unchecked_emplace_back(value); }
  constexpr reference unchecked_push_back(T&& value) {
    return unchecked_emplace_back(std::move(value));
  }

  /// Removes the last element. Preconditions: !empty() (FERRITE_DEBUG_ASSERT). O(1).
  constexpr void pop_back() noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "pop_back on an empty inline_vector");
    --size_;
    std::destroy_at(data() + size_);
  }
  /// Destroys every element (in reverse order). O(size) for non-trivial T, O(1) otherwise.
  constexpr void clear() noexcept { truncate(0); }

  /// Inserts T(args...) before `pos` and returns an iterator to it. Throws std::bad_alloc
  /// when full, before modifying anything. O(end - pos).
  template <class... Args>
  constexpr iterator emplace(const_iterator pos, Args&&... args) {
    const size_type i = index_of(pos);
    if (full()) detail::throw_bad_alloc();
    if (i == size()) {
      unchecked_emplace_back(std::forward<Args>(args)...);
      return begin() + i;
    }
    T tmp(std::forward<Args>(args)...);  // may alias an element: build before shifting
    T* p = data();
    unchecked_emplace_back(std::move(p[size_ - 1]));
    std::move_backward(p + i, p + size_ - 2, p + size_ - 1);
    p[i] = std::move(tmp);
    return begin() + i;
  }
  constexpr iterator insert(const_iterator pos, const T& value) { return emplace(pos, value); }
  constexpr iterator insert(const_iterator pos, T&& value) {
    return emplace(pos, std::move(value));
  }
  /// Inserts `n` copies of `value` before `pos`. Throws std::bad_alloc when they do not fit,
  /// before modifying anything. O(n + end - pos).
  constexpr iterator insert(const_iterator pos, size_type n, const T& value) {
    const size_type i = index_of(pos);
    if (n > remaining()) detail::throw_bad_alloc();
    const size_type old = size();
    append_fill(n, value);
    std::rotate(begin() + i, begin() + old, end());
    return begin() + i;
  }
  /// Inserts [first, last) (not iterators into *this) before `pos`. Throws std::bad_alloc
  /// when the range does not fit, leaving the vector unchanged (strong guarantee for the
  /// capacity check and for a throwing element constructor). O(n + end - pos).
  template <std::input_iterator It>
  constexpr iterator insert(const_iterator pos, It first, It last) {
    const size_type i = index_of(pos);
    if constexpr (std::forward_iterator<It>) {
      if (static_cast<size_type>(std::distance(first, last)) > remaining()) {
        detail::throw_bad_alloc();
      }
    }
    const size_type old = size();
    append_copies(first, last);
    std::rotate(begin() + i, begin() + old, end());
    return begin() + i;
  }
  constexpr iterator insert(const_iterator pos, std::initializer_list<T> il) {
    return insert(pos, il.begin(), il.end());
  }
  /// Inserts the elements of `rg` (not a view of *this) before `pos`, as insert(pos, first,
  /// last) does. Throws std::bad_alloc when they do not fit (unchanged).
  template <std::ranges::input_range R>
    requires std::constructible_from<T, std::ranges::range_reference_t<R>>
  constexpr iterator insert_range(const_iterator pos, R&& rg) {
    const size_type i = index_of(pos);
    if constexpr (std::ranges::forward_range<R> || std::ranges::sized_range<R>) {
      if (static_cast<size_type>(std::ranges::distance(rg)) > remaining()) {
        detail::throw_bad_alloc();
      }
    }
    const size_type old = size();
    append_copies(std::ranges::begin(rg), std::ranges::end(rg));
    std::rotate(begin() + i, begin() + old, end());
    return begin() + i;
  }
  /// Appends the elements of `rg` (not a view of *this). Throws std::bad_alloc when they do
  /// not fit, leaving the vector unchanged.
  template <std::ranges::input_range R>
    requires std::constructible_from<T, std::ranges::range_reference_t<R>>
  constexpr void append_range(R&& rg) {
    insert_range(end(), std::forward<R>(rg));
  }

  /// Removes the element at `pos` and returns the iterator following it.
  /// Preconditions: pos is a dereferenceable iterator of *this. O(end - pos).
  constexpr iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  /// Removes [first, last) and returns `first`. O(end - first).
  constexpr iterator erase(const_iterator first, const_iterator last) {
    const size_type i = index_of(first);
    const size_type j = index_of(last);
    FERRITE_DEBUG_ASSERT(i <= j, "inline_vector::erase: inverted range");
    if (i != j) {
      std::move(begin() + j, end(), begin() + i);
      truncate(size() - (j - i));
    }
    return begin() + i;
  }

  /// Exchanges the contents element by element. O(max(size(), other.size())).
  constexpr void swap(inline_vector& other) noexcept(std::is_nothrow_swappable_v<T> &&
                                                     std::is_nothrow_move_constructible_v<T>) {
    if (this == &other) return;
    inline_vector& small = size() <= other.size() ? *this : other;
    inline_vector& large = size() <= other.size() ? other : *this;
    const size_type common = small.size();
    std::swap_ranges(small.begin(), small.end(), large.begin());
    small.append_copies(std::make_move_iterator(large.begin() + common),
                        std::make_move_iterator(large.end()));
    large.truncate(common);
  }
  friend constexpr void swap(inline_vector& a, inline_vector& b) noexcept(noexcept(a.swap(b))) {
    a.swap(b);
  }

  // ---- comparison --------------------------------------------------------------------------

  friend constexpr bool operator==(const inline_vector& a, const inline_vector& b)
    requires std::equality_comparable<T>
  {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  /// Lexicographic, with std::vector's synth-three-way (falls back to <).
  friend constexpr auto operator<=>(const inline_vector& a, const inline_vector& b)
    requires std::three_way_comparable<T> || requires(const T& x) {
      { x < x } -> std::convertible_to<bool>;
    }
  {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end(),
                                                  detail::synth_three_way{});
  }

 private:
  constexpr size_type index_of(const_iterator pos) const noexcept {
    FERRITE_DEBUG_ASSERT(pos >= begin() && pos <= end(), "iterator not into this vector");
    return static_cast<size_type>(pos - begin());
  }

  // Destroys the elements past `n` in reverse order. Preconditions: n <= size().
  constexpr void truncate(size_type n) noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      while (size_ > n) pop_back();
    } else {
      size_ = static_cast<stored_size>(n);
    }
  }

  // Restores the size it was created with unless dismissed: the rollback of appends.
  struct append_guard {
    inline_vector* self;
    size_type old_size;
    constexpr ~append_guard() {
      if (self != nullptr) self->truncate(old_size);
    }
  };

  // Appends [first, last); throws std::bad_alloc when it runs out of room. On any exception
  // the appended elements are destroyed again (strong guarantee).
  template <class It, class Sentinel>
  constexpr void append_copies(It first, Sentinel last) {
    append_guard guard{this, size()};
    for (; first != last; ++first) emplace_back(*first);
    guard.self = nullptr;
  }
  // Appends `n` copies of `value`. Preconditions: n <= remaining(). Strong guarantee.
  constexpr void append_fill(size_type n, const T& value) {
    append_guard guard{this, size()};
    for (; n > 0; --n) unchecked_emplace_back(value);
    guard.self = nullptr;
  }
  template <class... Args>
  constexpr void resize_with(size_type n, const Args&... value) {
    if (n > N) detail::throw_bad_alloc();
    if (n <= size()) {
      truncate(n);
      return;
    }
    append_guard guard{this, size()};
    while (size() < n) unchecked_emplace_back(value...);
    guard.self = nullptr;
  }

  [[no_unique_address]] detail::inline_storage<T, N> storage_;
  stored_size size_ = 0;
};

/// Erases every element equal to `value`; returns how many. Found by ADL (the std::erase
/// overloads cannot be extended). O(size).
template <class T, std::size_t N, class U = T>
constexpr std::size_t erase(inline_vector<T, N>& v, const U& value) {
  const auto it = std::remove(v.begin(), v.end(), value);
  const auto n = static_cast<std::size_t>(v.end() - it);
  v.erase(it, v.end());
  return n;
}

/// Erases every element for which `pred` is true; returns how many. O(size).
template <class T, std::size_t N, class Pred>
constexpr std::size_t erase_if(inline_vector<T, N>& v, Pred pred) {
  const auto it = std::remove_if(v.begin(), v.end(), pred);
  const auto n = static_cast<std::size_t>(v.end() - it);
  v.erase(it, v.end());
  return n;
}

}  // namespace ferrite::mem
