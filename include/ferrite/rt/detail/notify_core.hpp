// SPDX-License-Identifier: Apache-2.0
// The state machine behind rt::notify (tokio::sync::Notify's semantics): an atomic word with
// the phase (empty, waiting, or notified: one stored permit) and the number of
// notify_waiters calls so far, and a FIFO of waiters under a spin_mutex. notify_one and a
// wait that finds the permit are one CAS and never take the lock; only waits that queue, and
// notify_one when somebody is queued, do. Driven by plain wakers, so the model tests run it
// with model threads (tests/model/rt_notify_model_test.cpp). Not a public header.
//
// ORDERING table (state_; the list, the statuses and wakers are under lock_):
//  (N1) release CAS storing the permit (notify_one, phase empty or notified -> notified):
//       pairs with the acquire CAS (N3) that consumes it, so what the notifier did before
//       notify_one happens-before the waiter's continuation.
//  (N2) relaxed loads that start the CAS loops: the CAS decides.
//  (N3) acquire CAS consuming the permit (notified -> empty): pairs with (N1).
//  (N4) acquire load of the generation (notified(), await_ready): a generation that moved
//       on means a notify_waiters call completed the wait; pairs with the release (N6).
//  (N5) relaxed CAS empty -> waiting under the lock, when the first waiter queues; its
//       waker carries the synchronization (wait_list.hpp).
//  (N6) release fetch_add of the generation (notify_waiters, under the lock): pairs with (N4).
//  (N7) relaxed fetch_and waiting -> empty under the lock when the list empties; an RMW, so
//       the release sequences of (N1) and (N6) continue through it.
#pragma once

#include <cstdint>
#include <mutex>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt::detail {

/// What a notify waiter records: the notify_waiters generation its wait started in, and
/// whether it was woken by notify_one (whose notification it must pass on if it is
/// destroyed before it consumed it).
struct notify_payload {
  std::uint64_t generation = 0;
  bool by_one = false;
};

/// rt::notify's permit, generation and waiters. Non-copyable and non-movable: waiters point
/// at it. Every member is callable from any thread.
class notify_core {
 public:
  using node = waiter<notify_payload>;

  notify_core() noexcept = default;
  notify_core(const notify_core&) = delete;
  notify_core& operator=(const notify_core&) = delete;
  ~notify_core() {
    FERRITE_DEBUG_ASSERT(waiters_.empty(), "rt::notify destroyed with waiters queued");
  }

