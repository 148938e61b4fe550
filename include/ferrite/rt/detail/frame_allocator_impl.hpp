// SPDX-License-Identifier: Apache-2.0
// The machinery behind ferrite/rt/frame_allocator.hpp: size classes, the 16-byte frame
// header, a thread's frame_cache, and the inline fast paths of allocate_frame and
// deallocate_frame (a pop and a push on a thread-local list, no atomic). Everything else, and
// every atomic operation (with the table of ORDERING pairs), is in src/rt/frame_allocator.cpp.
// Not a public header: include <ferrite/rt/frame_allocator.hpp>.
//
// Memory layout of a frame of a cached size class (16-byte aligned heap block):
//
//   block                 block + 16 (what allocate_frame returns)     block + class size
//   | home | class | magic | the coroutine frame (bytes) ...   slack   |
//   '--- frame_header ----'  while free: a frame_link {next} here
//
// The header is written once, when the block comes from the heap, and never changes: a frame
// keeps its home cache for its whole life. Frames above max_cached_frame have no header.
//
// Model-checked units (FERRITE_CHECK=1) see only the size classes and the bypass (plain
// ::operator new / delete, no metrics): the cache's state, which holds ferrite::atomic fields,
// and the metric variables, whose type depends on FERRITE_METRICS, are defined by the library
// compiled normally, and a check unit's definitions of the same names would differ from it.
// For the same reason the metric counters are defined once, in the library, not inline here.
// The fields of frame_cache and the links of free frames are plain data, not ferrite::cell:
// this code is never model-checked, and its cross-thread protocol is checked by TSan instead
// (tests/rt/frame_allocator_test.cpp).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/metrics.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/rt/frame_allocator.hpp"

namespace ferrite::rt::detail {

// ---- size classes ------------------------------------------------------------------------

/// Bytes of the header before every cached frame: one alignment unit, so frames stay
/// 16-byte aligned in 16-byte aligned blocks.
inline constexpr std::size_t frame_header_size = frame_alignment;
/// Classes 0-15: blocks of 64, 128, ..., 1024 bytes; classes 16-19: 2, 4, 8, 16 KiB.
inline constexpr std::uint32_t frame_classes = 20;
inline constexpr std::size_t frame_step = 64;
inline constexpr std::uint32_t frame_step_classes = 16;  // the 64-byte steps: up to 1 KiB
inline constexpr std::size_t frame_step_limit = frame_step * frame_step_classes;

static_assert(frame_alignment == 16, "the header layout assumes a 16-byte default alignment");
static_assert(max_cached_frame + frame_header_size == frame_step_limit << 4,
              "the largest class (16 KiB) holds the largest cached frame and its header");

/// The size class of a frame of `bytes` bytes (header included in the class's block).
/// Preconditions: bytes <= max_cached_frame. O(1): a shift, or one lzcnt.
constexpr std::uint32_t frame_class_of(std::size_t bytes) noexcept {
  const std::size_t total = bytes + frame_header_size;
  if (total <= frame_step_limit) return static_cast<std::uint32_t>((total - 1) / frame_step);
  // 1025..2048 -> 16, 2049..4096 -> 17, 4097..8192 -> 18, 8193..16384 -> 19.
  return frame_step_classes - 1 +
         static_cast<std::uint32_t>(std::bit_width((total - 1) / frame_step_limit));
}

/// Bytes of the heap block of class `c` (header included). Preconditions: c < frame_classes.
constexpr std::size_t frame_class_size(std::uint32_t c) noexcept {
  return c < frame_step_classes ? (std::size_t{c} + 1) * frame_step
                                : frame_step_limit << (c - (frame_step_classes - 1));
}

static_assert(frame_class_of(0) == 0 && frame_class_of(48) == 0 && frame_class_of(49) == 1);
static_assert(frame_class_of(1008) == 15 && frame_class_of(1009) == 16);
static_assert(frame_class_of(max_cached_frame) == frame_classes - 1);
static_assert(frame_class_size(0) == 64 && frame_class_size(15) == 1024);
static_assert(frame_class_size(16) == 2048 && frame_class_size(frame_classes - 1) == 16384);

#if !FERRITE_CHECK
// ---- frames and caches -------------------------------------------------------------------

struct frame_cache;

/// What a free frame holds at its start: the next free frame of its list.
struct frame_link {
  frame_link* next;
};

/// Written into every header; a debug build checks it on free (a foreign pointer).
inline constexpr std::uint32_t frame_magic = 0xf7a3'e5c1U;

/// The 16 bytes before every frame of a cached class.
struct frame_header {
  frame_cache* home;  ///< the cache the frame returns to; nullptr: straight to the heap
  std::uint32_t size_class;
  std::uint32_t magic;
};
static_assert(sizeof(frame_header) == frame_header_size);

/// A thread's cache. Caches are never freed: a thread that exits leaves its cache (emptied)
/// on the global list, marked abandoned, for the next new thread to adopt, so a frame that
/// outlives its thread can always read its home's state.
struct frame_cache {
  // ---- the owner's part: only the owning thread touches it (no atomics) -----------------
  frame_link* local[frame_classes] = {};  ///< LIFO free lists, one per class
  std::size_t cached_bytes = 0;           ///< bytes on the local lists, <= frame_cache_limit
  /// Fast-path allocations not yet added to frames_from_cache: reported in batches (see
  /// hit_report_batch), so a hit costs an increment of this field, not a metric update.
  std::uint32_t unreported_hits = 0;

