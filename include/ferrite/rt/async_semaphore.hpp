// SPDX-License-Identifier: Apache-2.0
// rt::async_semaphore: a counting semaphore for tasks. `co_await sem.acquire(n)` suspends
// the task (not the thread) until n permits are free and gives an RAII permit that returns
// them when destroyed; waiters are served strictly in FIFO order. An uncontended acquire or
// release is one CAS or fetch_add and takes no lock; waiting allocates nothing (the waiter node
// lives in the awaiting coroutine's frame). Cancellable: `acquire(n, stop_token)` gives rt::stopped
// when the token fires first, and a task aborted while it waits leaves no waiter behind.
// The shape of tokio::sync::Semaphore (its batch semaphore is also FIFO).
//
// ```cpp
// rt::async_semaphore connections(64);
// rt::task<> serve(conn c) {
//   rt::async_semaphore::permit p = co_await connections.acquire();   // at most 64 at once
//   co_await handle(std::move(c));
// }                                                                   // p gives its permit back
// ```
//
// When not to use it: to guard shared data, async_mutex says what is meant; between plain
// threads that never run tasks, std::counting_semaphore blocks without a runtime.
#pragma once

#include <cstddef>
#include <optional>
#include <stop_token>
#include <utility>

#include "ferrite/rt/detail/acquire_awaiter.hpp"
#include "ferrite/rt/detail/semaphore_core.hpp"

namespace ferrite::rt {

/// A FIFO counting semaphore for tasks. Non-copyable and non-movable: waiters and permits
/// point at it. Every member may be called from any thread; acquire() is awaited in a task,
/// and its awaitable refers to the semaphore, which must outlive it.
///
/// Cancellation: acquire() is cancellation-safe. A task aborted while it waits leaves no
/// waiter queued; if it had just been granted its permits, they go to the next waiter. A
/// stop_token that fires while waiting gives rt::stopped and acquires nothing.
class async_semaphore {
 public:
  /// n permits held; give them back with release() (or let the destructor do it).
  /// Move-only; an empty (moved-from or released) permit holds nothing.
  class [[nodiscard]] permit {
   public:
    permit() noexcept = default;
    permit(permit&& other) noexcept
        : sem_(std::exchange(other.sem_, nullptr)), count_(std::exchange(other.count_, 0)) {}
    permit& operator=(permit&& other) noexcept {
      if (this != &other) {
        release();
        sem_ = std::exchange(other.sem_, nullptr);
        count_ = std::exchange(other.count_, 0);
      }
      return *this;
    }
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { release(); }

    /// Permits held.
    [[nodiscard]] std::size_t count() const noexcept { return count_; }
    /// Gives the permits back now (to the front waiters first); the permit is empty after.
    void release() noexcept {
      if (sem_ != nullptr) std::exchange(sem_, nullptr)->release(std::exchange(count_, 0));
    }
    /// Drops the permits without giving them back: the semaphore has that many fewer.
    void forget() noexcept {
      sem_ = nullptr;
      count_ = 0;
    }

   private:
    friend class async_semaphore;
    permit(async_semaphore* sem, std::size_t count) noexcept : sem_(sem), count_(count) {}
    async_semaphore* sem_ = nullptr;
    std::size_t count_ = 0;
  };

  /// The most permits a semaphore can hold.
  static constexpr std::size_t max_permits = detail::semaphore_core::max_permits;

  /// A semaphore with `permits` free permits. Preconditions: permits <= max_permits.
  explicit async_semaphore(std::size_t permits) noexcept : core_(permits) {}
  async_semaphore(const async_semaphore&) = delete;
  async_semaphore& operator=(const async_semaphore&) = delete;
  /// Preconditions: no task waits (debug-checked) and no permit is outstanding.
  ~async_semaphore() = default;

  /// Awaitable: `co_await sem.acquire(n)` gives a permit of n once n permits are free and
  /// every earlier waiter was served. Completes without suspending when nobody waits and
  /// n are free (one CAS). Preconditions: awaited in a task; n <= max_permits.
  /// Complexity: O(1) to wait and to be granted.
  [[nodiscard]] detail::acquire_awaiter<false, async_semaphore> acquire(std::size_t n = 1) {
    return {*this, n};
  }
  /// As acquire(n), but gives `std::expected<permit, rt::stopped>`: rt::stopped, with
  /// nothing acquired and no waiter left, when `stop` fires before the permits are granted
  /// (also when it fired before the call).
  [[nodiscard]] detail::acquire_awaiter<true, async_semaphore> acquire(std::size_t n,
                                                                       std::stop_token stop) {
    return {*this, n, std::move(stop)};
  }

  /// A permit of n if n are free and nobody waits (FIFO: never overtakes a waiter), else
  /// empty. One CAS loop, no lock. Progress: lock-free.
  [[nodiscard]] std::optional<permit> try_acquire(std::size_t n = 1) noexcept {
    if (!core_.try_acquire(n)) return std::nullopt;
    return permit(this, n);
  }

  /// Adds n permits: the front waiters are granted first (in order, while the front one's
  /// request fits) and woken after the lock is released. Also how a permit gives its count
  /// back; calling it without a permit grows the semaphore.
  /// Complexity: one fetch_add when nobody waits; else O(waiters granted).
  void release(std::size_t n = 1) noexcept { core_.release(n); }

  /// Free permits right now (a hint, stale at once).
  [[nodiscard]] std::size_t available_permits() const noexcept { return core_.available_approx(); }
  /// Tasks queued right now (a hint, for tests and metrics).
  [[nodiscard]] std::size_t waiters_approx() const noexcept { return core_.waiters_approx(); }

 private:
  template <bool, class>
  friend class detail::acquire_awaiter;
  detail::semaphore_core& core() noexcept { return core_; }
  [[nodiscard]] bool try_take(std::size_t n) noexcept { return core_.try_acquire(n); }
  permit grant(std::size_t n) noexcept { return permit(this, n); }

  detail::semaphore_core core_;
};

}  // namespace ferrite::rt
