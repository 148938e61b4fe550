// SPDX-License-Identifier: Apache-2.0
// arena: a chunked bump allocator for objects that die together (a request, a frame, a
// parse). allocate() is a pointer bump and two compares inline; opening a new chunk is the
// only out-of-line path. Objects with non-trivial destructors are recorded in the arena
// itself and destroyed in reverse order by reset(), rewind() or the arena's destructor. A pmr
// adapter (resource()) lets std::pmr containers allocate from it.
//
// Chunk layout. Every chunk, whether it comes from upstream or is the user's initial buffer,
// starts with a 32-byte header. Allocations are bumped DOWNWARD from the chunk's end toward
// the header: the new cursor is (cur - size) rounded down to the alignment, one subtraction
// and one mask, which is shorter than rounding up and adding. A destructor record sits right
// after the object it destroys, so the record list threads through the chunks with no side
// allocation:
//
//   chunk (from upstream: 16-byte aligned, size a multiple of 16; or the user's buffer)
//   +0    +------------------------------------------------+
//         | prev   chunk_header*  older chunk of the list  |
//   +8    | size   size_t         whole chunk, header too  |
//   +16   | used   size_t         bytes handed out; set    |
//         |                       when the chunk is closed |
//   +24   | flags  u32 (external, spare) | u32 unused      |
//   +32   +------------------------------------------------+ <- payload (begin_)
//         |                 free                           |
//         | . . . . . . . . . . . . . . . . . . . . . . . .| <- cur_ (lowest byte in use)
//         | C: T[n] array ... | pad | record of C          |   record: +0 fn, +8 object,
//         | B: non-trivial T | pad | record of B | pad     |   +16 next (older record),
//         | A: trivial | pad                               |   +24 count (arrays only)
//   size  +------------------------------------------------+ <- chunk end
//
//   dtors_ -> record of C -> record of B -> (records in older chunks) -> nullptr
//
// (pad at a block's upper end: the gap left when that block's address was aligned down.)
// A request too big for a chunk of the maximum size gets a dedicated chunk of its own, kept on
// a second list so that the current chunk keeps serving small requests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ferrite/core/bits.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::mem {

class arena;

namespace detail {

/// The header at the start of every chunk (diagram in the file comment).
struct chunk_header {
  chunk_header* prev;   ///< older chunk of the same list, nullptr for the oldest
  std::size_t size;     ///< bytes of the whole chunk, this header included
  std::size_t used;     ///< payload bytes handed out; valid once the chunk is closed
  std::uint32_t flags;  ///< chunk_external | chunk_spare
  std::uint32_t unused;
};
static_assert(sizeof(chunk_header) == 32, "the documented layout: payload at +32");

inline constexpr std::uint32_t chunk_external = 1;  ///< the user's buffer: never freed
inline constexpr std::uint32_t chunk_spare = 2;     ///< kept by reset() as the next chunk

/// A registered destructor: destroys `object` (and, for arrays, `count` elements).
struct dtor_record {
  void (*fn)(dtor_record*) noexcept;
  void* object;
  dtor_record* next;  ///< the record registered before this one
};
/// The record of a make_array: the same, plus the element count.
struct array_dtor_record : dtor_record {
  std::size_t count;
};

template <class T>
void destroy_one(dtor_record* r) noexcept {
  static_cast<T*>(r->object)->~T();
}

template <class T>
void destroy_array(dtor_record* r) noexcept {
  // SAFETY: make_array registers destroy_array<T> only with an array_dtor_record whose
  // object points to `count` live T; first + i - 1 stays inside them.
  const auto* a = static_cast<const array_dtor_record*>(r);
  T* first = static_cast<T*>(a->object);
  for (std::size_t i = a->count; i > 0; --i) (first + i - 1)->~T();
}

/// Throws std::bad_alloc (out of line, cold).
[[noreturn]] void throw_bad_alloc();

/// The std::pmr face of an arena: allocate bumps, deallocate does nothing.
class arena_resource final : public std::pmr::memory_resource {
 public:
  explicit arena_resource(arena& owner) noexcept : owner_(&owner) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* /*p*/, std::size_t /*bytes*/, std::size_t /*alignment*/) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  arena* owner_;
};

}  // namespace detail