  // ---- the shared part, on its own cache lines: remote frees write here, and must not
  // invalidate the line of the owner's lists on every free.
  /// Frames other threads freed, per class: pushed by anyone, taken whole by the owner.
  alignas(cache_line_size) atomic<frame_link*> remote[frame_classes] = {};
  /// owned or abandoned; what remote frees look at, and what an adopter claims.
  atomic<std::uint32_t> state{owned};
  /// The next cache of the global list; set before the cache is published, then immutable.
  frame_cache* next = nullptr;

  static constexpr std::uint32_t owned = 0;
  static constexpr std::uint32_t abandoned = 1;
};

/// Fast-path hits are added to rt.frame.cache_allocations this many at a time, and whenever
/// the thread takes a slow path or exits: the metric lags a live thread's count by less than
/// this.
inline constexpr std::uint32_t hit_report_batch = 256;

/// This thread's cache: null before its first allocate_frame and after its exit hook ran.
/// Constant-initialized and trivially destructible: one TLS load on the fast path.
inline thread_local constinit frame_cache* t_frame_cache = nullptr;

// SAFETY: every pointer given to these came from allocate_frame with bytes <= max_cached_frame
// (the callers' precondition), so it is 16 bytes past the start of a block whose first 16
// bytes are its frame_header.
inline frame_header* header_of(void* frame) noexcept {
  return static_cast<frame_header*>(frame) - 1;
}
inline const frame_header* header_of(const void* frame) noexcept {
  return static_cast<const frame_header*>(frame) - 1;
}

// ---- metrics -----------------------------------------------------------------------------

// Defined in src/rt/frame_allocator.cpp, with FERRITE_METRICS as the library was built (which
// every normal unit shares: ferrite::core exports the definition).
/// rt.frame.cache_allocations: frames served from a thread's cache (its local list, or remote
/// frees it took back); local-list hits are added in batches (hit_report_batch).
extern metrics::counter frames_from_cache;
/// rt.frame.heap_allocations: frames that came from ::operator new (a cold cache, a large
/// frame, the cache bypassed).
extern metrics::counter frames_from_heap;
/// rt.frame.remote_frees: frames freed on a thread other than their home's, pushed onto the
/// home's remote list.
extern metrics::counter remote_frees;
/// rt.frame.over_limit_frees: frames freed to the heap because their home already cached
/// frame_cache_limit bytes.
extern metrics::counter over_limit_frees;
/// rt.frame.orphan_frees: frames freed to the heap because their home thread had exited (or
/// allocated after it had run its exit hook).
extern metrics::counter orphan_frees;

// ---- slow paths and test hooks (src/rt/frame_allocator.cpp) ------------------------------

/// allocate_frame when the local list is empty, the thread has no cache yet, or the frame is
/// large. Throws std::bad_alloc.
FERRITE_NOINLINE void* allocate_frame_slow(std::size_t bytes);

/// deallocate_frame of a cached class when the frame's home is not this thread's cache (a
/// remote or orphan free) or this cache is full. Preconditions: as deallocate_frame's, and
/// `c` is the frame's size class.
FERRITE_NOINLINE void deallocate_frame_slow(void* frame, std::uint32_t c) noexcept;

/// Adds the cache's unreported hits to frames_from_cache. Owner only.
FERRITE_NOINLINE void report_hits(frame_cache& cache) noexcept;

/// Test hook: reports the calling thread's unreported hits now, so that frames_from_cache is
/// exact for this thread.
inline void report_frame_metrics() noexcept {
  if (t_frame_cache != nullptr) report_hits(*t_frame_cache);
}

/// Test hook: the cache of the calling thread (null before its first allocate_frame).
inline const frame_cache* this_thread_frame_cache() noexcept { return t_frame_cache; }

/// Test hook: the home of a frame of a cached class (null: it returns to the heap).
inline const frame_cache* frame_home(const void* frame) noexcept { return header_of(frame)->home; }

/// Test hook: the number of caches ever created (caches are never freed). Lock-free,
/// O(caches).
std::size_t frame_caches_created() noexcept;
#endif  // !FERRITE_CHECK

}  // namespace ferrite::rt::detail

