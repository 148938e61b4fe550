// SPDX-License-Identifier: Apache-2.0
// object_pool<T>: a single-threaded pool of fixed-size slots for objects of one type. Slots
// live in chunks obtained from an upstream std::pmr::memory_resource; a freed slot holds the
// link of an intrusive LIFO free list, so create() and destroy() are O(1) and touch one slot.
// Chunks grow geometrically (first size and cap configurable) and are returned only when the
// pool is destroyed. Debug builds catch foreign pointers, double destroys and leaked objects;
// ASan builds poison free slots so that a use after destroy is reported.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <memory_resource>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"

#if FERRITE_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ferrite::mem {

/// Chunk sizing of an object_pool, in slots.
struct pool_options {
  /// Slots in the first chunk. 0 = automatic: as many as fit in 4 KiB, at least 8.
  std::size_t first_chunk_slots = 0;
  /// Largest chunk: each growth doubles the previous chunk up to this many slots.
  /// 0 = automatic: as many as fit in 1 MiB (never below the first chunk).
  std::size_t max_chunk_slots = 0;
};

namespace detail {

/// What a free slot holds: the next free slot (LIFO). Lives in the slot's first bytes.
struct free_slot {
  free_slot* next;
};

/// Marks a slot's bytes inaccessible (ASan builds) or accessible again; no-ops otherwise.
inline void poison_bytes([[maybe_unused]] const void* p, [[maybe_unused]] std::size_t n) noexcept {
#if FERRITE_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#endif
}
inline void unpoison_bytes([[maybe_unused]] const void* p,
                           [[maybe_unused]] std::size_t n) noexcept {
#if FERRITE_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#endif
}

/// Debug state of a slot, one byte per slot after the chunk's slots (debug builds only).
enum class slot_state : unsigned char { unused = 0, live = 1, free = 2 };

[[nodiscard]] constexpr std::byte to_byte(slot_state s) noexcept {
  return static_cast<std::byte>(s);
}

/// The part of object_pool that does not depend on T: the chunk list, the growth policy and
/// the debug bookkeeping. Not thread-safe.
///
/// Chunk block (one upstream allocation, aligned to max(slot_align, alignof(header))):
///   [ header {prev, slots} | pad to slot_align ][ slot 0 ] ... [ slot n-1 ][ n state bytes ]
/// The state bytes exist only when the pool tracks states (FERRITE_DEBUG when constructed).
class pool_chunks {
 public:
  pool_chunks(std::size_t slot_size, std::size_t slot_align, pool_options opts,
              std::pmr::memory_resource* upstream)
      : slot_size_(slot_size),
        slot_align_(slot_align),
        header_span_((sizeof(header) + slot_align - 1) / slot_align * slot_align),
        upstream_(upstream) {
    FERRITE_ASSERT(upstream != nullptr, "object_pool: null upstream resource");
    const std::size_t first = opts.first_chunk_slots != 0
                                  ? opts.first_chunk_slots
                                  : std::max<std::size_t>(8, auto_first_bytes / slot_size);
    const std::size_t cap =
        opts.max_chunk_slots != 0 ? opts.max_chunk_slots : auto_max_bytes / slot_size;
    next_slots_ = first;
    max_slots_ = std::max(first, cap);
  }

  pool_chunks(const pool_chunks&) = delete;
  pool_chunks& operator=(const pool_chunks&) = delete;

  ~pool_chunks() {
    while (last_ != nullptr) {
      header* prev = last_->prev;
      const std::size_t bytes = block_bytes(last_->slots);
      // The block goes back to the upstream allocator: make it fully addressable again.
      unpoison_bytes(last_, bytes);
      upstream_->deallocate(last_, bytes, block_align());
      last_ = prev;
    }
  }

