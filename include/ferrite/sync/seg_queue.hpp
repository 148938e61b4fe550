// SPDX-License-Identifier: Apache-2.0
// seg_queue<T>: an unbounded multi-producer multi-consumer FIFO made of fixed-size blocks
// (segments) of 31 slots, after crossbeam's SegQueue (crossbeam-queue). Producers claim a
// position with a CAS on the tail index, construct the element in its slot and set the slot's
// `written` flag; consumers claim with a CAS on the head index, wait for it, move the element
// out and set READ. When a block fills, the producer that claimed its last slot installs the next
// block (allocated before the claim), and the consumer that claims the last slot moves the
// head onto it. A block is freed by the last consumer to finish with it (READ/DESTROY
// hand-over), so the queue needs no reclamation scheme, no pin and no per-thread state.
//
// ```cpp
// ferrite::sync::seg_queue<job> q;           // allocates the first block
// q.push(job{1});                            // any thread; never fails (grows)
// job j;
// if (q.try_pop(j)) run(j);                  // any thread; false when empty
// std::optional<job> k = q.try_pop();        // the same, for types without a default state
// ```
//
// When not to use it: when back-pressure matters (a bounded mpmc_queue makes fast producers
// wait instead of growing memory without limit), or with one consumer (mpsc_queue's pop reads
// slots with plain loads, one CAS per block). Each block is one allocation per 31 elements,
// freed by a consumer thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/sync/detail/ring_storage.hpp"
#include "ferrite/sync/detail/unbounded_push.hpp"

