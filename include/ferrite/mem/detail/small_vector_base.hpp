// SPDX-License-Identifier: Apache-2.0
// small_vector_base: the part of small_vector that does not depend on the element type (the
// layering of LLVM's SmallVectorBase). It owns the metadata word (size plus the "on the heap"
// flag) and declares the out-of-line slow-path helpers defined in src/mem/small_vector.cpp:
// the growth policy with its std::length_error, raw byte allocation for std::allocator, and
// the throw helpers. Every small_vector<T, N, Alloc> instantiation shares this one copy of
// that code, so a TU that uses small vectors of ten element types does not carry ten growth
// policies.
#pragma once

#include <cstddef>
#include <limits>

#include "ferrite/core/platform.hpp"

namespace ferrite::mem::detail {

/// The heap representation of a spilled small_vector: the block and its capacity in
/// elements. Type-erased so the out-of-line helpers can build and free it for any T.
struct small_vector_heap {
  void* data;
  std::size_t capacity;
};

/// The T-independent state and helpers of small_vector.
///
/// Metadata word `meta_` (one std::size_t, at offset 0 of every small_vector):
///   bit  63      heap flag: 1 when the elements live in a heap block (`small_vector_heap`
///                is then the active member of the storage union), 0 when they live inline
///   bits 62..0   size: the number of live elements
/// Invariant: size <= capacity, where capacity is N when the flag is 0 and the heap block's
/// capacity when it is 1. Putting the flag in the top bit makes the inline fast path one
/// compare: `meta_ < N` holds exactly when the vector is inline and not full.
class small_vector_base {
 public:
  using size_type = std::size_t;

  /// The number of elements. O(1).
  [[nodiscard]] size_type size() const noexcept { return meta_ & ~heap_flag; }
  /// True when size() == 0. O(1).
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// True when the elements live in the inline buffer (no heap block is owned). O(1).
  [[nodiscard]] bool is_inline() const noexcept { return (meta_ & heap_flag) == 0; }

 protected:
  /// The heap flag of the metadata word.
  static constexpr size_type heap_flag = size_type{1}
                                         << (std::numeric_limits<size_type>::digits - 1);
  /// The largest size the metadata word can hold.
  static constexpr size_type max_size_bits = heap_flag - 1;

  small_vector_base() noexcept = default;
  small_vector_base(const small_vector_base&) noexcept = default;
  small_vector_base& operator=(const small_vector_base&) noexcept = default;
  ~small_vector_base() = default;

  void set_size(size_type n) noexcept { meta_ = (meta_ & heap_flag) | n; }
  void set_heap(size_type n) noexcept { meta_ = heap_flag | n; }
  void set_inline(size_type n) noexcept { meta_ = n; }

  /// The capacity to grow to so that `extra` more elements fit after `size`: at least
  /// size + extra, at least twice `capacity` (growth factor 2), at most `max_size`.
  /// Throws std::length_error when size + extra exceeds `max_size` (or overflows).
  /// Complexity: O(1). Out of line and cold.
  [[nodiscard]] static size_type next_capacity(size_type size, size_type extra, size_type capacity,
                                               size_type max_size);

  /// ::operator new storage for `count` objects of `elem_size` bytes aligned to `align`
  /// (the aligned overload when `align` exceeds __STDCPP_DEFAULT_NEW_ALIGNMENT__), exactly
  /// what std::allocator does. Throws std::bad_alloc. Preconditions: count * elem_size does
  /// not overflow (the caller checked count <= max_size()); count > 0.
  [[nodiscard]] static void* allocate_bytes(size_type count, size_type elem_size, size_type align);

  /// Frees a block from allocate_bytes with the same `count`, `elem_size` and `align`.
  static void deallocate_bytes(void* p, size_type count, size_type elem_size,
                               size_type align) noexcept;

  /// next_capacity then allocate_bytes: the whole allocation half of a std::allocator
  /// growth in one out-of-line call.
  [[nodiscard]] static small_vector_heap allocate_grown(size_type size, size_type extra,
                                                        size_type capacity, size_type max_size,
                                                        size_type elem_size, size_type align);

  /// Throws std::length_error("small_vector: <what>").
  [[noreturn]] FERRITE_COLD static void throw_length_error(const char* what);
  /// Throws std::out_of_range naming `index` and `size` (at()).
  [[noreturn]] FERRITE_COLD static void throw_out_of_range(size_type index, size_type size);

  size_type meta_ = 0;  // see the class comment
};

}  // namespace ferrite::mem::detail
