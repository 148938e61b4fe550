// SPDX-License-Identifier: Apache-2.0
// flex_array<Header, T, Alloc>: one allocation holding a Header followed by a run-time number
// of T, the C "flexible array member" (and Rust's dynamically sized `struct { h, [T] }`) made
// safe. flex_layout<Header, T> does the offset, alignment and overflow-checked size
// arithmetic; flex_array is a move-only owning handle (like unique_ptr) that builds the header
// and the elements in place, destroys them in reverse, and frees the block through any
// standard allocator (rebound to an aligned block type) or, via
// std::pmr::polymorphic_allocator, any std::pmr::memory_resource. Construction is exception
// safe: if the k-th element constructor throws, the k-1 built elements and the header are
// destroyed and the block is freed before the exception leaves.
//
// Memory layout of flex_array<hdr, std::uint64_t> with struct hdr { u32 len; u16 kind; }:
// sizeof(hdr) = 8, alignof(hdr) = 4, alignof(u64) = 8, so elements_offset = 8, alignment = 8.
//
//   offset  0        4      6      8            16           8 + 8n
//           +--------+------+------+------------+-- ... -----+
//           |  len   | kind | pad  |    T[0]    |    T[n-1]  |
//           +--------+------+------+------------+-- ... -----+
//           |<-- Header (8) ------>|<-- n * sizeof(T) ------>|
//   allocation_size(n) = align_up(8 + 8n, 8), aligned to 8.
//
// When alignof(T) exceeds the header's size rounding, padding appears between the two:
// struct tag { u16 kind; u8 flags; } (sizeof 4) with T = u64 puts T[0] at offset 8, after
// 4 bytes of padding; an alignas(64) T puts T[0] at offset 64 and aligns the block to 64.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "ferrite/core/bits.hpp"
#include "ferrite/core/contract.hpp"

namespace ferrite::mem {

/// The layout of a Header followed by n elements of T, as constants and checked arithmetic.
/// Everything is constexpr; nothing here allocates.
template <class Header, class T>
struct flex_layout {
  static_assert(std::is_object_v<Header> && !std::is_array_v<Header>, "Header: a complete type");
  static_assert(std::is_object_v<T> && !std::is_array_v<T>, "T: a complete object type");

  /// Alignment of the whole block: the stricter of the two.
  static constexpr std::size_t alignment = std::max(alignof(Header), alignof(T));
  /// Bytes of the header, its tail padding included.
  static constexpr std::size_t header_size = sizeof(Header);
  /// Where T[0] starts: the header's size rounded up to T's alignment.
  static constexpr std::size_t elements_offset = align_up(sizeof(Header), alignof(T));
  /// Padding bytes between the end of the header and T[0].
  static constexpr std::size_t padding = elements_offset - sizeof(Header);

  /// Bytes of a block holding `n` elements: elements_offset + n * sizeof(T), rounded up to
  /// `alignment`; std::nullopt when that is not representable in std::size_t. O(1).
  static constexpr std::optional<std::size_t> allocation_size(std::size_t n) noexcept {
    constexpr std::size_t limit = std::numeric_limits<std::size_t>::max();
    if (n > (limit - elements_offset) / sizeof(T)) return std::nullopt;
    return checked_align_up(elements_offset + n * sizeof(T), alignment);
  }
  /// The largest n for which allocation_size(n) is representable.
  static constexpr std::size_t max_elements() noexcept {
    constexpr std::size_t limit = std::numeric_limits<std::size_t>::max();
    return (align_down(limit, alignment) - elements_offset) / sizeof(T);
  }
};

namespace detail {

/// The unit a flex_array allocates in: `A` bytes aligned to `A`, so that a std allocator
/// rebound to it returns suitably aligned storage (over-aligned new when A is large).
template <std::size_t A>
struct alignas(A) flex_block {
  std::byte bytes[A];
};

/// Holds the allocator. Empty allocators take no room (empty base); others are a plain member
/// that move assignment may replace wholesale (polymorphic_allocator is not assignable).
template <class A, bool Empty = std::is_empty_v<A> && !std::is_final_v<A>>
struct flex_alloc_holder : private A {
  explicit flex_alloc_holder(const A& a) noexcept : A(a) {}
  A& get() noexcept { return *this; }
  const A& get() const noexcept { return *this; }
  void replace(A& other) noexcept {
    if constexpr (std::is_move_assignable_v<A>) get() = std::move(other);
  }
};
template <class A>
class flex_alloc_holder<A, false> {
 public:
  explicit flex_alloc_holder(const A& a) noexcept : alloc_(a) {}
  A& get() noexcept { return alloc_; }
  const A& get() const noexcept { return alloc_; }
  void replace(A& other) noexcept {
    if constexpr (std::is_move_assignable_v<A>) {
      alloc_ = std::move(other);
    } else {
      // SAFETY: alloc_ is a complete, non-overlapping member object of a type without const
      // or reference members, so the object created in its place is transparently replaced
      // and the name alloc_ refers to it.
      std::destroy_at(&alloc_);
      std::construct_at(&alloc_, other);
    }
  }

