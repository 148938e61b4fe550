// SPDX-License-Identifier: Apache-2.0
// A thread_pool worker's local run queue: a fixed ring of task pointers that its owner pushes
// at the tail and pops at the head (FIFO), and that other workers steal half of at once
// (tokio's local queue, Go's runq). Not a public header; its model tests are in
// tests/model/run_queue_model_test.cpp.
//
// Positions are 64-bit counters that only grow (slot = position mod N), so no CAS can succeed
// on a recycled value (no ABA). The owner alone writes `tail_` and the slots; the head moves by
// CAS, claimed either by the owner's pop or by a thief, which copies the slots it wants
// first and claims them with one CAS: a slot can only be overwritten after the head moved
// past it, and then the thief's CAS fails and its copy is discarded.
//
// ORDERING table (one label per site, in reading order):
//  push      (Q1) relaxed load of tail_: only the owner writes it.
//            (Q2) acquire load of head_: pairs with the claiming CASes (Q8), (Q12), (Q20),
//                 so a slot is reused only after its last reader claimed it.
//            (Q3) relaxed store of the slot: published by (Q4).
//            (Q4) release store of tail_: pairs with a thief's (Q15), so it sees the slot.
//  pop       (Q5) acquire load of head_: as (Q2).
//            (Q6) relaxed load of tail_: the owner's own.
//            (Q7) relaxed load of the slot: the owner wrote it; current if (Q8) succeeds.
//            (Q8) acq_rel CAS of head_: claims the slot; acquire as (Q2), release orders the
//                 read (Q7) before the slot's reuse by a push that acquires head_ (Q2).
//  take_half (Q9) acquire load of head_, (Q10) relaxed load of tail_, (Q11) relaxed loads of
//                 the slots, (Q12) acq_rel CAS of head_: as (Q5)-(Q8), for half the ring.
//  steal     (Q13) relaxed load of the thief's own tail_.
//            (Q14) acquire load of the victim's head_, (Q16) its reload: as (Q2).
//            (Q15) acquire load of the victim's tail_: pairs with (Q4).
//            (Q17) relaxed loads of the victim's slots and (Q18) relaxed stores into the
//                 thief's own: the copy is kept only if (Q20) succeeds; (Q19) the last one.
//            (Q20) acq_rel CAS of the victim's head_: claims what was copied; release orders
//                 the copy before the owner's reuse of those slots (its (Q2)).
//            (Q21) release store of the thief's tail_: publishes the stolen entries, as (Q4).
//  size      (Q22), (Q23) relaxed loads of tail_ and head_: a hint, no data is read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"

namespace ferrite::rt::detail {

/// Bounded ring of `T` (a pointer type) with owner push/pop and steal-half.
/// Owner: push, pop, take_half. Any thread: steal_into (into the caller's own queue), and
/// the approximate size.
template <class T, std::size_t N>
class run_queue {
  static_assert(std::has_single_bit(N) && N >= 2, "run_queue: N is a power of two");
  static_assert(std::is_pointer_v<T>, "run_queue: holds task pointers");

 public:
  static constexpr std::size_t capacity = N;

  /// Appends `v` at the tail. False when the queue is full (the caller moves half of it
  /// elsewhere with take_half and retries). Owner only. Wait-free.
  bool push(T v) noexcept {
    // ORDERING: (Q1) relaxed: see the table.
    const std::uint64_t t = tail_.value.load(std::memory_order_relaxed);
    // ORDERING: (Q2) acquire: see the table.
    if (t - head_.value.load(std::memory_order_acquire) >= N) return false;
    // ORDERING: (Q3) relaxed: see the table.
    slots_[t & mask].store(v, std::memory_order_relaxed);
    // ORDERING: (Q4) release: see the table.
    tail_.value.store(t + 1, std::memory_order_release);
    return true;
  }

  /// Takes the oldest entry, or null when empty. Owner only. Lock-free (a CAS against thieves).
  T pop() noexcept {
    // ORDERING: (Q5) acquire: see the table.
    std::uint64_t h = head_.value.load(std::memory_order_acquire);
    for (;;) {
      // ORDERING: (Q6) relaxed: see the table.
      if (h == tail_.value.load(std::memory_order_relaxed)) return nullptr;
      // ORDERING: (Q7) relaxed: see the table.
      const T v = slots_[h & mask].load(std::memory_order_relaxed);
      // ORDERING: (Q8) acq_rel: see the table; a failure reloads h.
      if (head_.value.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        return v;
      }
    }
  }