namespace ferrite::rt {
inline namespace FERRITE_RT_FRAME_ABI {

#if FERRITE_RT_FRAME_CACHE

FERRITE_ALWAYS_INLINE void* allocate_frame(std::size_t bytes) {
  detail::frame_cache* const cache = detail::t_frame_cache;
  if (cache != nullptr && bytes <= max_cached_frame) [[likely]] {
    const std::uint32_t c = detail::frame_class_of(bytes);
    detail::frame_link* const frame = cache->local[c];
    if (frame != nullptr) [[likely]] {
      cache->local[c] = frame->next;
      cache->cached_bytes -= detail::frame_class_size(c);
      if constexpr (FERRITE_METRICS != 0) {
        if (++cache->unreported_hits == detail::hit_report_batch) [[unlikely]] {
          detail::report_hits(*cache);
        }
      }
      return frame;
    }
  }
  return detail::allocate_frame_slow(bytes);
}

FERRITE_ALWAYS_INLINE void deallocate_frame(void* p, std::size_t bytes) noexcept {
  if (bytes > max_cached_frame) [[unlikely]] {
    ::operator delete(p, bytes);
    return;
  }
  const std::uint32_t c = detail::frame_class_of(bytes);
  const std::size_t size = detail::frame_class_size(c);
  detail::frame_cache* const cache = detail::t_frame_cache;
  const detail::frame_header* const header = detail::header_of(p);
  FERRITE_DEBUG_ASSERT(header->magic == detail::frame_magic && header->size_class == c,
                       "deallocate_frame: not a frame of allocate_frame(bytes)");
  if (header->home == cache && cache != nullptr && cache->cached_bytes + size <= frame_cache_limit)
      [[likely]] {
    // SAFETY: the frame is dead (the caller's precondition) and at least 48 bytes long,
    // 16-byte aligned: room for a frame_link, which reuses its storage until reallocated.
    cache->local[c] = ::new (p) detail::frame_link{cache->local[c]};
    cache->cached_bytes += size;
    return;
  }
  detail::deallocate_frame_slow(p, c);
}

#else  // the cache bypassed: every frame is a heap block

FERRITE_ALWAYS_INLINE void* allocate_frame(std::size_t bytes) {
#if !FERRITE_CHECK
  detail::frames_from_heap.add();
#endif
  return ::operator new(bytes);
}

FERRITE_ALWAYS_INLINE void deallocate_frame(void* p, std::size_t bytes) noexcept {
  ::operator delete(p, bytes);
}

#endif  // FERRITE_RT_FRAME_CACHE

}  // namespace FERRITE_RT_FRAME_ABI
}  // namespace ferrite::rt
