// SPDX-License-Identifier: Apache-2.0
// small_vector<T, N, Alloc>: the std::vector interface with room for N elements inside the
// object, so short sequences never touch the allocator; past N it spills to a heap block and
// grows by a factor of 2. Exception guarantees match std::vector's (strong for push_back,
// emplace_back, reserve, resize when T is copyable or nothrow-movable, via move_if_noexcept)
// and insert/emplace in the middle give the strong guarantee too unless T's move throws.
// Trivially copyable elements are relocated with memcpy. `pmr::small_vector<T, N>` is the
// std::pmr::polymorphic_allocator flavour.
//
// Layout (std::allocator, which takes no space; x86-64, small_vector<int, 8> = 40 bytes):
//
//   inline (meta_ bit 63 == 0)              heap (meta_ bit 63 == 1)
//   +0   meta_  = size                      +0   meta_  = 1 << 63 | size
//   +8   int[8] inline elements             +8   void*  data      --> heap block
//   ...  (32 bytes)                         +16  size_t capacity
//   +40                                     +24  (unused inline bytes)
//
// The storage after meta_ is a union: the N inline element slots, or the heap block's
// pointer and capacity. So sizeof(small_vector<T, N>) is max(8, alignof(T)) + max(N *
// sizeof(T), 16), rounded up to the alignment (absl::InlinedVector's size; 40 for <int, 8>),
// and the inline push_back fast path is one compare of meta_ against the constant N, the
// store of the element and the store of meta_ + 1.
//
// Honest warnings: T must be complete where small_vector<T, N> is instantiated (the inline
// buffer needs sizeof(T)); allocators with fancy pointers are not supported; swap and move
// of inline contents move the elements one by one (O(size), unlike std::vector's O(1)).
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <memory_resource>
#include <ranges>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/mem/detail/small_vector_base.hpp"
#include "ferrite/mem/detail/synth_three_way.hpp"

namespace ferrite::mem {

namespace detail {
/// An iterator usable with the std::vector iterator-pair members: a C++20 input iterator or
/// a Cpp17 one (whose iterator_traits category derives from input_iterator_tag).
template <class It>
concept sv_input_iterator = std::input_iterator<It> || requires {
  typename std::iterator_traits<It>::iterator_category;
  requires std::derived_from<typename std::iterator_traits<It>::iterator_category,
                             std::input_iterator_tag>;
};
/// Multi-pass: the length is known before copying (std::move_iterator<T*> is one too).
template <class It>
concept sv_forward_iterator =
    std::forward_iterator<It> ||
    (sv_input_iterator<It> &&
     std::derived_from<typename std::iterator_traits<It>::iterator_category,
                       std::forward_iterator_tag>);
/// The range members (append_range, ...): a range whose elements construct a T.
template <class R, class T>
concept sv_range =
    std::ranges::input_range<R> && std::constructible_from<T, std::ranges::range_reference_t<R>>;
}  // namespace detail

/// A contiguous sequence with inline storage for N elements (see the file comment).
/// N == 0 is allowed: a vector that is always on the heap once it holds anything.
/// Not thread-safe (like std::vector: concurrent const access is fine).
template <class T, std::size_t N, class Alloc = std::allocator<T>>
class small_vector : private detail::small_vector_base {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T> &&
                    !std::is_array_v<T>,
                "small_vector: T must be a cv-unqualified non-array object type");
  static_assert(std::is_same_v<typename std::allocator_traits<Alloc>::value_type, T>,
                "small_vector: Alloc::value_type must be T");
  static_assert(std::is_same_v<typename std::allocator_traits<Alloc>::pointer, T*>,
                "small_vector: allocators with fancy pointers are not supported");

  using base = detail::small_vector_base;
  using traits = std::allocator_traits<Alloc>;

 public:
  using value_type = T;
  using allocator_type = Alloc;
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

  /// The number of elements held without a heap block.
  static constexpr size_type inline_capacity = N;

