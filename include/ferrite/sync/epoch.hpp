// SPDX-License-Identifier: Apache-2.0
// Epoch-based memory reclamation in the shape of crossbeam-epoch: a thread pins itself before
// reading shared pointers and unpins after; an unlinked object is deferred (with its
// destruction) into a per-thread bag, bags are sealed with the global epoch and queued, and a
// bag sealed in epoch e is run once the global epoch reaches e + 2, which proves that every
// thread pinned at the time of the unlink has since unpinned. Implements Keir Fraser,
// "Practical lock-freedom" (PhD thesis, Cambridge 2004, section 5.2.3) as refined by
// crossbeam-epoch (Stjepan Glavina, 2017-), with the pin's seq_cst fence replaced by the light
// side of an asymmetric fence pair (ferrite/sync/asymmetric_fence.hpp).
//
// ```cpp
// ferrite::atomic<node*> head;
// {
//   ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();  // no RMW, no fence instruction
//   node* n = head.load(std::memory_order_acquire);  // safe to dereference until g dies
//   if (n != nullptr && head.compare_exchange_strong(n, n->next, ...)) g.defer_delete(n);
// }
// ```
//
// The API lives in ferrite::sync::epoch, as crossbeam's lives in crossbeam_epoch: collector,
// guard, local_handle, pin(), default_collector(), is_pinned(). The same names directly in
// ferrite::sync are deprecated aliases, kept for code built against them.
//
// When not to use it: a thread that stays pinned (blocked in a syscall, descheduled for long)
// stops all reclamation in its collector: garbage then grows without bound. Prefer hazard
// pointers (ferrite/sync/hazard_pointer.hpp) when readers may block while holding a reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/sync/asymmetric_fence.hpp"

namespace ferrite::sync {

namespace epoch {
class collector;
class guard;
class local_handle;

inline collector& default_collector() noexcept;
[[nodiscard]] inline guard pin();
}  // namespace epoch

namespace detail {

struct epoch_thread;
union epoch_default_collector_storage;

/// Bytes of callable a deferred entry stores inline (3 pointers); larger ones are boxed.
inline constexpr std::size_t deferred_inline_bytes = 3 * sizeof(void*);

/// One deferred call, type-erased without std::function: a function pointer plus inline
/// storage holding the callable (or a pointer to a heap copy when it does not fit). Lives in a
/// bag, is set once and run once; never moved (bags are heap nodes that do not move).
class deferred {
 public:
  deferred() noexcept = default;  // empty until set()
  deferred(const deferred&) = delete;
  deferred& operator=(const deferred&) = delete;

  /// Stores `fn`. If copying/moving it (or boxing it) throws, nothing is stored.
  template <class F>
  void set(F&& fn) {
    using fn_type = std::decay_t<F>;
    if constexpr (sizeof(fn_type) <= deferred_inline_bytes && alignof(fn_type) <= alignof(void*)) {
      // SAFETY: storage_ is large and aligned enough for fn_type (checked above) and empty.
      ::new (static_cast<void*>(storage_)) fn_type(std::forward<F>(fn));
      call_ = [](deferred& self) noexcept {
        // SAFETY: storage_ holds the fn_type constructed above; it is run and destroyed once.
        fn_type* f = std::launder(reinterpret_cast<fn_type*>(self.storage_));
        (*f)();
        f->~fn_type();
      };
    } else {
      fn_type* boxed = new fn_type(std::forward<F>(fn));
      // SAFETY: storage_ is large and aligned enough for one pointer.
      ::new (static_cast<void*>(storage_)) fn_type*(boxed);
      call_ = [](deferred& self) noexcept {
        // SAFETY: storage_ holds the pointer stored above, to a live heap fn_type.
        fn_type* f = *std::launder(reinterpret_cast<fn_type**>(self.storage_));
        (*f)();
        delete f;
      };
    }
  }

  /// Runs the stored call and destroys it. Preconditions: set() was called, run() was not.
  void run() noexcept { call_(*this); }

 private:
  void (*call_)(deferred&) noexcept;
  alignas(void*) unsigned char storage_[deferred_inline_bytes];
};

/// A bag of deferred calls: filled by one participant, then sealed with the global epoch and
/// pushed on its collector's garbage list. Heap node, about 2 KiB.
struct epoch_bag {
  static constexpr std::size_t capacity = 64;

  epoch_bag* next = nullptr;  // garbage list link, written before the release push
  std::uint64_t epoch = 0;    // raw global epoch when sealed
  std::size_t len = 0;
  deferred items[capacity];