/// Construction options of an arena. Designated initializers read best:
/// `arena a({.first_chunk_size = 64 * 1024})`.
struct arena_options {
  /// Size of the first chunk requested from upstream, header included (rounded up to a
  /// multiple of 16, as every upstream chunk size is). Chunk sizes then double up to
  /// `max_chunk_size`. Must be >= arena::min_chunk_size.
  std::size_t first_chunk_size = 4096;
  /// Cap of the doubling. A request that does not fit in a chunk of this size gets a
  /// dedicated chunk. Must be >= first_chunk_size.
  std::size_t max_chunk_size = std::size_t{1} << 20;
  /// Where chunks come from; nullptr means std::pmr::new_delete_resource().
  std::pmr::memory_resource* upstream = nullptr;
};

/// A snapshot of an arena's memory. Invariants: bytes_used + waste == bytes_reserved and
/// bytes_available <= waste.
struct arena_stats {
  std::size_t bytes_used = 0;       ///< handed out, alignment padding and records included
  std::size_t bytes_reserved = 0;   ///< sum of the sizes of the chunks held
  std::size_t bytes_available = 0;  ///< free bytes left in the current chunk
  std::size_t chunks = 0;           ///< chunks held (user buffer and spare included)
  std::size_t waste = 0;            ///< reserved - used: headers, abandoned tails, the free rest
  friend bool operator==(const arena_stats&, const arena_stats&) = default;
};

/// A position in an arena, to rewind() to. Plain value; valid until the arena is reset,
/// destroyed, or rewound to a checkpoint taken before this one.
class arena_checkpoint {
 public:
  arena_checkpoint() = delete;

 private:
  friend class arena;
  arena_checkpoint(const arena* owner, detail::chunk_header* chunk, std::byte* cur,
                   detail::chunk_header* large, detail::dtor_record* dtors, std::size_t depth,
                   std::uint64_t id) noexcept
      : owner_(owner),
        chunk_(chunk),
        cur_(cur),
        large_(large),
        dtors_(dtors),
        depth_(depth),
        id_(id) {}

  const arena* owner_;
  detail::chunk_header* chunk_;
  std::byte* cur_;
  detail::chunk_header* large_;
  detail::dtor_record* dtors_;
  std::size_t depth_;  ///< checkpoints live below this one when it was taken
  std::uint64_t id_;   ///< unique within the arena
};

/// A chunked bump arena. Not thread-safe: one thread at a time (see concurrent_bump for a
/// lock-free fixed buffer).
///
/// - allocate(size, align): any power-of-two alignment up to max_alignment. Size 0 returns a
///   valid, aligned, non-null pointer to zero bytes that is not unique (it may equal the
///   address of another allocation). Never returns nullptr: failure throws std::bad_alloc.
/// - Successive allocations go to decreasing addresses within a chunk (downward bump).
/// - make<T>, make_array<T>, copy: typed construction; destructors of non-trivially
///   destructible objects run in reverse construction order on reset(), rewind() and
///   destruction. Destructors must not use the arena.
/// - Memory is given back only by reset(), rewind(), release() and destruction.
///
/// \warning allocate() hands out raw memory: an object placed there with your own placement
/// new is never destroyed by the arena. Use make<T>.
class arena {
 public:
  /// The largest alignment allocate() accepts.
  static constexpr std::size_t max_alignment = 4096;
  /// The smallest chunk (and user buffer) an arena accepts.
  static constexpr std::size_t min_chunk_size = 2 * sizeof(detail::chunk_header);
  /// Checkpoint nesting depth up to which rewind() identifies a stale checkpoint exactly;
  /// deeper checkpoints are checked by depth only.
  static constexpr std::size_t tracked_checkpoints = 8;