  /// Allocates a chunk of `slots` slots (all unused) and returns its first slot.
  /// Throws std::bad_alloc when the size overflows or upstream fails. O(1), plus O(slots)
  /// to clear the state bytes when tracking.
  std::byte* add_chunk(std::size_t slots) {
    const std::size_t extra = track_states_ ? 1 : 0;
    if (slots == 0 || slots > (SIZE_MAX - header_span_) / (slot_size_ + extra)) {
      throw std::bad_alloc();
    }
    void* block = upstream_->allocate(block_bytes(slots), block_align());
    // SAFETY: `block` is fresh storage of block_bytes(slots) >= sizeof(header) bytes aligned
    // to block_align() >= alignof(header); the header is an implicit-lifetime aggregate.
    last_ = ::new (block) header{last_, slots};
    capacity_ += slots;
    ++chunk_count_;
    std::byte* first = first_slot(last_);
    if (track_states_) {
      // SAFETY: the state bytes follow the slots inside the block (see block_bytes).
      std::memset(first + slots * slot_size_, 0, slots);  // slot_state::unused
    }
    poison_bytes(first, slots * slot_size_);
    return first;
  }

  /// The size of the next growth chunk, in slots.
  [[nodiscard]] std::size_t next_growth_slots() const noexcept { return next_slots_; }
  /// Doubles the next growth chunk, up to the cap.
  void advance_growth() noexcept {
    next_slots_ = next_slots_ > max_slots_ / 2 ? max_slots_ : next_slots_ * 2;
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t chunk_count() const noexcept { return chunk_count_; }
  [[nodiscard]] bool tracks_states() const noexcept { return track_states_; }
  [[nodiscard]] std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

  /// The state byte of the slot that starts at `p`, or nullptr when `p` is not the start of
  /// a slot of some chunk. Only when tracks_states(). O(chunks).
  [[nodiscard]] std::byte* state_of(const void* p) const noexcept {
    const auto* b = static_cast<const std::byte*>(p);
    for (const header* h = last_; h != nullptr; h = h->prev) {
      std::byte* first = first_slot(h);
      const std::size_t off = slot_offset(first, h->slots, b);
      if (off != SIZE_MAX) {
        if (off % slot_size_ != 0) return nullptr;
        // SAFETY: off / slot_size_ < h->slots; the state bytes follow the slots.
        return first + h->slots * slot_size_ + off / slot_size_;
      }
    }
    return nullptr;
  }

  /// True when `p` is the start of a slot of some chunk. O(chunks).
  [[nodiscard]] bool owns(const void* p) const noexcept {
    const auto* b = static_cast<const std::byte*>(p);
    for (const header* h = last_; h != nullptr; h = h->prev) {
      const std::size_t off = slot_offset(first_slot(h), h->slots, b);
      if (off != SIZE_MAX) return off % slot_size_ == 0;
    }
    return false;
  }

  /// Calls `fn(first_slot, slots)` for every chunk, newest first.
  template <class F>
  void for_each_chunk(F&& fn) const {
    for (const header* h = last_; h != nullptr; h = h->prev) fn(first_slot(h), h->slots);
  }

 private:
  struct header {
    header* prev;
    std::size_t slots;
  };
  static constexpr std::size_t auto_first_bytes = 4096;
  static constexpr std::size_t auto_max_bytes = std::size_t{1} << 20;

  [[nodiscard]] std::size_t block_align() const noexcept {
    return std::max(slot_align_, alignof(header));
  }
  [[nodiscard]] std::size_t block_bytes(std::size_t slots) const noexcept {
    return header_span_ + slots * slot_size_ + (track_states_ ? slots : 0);
  }
  [[nodiscard]] std::byte* first_slot(const header* h) const noexcept {
    // SAFETY: the slots start header_span_ bytes into the chunk's block (see add_chunk).
    return reinterpret_cast<std::byte*>(const_cast<header*>(h)) + header_span_;
  }
  // Byte offset of `p` in [first, first + slots * slot_size_), or SIZE_MAX when outside.
  // std::less gives the total pointer order that `<` lacks across allocations.
  [[nodiscard]] std::size_t slot_offset(const std::byte* first, std::size_t slots,
                                        const std::byte* p) const noexcept {
    // SAFETY: one past the last slot of the chunk: still inside the block.
    const std::byte* end = first + slots * slot_size_;
    const std::less<const std::byte*> before;
    if (before(p, first) || !before(p, end)) return SIZE_MAX;
    // SAFETY: p is in [first, end), checked above: both point into the same block.
    return static_cast<std::size_t>(p - first);
  }

  std::size_t slot_size_;
  std::size_t slot_align_;
  std::size_t header_span_;  // sizeof(header) rounded up to slot_align_
  std::size_t next_slots_ = 0;
  std::size_t max_slots_ = 0;
  std::size_t capacity_ = 0;
  std::size_t chunk_count_ = 0;
  header* last_ = nullptr;
  std::pmr::memory_resource* upstream_;
  // Fixed per pool at construction, so every chunk of one pool has the same layout even if
  // translation units disagree on FERRITE_DEBUG (they should not).
  bool track_states_ = FERRITE_DEBUG != 0;
};

}  // namespace detail

/// A pool of objects of type T in fixed-size slots, with O(1) create() and destroy().
///
/// Layout: a slot is the union of T's storage and a free-list link, so
/// `sizeof(slot) == max(sizeof(T), sizeof(void*))` rounded up to
/// `alignof(slot) == max(alignof(T), alignof(void*))`; no per-object header. Over-aligned
/// types (alignof(T) > alignof(std::max_align_t)) get chunks allocated with that alignment.
/// Free slots form a LIFO list: the slot destroyed last is reused first (warm in cache).
/// Slots that were never used are handed out by bumping through the newest chunk, so a
/// fresh chunk is not touched until its slots are created.
///
/// Growth: chunk k holds min(first * 2^k, max) slots (pool_options); chunks never move or
/// shrink, so pointers stay valid until destroyed; memory returns upstream only when the
/// pool is destroyed.
///
/// Destruction with live objects: not allowed. Debug builds print a leak report and fail a
/// FERRITE_DEBUG_ASSERT; release builds return the chunks without running ~T. Call
/// destroy_all() first for boost::object_pool's behaviour (destroy whatever is left).
///
/// Debug builds (FERRITE_DEBUG) keep one state byte per slot after the chunk's slots and
/// check destroy(): a pointer that is not a slot start of this pool (foreign), or a slot
/// that is not live (double destroy), fails an assertion. O(chunks) per operation then.
///
/// Thread-safety: none; one pool belongs to one thread at a time (like boost::object_pool).
/// Non-copyable and non-movable: deleters and handles point at the pool, moving it would
/// leave them dangling.
///
/// \warning Not thread-safe, and destroy() of a pointer from another pool is undefined in
/// release builds (checked in debug builds only).
template <class T>
class object_pool {
  static_assert(std::is_object_v<T> && !std::is_array_v<T> && !std::is_const_v<T> &&
                    !std::is_volatile_v<T>,
                "object_pool<T>: T must be a cv-unqualified non-array object type");
  static_assert(std::is_nothrow_destructible_v<T>,
                "object_pool<T>: destroy() is noexcept, so ~T must be too");

