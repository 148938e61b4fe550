// SPDX-License-Identifier: Apache-2.0
// The long member bodies of small_vector<T, N, Alloc> (included at the bottom of
// ferrite/mem/small_vector.hpp; do not include it directly). Everything here is the slow or
// bulk path: reallocation and relocation, the aliasing-safe "append, then rotate into place"
// insertion, assignment, swap and shrink. The T-independent pieces (growth policy, byte
// allocation, throwing) are out of line in src/mem/small_vector.cpp.
#pragma once

#include <cstring>

#include "ferrite/mem/small_vector.hpp"

namespace ferrite::mem {

// ---- allocation and relocation ---------------------------------------------------------

template <class T, std::size_t N, class Alloc>
T* small_vector<T, N, Alloc>::allocate(size_type count) {
  if constexpr (std_alloc) {
    return static_cast<T*>(base::allocate_bytes(count, sizeof(T), alignof(T)));
  } else {
    return traits::allocate(alloc_, count);
  }
}

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::deallocate(T* p, size_type count) noexcept {
  if constexpr (std_alloc) {
    base::deallocate_bytes(p, count, sizeof(T), alignof(T));
  } else {
    traits::deallocate(alloc_, p, count);
  }
}

template <class T, std::size_t N, class Alloc>
detail::small_vector_heap small_vector<T, N, Alloc>::allocate_grown(size_type extra) {
  if constexpr (std_alloc) {
    return base::allocate_grown(size(), extra, capacity(), max_size(), sizeof(T), alignof(T));
  } else {
    const size_type cap = base::next_capacity(size(), extra, capacity(), max_size());
    return {traits::allocate(alloc_, cap), cap};
  }
}

/// Destroys the elements, frees the heap block, leaves the vector empty and inline.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::release() noexcept {
  destroy_range(data(), data() + size());
  if (!is_inline()) deallocate(heap_data(), storage_.heap.capacity);
  meta_ = 0;
}

/// Makes `block` the storage holding `new_size` elements. Preconditions: the current
/// elements were relocated out or destroyed.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::install_heap(detail::small_vector_heap block,
                                             size_type new_size) noexcept {
  if (!is_inline()) deallocate(heap_data(), storage_.heap.capacity);
  storage_.heap = block;
  set_heap(new_size);
}

/// Moves src[0, count) into uninitialized dst and destroys the sources. If a move or copy
/// throws, the constructed part of dst is destroyed and the sources are intact (copies are
/// used when T's move may throw and T is copyable: std::move_if_noexcept).
/// Preconditions: the two ranges do not overlap.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::relocate(T* src, size_type count, T* dst) {
  if constexpr (memcpy_relocate) {
    if (count != 0) {
      // SAFETY: T is trivially copyable, so copying its bytes to suitably aligned storage
      // creates equal objects there (memcpy implicitly creates them) and the sources need no
      // destruction; dst has room for `count` and does not overlap src (precondition).
      std::memcpy(static_cast<void*>(dst), static_cast<const void*>(src), count * sizeof(T));
    }
  } else {
    size_type i = 0;
    try {
      for (; i < count; ++i) construct(dst + i, std::move_if_noexcept(src[i]));
    } catch (...) {
      destroy_range(dst, dst + i);
      throw;
    }
    destroy_range(src, src + count);
  }
}

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::reallocate(size_type new_capacity) {
  T* fresh = allocate(new_capacity);
  try {
    relocate(data(), size(), fresh);
  } catch (...) {
    deallocate(fresh, new_capacity);
    throw;
  }
  install_heap({fresh, new_capacity}, size());
}

/// Preconditions: !is_inline() and size() <= N.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::move_inline_back() {
  // The inline bytes overlap the heap descriptor: keep a copy to free (or restore) it.
  const detail::small_vector_heap block = storage_.heap;
  T* src = static_cast<T*>(block.data);
  try {
    relocate(src, size(), inline_data());
  } catch (...) {
    storage_.heap = block;
    throw;
  }
  deallocate(src, block.capacity);
  set_inline(size());
}

/// Takes other's heap block, or moves its inline elements here; other is left empty.
/// Preconditions: *this is empty and inline; the allocators are interchangeable.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::take_from(small_vector& other) {
  if (!other.is_inline()) {
    storage_.heap = other.storage_.heap;
    meta_ = other.meta_;
    other.meta_ = 0;
    return;
  }
  const size_type n = other.size();
  T* src = other.inline_data();
  if constexpr (memcpy_relocate) {
    relocate(src, n, inline_data());
  } else {
    size_type i = 0;
    try {
      for (; i < n; ++i) construct(inline_data() + i, std::move(src[i]));
    } catch (...) {
      destroy_range(inline_data(), inline_data() + i);
      throw;
    }
  }
  set_inline(n);
  other.clear();
}