 private:
  A alloc_;
};

}  // namespace detail

/// A single block holding a Header and `size()` elements of T, owned like a unique_ptr.
///
/// Create one with create() (value-initialized elements), generate() (element i from a
/// callable) or from_range() (copies of a range), each optionally preceded by
/// `std::allocator_arg, alloc` (a std allocator of any value type; a memory_resource* converts
/// to the polymorphic_allocator of pmr_flex_array). The handle is move-only; a moved-from
/// handle is empty (`!handle`) and may only be destroyed, assigned or tested.
/// Complexity: creation and destruction are O(n) element constructions/destructions and one
/// allocation/deallocation of flex_layout::allocation_size(n) bytes.
/// Thread-safety: none (like unique_ptr).
///
/// \warning The elements are not relocatable containers: there is no push_back or resize.
/// The element count is fixed at creation and kept in the handle, not in the block.
template <class Header, class T, class Alloc = std::allocator<std::byte>>
class flex_array {
 public:
  using layout = flex_layout<Header, T>;
  using header_type = Header;
  using value_type = T;
  using size_type = std::size_t;
  using allocator_type = Alloc;
  using iterator = T*;
  using const_iterator = const T*;

 private:
  using block = detail::flex_block<layout::alignment>;
  using block_alloc = typename std::allocator_traits<Alloc>::template rebind_alloc<block>;
  using block_traits = std::allocator_traits<block_alloc>;

 public:
  // ---- creation ----------------------------------------------------------------------------

  /// A block with Header(header_args...) and `n` value-initialized elements. Throws
  /// std::length_error when the size overflows (before allocating), std::bad_alloc when the
  /// allocation fails, and whatever a constructor throws (after undoing everything).
  template <class... HeaderArgs>
  [[nodiscard]] static flex_array create(size_type n, HeaderArgs&&... header_args) {
    return create(std::allocator_arg, Alloc(), n, std::forward<HeaderArgs>(header_args)...);
  }
  template <class... HeaderArgs>
  [[nodiscard]] static flex_array create(std::allocator_arg_t, const Alloc& alloc, size_type n,
                                         HeaderArgs&&... header_args) {
    return build(
        alloc, n, [](T* slot, size_type) { std::construct_at(slot); },
        std::forward<HeaderArgs>(header_args)...);
  }

  /// A block whose element i is constructed from gen(i) (a prvalue T is built in place), for
  /// i in [0, n) in order. Same guarantees as create().
  template <class Gen, class... HeaderArgs>
    requires std::invocable<Gen&, size_type>
  [[nodiscard]] static flex_array generate(size_type n, Gen&& gen, HeaderArgs&&... header_args) {
    return generate(std::allocator_arg, Alloc(), n, gen, std::forward<HeaderArgs>(header_args)...);
  }
  template <class Gen, class... HeaderArgs>
    requires std::invocable<Gen&, size_type>
  [[nodiscard]] static flex_array generate(std::allocator_arg_t, const Alloc& alloc, size_type n,
                                           Gen&& gen, HeaderArgs&&... header_args) {
    return build(
        alloc, n,
        [&gen](T* slot, size_type i) {
          // SAFETY: slot is the uninitialized, suitably aligned storage of element i.
          ::new (static_cast<void*>(slot)) T(std::invoke(gen, i));
        },
        std::forward<HeaderArgs>(header_args)...);
  }