  // ---- construction (each O(n) in the elements it creates; may throw what T's
  // ---- constructors and the allocator throw; nothing leaks when they do) ----------------
  small_vector() noexcept(noexcept(Alloc())) : alloc_() {}
  explicit small_vector(const Alloc& alloc) noexcept : alloc_(alloc) {}
  /// `count` value-initialized elements.
  explicit small_vector(size_type count, const Alloc& alloc = Alloc()) : small_vector(alloc) {
    reserve(count);  // exact, like the other constructors
    resize(count);
  }
  small_vector(size_type count, const T& value, const Alloc& alloc = Alloc())
      : small_vector(alloc) {
    assign(count, value);
  }
  /// The elements of [first, last); a heap block, when needed, is allocated at exactly the
  /// size for multi-pass iterators (so copies are exact too).
  template <detail::sv_input_iterator It>
  small_vector(It first, It last, const Alloc& alloc = Alloc()) : small_vector(alloc) {
    assign(std::move(first), std::move(last));
  }
#if defined(__cpp_lib_containers_ranges)
  /// C++23's range constructor (where the standard library has std::from_range).
  template <detail::sv_range<T> R>
  small_vector(std::from_range_t, R&& range, const Alloc& alloc = Alloc()) : small_vector(alloc) {
    append_range(std::forward<R>(range));
  }
#endif
  small_vector(std::initializer_list<T> init, const Alloc& alloc = Alloc())
      : small_vector(init.begin(), init.end(), alloc) {}
  small_vector(const small_vector& other)
      : small_vector(other, traits::select_on_container_copy_construction(other.alloc_)) {}
  small_vector(const small_vector& other, const std::type_identity_t<Alloc>& alloc)
      : small_vector(other.begin(), other.end(), alloc) {}
  /// Steals other's heap block, or moves its inline elements one by one. `other` is left
  /// empty. O(1) when other is on the heap, O(other.size()) when it is inline.
  small_vector(small_vector&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : alloc_(std::move(other.alloc_)) {
    take_from(other);
  }
  /// As the move constructor when `alloc == other.get_allocator()`; otherwise moves the
  /// elements one by one into storage from `alloc`. `other` is left empty.
  small_vector(small_vector&& other, const std::type_identity_t<Alloc>& alloc);
  ~small_vector() { release(); }

  small_vector& operator=(const small_vector& other);
  /// Leaves `other` empty. Steals its heap block when the allocators allow it.
  small_vector& operator=(small_vector&& other) noexcept(
      (traits::propagate_on_container_move_assignment::value || traits::is_always_equal::value) &&
      std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>);
  small_vector& operator=(std::initializer_list<T> init) {
    assign(init.begin(), init.end());
    return *this;
  }

  /// Replaces the contents with `count` copies of `value` (which may be an element).
  void assign(size_type count, const T& value);
  /// Replaces the contents with [first, last). The range may be a subrange of *this.
  template <detail::sv_input_iterator It>
  void assign(It first, It last);
  void assign(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  template <detail::sv_range<T> R>
  void assign_range(R&& range);

  [[nodiscard]] allocator_type get_allocator() const noexcept { return alloc_; }

  // ---- element access: O(1) ------------------------------------------------------------
  /// Throws std::out_of_range when `index >= size()`.
  [[nodiscard]] reference at(size_type index) {
    if (index >= size()) base::throw_out_of_range(index, size());
    return data()[index];
  }
  [[nodiscard]] const_reference at(size_type index) const {
    if (index >= size()) base::throw_out_of_range(index, size());
    return data()[index];
  }
  /// Preconditions: index < size() (FERRITE_DEBUG_ASSERT).
  [[nodiscard]] reference operator[](size_type index) noexcept {
    FERRITE_DEBUG_ASSERT(index < size(), "small_vector: index out of range");
    return data()[index];
  }
  [[nodiscard]] const_reference operator[](size_type index) const noexcept {
    FERRITE_DEBUG_ASSERT(index < size(), "small_vector: index out of range");
    return data()[index];
  }
  /// Preconditions: !empty() (FERRITE_DEBUG_ASSERT) for front and back.
  [[nodiscard]] reference front() noexcept { return (*this)[0]; }
  [[nodiscard]] const_reference front() const noexcept { return (*this)[0]; }
  [[nodiscard]] reference back() noexcept { return (*this)[size() - 1]; }
  [[nodiscard]] const_reference back() const noexcept { return (*this)[size() - 1]; }
  /// The first element (inline buffer or heap block); valid, not dereferenceable, when empty.
  [[nodiscard]] T* data() noexcept { return is_inline() ? inline_data() : heap_data(); }
  [[nodiscard]] const T* data() const noexcept { return is_inline() ? inline_data() : heap_data(); }

  // ---- iterators (raw pointers; invalidated as std::vector's are, and also by swap and
  // ---- move of an inline vector, whose elements move) ------------------------------------
  [[nodiscard]] iterator begin() noexcept { return data(); }
  [[nodiscard]] const_iterator begin() const noexcept { return data(); }
  [[nodiscard]] const_iterator cbegin() const noexcept { return data(); }
  [[nodiscard]] iterator end() noexcept { return data() + size(); }
  [[nodiscard]] const_iterator end() const noexcept { return data() + size(); }
  [[nodiscard]] const_iterator cend() const noexcept { return end(); }
  [[nodiscard]] reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  [[nodiscard]] const_reverse_iterator rbegin() const noexcept {
    return const_reverse_iterator(end());
  }
  [[nodiscard]] const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  [[nodiscard]] reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  [[nodiscard]] const_reverse_iterator rend() const noexcept {
    return const_reverse_iterator(begin());
  }
  [[nodiscard]] const_reverse_iterator crend() const noexcept { return rend(); }

  // ---- capacity ------------------------------------------------------------------------
  using base::empty;
  using base::is_inline;
  using base::size;
  /// min(allocator max_size, PTRDIFF_MAX / sizeof(T), 2^63 - 1). O(1).
  [[nodiscard]] size_type max_size() const noexcept {
    const size_type by_type = static_cast<size_type>(PTRDIFF_MAX) / sizeof(T);
    return std::min({traits::max_size(alloc_), by_type, base::max_size_bits});
  }
  /// N while inline, the heap block's capacity once spilled. O(1).
  [[nodiscard]] size_type capacity() const noexcept {
    return is_inline() ? N : storage_.heap.capacity;
  }
  /// Makes capacity() >= `new_capacity` (exactly that when it reallocates). Strong
  /// guarantee. Throws std::length_error when new_capacity > max_size(). O(size()).
  void reserve(size_type new_capacity);
  /// Moves the elements back into the inline buffer when size() <= N, else into a block of
  /// exactly size(). Strong guarantee (exceptions propagate: the request is not swallowed).
  void shrink_to_fit();

  // ---- modifiers -----------------------------------------------------------------------
  /// Destroys every element; keeps the capacity (a heap block stays). O(size()).
  void clear() noexcept {
    destroy_range(data(), data() + size());
    set_size(0);
  }
  /// Inserts before `pos` (which must be in [begin(), end()]); returns the first inserted
  /// element. Arguments may refer to elements of *this (the new elements are created before
  /// any existing one moves). Amortized O(inserted + elements after pos). Strong guarantee
  /// unless T's move constructor or move assignment throws (then basic).
  iterator insert(const_iterator pos, const T& value) { return emplace(pos, value); }
  iterator insert(const_iterator pos, T&& value) { return emplace(pos, std::move(value)); }
  iterator insert(const_iterator pos, size_type count, const T& value);
  template <detail::sv_input_iterator It>
  iterator insert(const_iterator pos, It first, It last);
  iterator insert(const_iterator pos, std::initializer_list<T> init) {
    return insert(pos, init.begin(), init.end());
  }
  template <detail::sv_range<T> R>
  iterator insert_range(const_iterator pos, R&& range);
  template <class... Args>
  iterator emplace(const_iterator pos, Args&&... args);
  /// Removes the element at `pos` (dereferenceable) or [first, last); returns the element
  /// after the removed ones. O(elements after). Nothrow unless T's move assignment throws.
  iterator erase(const_iterator pos);
  iterator erase(const_iterator first, const_iterator last);

  /// Appends one element and returns it. Amortized O(1); the inline path is a compare, the
  /// construction and a store. Strong guarantee (move_if_noexcept on reallocation).
  template <class... Args>
  reference emplace_back(Args&&... args);
  void push_back(const T& value) { emplace_back(value); }
  void push_back(T&& value) { emplace_back(std::move(value)); }
  template <detail::sv_range<T> R>
  void append_range(R&& range);
  /// Preconditions: !empty() (FERRITE_DEBUG_ASSERT). O(1).
  void pop_back() noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "small_vector: pop_back on empty");
    destroy(data() + size() - 1);
    meta_ -= 1;
  }
  /// Shrinks (destroying the tail) or appends value-initialized elements / copies of
  /// `value`. Strong guarantee.
  void resize(size_type count) { resize_with(count); }
  void resize(size_type count, const T& value) { resize_with(count, value); }
  /// O(1) when both are on the heap; otherwise moves the inline elements. If T's move
  /// throws, a vector that was on the heap is unchanged and the inline one keeps valid
  /// elements. Preconditions: the allocators compare equal or propagate on swap.
  void swap(small_vector& other) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                          std::is_nothrow_swappable_v<T>);
  friend void swap(small_vector& a, small_vector& b) noexcept(noexcept(a.swap(b))) { a.swap(b); }

 private:
  static constexpr bool std_alloc = std::is_same_v<Alloc, std::allocator<T>>;
  // Allocators whose construct/destroy are plain placement new / destructor calls for a T
  // that is not uses-allocator constructible: they may be bypassed for trivial T.
  static constexpr bool plain_alloc =
      std_alloc || std::is_same_v<Alloc, std::pmr::polymorphic_allocator<T>>;
  // memcpy relocation: only for trivially copyable T (not "trivially relocatable-ish" types
  // such as std::unique_ptr: the language has no such trait yet, and guessing is unsound).
  static constexpr bool memcpy_relocate = std::is_trivially_copyable_v<T> && plain_alloc;
  // emplace_back's growth for small trivially copyable T under std::allocator: the new value
  // is passed by value (in registers) to the cold grow_emplace_back_trivial, which allocates,
  // copies and frees through std::allocator's inline calls (no further calls of ours).
  static constexpr bool trivial_growth =
      memcpy_relocate && std_alloc && sizeof(T) <= 2 * sizeof(void*);
  static constexpr size_type inline_bytes = N == 0 ? 1 : N * sizeof(T);
  // std::allocator's max_size() is PTRDIFF_MAX / sizeof(T): see max_size().
  static constexpr size_type std_max_size =
      std::min(static_cast<size_type>(PTRDIFF_MAX) / sizeof(T), base::max_size_bits);

  union storage {
    detail::small_vector_heap heap;  // active when meta_'s heap flag is set
    alignas(T) std::byte bytes[inline_bytes];
  };

  [[nodiscard]] T* inline_data() noexcept {
    // SAFETY: `bytes` is aligned for T and provides storage for the N inline elements, which
    // are created there by placement new at index * sizeof(T); the pointer is dereferenced
    // only below size() while the vector is inline. No std::launder: data() of an empty
    // vector must be a valid pointer too, and launder requires a live object.
    return reinterpret_cast<T*>(storage_.bytes);
  }
  [[nodiscard]] const T* inline_data() const noexcept {
    // SAFETY: as in the non-const overload.
    return reinterpret_cast<const T*>(storage_.bytes);
  }
  /// Preconditions: !is_inline().
  [[nodiscard]] T* heap_data() const noexcept { return static_cast<T*>(storage_.heap.data); }

  template <class... Args>
  void construct(T* p, Args&&... args) {
    traits::construct(alloc_, p, std::forward<Args>(args)...);
  }
  void destroy(T* p) noexcept { traits::destroy(alloc_, p); }
  void destroy_range(T* first, T* last) noexcept {
    if constexpr (!(std::is_trivially_destructible_v<T> && plain_alloc)) {
      for (; first != last; ++first) destroy(first);
    }
  }

  T* allocate(size_type count);
  void deallocate(T* p, size_type count) noexcept;
  detail::small_vector_heap allocate_grown(size_type extra);
  void release() noexcept;
  void install_heap(detail::small_vector_heap block, size_type new_size) noexcept;
  // no_icf: GCC 12 folds identical take_from bodies of different instantiations and then
  // reports a false -Warray-bounds across the folded types at -O2.
  FERRITE_NO_ICF void take_from(small_vector& other);
  void relocate(T* src, size_type count, T* dst);
  void reallocate(size_type new_capacity);
  void move_inline_back();
  template <class Fill>
  void append_with(size_type extra, Fill&& fill);
  template <class Fill>
  void grow_append(size_type extra, Fill&& fill);
  template <class... Args>
  FERRITE_COLD reference grow_emplace_back(Args&&... args);
  FERRITE_COLD reference grow_emplace_back_trivial(T value);
  template <class It>
  void append_counted(It first, size_type count);
  template <class It, class S>
  void append_iter(It first, S last);
  template <class It>
  void assign_counted(It first, size_type count);
  template <class... Args>
  void resize_with(size_type count, const Args&... args);
  template <class It>
  void uninitialized_copy_n(It first, size_type count, T* dst);
  template <class... Args>
  void uninitialized_fill_n(T* dst, size_type count, const Args&... args);
  void rotate_one(T* pos) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                   std::is_nothrow_move_assignable_v<T>);
  void swap_inline_with_heap(small_vector& heap_side);
  void swap_both_inline(small_vector& other);
  T* mutable_pos(const_iterator pos) noexcept {
    FERRITE_DEBUG_ASSERT(pos >= begin() && pos <= end(), "small_vector: iterator not in range");
    return begin() + (pos - cbegin());
  }

  [[no_unique_address]] Alloc alloc_;
  storage storage_;  // inline elements or the heap block, chosen by meta_'s heap flag
};