// ---- appending: every insertion funnels through append_with ----------------------------

/// Constructs `count` elements at dst from `args` (none: value-initialized). On a throw the
/// ones constructed are destroyed.
template <class T, std::size_t N, class Alloc>
template <class... Args>
void small_vector<T, N, Alloc>::uninitialized_fill_n(T* dst, size_type count, const Args&... args) {
  size_type i = 0;
  try {
    for (; i < count; ++i) construct(dst + i, args...);
  } catch (...) {
    destroy_range(dst, dst + i);
    throw;
  }
}

/// Constructs `count` elements at dst from *first, *++first, ... On a throw the ones
/// constructed are destroyed.
template <class T, std::size_t N, class Alloc>
template <class It>
void small_vector<T, N, Alloc>::uninitialized_copy_n(It first, size_type count, T* dst) {
  size_type i = 0;
  try {
    for (; i < count; ++i, ++first) construct(dst + i, *first);
  } catch (...) {
    destroy_range(dst, dst + i);
    throw;
  }
}

/// Appends `extra` elements that `fill(T* dst)` constructs at dst (all, or none and
/// throw). `fill` may read elements of *this: they are untouched until it returns.
/// Strong guarantee.
template <class T, std::size_t N, class Alloc>
template <class Fill>
void small_vector<T, N, Alloc>::append_with(size_type extra, Fill&& fill) {
  const size_type n = size();
  if (extra <= capacity() - n) {
    fill(data() + n);
    meta_ += extra;
  } else {
    grow_append(extra, fill);
  }
}

/// append_with's reallocating half: the new elements are built in the new block first,
/// then the old ones are relocated behind them (so arguments aliasing *this stay valid).
template <class T, std::size_t N, class Alloc>
template <class Fill>
void small_vector<T, N, Alloc>::grow_append(size_type extra, Fill&& fill) {
  const size_type n = size();
  const detail::small_vector_heap block = allocate_grown(extra);
  T* fresh = static_cast<T*>(block.data);
  try {
    fill(fresh + n);
  } catch (...) {
    deallocate(fresh, block.capacity);
    throw;
  }
  try {
    relocate(data(), n, fresh);
  } catch (...) {
    destroy_range(fresh + n, fresh + n + extra);
    deallocate(fresh, block.capacity);
    throw;
  }
  install_heap(block, n + extra);
}

template <class T, std::size_t N, class Alloc>
template <class... Args>
auto small_vector<T, N, Alloc>::grow_emplace_back(Args&&... args) -> reference {
  const size_type n = size();
  grow_append(1, [&](T* dst) { construct(dst, std::forward<Args>(args)...); });
  return heap_data()[n];
}

/// emplace_back's growth for small trivially copyable T under std::allocator: `value` was
/// built before anything moved (so arguments aliasing *this were read in time) and travels in
/// registers. Allocation, copy and release happen here, with std::allocator's inline calls of
/// operator new and delete: a type-erased version (one out-of-line call doing allocate,
/// memcpy, free for every element type, LLVM's grow_pod) made build-and-drop of 32 ints 20%
/// slower in wall time than this (docs/mem.md, "Measured").
template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::grow_emplace_back_trivial(T value) -> reference {
  const size_type n = size();  // == capacity(): only a full vector grows
  const size_type old_capacity = capacity();
  // next_capacity's doubling, inline; the out-of-line call handles N == 0 and max_size().
  const size_type new_capacity = old_capacity != 0 && old_capacity <= std_max_size / 2
                                     ? 2 * old_capacity
                                     : base::next_capacity(n, 1, old_capacity, std_max_size);
  T* fresh = traits::allocate(alloc_, new_capacity);  // may throw: nothing has changed
  if (is_inline()) {
    relocate(inline_data(), N, fresh);  // the first spill: a copy of constant size
  } else {
    T* old = heap_data();
    relocate(old, n, fresh);
    traits::deallocate(alloc_, old, old_capacity);
  }
  T* slot = fresh + n;
  // SAFETY: the block has room for new_capacity > n elements; T is trivially copyable, so
  // copying the bytes of `value` creates an equal T in the slot.
  std::memcpy(static_cast<void*>(slot), static_cast<const void*>(&value), sizeof(T));
  storage_.heap = {fresh, new_capacity};
  set_heap(n + 1);
  return *slot;
}

template <class T, std::size_t N, class Alloc>
template <class It>
void small_vector<T, N, Alloc>::append_counted(It first, size_type count) {
  append_with(count, [&](T* dst) { uninitialized_copy_n(std::move(first), count, dst); });
}

