// SPDX-License-Identifier: Apache-2.0
// The state machine behind async_semaphore and async_mutex (a mutex is a semaphore of one
// permit): a FIFO of waiters under a spin_mutex, and an atomic word holding the free permits
// and a "waiters queued" bit, so that an uncontended acquire (a CAS) and release (a fetch_add)
// never touch the lock. Driven by plain wakers (no executor): the awaiters of
// async_semaphore.hpp call it with the current task's waker, the model tests with a
// thread_parker's. Not a public header.
//
// Fairness: strictly FIFO. While anybody waits, try_acquire fails and release hands its
// permits to the waiters at the front (a mutex unlock hands the lock over without making it
// free), so nobody overtakes a queued waiter; a waiter that wants more permits than are free
// holds up the ones behind it (as tokio's semaphore does).
//
// ORDERING table (state_; the list, the waiters' statuses and wakers are under lock_):
//  (S1) acquire CAS taking permits (try_acquire, and acquire_or_enqueue under the lock):
//       pairs with the release (S3) whose permits it takes, directly or through the release
//       sequence it heads (every later write of state_ is an RMW), so whoever released
//       happens-before whoever acquires: a mutex's critical sections are ordered.
//  (S2) relaxed loads that start the CAS loops, and the hints: the CAS decides.
//  (S3) release fetch_add of released permits (release, with or without waiters; with
//       waiters the slow path then grants them under the lock).
//  (S4) relaxed CAS setting the waiters bit under the lock: it only makes the fast paths
//       fail over to the lock, which orders everything behind it.
//  (S5) acquire fetch_sub of a front waiter's permits under the lock (the grant): pairs with
//       the (S3) that released them, so the releasers happen-before the granter, which
//       happens-before the woken waiter through the wake (wait_list.hpp).
//  (S6) relaxed fetch_and clearing the waiters bit under the lock, when the list empties; an
//       RMW, so it continues the release sequences of (S3).
#pragma once

#include <cstddef>
#include <limits>
#include <mutex>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt::detail {

/// A counting semaphore's permits and waiters. Non-copyable and non-movable: waiters point
/// at it. Every member is callable from any thread.
class semaphore_core {
 public:
  /// A waiter; its payload is the number of permits it wants.
  using node = waiter<std::size_t>;

  /// The most permits a semaphore can hold (one bit of the word is the waiters flag).
  static constexpr std::size_t max_permits = std::numeric_limits<std::size_t>::max() >> 1;

  explicit semaphore_core(std::size_t permits) noexcept : state_(permits << 1) {
    FERRITE_ASSERT(permits <= max_permits, "rt::async_semaphore: too many permits");
  }
  semaphore_core(const semaphore_core&) = delete;
  semaphore_core& operator=(const semaphore_core&) = delete;
  ~semaphore_core() {
    FERRITE_DEBUG_ASSERT(waiters_.empty(), "rt::async_semaphore destroyed with waiters queued");
  }