// ---- the inline fast path ---------------------------------------------------------------

template <class T, std::size_t N, class Alloc>
template <class... Args>
FERRITE_ALWAYS_INLINE auto small_vector<T, N, Alloc>::emplace_back(Args&&... args) -> reference {
  const size_type meta = meta_;
  if constexpr (N > 0) {
    // meta < N: inline (flag clear) and not full. One compare against a constant.
    if (meta < N) {
      // SAFETY: meta is the size, < N: the slot is inside the inline buffer, past the last
      // element.
      T* p = inline_data() + meta;
      construct(p, std::forward<Args>(args)...);
      meta_ = meta + 1;
      return *p;
    }
  }
  if (meta >= base::heap_flag && meta - base::heap_flag < storage_.heap.capacity) {
    // SAFETY: on the heap (flag set, so `heap` is the active member) with size < capacity:
    // the slot is inside the block, past the last element.
    T* p = heap_data() + (meta - base::heap_flag);
    construct(p, std::forward<Args>(args)...);
    meta_ = meta + 1;
    return *p;
  }
  if constexpr (trivial_growth) {
    return grow_emplace_back_trivial(T(std::forward<Args>(args)...));
  } else {
    return grow_emplace_back(std::forward<Args>(args)...);
  }
}

// ---- comparison and erasure -------------------------------------------------------------