  union slot {
    detail::free_slot link;
    alignas(T) std::byte storage[sizeof(T)];
  };

 public:
  using value_type = T;
  /// Bytes per slot: max(sizeof(T), sizeof(void*)) rounded up to slot_align.
  static constexpr std::size_t slot_size = sizeof(slot);
  /// Alignment of every slot: max(alignof(T), alignof(void*)).
  static constexpr std::size_t slot_align = alignof(slot);

  /// A unique_ptr deleter that destroys through the pool. A default-constructed deleter has
  /// no pool and must not be invoked (unique_ptr never invokes it for a null pointer).
  class deleter {
   public:
    deleter() noexcept = default;
    explicit deleter(object_pool* pool) noexcept : pool_(pool) {}
    void operator()(T* p) const noexcept { pool_->destroy(p); }
    [[nodiscard]] object_pool* pool() const noexcept { return pool_; }

   private:
    object_pool* pool_ = nullptr;
  };
  /// Owning handle: destroys its object through the pool when it goes out of scope.
  using handle = std::unique_ptr<T, deleter>;

  /// An empty pool: no chunk is allocated until the first create() or reserve().
  /// `upstream` supplies the chunks and must outlive the pool. O(1).
  explicit object_pool(pool_options opts = {},
                       std::pmr::memory_resource* upstream = std::pmr::new_delete_resource())
      : chunks_(slot_size, slot_align, opts, upstream) {}

  object_pool(const object_pool&) = delete;
  object_pool& operator=(const object_pool&) = delete;

  /// Returns every chunk upstream. Preconditions: size() == 0 (debug builds report the leak
  /// and fail an assertion; release builds do not run ~T of the survivors).
  ~object_pool() {
    if constexpr (FERRITE_DEBUG != 0) {
      if (live_ != 0) {
        std::fprintf(stderr,
                     "ferrite: object_pool destroyed with %zu live object(s) of %zu bytes\n", live_,
                     sizeof(T));
      }
    }
    FERRITE_DEBUG_ASSERT(live_ == 0, "object_pool destroyed with live objects (leak)");
  }