/// Appends [first, last): counted when the iterator is multi-pass, one emplace_back at a
/// time otherwise (then a throw removes what was appended: strong guarantee).
template <class T, std::size_t N, class Alloc>
template <class It, class S>
void small_vector<T, N, Alloc>::append_iter(It first, S last) {
  if constexpr (detail::sv_forward_iterator<It> && std::is_same_v<It, S>) {
    append_counted(first, static_cast<size_type>(std::distance(first, last)));
  } else {
    const size_type old_size = size();
    try {
      for (; first != last; ++first) emplace_back(*first);
    } catch (...) {
      destroy_range(data() + old_size, data() + size());
      set_size(old_size);
      throw;
    }
  }
}

template <class T, std::size_t N, class Alloc>
template <detail::sv_range<T> R>
void small_vector<T, N, Alloc>::append_range(R&& range) {
  if constexpr (std::ranges::forward_range<R> || std::ranges::sized_range<R>) {
    const auto count = static_cast<size_type>(std::ranges::distance(range));
    append_counted(std::ranges::begin(range), count);
  } else {
    append_iter(std::ranges::begin(range), std::ranges::end(range));
  }
}

// ---- insertion and erasure --------------------------------------------------------------

/// Moves the last element to `pos`, shifting [pos, end - 1) up by one.
template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::rotate_one(T* pos) noexcept(
    std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>) {
  T* last = end() - 1;
  if (pos == last) return;
  T moved(std::move(*last));
  std::move_backward(pos, last, last + 1);
  *pos = std::move(moved);
}

template <class T, std::size_t N, class Alloc>
template <class... Args>
auto small_vector<T, N, Alloc>::emplace(const_iterator pos, Args&&... args) -> iterator {
  const auto index = static_cast<size_type>(mutable_pos(pos) - begin());
  emplace_back(std::forward<Args>(args)...);
  rotate_one(begin() + index);
  return begin() + index;
}

template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::insert(const_iterator pos, size_type count, const T& value)
    -> iterator {
  const auto index = static_cast<size_type>(mutable_pos(pos) - begin());
  const size_type old_size = size();
  append_with(count, [&](T* dst) { uninitialized_fill_n(dst, count, value); });
  std::rotate(begin() + index, begin() + old_size, end());
  return begin() + index;
}

template <class T, std::size_t N, class Alloc>
template <detail::sv_input_iterator It>
auto small_vector<T, N, Alloc>::insert(const_iterator pos, It first, It last) -> iterator {
  const auto index = static_cast<size_type>(mutable_pos(pos) - begin());
  const size_type old_size = size();
  append_iter(std::move(first), std::move(last));
  std::rotate(begin() + index, begin() + old_size, end());
  return begin() + index;
}

template <class T, std::size_t N, class Alloc>
template <detail::sv_range<T> R>
auto small_vector<T, N, Alloc>::insert_range(const_iterator pos, R&& range) -> iterator {
  const auto index = static_cast<size_type>(mutable_pos(pos) - begin());
  const size_type old_size = size();
  append_range(std::forward<R>(range));
  std::rotate(begin() + index, begin() + old_size, end());
  return begin() + index;
}

template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::erase(const_iterator pos) -> iterator {
  T* p = mutable_pos(pos);
  FERRITE_DEBUG_ASSERT(p != end(), "small_vector: erase(end())");
  std::move(p + 1, end(), p);
  pop_back();
  return p;
}

template <class T, std::size_t N, class Alloc>
auto small_vector<T, N, Alloc>::erase(const_iterator first, const_iterator last) -> iterator {
  T* f = mutable_pos(first);
  T* l = mutable_pos(last);
  FERRITE_DEBUG_ASSERT(f <= l, "small_vector: erase range reversed");
  if (f != l) {
    T* old_end = end();
    T* new_end = std::move(l, old_end, f);
    destroy_range(new_end, old_end);
    set_size(static_cast<size_type>(new_end - begin()));
  }
  return f;
}

// ---- size changes -----------------------------------------------------------------------

template <class T, std::size_t N, class Alloc>
template <class... Args>
void small_vector<T, N, Alloc>::resize_with(size_type count, const Args&... args) {
  const size_type n = size();
  if (count <= n) {
    destroy_range(data() + count, data() + n);
    set_size(count);
  } else {
    append_with(count - n, [&](T* dst) { uninitialized_fill_n(dst, count - n, args...); });
  }
}

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::reserve(size_type new_capacity) {
  if (new_capacity <= capacity()) return;
  if (new_capacity > max_size()) base::throw_length_error("reserve() beyond max_size()");
  reallocate(new_capacity);
}

template <class T, std::size_t N, class Alloc>
void small_vector<T, N, Alloc>::shrink_to_fit() {
  if (is_inline()) return;
  if (size() <= N) {
    move_inline_back();
  } else if (size() < storage_.heap.capacity) {
    reallocate(size());
  }
}

}  // namespace ferrite::mem