namespace detail {
// The comparison bodies depend on T only, not on N: one copy per element type (and no
// identical-code-folding of N-specific copies, which confuses GCC 12's -Warray-bounds).
template <class T>
bool sv_equal(const T* a, std::size_t na, const T* b, std::size_t nb) {
  return std::equal(a, a + na, b, b + nb);
}
template <class T>
auto sv_compare(const T* a, std::size_t na, const T* b, std::size_t nb) {
  return std::lexicographical_compare_three_way(a, a + na, b, b + nb, synth_three_way{});
}
}  // namespace detail

/// Element-wise equality; vectors of different inline capacities compare too. O(n).
template <class T, std::size_t N, std::size_t M, class Alloc>
[[nodiscard]] FERRITE_ALWAYS_INLINE bool operator==(const small_vector<T, N, Alloc>& a,
                                                    const small_vector<T, M, Alloc>& b) {
  return detail::sv_equal(a.data(), a.size(), b.data(), b.size());
}

/// Lexicographic order by T's <=> (or by < when T has no <=>). O(n).
template <class T, std::size_t N, std::size_t M, class Alloc>
[[nodiscard]] FERRITE_ALWAYS_INLINE auto operator<=>(const small_vector<T, N, Alloc>& a,
                                                     const small_vector<T, M, Alloc>& b) {
  return detail::sv_compare(a.data(), a.size(), b.data(), b.size());
}