  /// Runs every call in insertion order and empties the bag.
  void run_all() noexcept {
    for (std::size_t i = 0; i < len; ++i) items[i].run();
    len = 0;
  }
};

/// A FIFO of bags (collector-private, see collector::pending_).
struct bag_fifo {
  epoch_bag* head = nullptr;
  epoch_bag* tail = nullptr;
};

/// A thread's entry in its collector: the published epoch word plus owner-only state. Entries
/// are never freed before the collector; an entry released by a thread is reused by the next
/// thread that registers. Cache-line aligned: the owner writes `epoch_` on every outermost pin.
///
/// epoch_ word: 0 = not pinned; otherwise (raw global epoch | 1) = pinned in that epoch.
/// The raw global epoch is always even (it advances by 2), so bit 0 is the pinned flag.
/// Invariant: while pinned at raw epoch e, the global epoch is e or e + 2.
///
/// The fast paths read two owner-only words that are zero in the common case, so that an
/// outermost pin and its unpin each test one word (plus the collector's garbage count):
///   pin_flags_:   bit 0 (pin_symmetric)     the light fence needs a real seq_cst fence
///                                           (no membarrier; TSan and model-checking builds)
///                 bit 1 (pin_local_garbage) this thread has sealed bags (sealed_count_ != 0)
///                 Invariant: bit 1 == (sealed_count_ != 0).
///   unpin_flags_: bits 0..30 (unpin_nested_mask) guards alive beyond the first (pin depth - 1)
///                 bit 31 (unpin_ephemeral)       release the entry when the last guard goes
///                 Invariant: nested bits are 0 while not pinned.
struct alignas(cache_line_size) participant {
  static constexpr std::size_t pin_symmetric = 1U << 0;
  static constexpr std::size_t pin_local_garbage = 1U << 1;
  static constexpr std::uint32_t unpin_nested_mask = (1U << 31) - 1;
  static constexpr std::uint32_t unpin_ephemeral = 1U << 31;

  atomic<std::uint64_t> epoch_{0};
  // Owner-only state: touched only by the thread that holds active_ (acquire/release
  // hand-off), or by the collector's destructor once nothing is active.
  std::size_t pin_flags_ = 0;      // see above; read by every outermost pin (or-ed with the
                                   // collector's size_t count: same width, one instruction)
  std::uint32_t unpin_flags_ = 0;  // see above; read by every unpin
  std::uint32_t pins_ = 0;  // pins that took pin_rare() (garbage or symmetric): paces collect
  std::uint32_t sealed_count_ = 0;
  std::uint64_t last_collect_epoch_ = 0;  // global epoch seen by this thread's last collect
  epoch_bag* bag_ = nullptr;              // the open bag
  bag_fifo sealed_;                       // this thread's sealed bags, oldest first
  epoch_bag* spare_ = nullptr;            // emptied bags kept for reuse (linked through next)
  std::uint32_t spares_ = 0;
  atomic<bool> active_{true};
  participant* next_ = nullptr;        // immutable after the release push onto the list
  epoch::collector* owner_ = nullptr;  // immutable

