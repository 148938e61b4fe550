// SPDX-License-Identifier: Apache-2.0
// allocate_frame / deallocate_frame: the recycling allocator behind coroutine frames. A
// promise type's operator new / sized operator delete call these (or the promise derives from
// recycled_frame, which does it for it), so that in steady state spawning and finishing tasks
// never reaches the heap: each thread keeps LIFO free lists of frames in size classes, and a
// frame finished on another thread goes back to the list of the thread that allocated it (its
// home) through a lock-free list only the home drains. Asio keeps a small cache of a few
// frames per thread (Asio #1167) and users ask for more control over frame allocation (Asio
// #985); this is a whole per-thread frame heap, shaped like mimalloc's thread-local free lists
// with their separate list for frees from other threads.
//
// ```cpp
// struct promise_type : ferrite::rt::recycled_frame {   // frames come from allocate_frame
//   ...
// };
// // or, by hand:
// static void* operator new(std::size_t n) { return ferrite::rt::allocate_frame(n); }
// static void operator delete(void* p, std::size_t n) noexcept {
//   ferrite::rt::deallocate_frame(p, n);
// }
// ```
//
// Size classes (the frame plus a 16-byte header that names its home): 64-byte steps from 64
// to 1 KiB, where typical coroutine frames (a few hundred bytes) fall with at most 63 bytes
// of slack, then 2, 4, 8 and 16 KiB. Requests above max_cached_frame bytes (16 KiB minus the
// header) go straight to ::operator new, without a header. A thread caches at most
// frame_cache_limit bytes (256 KiB) of free frames; frees beyond that go back to the heap.
//
// When not to use it:
//  - For objects that are not coroutine frames, or not a few hundred bytes to a few KiB:
//    a general-purpose allocator (mimalloc, jemalloc) handles any size and never holds
//    memory a thread no longer needs; this cache keeps up to 256 KiB per thread until the
//    thread exits, and a frame freed remotely waits in its home's remote list until the home
//    allocates that size class again.
//  - When memory must be returned promptly: a burst of frames that lands in one thread's
//    remote list stays cached (up to the limit) even if that thread never spawns again.
//  - Frames that need more than 16-byte alignment (an over-aligned promise): not supported.
//  - Under ASan (and with FERRITE_RT_FRAME_CACHE=0), and in model-checked builds, every frame
//    is plain ::operator new / ::operator delete: see frame_cache_enabled.
#pragma once

#include <cstddef>
#include <new>

#include "ferrite/core/platform.hpp"

/// FERRITE_RT_FRAME_CACHE: 1 serves frames from the per-thread cache, 0 makes allocate_frame
/// plain ::operator new. Defaults to 1, except:
///  - under AddressSanitizer: a cached frame is not freed memory to ASan, so a use after
///    destroy() would go unreported (node_cache turns itself off under ASan for this reason);
///  - in model-checked builds (FERRITE_CHECK=1), where model threads are fibers on one OS
///    thread, so a thread_local cache would be shared by all of them, and the checker tracks
///    frames only if they are heap blocks. 1 is rejected there.
/// ThreadSanitizer keeps the cache (unlike node_cache, whose blocks move between threads
/// under reclamation protocols TSan cannot follow): every hand-off of a frame between threads
/// inside the allocator is a ferrite::atomic release/acquire pair, so TSan sees it, and TSan
/// runs check the allocator's own protocol.
/// allocate_frame, deallocate_frame and recycled_frame live in an inline namespace named after
/// the value, so units built with different values can link into one program, each calling
/// its own. A frame must be freed by the kind of code that allocated it: true when one promise
/// type does both through recycled_frame (versioned with them); an unversioned inline function
/// of yours that calls allocate_frame, built with different values in different units, is an
/// ODR violation.
#ifndef FERRITE_RT_FRAME_CACHE
#if FERRITE_ASAN || FERRITE_CHECK
#define FERRITE_RT_FRAME_CACHE 0
#else
#define FERRITE_RT_FRAME_CACHE 1
#endif
#endif
#if FERRITE_RT_FRAME_CACHE && FERRITE_CHECK
#error "FERRITE_RT_FRAME_CACHE=1 is not supported with FERRITE_CHECK=1 (model threads are fibers)"
#endif
/// The inline namespace of the functions whose definition depends on FERRITE_RT_FRAME_CACHE.
#if FERRITE_RT_FRAME_CACHE
#define FERRITE_RT_FRAME_ABI frame_cache_on
#else
#define FERRITE_RT_FRAME_ABI frame_cache_off
#endif

namespace ferrite::rt {

/// Alignment of every frame allocate_frame returns: the default operator new alignment.
inline constexpr std::size_t frame_alignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

/// The largest request served from the cache; larger frames come from ::operator new.
inline constexpr std::size_t max_cached_frame = 16384 - 16;

/// Bytes of free frames (header included) one thread keeps on its local lists at most.
inline constexpr std::size_t frame_cache_limit = std::size_t{256} * 1024;

inline namespace FERRITE_RT_FRAME_ABI {

/// Whether this translation unit's allocate_frame uses the cache (FERRITE_RT_FRAME_CACHE).
inline constexpr bool frame_cache_enabled = FERRITE_RT_FRAME_CACHE != 0;

/// Memory for a coroutine frame of `bytes` bytes, aligned to frame_alignment. Throws
/// std::bad_alloc when the heap is exhausted, like ::operator new.
///
/// From the calling thread's cache when its list for the size class has a frame (a pop:
/// O(1), no atomic, no lock); else from the frames other threads freed back to this thread
/// (one atomic exchange takes them all: O(frames taken), amortized O(1)); else from
/// ::operator new. The first call on a thread adopts the cache an exited thread left, or
/// creates one (one allocation of about 512 bytes).
/// Progress: wait-free on the cache paths, except that a thread's first call walks the global
/// list of caches (O(caches ever created), one CAS per abandoned cache it tries to claim);
/// the heap paths are whatever ::operator new is.
[[nodiscard]] inline void* allocate_frame(std::size_t bytes);

/// Gives back a frame from allocate_frame, on any thread. Never throws.
///
/// Preconditions: `p` came from allocate_frame(bytes) with this same `bytes`, compiled with
/// the same FERRITE_RT_FRAME_CACHE, and has not been freed since (the size class is derived
/// from `bytes`; a mismatch is caught by a FERRITE_DEBUG_ASSERT in debug builds).
///
/// On the frame's home thread: a push onto the local list, O(1), no atomic, wait-free (or
/// ::operator delete when the thread already caches frame_cache_limit bytes). On another
/// thread: a push onto the home's remote list, lock-free (a CAS loop that retries only when
/// another thread pushed to or took that list meanwhile); if the home thread has exited,
/// ::operator delete instead. Frames above max_cached_frame: ::operator delete.
inline void deallocate_frame(void* p, std::size_t bytes) noexcept;

/// A base for promise types: its operator new / sized operator delete are allocate_frame /
/// deallocate_frame, so a coroutine whose promise derives from it gets a recycled frame.
/// Empty; adds nothing to the promise's layout.
struct recycled_frame {
  /// The coroutine frame's allocation (the compiler passes the frame size).
  [[nodiscard]] static void* operator new(std::size_t bytes) { return allocate_frame(bytes); }
  /// The coroutine frame's deallocation, with the size operator new was given.
  static void operator delete(void* p, std::size_t bytes) noexcept { deallocate_frame(p, bytes); }
};

}  // namespace FERRITE_RT_FRAME_ABI

}  // namespace ferrite::rt

#include "ferrite/rt/detail/frame_allocator_impl.hpp"