  /// Takes `n` permits if that many are free and nobody waits. One CAS loop, no lock.
  /// Progress: lock-free.
  [[nodiscard]] bool try_acquire(std::size_t n) noexcept {
    // ORDERING: (S2) relaxed; see the table.
    std::size_t s = state_.load(std::memory_order_relaxed);
    while ((s & waiters_bit) == 0 && (s >> 1) >= n) {
      // ORDERING: (S1) acquire; see the table.
      if (state_.compare_exchange_weak(s, s - (n << 1), std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  /// try_acquire for a semaphore that never holds more than `n` permits (a mutex: n = 1):
  /// the only state it can take them from is "exactly n free, nobody waits", so one CAS
  /// from that state decides, without a load first. Progress: wait-free.
  [[nodiscard]] bool try_acquire_all(std::size_t n) noexcept {
    std::size_t s = n << 1;
    // ORDERING: (S1) acquire; see the table.
    return state_.compare_exchange_strong(s, 0, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  /// Takes `n` permits now (returns true, `w` granted and not queued) or queues `w` at the
  /// back with `to_wake` (returns false; `to_wake` was moved from). Under the lock.
  /// Preconditions: `w` is not queued.
  [[nodiscard]] bool acquire_or_enqueue(node& w, std::size_t n, waker&& to_wake) noexcept {
    std::lock_guard guard(lock_);
    // ORDERING: (S2) relaxed; see the table.
    std::size_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((s & waiters_bit) != 0) break;  // queue behind the others
      if ((s >> 1) >= n) {
        // ORDERING: (S1) acquire; see the table.
        if (state_.compare_exchange_weak(s, s - (n << 1), std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          w.set_status(wait_status::granted);
          return true;
        }
        continue;
      }
      // ORDERING: (S4) relaxed; see the table.
      if (state_.compare_exchange_weak(s, s | waiters_bit, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    w.data = n;
    enqueue(waiters_, w, std::move(to_wake));
    return false;
  }

  /// Adds `n` permits, handing them to the waiters at the front first (in FIFO order, as
  /// long as the front one's request fits), and wakes those after releasing the lock.
  /// Complexity: one fetch_add when nobody waits; else O(waiters granted). Progress:
  /// wait-free when nobody waits, blocking (the spin lock) otherwise.
  void release(std::size_t n) noexcept {
    // ORDERING: (S3) release; see the table.
    const std::size_t s = state_.fetch_add(n << 1, std::memory_order_release);
    FERRITE_ASSERT(n <= max_permits - (s >> 1), "rt::async_semaphore: permit count overflow");
    // Waiters queued: the permits just added belong to the front ones; grant them.
    if ((s & waiters_bit) != 0) [[unlikely]]
      grant_waiters();
  }

  /// The stop_token of the wait of `w` fired: if `w` is still queued, takes it off with the
  /// status `stopped` and wakes it. No effect once it was granted (the grant stands).
  void stop(node& w) noexcept { remove(w, wait_status::stopped); }

  /// The awaiter of `w` is destroyed without having been resumed (its task was cancelled):
  /// unlinks `w` if it is still queued, or gives back the permits it was granted and never
  /// took, so they go to the next waiter.
  void abandon(node& w) noexcept {
    if (remove(w, wait_status::idle) == wait_status::granted) {
      w.set_status(wait_status::idle);
      release(w.data);
    }
  }

  /// Free permits right now (a hint: stale at once). Progress: wait-free.
  [[nodiscard]] std::size_t available_approx() const noexcept {
    // ORDERING: (S2) relaxed; see the table.
    return state_.load(std::memory_order_relaxed) >> 1;
  }

  /// Waiters queued right now (a hint for tests and metrics). Takes the lock.
  [[nodiscard]] std::size_t waiters_approx() const noexcept {
    std::lock_guard guard(lock_);
    return waiters_.size();
  }

 private:
  static constexpr std::size_t waiters_bit = 1;

  /// Grants the free permits to the front waiters under the lock, in rounds of one
  /// wake_batch (the lock is released to wake each round).
  void grant_waiters() noexcept {
    bool more = true;
    while (more) {
      wake_batch wakes;
      std::lock_guard guard(lock_);
      more = grant_locked(wakes);
    }  // the guard unlocks, then the batch wakes (reverse order of declaration)
  }

  /// Grants the front waiters while their requests fit, into `wakes`; clears the waiters bit
  /// when the list empties. Returns true if it stopped because `wakes` is full (call again).
  bool grant_locked(wake_batch& wakes) noexcept {
    while (!waiters_.empty()) {
      node& front = waiters_.front();
      // ORDERING: (S2) relaxed; see the table.
      if ((state_.load(std::memory_order_relaxed) >> 1) < front.data) return false;
      if (wakes.full()) return true;
      // ORDERING: (S5) acquire; see the table.
      state_.fetch_sub(front.data << 1, std::memory_order_acquire);
      wakes.push(dequeue(waiters_, front, wait_status::granted));
    }
    // ORDERING: (S6) relaxed; see the table.
    state_.fetch_and(~waiters_bit, std::memory_order_relaxed);
    return false;
  }

  /// Takes `w` off the list with `outcome` if it is queued (waking it if `outcome` is
  /// stopped), then lets the new front have the free permits if `w` was the front. Returns
  /// the status `w` had.
  wait_status remove(node& w, wait_status outcome) noexcept {
    waker taken;
    bool was_front = false;
    wait_status before = wait_status::idle;
    {
      std::lock_guard guard(lock_);
      before = w.status();
      if (before != wait_status::queued) return before;
      was_front = &waiters_.front() == &w;
      taken = dequeue(waiters_, w, outcome);
      if (waiters_.empty()) {
        // ORDERING: (S6) relaxed; see the table.
        state_.fetch_and(~waiters_bit, std::memory_order_relaxed);
        was_front = false;  // nobody left to grant
      }
    }
    if (outcome == wait_status::stopped) {
      std::move(taken).wake();
    } else {
      taken.reset();
    }
    if (was_front) grant_waiters();  // the next waiter may want fewer permits
    return before;
  }

  /// Bit 0: waiters queued (set and cleared under lock_ only). Bits 1..: free permits.
  /// Invariant: bit 0 is set exactly when waiters_ is non-empty (outside lock_'s critical
  /// sections), and then the front waiter wants more permits than are free.
  atomic<std::size_t> state_;
  mutable sync::spin_mutex lock_;
  wait_queue<std::size_t> waiters_;
};

}  // namespace ferrite::rt::detail