  /// True while a guard of this participant is alive (owner only).
  [[nodiscard]] bool pinned() const noexcept;
  /// Pins in `owner` (== *owner_; passed so that the default collector's address is a
  /// constant in the caller).
  FERRITE_ALWAYS_INLINE void pin(epoch::collector& owner) noexcept;
  FERRITE_ALWAYS_INLINE void pin_rare() noexcept;  // symmetric fence, pacing (unlikely)
  FERRITE_ALWAYS_INLINE void unpin() noexcept;
  template <class F>
  void defer(F&& fn);
  void seal() noexcept;
  void flush() noexcept;
  void release() noexcept;
  void collect_paced() noexcept;  // the periodic collect (through epoch_collect_paced)
  void collect_local(std::uint64_t global) noexcept;
  void recycle(epoch_bag* bag) noexcept;
  void update_garbage_flag() noexcept {
    pin_flags_ = (pin_flags_ & ~pin_local_garbage) | (sealed_count_ != 0 ? pin_local_garbage : 0);
  }
};

}  // namespace detail

namespace epoch {

/// A pinned section of one thread: while a guard is alive, no object that was reachable when
/// it pinned (and that is deferred to the same collector) is reclaimed. Nested pins of one
/// thread nest (a counter); only the outermost does work. Move-only; belongs to the thread
/// that pinned, which must destroy it (guards do not cross threads).
class guard {
 public:
  guard(guard&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  guard& operator=(guard&& other) noexcept {
    if (this != &other) {
      if (p_ != nullptr) p_->unpin();
      p_ = std::exchange(other.p_, nullptr);
    }
    return *this;
  }
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;
  /// Unpins (if outermost). Wait-free: one release store.
  ~guard() {
    if (p_ != nullptr) p_->unpin();
  }

  /// Runs `fn()` once no thread can still hold a reference obtained before this call: after
  /// the global epoch has advanced twice past the epoch its bag gets sealed in. `fn` runs on
  /// whichever thread collects, possibly much later, and must not throw (std::terminate).
  /// Callables up to 3 pointers (a lambda capturing up to 3 pointers/ints) are stored inline;
  /// larger ones are boxed on the heap.
  /// Throws std::bad_alloc (then `fn` was not stored) when a bag or box cannot be allocated.
  /// Complexity: O(1); every 64 calls seals the bag: one RMW on the global epoch, and the bag
  /// joins this thread's own sealed list (no atomic operation). Only when that list overflows
  /// (64 bags: the epoch is stuck) does the oldest bag go to the global queue: a relaxed
  /// count increment and a CAS push.
  /// Progress: lock-free.
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&>
  void defer(F&& fn) {
    p_->defer(std::forward<F>(fn));
  }

  /// defer([p] { delete p; }). Preconditions: `p` came from new, is unlinked, deferred once.
  template <class T>
  void defer_delete(T* p) {
    defer([p]() noexcept { delete p; });
  }

  /// Seals this thread's bag (if not empty) and pushes it to the collector, then collects:
  /// tries to advance the global epoch and runs every bag that has become safe.
  /// Complexity: O(participants + bags run). Progress: lock-free (apart from deferred calls).
  void flush() noexcept { p_->flush(); }

  /// The collector this guard is pinned in.
  [[nodiscard]] collector& owner() const noexcept { return *p_->owner_; }

 private:
  friend class local_handle;
  friend guard pin();
  guard(detail::participant* p, collector& owner) noexcept : p_(p) { p_->pin(owner); }

  detail::participant* p_;
};

/// A thread's registration in a collector (crossbeam's LocalHandle). Move-only; used by one
/// thread at a time. Destroying it seals its bag into the collector and frees the entry for
/// reuse. Preconditions of destruction: no guard of it is alive.
class local_handle {
 public:
  local_handle() noexcept = default;
  local_handle(local_handle&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  local_handle& operator=(local_handle&& other) noexcept {
    if (this != &other) {
      if (p_ != nullptr) p_->release();
      p_ = std::exchange(other.p_, nullptr);
    }
    return *this;
  }
  local_handle(const local_handle&) = delete;
  local_handle& operator=(const local_handle&) = delete;
  ~local_handle() {
    if (p_ != nullptr) p_->release();
  }

  /// Pins this thread (see collector). Preconditions: !empty(). Complexity: O(1); every 128th
  /// outermost pin also collects. Progress: wait-free except that periodic collect (lock-free).
  [[nodiscard]] guard pin() noexcept { return guard(p_, *p_->owner_); }
  /// True while a guard of this handle is alive.
  [[nodiscard]] bool is_pinned() const noexcept { return p_ != nullptr && p_->pinned(); }
  [[nodiscard]] bool empty() const noexcept { return p_ == nullptr; }

 private:
  friend class collector;
  explicit local_handle(detail::participant* p) noexcept : p_(p) {}

  detail::participant* p_ = nullptr;
};

/// A garbage collector domain: a global epoch, the list of participating threads, and the
/// global queue of sealed bags. Threads join with register_thread(), or implicitly through the
/// free pin() for default_collector().
///
/// Garbage flow: defer() fills the thread's open bag (64 calls); a full bag is sealed with the
/// global epoch and queued in the thread's own FIFO, which the thread runs itself as bags
/// expire (so the memory its deferred deletes free comes back to the thread that will reuse
/// it). Bags go to the global queue when the thread exits or releases its handle, and when its
/// FIFO exceeds 64 bags (the epoch is stuck): the global queue is a lock-free push list plus a
/// FIFO drained by one collector at a time (a try-lock; a busy collector is skipped, never
/// waited for), a few bags per collect.
///
/// Reclamation guarantee: a call deferred while pinned runs after every thread that was
/// pinned at that time has unpinned, once the global epoch has advanced twice past the epoch
/// its bag was sealed in. The epoch advances (try_advance: run by collect every 128 outermost
/// pins per thread while garbage exists, if nobody advanced since that thread's last collect,
/// and by every flush) when every pinned thread has pinned in the current epoch. A thread that
/// stays pinned blocks the advance, and so all reclamation of this collector, but nothing
/// else: pins, defers and the data structure itself stay lock-free; garbage accumulates until
/// it unpins, then drains.
///
/// Memory: per thread, at most 64 unsealed calls plus 64 sealed bags of 64 before its bags
/// spill to the global queue; a bag runs no earlier than two epoch advances after sealing.
/// Non-copyable and non-movable: participants and guards point at it.
class collector {
 public:
  /// An empty collector. O(1); allocates nothing until a thread registers.
  constexpr collector() noexcept = default;
  /// Runs every deferred call still queued and frees the participants.
  /// Preconditions (FERRITE_ASSERT): no local_handle of this collector is alive.
  ~collector();
  collector(const collector&) = delete;
  collector& operator=(const collector&) = delete;