namespace ferrite::sync {

namespace detail {

/// Positions per lap: one block's slots plus one phantom position (see seg_queue's "Index
/// word"). Slots per block: seg_lap - 1.
inline constexpr std::uint64_t seg_lap = 32;
inline constexpr std::uint64_t seg_block_cap = seg_lap - 1;
/// The index word keeps the position above bit 0; bit 0 of the head index is HAS_NEXT.
inline constexpr unsigned seg_shift = 1;
inline constexpr std::uint64_t seg_one = std::uint64_t{1} << seg_shift;
inline constexpr std::uint64_t seg_has_next = 1;

/// Slot state bits (a 32-bit word per slot, only ever OR-ed by the slot's consumer and the
/// block's destroyer; the producer has its own word, see seg_slot).
inline constexpr std::uint32_t seg_read = 1;     // the element was moved out and destroyed
inline constexpr std::uint32_t seg_destroy = 2;  // the block's destroyer left it to this reader

/// One slot, with room for one T (constructed by its producer, destroyed by its consumer).
/// `written` is the producer's (crossbeam's WRITE bit): a plain release store, no RMW, because
/// nobody else writes that word; `state` takes READ and DESTROY, which race (the consumer against
/// the block's destroyer) and so are RMWs on one word.
template <class T>
struct seg_slot {
  atomic<std::uint32_t> written{0};
  atomic<std::uint32_t> state{0};
  cell<slot_storage<T>> value;
};

/// One segment: 31 slots, each written once and read once, and the link to the next block
/// (written once, by the producer that claims slot 30).
template <class T>
struct seg_block {
  atomic<seg_block*> next{nullptr};
  seg_slot<T> slots[seg_block_cap];
};

/// One end of the queue: the index word and the block it points into, on their own line(s).
template <class T>
struct seg_end {
  atomic<std::uint64_t> index{0};
  atomic<seg_block<T>*> block{nullptr};
  /// Head end only: a tail index some consumer read earlier (a lower bound of the tail, as
  /// the tail only grows), so consumers that trail the producers skip the tail's line.
  atomic<std::uint64_t> seen_tail{0};
};

}  // namespace detail

/// An unbounded lock-free-claim FIFO for any number of producer and consumer threads.
///
/// Index word (64 bits, one for the head, one for the tail):
/// ```
///   bit 0       HAS_NEXT (head only): the head's block is not the last one, so a consumer
///               need not look at the tail to know that the position it claims is filled
///   bits 63..1  position = lap * 32 + offset; lap numbers the block, offset 0..30 is a slot,
///               offset 31 is a phantom: "the block is used up, the next one is being installed"
/// ```
/// Invariant: positions only grow; no thread ever claims offset 31. A thread that sees it waits
/// for the installer, which moves the index to offset 0 of the next lap after publishing the
/// block pointer of that end. The tail is at least the head (a consumer claims only positions
/// below the tail it read, or below a tail known to be in a later lap, HAS_NEXT).
///
/// Reclamation, and why not epochs: a thread dereferences a block only after winning the CAS
/// that claims one of its slots, and a block is freed only once every one of its slots was
/// claimed and read: the consumer of slot 30 starts destroy_block(), which walks slots 0..29
/// and frees the block if all were READ; a slot still being read gets DESTROY set instead, and
/// its reader, seeing DESTROY when it sets READ, continues the walk from the next slot. So a
/// claim pins its block by itself, and the block is freed at once, by a consumer, hot in its
/// cache. Epoch reclamation (epoch.hpp) would add a pin and unpin to every operation, defer
/// each free until the epoch moves twice (colder memory, and garbage that grows without bound
/// while any thread stays pinned), and tie the queue to the default collector's thread-local
/// handle, which the model checker's threads (fibers of one OS thread) cannot share. The price
/// of the hand-over is one RMW per pop (the fetch_or of READ) that an epoch version would not
/// have.
///
/// Progress guarantee, honestly: push and try_pop are lock-free in their claims (a failed CAS
/// means another thread claimed), never take a lock, and never allocate inside a claim. But
/// like crossbeam's SegQueue (and Vyukov's queues) the queue is not lock-free in the strict
/// sense: (1) a consumer that claimed a position waits until its producer has written it; (2)
/// at a block boundary, every producer waits until the producer of slot 30 has installed the
/// next block, and every consumer until the consumer of slot 30 has moved the head onto it. A
/// thread preempted in one of these windows (a few instructions) makes the others wait
/// (spinning with backoff, then yielding). try_pop returns false only when the queue was empty
/// at its load of the tail: it never fails because another thread is slow.
///
/// Element requirements: nothrow move construction and destruction (a claimed position cannot
/// be given back, and a consumer moves the element out after claiming it). A constructor that
/// may throw is run on a temporary before claiming.
///
/// Paper/source: crossbeam-queue's SegQueue (crossbeam-rs); its layout, index encoding and
/// READ/DESTROY hand-over are kept, its orderings are replaced as described in
/// detail/seg_queue_impl.hpp (no seq_cst).
template <class T>
class seg_queue : public detail::unbounded_try_push<seg_queue<T>, T> {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "seg_queue stores non-const, non-volatile object types");
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "seg_queue cannot give a claimed position back: T must move and destroy "
                "without throwing");

  using block = detail::seg_block<T>;
  using slot = detail::seg_slot<T>;
  using storage = detail::slot_storage<T>;

 public:
  using value_type = T;
  using size_type = std::size_t;

  /// Elements per block (one allocation each).
  static constexpr size_type block_capacity = detail::seg_block_cap;

  /// An empty queue with its first block. Throws std::bad_alloc.
  seg_queue() {
    block* const first = new block;
    // ORDERING: (Q1) relaxed: whatever hands the queue to other threads orders this store.
    head_->block.store(first, std::memory_order_relaxed);
    // ORDERING: (Q2) relaxed, as (Q1).
    tail_->block.store(first, std::memory_order_relaxed);
  }

  /// Destroys the elements still in the queue and frees its blocks.
  /// Preconditions: no thread is using the queue, and this thread happens-after every
  /// operation on it. Complexity: O(size).
  ~seg_queue();

  // Non-copyable and non-movable: threads operate through the address of the two ends.
  seg_queue(const seg_queue&) = delete;
  seg_queue& operator=(const seg_queue&) = delete;

  /// Constructs a T from `args` at the back. If T is not nothrow-constructible from `args`,
  /// it is first built in a temporary (then a throw leaves the queue unchanged). Throws
  /// std::bad_alloc when a new block cannot be allocated (before anything is claimed).
  /// Complexity: O(1) plus one retry per position lost to another producer; one allocation
  /// per 31 pushes. Progress: lock-free claim; see the class comment on the windows.
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  void emplace(Args&&... args) {
    if constexpr (!std::is_nothrow_constructible_v<T, Args...>) {
      emplace(T(std::forward<Args>(args)...));
    } else {
      const claim c = claim_tail();
      slot& s = c.blk->slots[c.offset];
      s.value.with_mut([&](storage* st) {
        // SAFETY: we won position c.offset of c.blk (Q14): nobody else writes this slot, and its
        // consumer reads it only after the `written` store below.
        std::construct_at(std::addressof(st->value), std::forward<Args>(args)...);
      });
      // ORDERING: (Q3) release; pairs with the acquire load (Q33) of the consumer of this
      // position: the element constructed above is visible to it.
      s.written.store(1, std::memory_order_release);
    }
  }

  /// emplace(value).
  void push(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    emplace(value);
  }

  /// emplace(std::move(value)).
  void push(T&& value) { emplace(std::move(value)); }

  // try_push / try_emplace (always true: the queue grows) come from unbounded_try_push.

  /// Moves the front element into `out` and returns true, or returns false when the queue is
  /// empty. Complexity: O(1) plus one retry per position lost to another consumer.
  /// Progress: lock-free claim; after claiming, waits for the position's producer to finish.
  bool try_pop(T& out) noexcept
    requires std::is_nothrow_move_assignable_v<T>
  {
    const claim c = claim_head();
    if (c.blk == nullptr) return false;
    slot& s = wait_write(*c.blk, c.offset);
    s.value.with_mut([&](storage* st) {
      // SAFETY: we own the position (Q26) and its `written` flag is set (Q33): the element is
      // constructed, and nobody else touches it.
      out = std::move(st->value);
      std::destroy_at(std::addressof(st->value));
    });
    release_slot(c.blk, c.offset);
    return true;
  }

  /// Removes and returns the front element, or std::nullopt when the queue is empty.
  /// As try_pop(T&), for element types without a spare object to assign to.
  [[nodiscard]] std::optional<T> try_pop() noexcept {
    const claim c = claim_head();
    if (c.blk == nullptr) return std::nullopt;
    slot& s = wait_write(*c.blk, c.offset);
    std::optional<T> out = s.value.with_mut([](storage* st) {
      // SAFETY: as in try_pop(T&).
      std::optional<T> moved(std::move(st->value));
      std::destroy_at(std::addressof(st->value));
      return moved;
    });
    release_slot(c.blk, c.offset);
    return out;
  }

  /// Pushed minus popped elements (claimed positions): exact when no operation is in flight,
  /// otherwise a value the queue had at some point during the call, or close to it.
  /// Complexity: O(1). Progress: wait-free.
  [[nodiscard]] size_type size_approx() const noexcept {
    // ORDERING: (Q4) acquire, as (Q19): the tail read after it is at least this head.
    const std::uint64_t head = head_->index.load(std::memory_order_acquire) >> detail::seg_shift;
    // ORDERING: (Q5) relaxed, as (Q24): an estimate; nothing is read through it.
    const std::uint64_t tail = tail_->index.load(std::memory_order_relaxed) >> detail::seg_shift;
    const std::uint64_t h = slots_before(head);
    const std::uint64_t t = slots_before(tail);
    return t > h ? static_cast<size_type>(t - h) : 0;
  }

  /// Whether size_approx() is 0. Progress: wait-free.
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }

 private:
  /// A claimed position: its block and slot, or a null block (queue empty).
  struct claim {
    block* blk;
    std::uint64_t offset;
  };

  /// Real slots before position `pos` (positions with offset 31 are phantoms).
  static constexpr std::uint64_t slots_before(std::uint64_t pos) noexcept {
    return pos - pos / detail::seg_lap;
  }
  static constexpr std::uint64_t offset_of(std::uint64_t index) noexcept {
    return (index >> detail::seg_shift) % detail::seg_lap;
  }

  claim claim_tail();
  claim claim_head() noexcept;
  void install_tail_block(block* full, block* next, std::uint64_t phantom) noexcept;
  void install_head_block(block* used, std::uint64_t phantom) noexcept;
  static slot& wait_write(block& blk, std::uint64_t offset) noexcept;
  static void release_slot(block* blk, std::uint64_t offset) noexcept;
  static void destroy_block(block* blk, std::uint64_t start) noexcept;

  // Consumers' end and producers' end on separate cache lines: a push never invalidates the
  // line consumers CAS, and a pop never the producers' one.
  cache_padded<detail::seg_end<T>> head_;
  cache_padded<detail::seg_end<T>> tail_;
};

}  // namespace ferrite::sync

#include "ferrite/sync/detail/seg_queue_impl.hpp"