  /// A block whose elements are constructed from the elements of `range`, in order.
  /// Same guarantees as create().
  template <std::ranges::forward_range R, class... HeaderArgs>
    requires std::constructible_from<T, std::ranges::range_reference_t<R>>
  [[nodiscard]] static flex_array from_range(R&& range, HeaderArgs&&... header_args) {
    return from_range(std::allocator_arg, Alloc(), range, std::forward<HeaderArgs>(header_args)...);
  }
  template <std::ranges::forward_range R, class... HeaderArgs>
    requires std::constructible_from<T, std::ranges::range_reference_t<R>>
  [[nodiscard]] static flex_array from_range(std::allocator_arg_t, const Alloc& alloc, R&& range,
                                             HeaderArgs&&... header_args) {
    const auto n = static_cast<size_type>(std::ranges::distance(range));
    auto it = std::ranges::begin(range);
    return build(
        alloc, n, [&it](T* slot, size_type) { std::construct_at(slot, *it++); },
        std::forward<HeaderArgs>(header_args)...);
  }

  // ---- ownership ---------------------------------------------------------------------------

  /// An empty handle (owns nothing).
  flex_array() noexcept(noexcept(Alloc())) : flex_array(Alloc()) {}
  explicit flex_array(const Alloc& alloc) noexcept : alloc_(block_alloc(alloc)) {}
  flex_array(flex_array&& other) noexcept
      : alloc_(other.alloc_.get()),
        block_(std::exchange(other.block_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  /// Frees what this handle owns, then takes over `other`'s block and allocator.
  flex_array& operator=(flex_array&& other) noexcept {
    if (this != &other) {
      reset();
      alloc_.replace(other.alloc_.get());
      block_ = std::exchange(other.block_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  flex_array(const flex_array&) = delete;  // single owner: copying would double-free
  flex_array& operator=(const flex_array&) = delete;
  ~flex_array() { reset(); }

  /// Destroys the elements (last first), then the header, frees the block, and leaves the
  /// handle empty. No effect on an empty handle.
  void reset() noexcept {
    if (block_ == nullptr) return;
    T* elems = data();
    for (size_type i = size_; i > 0; --i) std::destroy_at(elems + (i - 1));
    std::destroy_at(&header());
    deallocate(alloc_.get(), block_, size_);
    block_ = nullptr;
    size_ = 0;
  }
  friend void swap(flex_array& a, flex_array& b) noexcept {
    flex_array tmp(std::move(a));
    a = std::move(b);
    b = std::move(tmp);
  }

  // ---- access ------------------------------------------------------------------------------

  /// True when the handle owns a block.
  explicit operator bool() const noexcept { return block_ != nullptr; }
  /// Preconditions: the handle owns a block (FERRITE_DEBUG_ASSERT).
  Header& header() noexcept { return *header_ptr(block_); }
  const Header& header() const noexcept { return *header_ptr(block_); }
  /// The first element; nullptr for an empty handle (so span(), begin() and end() of an empty
  /// handle are an empty range).
  T* data() noexcept { return block_ == nullptr ? nullptr : elements_ptr(block_); }
  const T* data() const noexcept { return block_ == nullptr ? nullptr : elements_ptr(block_); }
  std::span<T> span() noexcept { return {data(), size_}; }
  std::span<const T> span() const noexcept { return {data(), size_}; }
  /// Number of elements (0 for an empty handle).
  size_type size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// Preconditions: i < size() (FERRITE_DEBUG_ASSERT).
  T& operator[](size_type i) noexcept {
    FERRITE_DEBUG_ASSERT(i < size_, "flex_array index out of range");
    return data()[i];
  }
  const T& operator[](size_type i) const noexcept {
    FERRITE_DEBUG_ASSERT(i < size_, "flex_array index out of range");
    return data()[i];
  }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  /// The start of the block (the header's first byte); nullptr for an empty handle.
  const std::byte* bytes() const noexcept { return block_; }
  /// Bytes of the owned block: layout::allocation_size(size()); 0 for an empty handle.
  size_type allocation_size() const noexcept {
    return block_ == nullptr ? 0 : *layout::allocation_size(size_);
  }
  allocator_type get_allocator() const noexcept { return allocator_type(alloc_.get()); }

 private:
  static Header* header_ptr(std::byte* b) noexcept {
    FERRITE_DEBUG_ASSERT(b != nullptr, "flex_array is empty");
    // SAFETY: b starts a live block whose offset 0 holds the Header built by build(); the
    // block is aligned to layout::alignment >= alignof(Header).
    return std::launder(reinterpret_cast<Header*>(b));
  }
  static const Header* header_ptr(const std::byte* b) noexcept {
    return header_ptr(const_cast<std::byte*>(b));
  }
  static T* elements_ptr(std::byte* b) noexcept {
    FERRITE_DEBUG_ASSERT(b != nullptr, "flex_array is empty");
    // SAFETY: elements_offset is a multiple of alignof(T) inside a block aligned to at least
    // alignof(T), and allocation_size(n) covers elements_offset + n * sizeof(T); the elements
    // there were built in order by build(), so pointer arithmetic over them stays in bounds.
    return std::launder(reinterpret_cast<T*>(b + layout::elements_offset));
  }
  static const T* elements_ptr(const std::byte* b) noexcept {
    return elements_ptr(const_cast<std::byte*>(b));
  }

  // The one place a block is made. `init(slot, i)` constructs element i in `slot`.
  template <class Init, class... HeaderArgs>
  static flex_array build(const Alloc& alloc, size_type n, Init&& init,
                          HeaderArgs&&... header_args) {
    flex_array out(alloc);
    std::byte* b = allocate(out.alloc_.get(), n);  // may throw: nothing to undo
    try {
      // SAFETY: b is a fresh block of allocation_size(n) bytes aligned to layout::alignment.
      std::construct_at(reinterpret_cast<Header*>(b), std::forward<HeaderArgs>(header_args)...);
    } catch (...) {
      deallocate(out.alloc_.get(), b, n);
      throw;
    }
    T* const first = elements_ptr(b);
    // SAFETY: allocation_size(n) covers elements_offset + n * sizeof(T), so first + n is the
    // block's element end (a pointer loop: an index loop trips GCC's loop-UB warning).
    T* const last = first + n;
    T* built = first;
    try {
      for (; built != last; ++built) init(built, static_cast<size_type>(built - first));
    } catch (...) {
      while (built != first) std::destroy_at(--built);
      std::destroy_at(header_ptr(b));
      deallocate(out.alloc_.get(), b, n);
      throw;
    }
    out.block_ = b;
    out.size_ = n;
    return out;
  }

  // Allocates the block for n elements; throws std::length_error on size overflow.
  static std::byte* allocate(block_alloc& a, size_type n) {
    const std::optional<size_type> bytes = layout::allocation_size(n);
    if (!bytes) throw std::length_error("flex_array: allocation size overflows size_t");
    block* p = std::to_address(block_traits::allocate(a, *bytes / layout::alignment));
    // SAFETY: the bytes of an allocated block provide storage for the header and elements.
    return reinterpret_cast<std::byte*>(p);
  }
  static void deallocate(block_alloc& a, std::byte* b, size_type n) noexcept {
    using pointer = typename block_traits::pointer;
    // SAFETY: b came from allocate() for the same n, so it is the address of a block.
    block* p = reinterpret_cast<block*>(b);
    block_traits::deallocate(a, std::pointer_traits<pointer>::pointer_to(*p),
                             *layout::allocation_size(n) / layout::alignment);
  }

  [[no_unique_address]] detail::flex_alloc_holder<block_alloc> alloc_;
  std::byte* block_ = nullptr;
  size_type size_ = 0;
};

/// A flex_array allocating from a std::pmr::memory_resource (pass a memory_resource* after
/// std::allocator_arg; the default is std::pmr::get_default_resource()).
template <class Header, class T>
using pmr_flex_array = flex_array<Header, T, std::pmr::polymorphic_allocator<std::byte>>;

}  // namespace ferrite::mem
