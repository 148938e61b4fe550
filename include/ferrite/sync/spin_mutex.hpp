// SPDX-License-Identifier: Apache-2.0
// spin_mutex: a one-byte test-and-test-and-set lock for very short critical sections (a few
// loads and stores) where a futex round trip would cost more than the section. Waiters spin
// on a plain load (so the line stays shared while the lock is held), backing off with
// ferrite::backoff: pause hints first, then yielding the time slice. It satisfies the
// standard's Lockable requirements, so std::lock_guard, std::unique_lock and
// std::scoped_lock work with it. Contention is counted in ferrite::metrics on the slow path.
#pragma once

#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/metrics.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::sync {

namespace detail {

/// Process-wide spin_mutex counters, bumped only on the contended path (empty no-ops with
/// FERRITE_METRICS=0). Like every metrics variable in a header, every unit including this
/// one must be built with the same FERRITE_METRICS (the CMake targets ensure it).
struct spin_mutex_metrics {
  metrics::counter contended{"sync.spin_mutex.contended",
                             "spin_mutex lock() calls that found the mutex held"};
  metrics::counter spins{"sync.spin_mutex.spins",
                         "backoff steps taken by contended spin_mutex lock() calls"};
};

/// The counters. With metrics on, created on the first contended lock (so a program that
/// never contends never touches the registry) and never destroyed (so a mutex used during
/// static destruction cannot reach a dead counter). With metrics off, a constant empty object.
inline spin_mutex_metrics& spin_mutex_counters() noexcept {
#if FERRITE_METRICS
  static spin_mutex_metrics& counters = *new spin_mutex_metrics;
#else
  static constinit spin_mutex_metrics counters{};
#endif
  return counters;
}

}  // namespace detail

/// A test-and-test-and-set spin lock: `lock()` tries one atomic exchange and, if the mutex
/// is held, waits on relaxed loads with ferrite::backoff (pause hints, then yields) before
/// trying again. Meets the standard's Lockable requirements (lock, try_lock, unlock).
///
/// Size: one byte (an atomic<bool>), not cache-padded: embed it next to the data it guards
/// (same line: the acquiring thread then fetches both at once), or wrap it in
/// ferrite::cache_padded when unrelated hot data would share its line.
///
/// Progress: blocking (deadlock-free if every holder eventually unlocks); not fair and not
/// starvation-free: there is no queue, and the thread that happens to exchange first wins.
///
/// Metrics (FERRITE_METRICS): `sync.spin_mutex.contended` counts lock() calls whose first
/// exchange failed, `sync.spin_mutex.spins` the backoff steps they then took (at least one
/// each). Counted only on that slow path, aggregated over all spin_mutexes of the process.
///
/// Warnings: waiters never sleep in the kernel; they spin, then keep yielding. Do not hold
/// it across anything that can block (I/O, allocation, another lock's slow path), and
/// prefer std::mutex (or the runtime's async mutex) when sections are long or threads
/// outnumber cores. Not recursive: re-locking from the holder deadlocks. Debug builds
/// assert that unlock() finds the mutex locked; ownership is not tracked.
class spin_mutex {
 public:
  constexpr spin_mutex() noexcept = default;

  // Non-copyable and non-movable: other threads spin on this object's address.
  spin_mutex(const spin_mutex&) = delete;
  spin_mutex& operator=(const spin_mutex&) = delete;

  /// Acquires the mutex, waiting as long as it takes.
  /// Preconditions: the calling thread does not hold it.
  /// Complexity: one atomic exchange when free; otherwise unbounded.
  /// Progress: blocking.
  void lock() noexcept {
    // ORDERING: (1) acquire exchange; pairs with the release store (3) in unlock(): the
    // previous holder's critical section happens-before ours.
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]] {
      return;
    }
    lock_contended();
  }

  /// Acquires the mutex if it is free; never waits. Returns whether it did. May fail
  /// spuriously (as std::mutex::try_lock may) when it sees a just-released mutex as held.
  /// Preconditions: the calling thread does not hold it.
  /// Complexity: O(1): a load, and an exchange if the load found it free. Progress:
  /// wait-free.
  [[nodiscard]] bool try_lock() noexcept {
    // ORDERING: (2) relaxed load first, so that a loop of failing try_lock()s keeps the
    // line shared instead of writing it; nothing is read under its protection. The
    // acquire exchange (1) then does the synchronizing, as in lock().
    if (locked_.load(std::memory_order_relaxed)) return false;
    // ORDERING: (1), see lock().
    return !locked_.exchange(true, std::memory_order_acquire);
  }

  /// Releases the mutex.
  /// Preconditions: the calling thread holds it (checked in debug builds only as "it is
  /// held by someone"). Complexity: O(1), one store. Progress: wait-free.
  void unlock() noexcept {
    // ORDERING: (5) relaxed load for the debug check only; the holder's own exchange (1)
    // wrote the value it reads, nothing pairs with it.
    FERRITE_DEBUG_ASSERT(locked_.load(std::memory_order_relaxed),
                         "spin_mutex: unlock() of a mutex that is not locked");
    // ORDERING: (3) release store; pairs with the acquire exchange (1) in lock() and
    // try_lock(): the next holder sees everything written in our critical section.
    locked_.store(false, std::memory_order_release);
  }

  /// Whether the mutex is held right now: a hint for assertions and tests, stale as soon as
  /// it returns. O(1). Progress: wait-free.
  [[nodiscard]] bool is_locked() const noexcept {
    // ORDERING: (6) relaxed load; nothing pairs with it, no data is read on its strength.
    return locked_.load(std::memory_order_relaxed);
  }

 private:
  /// The slow path of lock(): back off, wait for the mutex to look free, try again.
  FERRITE_NOINLINE void lock_contended() noexcept {
    detail::spin_mutex_metrics& counters = detail::spin_mutex_counters();
    counters.contended.add();
    std::uint64_t spins = 0;
    backoff wait;
    do {
      // Back off first: the exchange just saw the mutex held, so re-testing at once
      // would almost surely see it held again.
      do {
        wait.snooze();
        ++spins;
        // ORDERING: (4) relaxed read-only wait ("test" before "test-and-set"): it keeps
        // the line shared while the holder works; the exchange (1) does the synchronizing.
      } while (locked_.load(std::memory_order_relaxed));
      // ORDERING: (1), see lock().
    } while (locked_.exchange(true, std::memory_order_acquire));
    counters.spins.add(spins);
  }

  /// True while held. Invariant: changes false -> true only by an acquire exchange (1) and
  /// true -> false only by the holder's release store (3).
  atomic<bool> locked_{false};
};

}  // namespace ferrite::sync
