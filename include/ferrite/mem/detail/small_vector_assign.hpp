// SPDX-License-Identifier: Apache-2.0
// small_vector<T, N, Alloc>'s assignment and swap bodies (included at the bottom of
// ferrite/mem/small_vector.hpp, next to detail/small_vector_impl.hpp; do not include it
// directly). Split from small_vector_impl.hpp to keep each file under ~500 lines.
#pragma once

#include <algorithm>
#include <utility>

#include "ferrite/mem/small_vector.hpp"

namespace ferrite::mem {

namespace detail {
/// An iterator that yields the same value forever: assign(count, value) is assign_counted
/// over it.
template <class T>
struct sv_repeat {
  const T* value;
  const T& operator*() const noexcept { return *value; }
  sv_repeat& operator++() noexcept { return *this; }
};
}  // namespace detail

// ---- assignment -------------------------------------------------------------------------

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::assign(size_type count, const T& value) {
  // `value` may be an element: assign_counted reads it before destroying any element, and
  // a reallocation fills the new block before the old elements go.
  assign_counted(detail::sv_repeat<T>{&value}, count);
}

/// Replaces the contents with `count` elements read from `first`. A subrange of *this is
/// fine: copies go forward, from later or equal positions to earlier ones.
template <class T, std::size_t N, class Alloc>
template <class It>
void small_vector<T, N, Alloc>::assign_counted(It first, size_type count) {
  if (count > capacity()) {
    if (count > max_size()) base::throw_length_error("assign() beyond max_size()");
    T* fresh = allocate(count);
    try {
      uninitialized_copy_n(std::move(first), count, fresh);
    } catch (...) {
      deallocate(fresh, count);
      throw;
    }
    destroy_range(data(), data() + size());
    install_heap({fresh, count}, count);
    return;
  }
  T* d = data();
  const size_type n = size();
  const size_type common = std::min(count, n);
  for (size_type i = 0; i < common; ++i, ++first) d[i] = *first;
  if (count > n) {
    uninitialized_copy_n(std::move(first), count - n, d + n);
  } else {
    destroy_range(d + count, d + n);
  }
  set_size(count);
}

template <class T, std::size_t N, class Alloc>
template <detail::sv_input_iterator It>
void small_vector<T, N, Alloc>::assign(It first, It last) {
  if constexpr (detail::sv_forward_iterator<It>) {
    const auto count = static_cast<size_type>(std::distance(first, last));
    assign_counted(std::move(first), count);
  } else {
    clear();
    append_iter(std::move(first), std::move(last));
  }
}

template <class T, std::size_t N, class Alloc>
template <detail::sv_range<T> R>
void small_vector<T, N, Alloc>::assign_range(R&& range) {
  if constexpr (std::ranges::forward_range<R> || std::ranges::sized_range<R>) {
    const auto count = static_cast<size_type>(std::ranges::distance(range));
    assign_counted(std::ranges::begin(range), count);
  } else {
    clear();
    append_iter(std::ranges::begin(range), std::ranges::end(range));
  }
}

template <class T, std::size_t N, class Alloc>
small_vector<T, N, Alloc>::small_vector(small_vector&& other,
                                        const std::type_identity_t<Alloc>& alloc)
    : small_vector(alloc) {
  if (traits::is_always_equal::value || alloc_ == other.alloc_) {
    take_from(other);
  } else {
    append_counted(std::make_move_iterator(other.begin()), other.size());
    other.clear();
  }
}

template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::operator=(const small_vector& other) -> small_vector& {
  if (this == &other) return *this;
  if constexpr (traits::propagate_on_container_copy_assignment::value) {
    // Our block belongs to the old allocator: free it with that one before switching.
    if (!traits::is_always_equal::value && alloc_ != other.alloc_) release();
    alloc_ = other.alloc_;
  }
  assign_counted(other.begin(), other.size());
  return *this;
}

template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::operator=(small_vector&& other) noexcept(
    (traits::propagate_on_container_move_assignment::value || traits::is_always_equal::value) &&
    std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>)
    -> small_vector& {
  if (this == &other) return *this;
  constexpr bool propagate = traits::propagate_on_container_move_assignment::value;
  const bool equal = traits::is_always_equal::value || alloc_ == other.alloc_;
  if (!equal && !propagate) {
    // Neither the block nor the allocator may change hands: move element by element.
    assign_counted(std::make_move_iterator(other.begin()), other.size());
    other.clear();
  } else if (!other.is_inline() || !equal) {
    release();
    if constexpr (propagate) alloc_ = std::move(other.alloc_);
    take_from(other);
  } else {
    // other is inline: move its elements into our storage (which has room: capacity >= N).
    assign_counted(std::make_move_iterator(other.begin()), other.size());
    other.clear();
  }
  return *this;
}

// ---- swap -------------------------------------------------------------------------------

/// *this is inline, heap_side is on the heap: our elements move into heap_side's inline
/// buffer (which overlaps its heap descriptor, saved first), and we take the block.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::swap_inline_with_heap(small_vector& heap_side) {
  const detail::small_vector_heap block = heap_side.storage_.heap;
  const size_type heap_meta = heap_side.meta_;
  const size_type n = size();
  try {
    relocate(inline_data(), n, heap_side.inline_data());
  } catch (...) {
    heap_side.storage_.heap = block;
    throw;
  }
  heap_side.set_inline(n);
  storage_.heap = block;
  meta_ = heap_meta;
}

/// Both inline: swap the common prefix, relocate the longer one's tail.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::swap_both_inline(small_vector& other) {
  small_vector* shorter = this;
  small_vector* longer = &other;
  if (shorter->size() > longer->size()) std::swap(shorter, longer);
  const size_type short_n = shorter->size();
  const size_type long_n = longer->size();
  T* s = shorter->inline_data();
  T* l = longer->inline_data();
  std::swap_ranges(s, s + short_n, l);
  relocate(l + short_n, long_n - short_n, s + short_n);
  shorter->set_inline(long_n);
  longer->set_inline(short_n);
}

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::swap(small_vector& other) noexcept(
    std::is_nothrow_move_constructible_v<T> && std::is_nothrow_swappable_v<T>) {
  if (this == &other) return;
  FERRITE_DEBUG_ASSERT(traits::propagate_on_container_swap::value ||
                           traits::is_always_equal::value || alloc_ == other.alloc_,
                       "small_vector: swap with unequal, non-propagating allocators");
  if (!is_inline() && !other.is_inline()) {
    std::swap(storage_.heap, other.storage_.heap);
    std::swap(meta_, other.meta_);
  } else if (!other.is_inline()) {
    swap_inline_with_heap(other);
  } else if (!is_inline()) {
    other.swap_inline_with_heap(*this);
  } else {
    swap_both_inline(other);
  }
  if constexpr (traits::propagate_on_container_swap::value) {
    using std::swap;
    swap(alloc_, other.alloc_);
  }
}

}  // namespace ferrite::mem