  /// An empty arena; the first allocation requests the first chunk. O(1), allocates nothing.
  arena() noexcept : arena(arena_options{}) {}
  /// Preconditions: min_chunk_size <= first_chunk_size <= max_chunk_size (FERRITE_ASSERT).
  explicit arena(const arena_options& options) noexcept;
  /// An arena whose first chunk is `buffer` (a stack array, a static region). The buffer is
  /// used before any upstream chunk, kept by reset(), and never freed.
  /// Preconditions: `buffer` outlives the arena; buffer.size() >= min_chunk_size plus the
  /// padding that aligns its start to 8 bytes (FERRITE_ASSERT).
  explicit arena(std::span<std::byte> buffer, const arena_options& options = {}) noexcept;
  /// Runs the registered destructors (newest first) and frees every upstream chunk.
  ~arena();

  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;
  // Not movable: resource() and every pmr container built on it hold the arena's address.
  arena(arena&&) = delete;
  arena& operator=(arena&&) = delete;

  /// `size` bytes aligned to `align`, uninitialized.
  /// Preconditions: `align` is a power of two <= max_alignment (FERRITE_ASSERT).
  /// Throws std::bad_alloc when size > max_size() or upstream fails; the arena is unchanged.
  /// Complexity: O(1); inline bump (downward) and two compares, a new chunk out of line.
  [[nodiscard]] FERRITE_ALWAYS_INLINE void* allocate(
      std::size_t size, std::size_t align = alignof(std::max_align_t)) {
    FERRITE_ASSERT(is_pow2(align) && align <= max_alignment,
                   "arena: alignment must be a power of two <= 4096");
    return bump_or_slow(size, align);
  }

  /// A T constructed in place from `args`. When T is not trivially destructible, its
  /// destructor is registered (a 24-byte record after the object) and runs on reset(),
  /// rewind() past this point, or destruction. If the constructor throws, nothing is
  /// registered; the bytes stay consumed until reset/rewind.
  /// Complexity: O(1) plus the constructor.
  template <class T, class... Args>
  [[nodiscard]] T* make(Args&&... args);

  /// n value-initialized T (zeros for scalars), constructed in index order; one destructor
  /// record for the whole array when T is not trivially destructible (elements destroyed in
  /// reverse index order). If a constructor throws, the elements built so far are destroyed
  /// in reverse and nothing is registered. n == 0 returns an empty span and allocates
  /// nothing. Throws std::bad_alloc when n * sizeof(T) would overflow (or exceed max_size()).
  /// Complexity: O(n).
  template <class T>
  [[nodiscard]] std::span<T> make_array(std::size_t n);

  /// As make_array, but default-initialized: scalars are left indeterminate (no zeroing).
  template <class T>
  [[nodiscard]] std::span<T> make_array_for_overwrite(std::size_t n);

  /// A copy of `s` in the arena, followed by a '\0' that the returned view does not count
  /// (so data() can be handed to C APIs). Complexity: O(s.size()).
  [[nodiscard]] std::string_view copy(std::string_view s);

  /// The current position, for rewind(). O(1), noexcept.
  [[nodiscard]] arena_checkpoint checkpoint() noexcept {
    const std::uint64_t id = ++checkpoint_ids_;
    if (checkpoint_depth_ < tracked_checkpoints) live_checkpoints_[checkpoint_depth_] = id;
    return {this, head_, cur_, large_, dtors_, checkpoint_depth_++, id};
  }

  /// Returns to `cp`: runs the destructors registered after it (newest first), frees the
  /// chunks allocated after it, and restores stats() to their value at cp (bytes_used,
  /// reserved, chunks). `cp` stays valid (rewind to it again at will); checkpoints taken
  /// after it become invalid.
  /// Preconditions: `cp` was taken on this arena and is still valid: checkpoints are rewound
  /// in LIFO order and never across reset()/release() (FERRITE_ASSERT, exact up to
  /// tracked_checkpoints nesting levels).
  /// Complexity: O(destructors run + chunks freed).
  void rewind(const arena_checkpoint& cp) noexcept;

  /// Runs every registered destructor (newest first) and frees every chunk except the
  /// largest, which becomes the current chunk. With a user buffer, the buffer becomes the
  /// current chunk again and the largest upstream chunk, if bigger than it, is kept as the
  /// next chunk to use. Invalidates all checkpoints. Complexity: O(destructors + chunks).
  void reset() noexcept;