/// Erases every element satisfying `pred`; returns how many. Found by ADL, like erase
/// below (overloads cannot be added to namespace std: `using std::erase_if;` then call
/// unqualified, or call ferrite::mem::erase_if). O(n).
template <class T, std::size_t N, class Alloc, class Pred>
typename small_vector<T, N, Alloc>::size_type erase_if(small_vector<T, N, Alloc>& v, Pred pred) {
  const auto it = std::remove_if(v.begin(), v.end(), pred);
  const auto removed = static_cast<typename small_vector<T, N, Alloc>::size_type>(v.end() - it);
  v.erase(it, v.end());
  return removed;
}

/// Erases every element equal to `value`; returns how many. O(n).
template <class T, std::size_t N, class Alloc, class U = T>
typename small_vector<T, N, Alloc>::size_type erase(small_vector<T, N, Alloc>& v, const U& value) {
  return mem::erase_if(v, [&value](const T& e) { return e == value; });
}

namespace pmr {
/// small_vector whose heap blocks come from a std::pmr::memory_resource (8 bytes bigger: the
/// polymorphic_allocator is stored). The allocator does not propagate on copy, move
/// assignment or swap (pmr's rules); swapping vectors of different resources is undefined,
/// as for std::pmr::vector.
template <class T, std::size_t N>
using small_vector = mem::small_vector<T, N, std::pmr::polymorphic_allocator<T>>;
}  // namespace pmr

}  // namespace ferrite::mem

#include "ferrite/mem/detail/small_vector_assign.hpp"
#include "ferrite/mem/detail/small_vector_impl.hpp"