  /// Wakes the first waiter, or stores the permit when nobody waits (one permit at most).
  /// Complexity: one CAS when nobody waits, else O(1) under the lock.
  void notify_one() noexcept {
    // ORDERING: (N2) relaxed; see the table.
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    while (phase(s) != waiting) {
      // ORDERING: (N1) release; see the table.
      if (state_.compare_exchange_weak(s, with_phase(s, notified), std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    waker to_wake;
    {
      std::lock_guard guard(lock_);
      if (waiters_.empty()) {
        store_permit();  // the waiters left between the load and the lock
        return;
      }
      to_wake = grant_front();
    }
    std::move(to_wake).wake();
  }

  /// Wakes every waiter queued now (and every wait whose notified() call came before this),
  /// storing no permit. Complexity: O(waiters), in rounds of one wake_batch.
  void notify_waiters() noexcept {
    std::uint64_t generation = 0;
    bool first = true;
    bool more = true;
    while (more) {
      wake_batch wakes;
      std::lock_guard guard(lock_);
      if (first) {
        // ORDERING: (N6) release; see the table.
        generation =
            generation_of(state_.fetch_add(generation_unit, std::memory_order_release)) + 1;
        first = false;
      }
      more = false;
      while (!waiters_.empty() && waiters_.front().data.generation != generation) {
        if (wakes.full()) {
          more = true;
          break;
        }
        wakes.push(dequeue(waiters_, waiters_.front(), wait_status::granted));
      }
      if (!wakes.empty() && waiters_.empty()) clear_waiting();
    }
  }

  /// The generation a wait starting now belongs to (a later notify_waiters completes it).
  [[nodiscard]] std::uint64_t generation() const noexcept {
    // ORDERING: (N4) acquire; see the table.
    return generation_of(state_.load(std::memory_order_acquire));
  }

  /// Completes a wait of `generation` at once if a notify_waiters call came since or a
  /// permit is stored (consuming it). Lock-free.
  [[nodiscard]] bool try_complete(std::uint64_t generation) noexcept {
    // ORDERING: (N4) acquire; see the table.
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (generation_of(s) != generation) return true;
      if (phase(s) != notified) return false;
      // ORDERING: (N3) acquire; see the table.
      if (state_.compare_exchange_weak(s, with_phase(s, empty), std::memory_order_acquire,
                                       std::memory_order_acquire)) {
        return true;
      }
    }
  }

  /// As try_complete (then `w` is granted and not queued: returns true), else queues `w`
  /// with `to_wake` (returns false). Under the lock.
  [[nodiscard]] bool complete_or_enqueue(node& w, std::uint64_t generation,
                                         waker&& to_wake) noexcept {
    std::lock_guard guard(lock_);
    // ORDERING: (N2) relaxed; the lock orders the generation (N6 is under it too).
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if (generation_of(s) != generation) break;
      if (phase(s) == notified) {
        // ORDERING: (N3) acquire; see the table.
        if (state_.compare_exchange_weak(s, with_phase(s, empty), std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          break;
        }
        continue;
      }
      // ORDERING: (N5) relaxed; see the table.
      if (phase(s) == waiting ||
          state_.compare_exchange_weak(s, with_phase(s, waiting), std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
        w.data = notify_payload{generation, false};
        enqueue(waiters_, w, std::move(to_wake));
        return false;
      }
    }
    w.set_status(wait_status::granted);
    return true;
  }

  /// The stop_token of `w`'s wait fired: takes it off with `stopped` and wakes it if it is
  /// still queued; a notification that already reached it stands.
  void stop(node& w) noexcept {
    waker to_wake;
    {
      std::lock_guard guard(lock_);
      if (w.status() != wait_status::queued) return;
      to_wake = dequeue(waiters_, w, wait_status::stopped);
      if (waiters_.empty()) clear_waiting();
    }
    std::move(to_wake).wake();
  }

  /// The awaiter of `w` is destroyed without being resumed: unlinks `w` if queued; if
  /// notify_one had woken it, passes the notification on to the next waiter, or stores it
  /// as the permit (as tokio's Notified does when dropped).
  void abandon(node& w) noexcept {
    waker dropped;
    waker forwarded;
    {
      std::lock_guard guard(lock_);
      const wait_status s = w.status();
      if (s == wait_status::queued) {
        dropped = dequeue(waiters_, w, wait_status::idle);
        if (waiters_.empty()) clear_waiting();
      } else if (s == wait_status::granted && w.data.by_one) {
        if (waiters_.empty()) {
          store_permit();
        } else {
          forwarded = grant_front();
        }
      }
      w.set_status(wait_status::idle);
    }
    dropped.reset();
    std::move(forwarded).wake();
  }

  /// Waiters queued right now (a hint, for tests). Takes the lock.
  [[nodiscard]] std::size_t waiters_approx() const noexcept {
    std::lock_guard guard(lock_);
    return waiters_.size();
  }
  /// Whether a permit is stored right now (a hint, for tests).
  [[nodiscard]] bool permit_approx() const noexcept {
    // ORDERING: (N2) relaxed; see the table.
    return phase(state_.load(std::memory_order_relaxed)) == notified;
  }

 private:
  static constexpr std::uint64_t empty = 0;
  static constexpr std::uint64_t waiting = 1;
  static constexpr std::uint64_t notified = 2;
  static constexpr std::uint64_t phase_mask = 3;
  static constexpr std::uint64_t generation_unit = 4;

  static constexpr std::uint64_t phase(std::uint64_t s) noexcept { return s & phase_mask; }
  static constexpr std::uint64_t generation_of(std::uint64_t s) noexcept { return s >> 2; }
  static constexpr std::uint64_t with_phase(std::uint64_t s, std::uint64_t p) noexcept {
    return (s & ~phase_mask) | p;
  }

  /// Under the lock, with nobody queued: phase empty or notified -> notified.
  void store_permit() noexcept {
    // ORDERING: (N2) relaxed; see the table.
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    // ORDERING: (N1) release; see the table.
    while (!state_.compare_exchange_weak(s, with_phase(s, notified), std::memory_order_release,
                                         std::memory_order_relaxed)) {
    }
  }

  /// Under the lock, with somebody queued: takes the front off as woken by notify_one.
  [[nodiscard]] waker grant_front() noexcept {
    node& front = waiters_.front();
    front.data.by_one = true;
    waker w = dequeue(waiters_, front, wait_status::granted);
    if (waiters_.empty()) clear_waiting();
    return w;
  }

  /// Under the lock, when this critical section emptied the list: waiting -> empty.
  void clear_waiting() noexcept {
    // ORDERING: (N7) relaxed; see the table.
    state_.fetch_and(~waiting, std::memory_order_relaxed);
  }

  /// Bits 0-1: the phase (empty 0, waiting 1, notified 2: a stored permit). Bits 2-63: how
  /// many notify_waiters calls were made (wrapping). Invariant: the phase is waiting exactly
  /// when waiters_ is non-empty (outside lock_'s critical sections); waiting -> other and
  /// other -> waiting happen only under lock_; empty <-> notified happen anywhere by CAS.
  atomic<std::uint64_t> state_{0};
  mutable sync::spin_mutex lock_;
  wait_queue<notify_payload> waiters_;
};

}  // namespace ferrite::rt::detail