  /// Claims the older half of a full queue into `out` (size N/2) for the caller to move
  /// elsewhere (the pool's injection queue). Returns how many it took: N/2, or 0 when thieves
  /// made room meanwhile (push again). Owner only.
  std::size_t take_half(std::span<T, N / 2> out) noexcept {
    // ORDERING: (Q9) acquire: see the table.
    std::uint64_t h = head_.value.load(std::memory_order_acquire);
    // ORDERING: (Q10) relaxed: see the table.
    if (tail_.value.load(std::memory_order_relaxed) - h < N) return 0;
    for (std::size_t i = 0; i < N / 2; ++i) {
      // ORDERING: (Q11) relaxed: see the table.
      out[i] = slots_[(h + i) & mask].load(std::memory_order_relaxed);
    }
    // ORDERING: (Q12) acq_rel: see the table.
    if (!head_.value.compare_exchange_strong(h, h + N / 2, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
      return 0;  // a thief took some: there is room now
    }
    return N / 2;
  }

  /// Steals half (rounded up) of this queue's entries into `dst`, whose owner is the caller,
  /// and returns one of them to run now (the rest are pushed onto `dst`), or null when this
  /// queue is empty. Preconditions: `dst` is the caller's own queue, is not this one, and is
  /// empty. Lock-free.
  T steal_into(run_queue& dst) noexcept {
    FERRITE_DEBUG_ASSERT(&dst != this, "run_queue: a worker steals from another");
    // ORDERING: (Q13) relaxed: the caller owns dst.
    const std::uint64_t dst_tail = dst.tail_.value.load(std::memory_order_relaxed);
    // ORDERING: (Q14) acquire: see the table.
    std::uint64_t h = head_.value.load(std::memory_order_acquire);
    for (;;) {
      // ORDERING: (Q15) acquire: see the table.
      const std::uint64_t t = tail_.value.load(std::memory_order_acquire);
      if (t <= h) return nullptr;  // empty (t < h: a stale head against a newer tail)
      const std::uint64_t available = t - h;
      if (available > N) {  // h is stale: the owner went around since; look again
        // ORDERING: (Q16) acquire: see the table.
        h = head_.value.load(std::memory_order_acquire);
        continue;
      }
      const std::uint64_t n = available - available / 2;
      for (std::uint64_t i = 0; i + 1 < n; ++i) {
        // ORDERING: (Q17) relaxed load, (Q18) relaxed store: see the table.
        dst.slots_[(dst_tail + i) & mask].store(
            slots_[(h + i) & mask].load(std::memory_order_relaxed), std::memory_order_relaxed);
      }
      // ORDERING: (Q19) relaxed: see the table.
      const T last = slots_[(h + n - 1) & mask].load(std::memory_order_relaxed);
      // ORDERING: (Q20) acq_rel: see the table; a failure reloads h and the copy is redone.
      if (head_.value.compare_exchange_weak(h, h + n, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        if (n > 1) {
          // ORDERING: (Q21) release: see the table.
          dst.tail_.value.store(dst_tail + n - 1, std::memory_order_release);
        }
        return last;
      }
    }
  }

  /// Entries queued, approximately (a hint for stealing and metrics). Any thread.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    // ORDERING: (Q22) relaxed: see the table.
    const std::uint64_t t = tail_.value.load(std::memory_order_relaxed);
    // ORDERING: (Q23) relaxed: see the table.
    const std::uint64_t h = head_.value.load(std::memory_order_relaxed);
    return t > h ? static_cast<std::size_t>(t - h) : 0;
  }
  [[nodiscard]] bool empty_approx() const noexcept { return size_approx() == 0; }

 private:
  static constexpr std::uint64_t mask = N - 1;

  // Thieves and the owner's pop contend on the head; the owner alone writes the tail: each on
  // its own line so a steal does not slow the owner's pushes.
  cache_padded<atomic<std::uint64_t>> head_{0ULL};
  cache_padded<atomic<std::uint64_t>> tail_{0ULL};
  atomic<T> slots_[N] = {};
};

}  // namespace ferrite::rt::detail