  /// Constructs a T from `args` in a free slot and returns it. If the constructor throws,
  /// the slot goes back to the free list and the exception propagates (size() unchanged).
  /// Throws std::bad_alloc when a new chunk is needed and cannot be had.
  /// Complexity: O(1); amortized O(1) counting chunk allocation (O(chunks) in debug builds).
  template <class... Args>
  [[nodiscard]] T* create(Args&&... args) {
    return emplace<std::is_nothrow_constructible_v<T, Args...>>([&](void* s) {
      // SAFETY: `s` is a free slot: sizeof(slot) >= sizeof(T) and alignof(slot) >= alignof(T);
      // the free-list link that lived there is dead from here on.
      return ::new (s) T(std::forward<Args>(args)...);
    });
  }

  /// A default-initialized T (`new T`, not `new T()`): a trivial T is left uninitialized, as
  /// malloc leaves memory. Otherwise as create().
  [[nodiscard]] T* create_for_overwrite() {
    return emplace<std::is_nothrow_default_constructible_v<T>>([](void* s) {
      // SAFETY: as in create().
      return ::new (s) T;
    });
  }

  /// create() wrapped in a handle that destroys the object through this pool.
  template <class... Args>
  [[nodiscard]] handle create_handle(Args&&... args) {
    return handle(create(std::forward<Args>(args)...), deleter(this));
  }

  /// Runs ~T on `p` and pushes its slot on the free list; nullptr is a no-op (like delete).
  /// Preconditions: `p` came from create() of this pool and was not destroyed since (debug
  /// builds check both: foreign pointer and double destroy fail an assertion).
  /// Complexity: O(1) (O(chunks) in debug builds).
  void destroy(T* p) noexcept {
    if (p == nullptr) return;
    if constexpr (FERRITE_DEBUG != 0) check_and_mark_free(p);
    p->~T();
    push_free(static_cast<void*>(p));
    --live_;
  }

  /// Destroys every live object (boost::object_pool's behaviour at destruction) and makes
  /// all slots free. Complexity: O(f log f + capacity() log f) for f free slots; allocates a
  /// temporary array of f pointers from the global heap (may throw std::bad_alloc, in which
  /// case nothing was destroyed).
  void destroy_all();

  /// Makes capacity() >= n, allocating at most one chunk of exactly the missing slots (the
  /// growth sequence is unchanged). Complexity: O(1) plus O(slots left in the newest chunk).
  void reserve(std::size_t n);

  /// True when `p` points at the start of a slot of this pool (live or not). O(chunks).
  [[nodiscard]] bool owns(const T* p) const noexcept { return chunks_.owns(p); }

  /// Live objects: created and not yet destroyed. O(1).
  [[nodiscard]] std::size_t size() const noexcept { return live_; }
  [[nodiscard]] bool empty() const noexcept { return live_ == 0; }
  /// Slots in all chunks, live or free. O(1).
  [[nodiscard]] std::size_t capacity() const noexcept { return chunks_.capacity(); }
  /// Chunks obtained from upstream so far. O(1).
  [[nodiscard]] std::size_t chunk_count() const noexcept { return chunks_.chunk_count(); }
  [[nodiscard]] std::pmr::memory_resource* upstream() const noexcept { return chunks_.upstream(); }

 private:
  // Takes a slot, runs `construct(slot)`; gives the slot back if it throws.
  template <bool NoThrow, class Construct>
  T* emplace(Construct&& construct) {
    void* s = acquire();
    if constexpr (NoThrow) {
      T* p = construct(s);
      ++live_;
      return p;
    } else {
      try {
        T* p = construct(s);
        ++live_;
        return p;
      } catch (...) {
        release(s);
        throw;
      }
    }
  }

  void* acquire() {
    void* s;
    if (free_ != nullptr) [[likely]] {
      detail::free_slot* f = free_;
      detail::unpoison_bytes(f, slot_size);
      free_ = f->next;
      s = f;
    } else if (bump_ != bump_end_) {
      s = bump_;
      detail::unpoison_bytes(s, slot_size);
      // SAFETY: bump_ < bump_end_, both in the newest chunk's slot array.
      bump_ += slot_size;
    } else {
      s = grow();
    }
    if constexpr (FERRITE_DEBUG != 0) mark(s, detail::slot_state::live);
    return s;
  }