  /// As reset(), but frees every upstream chunk (only a user buffer is kept) and restarts
  /// chunk growth at first_chunk_size.
  void release() noexcept;

  /// Memory accounting; O(1).
  [[nodiscard]] arena_stats stats() const noexcept;

  /// A memory_resource allocating from this arena (deallocate is a no-op), for std::pmr
  /// containers. Valid as long as the arena. Equal only to itself.
  [[nodiscard]] std::pmr::memory_resource* resource() noexcept { return &resource_; }

  /// The resource chunks come from.
  [[nodiscard]] std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

  /// The largest size allocate() may satisfy; larger requests throw std::bad_alloc before
  /// reaching upstream.
  [[nodiscard]] static constexpr std::size_t max_size() noexcept {
    return static_cast<std::size_t>(PTRDIFF_MAX) / 2;
  }

 private:
  /// The bump: `size` bytes aligned to `align` from the current chunk, or a new chunk when
  /// they do not fit. Preconditions: `align` is a power of two (checked once, by allocate()).
  FERRITE_ALWAYS_INLINE void* bump_or_slow(std::size_t size, std::size_t align) {
    const auto avail = static_cast<std::size_t>(cur_ - begin_);
    if (size <= avail) [[likely]] {
      // SAFETY: size <= cur_ - begin_, so cur_ - size stays inside the chunk's free part.
      std::byte* p = cur_ - size;
      // SAFETY: the address is read as an integer only to compute the padding; the result
      // is derived from cur_ by pointer arithmetic, keeping its provenance.
      const std::size_t pad = reinterpret_cast<std::uintptr_t>(p) & (align - 1);
      if (pad <= avail - size) [[likely]] {
        // SAFETY: pad <= (cur_ - size) - begin_: p - pad stays inside the free part too.
        cur_ = p - pad;
        return cur_;
      }
    }
    return allocate_slow(size, align);
  }
  FERRITE_NOINLINE void* allocate_slow(std::size_t size, std::size_t align);
  void* allocate_dedicated(std::size_t size, std::size_t align, std::size_t needed);
  detail::chunk_header* new_chunk(std::size_t size);
  void free_chunk(detail::chunk_header* c) noexcept;
  void enter_chunk(detail::chunk_header* c) noexcept;
  void close_current() noexcept;
  void run_destructors(const detail::dtor_record* stop) noexcept;
  void reset_to(bool keep_largest) noexcept;
  void register_destructor(detail::dtor_record* r) noexcept {
    r->next = dtors_;
    dtors_ = r;
  }
  template <class T, bool ValueInit>
  std::span<T> make_array_impl(std::size_t n);

  // Hot: read by every allocate(). Free bytes of the current chunk: [begin_, cur_).
  std::byte* cur_;    ///< lowest byte in use in the current chunk (a sentinel when none)
  std::byte* begin_;  ///< payload start of the current chunk (the same sentinel when none)
  detail::dtor_record* dtors_ = nullptr;   ///< newest registered destructor
  detail::chunk_header* head_ = nullptr;   ///< current chunk; older regular chunks via prev
  detail::chunk_header* large_ = nullptr;  ///< newest dedicated chunk
  detail::chunk_header* spare_ = nullptr;  ///< kept by reset() to be the next chunk
  std::pmr::memory_resource* upstream_;
  std::size_t first_chunk_size_;
  std::size_t max_chunk_size_;
  std::size_t next_chunk_size_;
  std::size_t reserved_ = 0;
  std::size_t chunks_ = 0;
  std::size_t used_closed_ = 0;  ///< bytes used in every chunk but the current one
  std::size_t checkpoint_depth_ = 0;
  std::uint64_t checkpoint_ids_ = 0;
  std::array<std::uint64_t, tracked_checkpoints> live_checkpoints_{};
  detail::arena_resource resource_{*this};
};

