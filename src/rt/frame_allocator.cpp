// SPDX-License-Identifier: Apache-2.0
// The cold half of the frame allocator (ferrite/rt/frame_allocator.hpp): a thread's first
// allocation (adopting an abandoned cache or creating one), refills from the remote lists,
// remote frees, the heap paths, and the exit hook. The hot half (a pop and a push on the
// thread's own lists) is inline in detail/frame_allocator_impl.hpp and has no atomics.
//
// Compiled once, normally. Nothing here runs in a model-checked program: FERRITE_CHECK=1
// forces FERRITE_RT_FRAME_CACHE=0, whose inline functions never call into this file.
//
// Remote frees. Each cache has, per size class, a multi-producer list that only its owner
// takes from: a freeing thread pushes the frame with a CAS (Treiber's push), the owner takes
// the whole list with one exchange when its local list of that class is empty. No ABA: nodes
// are never popped one by one, and only one thread (the owner) ever takes.
//
// Thread exit. A thread's exit hook frees the frames on its local and remote lists to the
// heap, then marks its cache abandoned. The cache itself stays on the global list for ever, so
// frames of that thread still alive elsewhere can read their home's state: freed later, they
// see "abandoned" and go to the heap (orphan_frees). The next thread that starts adopts an
// abandoned cache instead of creating one, so the number of caches is the peak number of
// threads that used the allocator at once. A remote free that read "owned" just before the
// owner exited lands on the abandoned cache's remote list; the adopter takes it like any other.
//
// Orderings, one label per atomic operation, in reading order:
//  (F1) acquire load of the cache list's head (adopt): synchronizes-with the release CAS (F5)
//       of every creator, so a walker sees each cache's `state` and `next` as initialized.
//  (F2) relaxed load of a cache's state (adopt): a peek, so that owned caches cost no CAS;
//       the claim is (F3).
//  (F3) acquire CAS of a cache's state, abandoned -> owned (adopt): synchronizes-with the
//       release store (F7) of the thread that abandoned it, so the adopter sees the owner's
//       part (emptied lists, cached_bytes 0) as that thread left it.
//  (F4) relaxed load of the cache list's head (create): only the CAS's first guess.
//  (F5) release CAS of the cache list's head (create): publishes the new cache's fields to
//       the acquire loads (F1, F13).
//  (F6) acquire exchange of a remote list with null (exit hook): as (F9), pairs with (F11).
//  (F7) release store of "abandoned" (exit hook): pairs with the adopter's CAS (F3); remote
//       frees read it as a hint (F12).
//  (F8) relaxed load of a remote list (refill): a peek, so that an empty list costs no RMW;
//       the take is (F9).
//  (F9) acquire exchange of a remote list with null (refill): synchronizes-with the release
//       CAS (F11) of every freeing thread whose frame it takes (the CASes on the list form
//       one release sequence), so the owner sees each frame's link, and every access the
//       freeing thread made to the frame happens-before the frame's reuse.
// (F10) relaxed load of a remote list (remote free): only the CAS's first guess.
// (F11) release CAS of a remote list (remote free): publishes the frame's link and the
//       freeing thread's last accesses to the frame to the owner's exchange (F6 or F9).
// (F12) relaxed load of the home's state (remote free): a hint. A stale "owned" pushes onto
//       an abandoned cache's list (kept for its adopter); a stale "abandoned" frees to the
//       heap a frame a new owner could have reused. Neither loses nor corrupts a frame.
// (F13) acquire load of the cache list's head (frame_caches_created): pairs with (F5).
#include "ferrite/rt/frame_allocator.hpp"

#include <cstddef>
#include <cstdint>
#include <new>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/metrics.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::rt::detail {

metrics::counter frames_from_cache{"rt.frame.cache_allocations",
                                   "coroutine frames served from a thread's cache"};
metrics::counter frames_from_heap{"rt.frame.heap_allocations",
                                  "coroutine frames allocated with operator new"};
metrics::counter remote_frees{"rt.frame.remote_frees",
                              "coroutine frames freed back to another thread's cache"};
metrics::counter over_limit_frees{"rt.frame.over_limit_frees",
                                  "coroutine frames freed to the heap past the cache limit"};
