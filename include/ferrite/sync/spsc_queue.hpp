// SPDX-License-Identifier: Apache-2.0
// spsc_queue<T>: a bounded, wait-free single-producer single-consumer ring buffer. One thread
// pushes, one thread pops; each side owns one cache line holding its own index and a cached
// copy of the other side's index, so in the steady state a push or pop touches only its own
// line and the slot it fills or drains, and reloads the other index (one cache miss) only
// when the cached copy says the ring looks full or empty. This is the layout of rigtorp's
// SPSCQueue and of Lamport's ring with the index caching of FastForward / MCRingBuffer.
//
// The orderings, by the labels of the ORDERING comments (one per atomic operation, in reading
// order):
//   (R1)  - relaxed load of head in the destructor: its precondition orders every pop before it
//   (R2)  - relaxed load of tail in the destructor: likewise for every push
//   (R3)  - relaxed load of tail in try_emplace: only the producer stores tail
//   (R4)  - this acquire-load of head synchronizes-with the release-store (R11): the consumer's
//           destruction of the element in a slot happens before the producer reuses the slot
//   (R5)  - this release-store of tail synchronizes-with the acquire-loads (R8, R10): the element
//           constructed in the slot is visible to the consumer
//   (R6)  - relaxed load of head in pop_front: only the consumer stores head
//   (R7)  - this acquire-load of head synchronizes-with the release-store (R11): the tail the
//           consumer read before storing that head is visible, so (R8) reads a tail >= head
//   (R8)  - this acquire-load of tail synchronizes-with the release-store (R5)
//   (R9)  - relaxed load of head in front_at: only the consumer stores head
//   (R10) - this acquire-load of tail synchronizes-with the release-store (R5)
//   (R11) - this release-store of head synchronizes-with the acquire-loads (R4, R7)
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/sync/detail/ring_storage.hpp"