/// Rewinds its arena to the position at construction when it goes out of scope.
///
/// ```cpp
/// {
///   ferrite::mem::arena_scope scope(a);
///   auto* tmp = a.make<parser_state>(input);
///   ...
/// }  // tmp destroyed, its memory reused by the next allocation
/// ```
class arena_scope {
 public:
  explicit arena_scope(arena& a) noexcept : arena_(a), checkpoint_(a.checkpoint()) {}
  ~arena_scope() { arena_.rewind(checkpoint_); }
  // Not copyable or movable: exactly one rewind per scope.
  arena_scope(const arena_scope&) = delete;
  arena_scope& operator=(const arena_scope&) = delete;

 private:
  arena& arena_;
  arena_checkpoint checkpoint_;
};

// ---- template definitions --------------------------------------------------------------

template <class T, class... Args>
T* arena::make(Args&&... args) {
  static_assert(alignof(T) <= max_alignment, "arena: over-aligned type (alignof > 4096)");
  static_assert(std::is_nothrow_destructible_v<T>, "arena: destructors run in noexcept paths");
  if constexpr (std::is_trivially_destructible_v<T>) {
    // SAFETY: allocate returned sizeof(T) fresh bytes aligned for T.
    return ::new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  } else {
    using record = detail::dtor_record;
    constexpr std::size_t record_at = align_up(sizeof(T), alignof(record));
    constexpr std::size_t align = alignof(T) > alignof(record) ? alignof(T) : alignof(record);
    auto* block = static_cast<std::byte*>(allocate(record_at + sizeof(record), align));
    // SAFETY: block holds sizeof(T) bytes aligned for T, then the record's bytes at
    // record_at (aligned: block and record_at are multiples of alignof(record)).
    T* obj = ::new (static_cast<void*>(block)) T(std::forward<Args>(args)...);
    register_destructor(::new (static_cast<void*>(block + record_at))
                            record{&detail::destroy_one<T>, obj, nullptr});
    return obj;
  }
}

template <class T>
std::span<T> arena::make_array(std::size_t n) {
  return make_array_impl<T, true>(n);
}

template <class T>
std::span<T> arena::make_array_for_overwrite(std::size_t n) {
  return make_array_impl<T, false>(n);
}

template <class T, bool ValueInit>
std::span<T> arena::make_array_impl(std::size_t n) {
  static_assert(alignof(T) <= max_alignment, "arena: over-aligned type (alignof > 4096)");
  static_assert(std::is_nothrow_destructible_v<T>, "arena: destructors run in noexcept paths");
  using record = detail::array_dtor_record;
  constexpr bool needs_record = !std::is_trivially_destructible_v<T>;
  constexpr std::size_t record_size = needs_record ? sizeof(record) : 0;
  constexpr std::size_t align =
      needs_record && alignof(record) > alignof(T) ? alignof(record) : alignof(T);
  if (n == 0) return {};
  // Room kept for the record and its padding, so that the sums below cannot overflow.
  if (n > (max_size() - record_size - alignof(record)) / sizeof(T)) detail::throw_bad_alloc();
  const std::size_t bytes = n * sizeof(T);
  const std::size_t record_at = needs_record ? align_up(bytes, alignof(record)) : bytes;
  auto* block = static_cast<std::byte*>(allocate(record_at + record_size, align));
  // SAFETY: block holds n * sizeof(T) fresh bytes aligned for T; elements are created one by
  // one below, and first + i stays within them (i < n).
  T* first = reinterpret_cast<T*>(block);
  std::size_t i = 0;
  try {
    for (; i < n; ++i) {
      if constexpr (ValueInit) {
        ::new (static_cast<void*>(first + i)) T();
      } else {
        ::new (static_cast<void*>(first + i)) T;
      }
    }
  } catch (...) {
    while (i > 0) (first + --i)->~T();  // nothing registered: undo what was built
    throw;
  }
  if constexpr (needs_record) {
    // SAFETY: the record's bytes follow the array at record_at, aligned for the record
    // (block and record_at are multiples of alignof(record)).
    register_destructor(::new (static_cast<void*>(block + record_at))
                            record{{&detail::destroy_array<T>, first, nullptr}, n});
  }
  return {first, n};
}

}  // namespace ferrite::mem