metrics::counter orphan_frees{"rt.frame.orphan_frees",
                              "coroutine frames freed after their home thread exited"};

namespace {

/// Every cache ever created, newest first; push-only (caches are never freed).
constinit atomic<frame_cache*> all_caches{nullptr};

/// True once this thread's exit hook ran: later allocations (from thread_local destructors
/// that run after it) get headered heap frames with no home.
constinit thread_local bool t_frame_exited = false;

void free_block(frame_link* frame, std::uint32_t c) noexcept {
  // SAFETY: `frame` is a free frame of class c, 16 bytes past the start of its heap block of
  // frame_class_size(c) bytes (heap_frame allocated it so).
  ::operator delete(header_of(frame), frame_class_size(c));
}

/// Frees every frame of a list of class c to the heap.
void free_list(frame_link* list, std::uint32_t c) noexcept {
  while (list != nullptr) {
    frame_link* const next = list->next;
    free_block(list, c);
    list = next;
  }
}

/// A new frame of class c from the heap, with its header naming `home`. Throws bad_alloc.
void* heap_frame(frame_cache* home, std::uint32_t c) {
  void* const block = ::operator new(frame_class_size(c));
  frames_from_heap.add();
  // SAFETY: `block` is frame_class_size(c) >= 64 bytes, 16-byte aligned (operator new's
  // default alignment): a frame_header fits at its start, the frame starts 16 bytes in.
  ::new (block) frame_header{home, c, frame_magic};
  return static_cast<std::byte*>(block) + frame_header_size;
}

/// A cache some exited thread left, claimed for this thread; nullptr if there is none.
frame_cache* adopt_cache() noexcept {
  // ORDERING: (F1) acquire; pairs with (F5): the caches' fields are initialized.
  for (frame_cache* c = all_caches.load(std::memory_order_acquire); c != nullptr; c = c->next) {
    // ORDERING: (F2) relaxed peek; the claim below is (F3).
    if (c->state.load(std::memory_order_relaxed) != frame_cache::abandoned) continue;
    std::uint32_t expected = frame_cache::abandoned;
    // ORDERING: (F3) acquire CAS; pairs with the release store (F7) of the exit hook.
    if (c->state.compare_exchange_strong(expected, frame_cache::owned, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
      return c;
    }
  }
  return nullptr;
}

/// A new cache, owned by this thread and published on the global list. Throws bad_alloc.
frame_cache* create_cache() {
  auto* const cache = new frame_cache();
  // ORDERING: (F4) relaxed: the CAS's first guess.
  frame_cache* head = all_caches.load(std::memory_order_relaxed);
  do {
    cache->next = head;
    // ORDERING: (F5) release CAS; pairs with the acquire loads (F1, F13).
  } while (!all_caches.compare_exchange_weak(head, cache, std::memory_order_release,
                                             std::memory_order_relaxed));
  return cache;
}

/// Runs when a thread that attached a cache exits: empties the cache and abandons it.
struct exit_hook {
  exit_hook() noexcept = default;
  exit_hook(const exit_hook&) = delete;
  exit_hook& operator=(const exit_hook&) = delete;
  ~exit_hook() {
    frame_cache* const cache = t_frame_cache;
    t_frame_cache = nullptr;
    t_frame_exited = true;
    if (cache == nullptr) return;
    for (std::uint32_t c = 0; c < frame_classes; ++c) {
      free_list(cache->local[c], c);
      cache->local[c] = nullptr;
      // ORDERING: (F6) acquire exchange; pairs with the release CAS (F11) of remote frees.
      free_list(cache->remote[c].exchange(nullptr, std::memory_order_acquire), c);
    }
    cache->cached_bytes = 0;
    report_hits(*cache);
    // ORDERING: (F7) release; pairs with the adopter's acquire CAS (F3): it sees the emptied
    // lists. Remote frees read this as a hint (F12).
    cache->state.store(frame_cache::abandoned, std::memory_order_release);
  }
};

/// This thread's cache, adopted or created, with the exit hook armed. Throws bad_alloc.
frame_cache* attach_cache() {
  // Touch the metrics first, so that their own exit hook is constructed before ours and
  // destroyed after it (the frees in ours then count on a live thread block).
  frames_from_heap.add(0);
  frame_cache* cache = adopt_cache();
  if (cache == nullptr) cache = create_cache();
  static thread_local exit_hook hook;  // constructed, and registered, on the first attach
  static_cast<void>(&hook);
  t_frame_cache = cache;
  return cache;
}

/// A frame of class c taken from the cache's remote list (the rest of the list moves to the
/// local list, up to the limit), or nullptr if the remote list is empty. Owner only.
frame_link* refill(frame_cache& cache, std::uint32_t c) noexcept {
  // ORDERING: (F8) relaxed peek: an empty list costs no RMW; the take is (F9).
  if (cache.remote[c].load(std::memory_order_relaxed) == nullptr) return nullptr;
  // ORDERING: (F9) acquire exchange; pairs with the release CAS (F11) of every remote free.
  frame_link* const first = cache.remote[c].exchange(nullptr, std::memory_order_acquire);
  if (first == nullptr) return nullptr;
  const std::size_t size = frame_class_size(c);
  for (frame_link* f = first->next; f != nullptr;) {
    frame_link* const next = f->next;
    if (cache.cached_bytes + size <= frame_cache_limit) {
      f->next = cache.local[c];
      cache.local[c] = f;
      cache.cached_bytes += size;
    } else {
      over_limit_frees.add();
      free_block(f, c);
    }
    f = next;
  }
  return first;
}

/// Pushes a frame of class c onto the remote list of its live home `home`.
void push_remote(frame_cache& home, frame_link* frame, std::uint32_t c) noexcept {
  // ORDERING: (F10) relaxed: the CAS's first guess.
  frame_link* head = home.remote[c].load(std::memory_order_relaxed);
  do {
    frame->next = head;
    // ORDERING: (F11) release CAS; pairs with the owner's acquire exchange (F6 or F9).
  } while (!home.remote[c].compare_exchange_weak(head, frame, std::memory_order_release,
                                                 std::memory_order_relaxed));
}

}  // namespace

void* allocate_frame_slow(std::size_t bytes) {
  if (bytes > max_cached_frame) {
    frames_from_heap.add();
    return ::operator new(bytes);
  }
  const std::uint32_t c = frame_class_of(bytes);
  frame_cache* cache = t_frame_cache;
  if (cache != nullptr) {
    if (cache->unreported_hits != 0) report_hits(*cache);
  } else {
    if (t_frame_exited) return heap_frame(nullptr, c);
    cache = attach_cache();  // its local lists are empty: new, or emptied by an exit hook
  }
  if (frame_link* const frame = refill(*cache, c); frame != nullptr) {
    frames_from_cache.add();
    return frame;
  }
  return heap_frame(cache, c);
}

void deallocate_frame_slow(void* frame, std::uint32_t c) noexcept {
  frame_cache* const home = header_of(frame)->home;
  if (home == nullptr) {  // allocated after its thread's exit hook ran
    orphan_frees.add();
    free_block(static_cast<frame_link*>(frame), c);
    return;
  }
  if (home == t_frame_cache) {  // our own frame, and our lists are full
    over_limit_frees.add();
    free_block(static_cast<frame_link*>(frame), c);
    return;
  }
  // ORDERING: (F12) relaxed hint; see the table: either answer is safe.
  if (home->state.load(std::memory_order_relaxed) == frame_cache::abandoned) {
    orphan_frees.add();
    free_block(static_cast<frame_link*>(frame), c);
    return;
  }
  remote_frees.add();
  // SAFETY: the frame is dead (deallocate_frame's precondition), 16-byte aligned and at least
  // 48 bytes long: a frame_link reuses its storage until the owner reallocates it.
  push_remote(*home, ::new (frame) frame_link{nullptr}, c);
}

void report_hits(frame_cache& cache) noexcept {
  frames_from_cache.add(cache.unreported_hits);
  cache.unreported_hits = 0;
}

std::size_t frame_caches_created() noexcept {
  std::size_t n = 0;
  // ORDERING: (F13) acquire; pairs with (F5): `next` is initialized.
  for (frame_cache* c = all_caches.load(std::memory_order_acquire); c != nullptr; c = c->next) ++n;
  return n;
}

}  // namespace ferrite::rt::detail