namespace ferrite::sync {

/// A bounded FIFO for exactly one producer thread and one consumer thread.
///
/// The capacity is a power of two chosen at construction (requests are rounded up; all of
/// it is usable, no slot is sacrificed to tell full from empty because the indices are
/// free-running 64-bit counters). Slots live in one heap array aligned to and padded out to
/// whole cache lines, so no neighbouring heap object shares a line with the first or last
/// slot.
///
/// Memory layout of the queue object (x86-64, cache_line_size = 128):
/// ```
///  line 0  slots_, mask_                   read-only after construction: Shared in both caches
///  line 1  tail_        cached_head_       producer's: written by every push
///  line 2  head_        cached_tail_       consumer's: written by every pop
/// ```
/// The producer writes only line 1 and reads line 2 only when its cached head says "full";
/// the consumer mirrors that. Without the split, every push would invalidate the line the
/// consumer is polling (false sharing), which costs more than the rest of the operation.
///
/// Thread roles are a precondition, not checked: calling a producer function from two
/// threads at once, or a consumer function from two threads at once, is a data race.
/// Producer functions: try_push, try_emplace. Consumer functions: try_pop (both forms),
/// front, pop_front.
/// Any thread: size_approx, empty, capacity (the first two are approximate when called
/// while the other side is running).
///
/// Progress guarantee: wait-free on both sides: every operation finishes in a bounded number
/// of its own steps whatever the other thread does.
///
/// Papers: L. Lamport, "Specifying Concurrent Program Modules", TOPLAS 1983 (the ring);
/// J. Giacomoni et al., "FastForward for Efficient Pipeline Parallelism", PPoPP 2008, and
/// P. P. C. Lee et al., "A Lock-Free, Cache-Efficient Multi-Core Synchronization Mechanism
/// for Line-Rate Network Traffic Monitoring" (MCRingBuffer), IPDPS 2010 (index caching).
///
/// Sizing: every time the ring runs full or empty, the waiting side stalls (pause, yield);
/// a larger ring stalls less often per element (docs/sync-design.md has the measurements).
///
/// Warning: elements are not destroyed until popped (or until the queue is destroyed); a
/// consumer that stops popping keeps them alive.
template <class T>
class spsc_queue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "spsc_queue stores non-const, non-volatile object types");
  static_assert(std::is_nothrow_destructible_v<T>, "a throwing destructor could not be handled");

 public:
  using value_type = T;
  using size_type = std::size_t;

  /// A queue holding up to `next_pow2(max(capacity, 1))` elements.
  /// Throws std::length_error if that many slots cannot be addressed, std::bad_alloc if the
  /// slot array cannot be allocated.
  /// Complexity: O(capacity) (the slot array is allocated and its cells constructed).
  explicit spsc_queue(size_type capacity)
      : mask_(detail::round_capacity<slot>(capacity, std::numeric_limits<size_type>::max(),
                                           "ferrite::sync::spsc_queue: capacity too large") -
              1U),
        slots_(detail::allocate_slots<slot>(mask_ + 1U)) {}

  /// Destroys the elements still in the queue, then the slot array.
  /// Preconditions: no other thread is using the queue, and the destroying thread
  /// happens-after the last push and pop (e.g. it joined both threads).
  /// Complexity: O(capacity + size()).
  ~spsc_queue() {
    // ORDERING: (R1) relaxed: the precondition already orders every pop before us.
    const size_type head = consumer_->head.load(std::memory_order_relaxed);
    // ORDERING: (R2) relaxed: likewise for every push.
    const size_type tail = producer_->tail.load(std::memory_order_relaxed);
    for (size_type i = head; i != tail; ++i) {
      // SAFETY: slots in [head, tail) hold constructed elements (invariant of the ring),
      // and the precondition makes this thread the only one touching them.
      std::destroy_at(std::addressof(slots_[i & mask_].get_mut().value));
    }
    detail::deallocate_slots(slots_, mask_ + 1U);
  }

  // Non-movable: the producer and consumer threads hold references to the indices.
  spsc_queue(const spsc_queue&) = delete;
  spsc_queue& operator=(const spsc_queue&) = delete;

  /// Producer: constructs a T from `args` at the back, unless the queue is full.
  /// Returns false (and leaves `args` untouched) when full. If T's constructor throws, the
  /// exception propagates and the queue is unchanged.
  /// Complexity: O(1). Progress: wait-free.
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    auto& p = producer_.value;
    // ORDERING: (R3) relaxed: only this thread (the producer) ever stores tail.
    const size_type tail = p.tail.load(std::memory_order_relaxed);
    if (tail - p.cached_head > mask_) {
      // ORDERING: (R4) acquire-load; pairs with the release-store (R11) in drop_front(), so the
      // consumer's destruction of the element in the slot we are about to reuse happens
      // before our construction in it.
      p.cached_head = consumer_->head.load(std::memory_order_acquire);
      if (tail - p.cached_head > mask_) return false;
    }
    slots_[tail & mask_].with_mut([&](storage* s) {
      // SAFETY: tail - head < capacity, so slot `tail` is free: the consumer destroyed its
      // previous element before publishing head (R11), and (R4) ordered that before us.
      std::construct_at(std::addressof(s->value), std::forward<Args>(args)...);
    });
    // ORDERING: (R5) release-store; pairs with the acquire-load (R10) in front_at(), so the
    // consumer sees the element constructed above.
    p.tail.store(tail + 1U, std::memory_order_release);
    return true;
  }

  /// Producer: copies `value` to the back unless the queue is full; false when full.
  /// Complexity: O(1). Progress: wait-free.
  bool try_push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
  {
    return try_emplace(value);
  }

  /// Producer: moves `value` to the back unless the queue is full; false when full, and
  /// then `value` has not been moved from.
  /// Complexity: O(1). Progress: wait-free.
  bool try_push(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
    requires std::is_move_constructible_v<T>
  {
    return try_emplace(std::move(value));
  }

  /// Consumer: moves the front element into `out` and pops it; false when empty (and `out`
  /// is untouched). If T's move assignment throws, the element stays at the front.
  /// Complexity: O(1). Progress: wait-free.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    size_type head = 0;
    T* const front_element = front_at(head);
    if (front_element == nullptr) return false;
    out = std::move(*front_element);
    drop_front(head);
    return true;
  }

  /// Consumer: removes and returns the front element, or std::nullopt when the queue is
  /// empty. If T's move constructor throws, the element stays at the front.
  /// Complexity: O(1). Progress: wait-free.
  [[nodiscard]] std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>)
    requires std::is_move_constructible_v<T>
  {
    size_type head = 0;
    T* const front_element = front_at(head);
    if (front_element == nullptr) return std::nullopt;
    std::optional<T> out(std::move(*front_element));
    drop_front(head);
    return out;
  }

  /// Consumer: the front element, or nullptr when the queue is empty. The pointer stays
  /// valid (and the element in place) until this thread calls pop_front().
  /// Complexity: O(1). Progress: wait-free.
  [[nodiscard]] T* front() noexcept {
    size_type head = 0;
    return front_at(head);
  }

  /// Consumer: destroys the front element and frees its slot (std::deque::pop_front's shape;
  /// use it after front()).
  /// Preconditions: front() returned non-null since the last pop_front() or try_pop
  /// (FERRITE_DEBUG_ASSERT). Complexity: O(1). Progress: wait-free.
  void pop_front() noexcept {
    // ORDERING: (R6) relaxed: only this thread (the consumer) ever stores head.
    const size_type head = consumer_->head.load(std::memory_order_relaxed);
    FERRITE_DEBUG_ASSERT(head != consumer_->cached_tail,
                         "spsc_queue::pop_front() on an empty queue");
    drop_front(head);
  }

  /// Consumer: the old name of pop_front(), kept so that existing code compiles.
  [[deprecated("use pop_front()")]] void pop() noexcept { pop_front(); }

  /// The number of elements, exact when neither side is running, otherwise a value the
  /// queue held at some instant during the call, clamped to [0, capacity()].
  /// Complexity: O(1). Progress: wait-free.
  [[nodiscard]] size_type size_approx() const noexcept {
    // ORDERING: (R7) acquire-load of head; pairs with (R11): the consumer read a tail >= head
    // (via (R10)) before storing it, so the tail load (R8) below returns at least that much
    // (write-read coherence) and tail - head does not wrap.
    const size_type head = consumer_->head.load(std::memory_order_acquire);
    // ORDERING: (R8) acquire-load; pairs with (R5). Any tail at least (R7) is a valid answer.
    const size_type tail = producer_->tail.load(std::memory_order_acquire);
    const size_type n = tail - head;
    return n > mask_ + 1U ? mask_ + 1U : n;
  }

  /// Whether the queue was empty at some instant during the call.
  /// Complexity: O(1). Progress: wait-free.
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }

  /// The number of elements the queue can hold: a power of two, at least the requested one.
  [[nodiscard]] size_type capacity() const noexcept { return mask_ + 1U; }

 private:
  using storage = detail::slot_storage<T>;
  using slot = cell<storage>;

  /// The producer's cache line. cached_head is a producer-private copy of the consumer's
  /// head: a lower bound of it, refreshed by (R4) only when the ring looks full.
  struct producer_side {
    atomic<size_type> tail{0};
    size_type cached_head = 0;
  };
  /// The consumer's cache line; cached_tail is a lower bound of tail refreshed by (R10).
  struct consumer_side {
    atomic<size_type> head{0};
    size_type cached_tail = 0;
  };

  /// Consumer: the front element and its position (in `head`), or nullptr when empty.
  FERRITE_ALWAYS_INLINE T* front_at(size_type& head) noexcept {
    auto& c = consumer_.value;
    // ORDERING: (R9) relaxed: only this thread (the consumer) ever stores head.
    head = c.head.load(std::memory_order_relaxed);
    if (head == c.cached_tail) {
      // ORDERING: (R10) acquire-load; pairs with the release-store (R5) in try_emplace(), so
      // the element constructed in slot `head` is visible to us.
      c.cached_tail = producer_->tail.load(std::memory_order_acquire);
      if (head == c.cached_tail) return nullptr;
    }
    // SAFETY: head < tail (cached_tail <= tail), so slot `head` holds an element that (R10)
    // made visible; only the consumer touches it until drop_front() publishes head + 1.
    return slots_[head & mask_].with_mut([](storage* s) { return std::addressof(s->value); });
  }

  /// Consumer: destroys the element at position `head` and frees its slot.
  /// Preconditions: `head` is the consumer's position and the slot holds an element (the
  /// callers checked it: front_at() returned non-null, or pop_front's assertion).
  FERRITE_ALWAYS_INLINE void drop_front(size_type head) noexcept {
    slots_[head & mask_].with_mut([](storage* s) {
      // SAFETY: the precondition says slot `head` holds an element (see front_at()).
      std::destroy_at(std::addressof(s->value));
    });
    // ORDERING: (R11) release-store; pairs with the acquire-loads (R4) in try_emplace() and (R7)
    // in size_approx(), so the producer reuses the slot only after the destruction above.
    consumer_->head.store(head + 1U, std::memory_order_release);
  }

  // Line 0: read-only after construction, so it stays Shared in both cores' caches.
  const size_type mask_;
  slot* const slots_;
  // Lines 1 and 2: each side's hot state on its own line (see the class comment).
  cache_padded<producer_side> producer_;
  cache_padded<consumer_side> consumer_;
};

}  // namespace ferrite::sync