  FERRITE_NOINLINE void* grow() {
    const std::size_t n = chunks_.next_growth_slots();
    std::byte* first = chunks_.add_chunk(n);
    chunks_.advance_growth();
    // SAFETY: the new chunk's slot array holds n >= 1 slots.
    bump_ = first + slot_size;
    bump_end_ = first + n * slot_size;
    detail::unpoison_bytes(first, slot_size);
    return first;
  }

  void push_free(void* s) noexcept {
    // SAFETY: `s` is a slot of this pool whose object (if any) is destroyed; the slot is
    // large and aligned enough for a free_slot.
    free_ = ::new (s) detail::free_slot{free_};
    detail::poison_bytes(s, slot_size);
  }

  void release(void* s) noexcept {
    if constexpr (FERRITE_DEBUG != 0) mark(s, detail::slot_state::free);
    push_free(s);
  }

  void mark(const void* s, detail::slot_state st) noexcept {
    if (!chunks_.tracks_states()) return;
    std::byte* state = chunks_.state_of(s);
    FERRITE_ASSERT(state != nullptr, "object_pool: internal slot not found");
    *state = detail::to_byte(st);
  }

  void check_and_mark_free(const T* p) noexcept {
    if (!chunks_.tracks_states()) return;
    std::byte* state = chunks_.state_of(p);
    FERRITE_DEBUG_ASSERT(state != nullptr,
                         "object_pool::destroy: pointer not from this pool or not a slot start");
    FERRITE_DEBUG_ASSERT(*state == detail::to_byte(detail::slot_state::live),
                         "object_pool::destroy: object not live (double destroy?)");
    *state = detail::to_byte(detail::slot_state::free);
  }

  detail::free_slot* free_ = nullptr;  // top of the LIFO free list
  std::byte* bump_ = nullptr;          // next never-used slot of the newest chunk
  std::byte* bump_end_ = nullptr;      // end of the newest chunk's slots
  std::size_t live_ = 0;
  detail::pool_chunks chunks_;
};

template <class T>
void object_pool<T>::reserve(std::size_t n) {
  if (n <= chunks_.capacity()) return;
  // The new chunk becomes the bump region: thread what is left of the old one onto the
  // free list first, so no slot is lost.
  while (bump_ != bump_end_) {
    void* s = bump_;
    // SAFETY: bump_ < bump_end_, inside the newest chunk's slot array.
    bump_ += slot_size;
    detail::unpoison_bytes(s, slot_size);
    release(s);
  }
  const std::size_t missing = n - chunks_.capacity();
  std::byte* first = chunks_.add_chunk(missing);
  bump_ = first;
  // SAFETY: the new chunk's slot array holds `missing` slots.
  bump_end_ = first + missing * slot_size;
}

template <class T>
void object_pool<T>::destroy_all() {
  // Collect the free slots, sorted, then visit every slot ever handed out: the ones not in
  // the free list are live.
  std::vector<const void*> free_slots;
  free_slots.reserve(capacity() - live_);
  for (detail::free_slot* f = free_; f != nullptr;) {
    free_slots.push_back(f);
    detail::unpoison_bytes(f, slot_size);
    detail::free_slot* next = f->next;
    detail::poison_bytes(f, slot_size);
    f = next;
  }
  const std::less<const void*> before;
  std::sort(free_slots.begin(), free_slots.end(), before);
  chunks_.for_each_chunk([&](std::byte* first, std::size_t slots) {
    // SAFETY: the slot array of a chunk; the newest chunk is used only up to bump_.
    std::byte* end = first + slots * slot_size;
    if (end == bump_end_) end = bump_;  // the newest chunk: slots past bump_ never used
    for (std::byte* s = first; s != end; s += slot_size) {
      if (std::binary_search(free_slots.begin(), free_slots.end(), s, before)) continue;
      // SAFETY: a handed-out slot not on the free list holds a live T created by create().
      destroy(std::launder(reinterpret_cast<T*>(s)));
    }
  });
}

}  // namespace ferrite::mem