  /// Registers the calling thread (reusing a released entry when there is one). Throws
  /// std::bad_alloc when a new entry cannot be allocated. Progress: lock-free.
  [[nodiscard]] local_handle register_thread();

  /// The global epoch (counts advances). Wait-free.
  [[nodiscard]] std::uint64_t epoch() const noexcept;

 private:
  friend struct detail::participant;
  friend struct detail::epoch_thread;

  detail::participant* acquire_participant();
  void push_bag(detail::epoch_bag* bag) noexcept;
  detail::epoch_bag* take_expired(std::uint64_t global, std::size_t steps) noexcept;
  void collect(detail::participant& self, bool force) noexcept;
  std::uint64_t try_advance() noexcept;
  bool all_pinned_caught_up(std::uint64_t global) const noexcept;

  // Read by every pin, written by seals and advances.
  cache_padded<atomic<std::uint64_t>> epoch_;
  // Written by registrations (rare), walked by advances.
  atomic<detail::participant*> participants_{nullptr};
  // Sealed bags, newest first: every seal pushes here (lock-free), collect() drains it.
  alignas(cache_line_size) atomic<detail::epoch_bag*> incoming_{nullptr};
  // Bags queued in incoming_ and pending_ (counted before the push, so never below the truth
  // for long); lets pin and collect skip all work when there is no garbage.
  atomic<std::size_t> queued_{0};
  // Try-lock of pending_: one collector at a time drains; the others skip (never wait).
  atomic<bool> collecting_{false};
  // Bags moved out of incoming_, oldest first (FIFO in seal order), owned by the holder of
  // collecting_. Seal order is epoch order up to the seal-to-push window, so collect stops at
  // the first bag not yet safe: O(1) when nothing has expired, however long the queue.
  cell<detail::bag_fifo> pending_;
};

/// The default collector: never destroyed (threads may pin during static destruction);
/// calls still deferred in it at process exit are not run. Wait-free.
inline collector& default_collector() noexcept;

/// Pins the calling thread in default_collector(), registering it on first use (the entry is
/// released when the thread exits). Cost when registered, with membarrier available: a
/// thread-local load, a test of the own epoch word (nesting), a load of the global epoch, a
/// release store, one test of a per-thread flag word or-ed with the collector's garbage count,
/// and a compiler barrier (no fence instruction, no RMW); the unpin is one test and one
/// release store. Nested pins only bump a counter.
/// Progress: wait-free except the periodic collect (every 128th pin; lock-free) and the first
/// pin of a thread (allocates).
[[nodiscard]] inline guard pin();

/// True when the calling thread is pinned in default_collector(). Wait-free.
[[nodiscard]] inline bool is_pinned() noexcept;

}  // namespace epoch

// The names the epoch API had before it moved into ferrite::sync::epoch: code built against
// them keeps compiling, with a deprecation warning that names the new spelling.
using collector [[deprecated("use ferrite::sync::epoch::collector")]] = epoch::collector;
using guard [[deprecated("use ferrite::sync::epoch::guard")]] = epoch::guard;
using local_handle [[deprecated("use ferrite::sync::epoch::local_handle")]] = epoch::local_handle;
[[deprecated("use ferrite::sync::epoch::default_collector")]] inline epoch::collector&
default_collector() noexcept {
  return epoch::default_collector();
}
[[deprecated("use ferrite::sync::epoch::pin")]] [[nodiscard]] inline epoch::guard pin() {
  return epoch::pin();
}
[[deprecated("use ferrite::sync::epoch::is_pinned")]] [[nodiscard]] inline bool
is_pinned() noexcept {
  return epoch::is_pinned();
}

}  // namespace ferrite::sync

#include "ferrite/sync/detail/epoch_impl.hpp"
