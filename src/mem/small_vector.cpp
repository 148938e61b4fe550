// SPDX-License-Identifier: Apache-2.0
// small_vector's out-of-line, type-erased slow paths (see detail/small_vector_base.hpp): the
// growth policy and its std::length_error, the std::allocator byte allocation and release,
// and the exception throwers. Nothing here depends on the element type, so every small_vector
// instantiation shares this code and the inline fast paths stay small. The helpers are always
// inlined into the exported functions, so a growth is one call deep before it reaches operator
// new or operator delete. (push_back's growth of small trivially copyable elements is not
// here: see grow_emplace_back_trivial in small_vector_impl.hpp.)
#include "ferrite/mem/small_vector.hpp"

#include <new>
#include <stdexcept>
#include <string>

namespace ferrite::mem::detail {

namespace {

using size_type = small_vector_base::size_type;

[[noreturn]] FERRITE_COLD void length_error(const char* what) {
  throw std::length_error(std::string("small_vector: ") + what);
}

FERRITE_ALWAYS_INLINE bool over_aligned(size_type align) noexcept {
  return align > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
}

FERRITE_ALWAYS_INLINE size_type grown_capacity(size_type size, size_type extra, size_type capacity,
                                               size_type max_size) {
  if (extra > max_size || size > max_size - extra) {
    length_error("size would exceed max_size()");
  }
  const size_type needed = size + extra;
  // Growth factor 2 (saturating at max_size): amortized O(1) push_back with at most
  // log2(n) reallocations; 0 grows to `needed`, so N == 0 vectors start at 1, 2, 4, ...
  const size_type doubled = capacity > max_size / 2 ? max_size : capacity * 2;
  return doubled > needed ? doubled : needed;
}

FERRITE_ALWAYS_INLINE void* allocate(size_type count, size_type elem_size, size_type align) {
  // SAFETY: count <= max_size <= PTRDIFF_MAX / elem_size (grown_capacity and the callers
  // check it), so the product cannot overflow.
  const size_type bytes = count * elem_size;
  // SAFETY: raw storage for `count` elements; the caller constructs them before use and
  // returns the block to deallocate() with the same size and alignment.
  if (over_aligned(align)) {
    return ::operator new(bytes, std::align_val_t{align});
  }
  return ::operator new(bytes);
}

FERRITE_ALWAYS_INLINE void deallocate(void* p, size_type count, size_type elem_size,
                                      size_type align) noexcept {
  const size_type bytes = count * elem_size;
  if (over_aligned(align)) {
    ::operator delete(p, bytes, std::align_val_t{align});
  } else {
    ::operator delete(p, bytes);
  }
}

}  // namespace

size_type small_vector_base::next_capacity(size_type size, size_type extra, size_type capacity,
                                           size_type max_size) {
  return grown_capacity(size, extra, capacity, max_size);
}

void* small_vector_base::allocate_bytes(size_type count, size_type elem_size, size_type align) {
  return allocate(count, elem_size, align);
}

void small_vector_base::deallocate_bytes(void* p, size_type count, size_type elem_size,
                                         size_type align) noexcept {
  deallocate(p, count, elem_size, align);
}

small_vector_heap small_vector_base::allocate_grown(size_type size, size_type extra,
                                                    size_type capacity, size_type max_size,
                                                    size_type elem_size, size_type align) {
  const size_type new_capacity = grown_capacity(size, extra, capacity, max_size);
  return {allocate(new_capacity, elem_size, align), new_capacity};
}

void small_vector_base::throw_length_error(const char* what) { length_error(what); }

void small_vector_base::throw_out_of_range(size_type index, size_type size) {
  throw std::out_of_range("small_vector::at: index " + std::to_string(index) +
                          " out of range for size " + std::to_string(size));
}

}  // namespace ferrite::mem::detail
