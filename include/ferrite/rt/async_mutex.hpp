// SPDX-License-Identifier: Apache-2.0
// rt::async_mutex: a mutex for tasks. `auto guard = co_await m.lock()` suspends the task
// (not its thread) until the mutex is free, and the guard unlocks it when destroyed, so it
// may be held across co_await. Waiters are served in FIFO order and the lock is handed
// straight to the first of them (an unlock never makes a contended mutex free, so nobody
// overtakes a waiter). An uncontended lock is one CAS, an unlock one fetch_add; waiting allocates
// nothing. It is a semaphore of one permit (detail/semaphore_core.hpp). Asio has none
// (Asio #935); tokio::sync::Mutex is the model, without the data inside.
//
// ```cpp
// rt::async_mutex m;
// std::vector<std::string> log;             // guarded by m
// rt::task<> append(std::string line) {
//   rt::async_mutex::guard g = co_await m.lock();
//   co_await flush_if_full(log);            // still held while suspended
//   log.push_back(std::move(line));
// }
// ```
//
// When not to use it: for a few instructions of shared state between threads, a
// sync::spin_mutex (or std::mutex) costs less and is never held across a suspension; code
// that holds a lock across co_await waits for I/O with the lock held, which is often the
// thing to redesign.
#pragma once

#include <cstddef>
#include <optional>
#include <stop_token>
#include <utility>

#include "ferrite/rt/detail/acquire_awaiter.hpp"
#include "ferrite/rt/detail/semaphore_core.hpp"

namespace ferrite::rt {

/// A FIFO mutex for tasks. Non-copyable and non-movable: waiters and guards point at it.
/// Not recursive: a task that locks it twice waits for itself forever. The awaitable of lock()
/// refers to the mutex, which must outlive it (always so in `co_await m.lock()`).
///
/// Cancellation: lock() is cancellation-safe. A task aborted while it waits leaves no waiter
/// queued; if the lock had just been handed to it, it goes to the next waiter (or becomes
/// free). lock(stop_token) gives rt::stopped, with no waiter queued and no lock held, when
/// the token fires before the lock is granted.
class async_mutex {
 public:
  /// Holds the mutex; unlocks it when destroyed (or at unlock()). Move-only. May be
  /// destroyed on another thread than the one that locked (tasks move between workers).
  class [[nodiscard]] guard {
   public:
    guard() noexcept = default;
    guard(guard&& other) noexcept : m_(std::exchange(other.m_, nullptr)) {}
    guard& operator=(guard&& other) noexcept {
      if (this != &other) {
        unlock();
        m_ = std::exchange(other.m_, nullptr);
      }
      return *this;
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { unlock(); }

    /// Whether this guard holds a mutex.
    [[nodiscard]] bool owns_lock() const noexcept { return m_ != nullptr; }
    explicit operator bool() const noexcept { return m_ != nullptr; }
    /// The mutex held, or null.
    [[nodiscard]] async_mutex* mutex() const noexcept { return m_; }
    /// Unlocks now (handing the mutex to the first waiter, if any); the guard is empty after.
    void unlock() noexcept {
      if (m_ != nullptr) std::exchange(m_, nullptr)->core_.release(1);
    }

   private:
    friend class async_mutex;
    explicit guard(async_mutex* m) noexcept : m_(m) {}
    async_mutex* m_ = nullptr;
  };

  async_mutex() noexcept = default;
  async_mutex(const async_mutex&) = delete;
  async_mutex& operator=(const async_mutex&) = delete;
  /// Preconditions: unlocked, and no task waits (debug-checked).
  ~async_mutex() = default;

  /// Awaitable: `co_await m.lock()` gives a guard once the mutex is this task's. Completes
  /// without suspending when the mutex is free and nobody waits (one CAS).
  /// Preconditions: awaited in a task. Complexity: O(1) to wait and to be handed the lock.
  [[nodiscard]] detail::acquire_awaiter<false, async_mutex> lock() { return {*this, 1}; }
  /// As lock(), but gives `std::expected<guard, rt::stopped>`: rt::stopped, with no waiter
  /// queued and no lock held, when `stop` fires before the lock is handed over (also when it
  /// fired before the call).
  [[nodiscard]] detail::acquire_awaiter<true, async_mutex> lock(std::stop_token stop) {
    return {*this, 1, std::move(stop)};
  }

  /// A guard if the mutex is free and nobody waits, else empty. One CAS, no lock.
  /// Progress: lock-free.
  [[nodiscard]] std::optional<guard> try_lock() noexcept {
    if (!core_.try_acquire_all(1)) return std::nullopt;
    return guard(this);
  }

  /// Whether the mutex is held right now (a hint, stale at once; for assertions and tests).
  [[nodiscard]] bool is_locked() const noexcept { return core_.available_approx() == 0; }
  /// Tasks queued right now (a hint, for tests and metrics).
  [[nodiscard]] std::size_t waiters_approx() const noexcept { return core_.waiters_approx(); }

 private:
  template <bool, class>
  friend class detail::acquire_awaiter;
  detail::semaphore_core& core() noexcept { return core_; }
  [[nodiscard]] bool try_take(std::size_t /*n*/) noexcept { return core_.try_acquire_all(1); }
  guard grant(std::size_t /*n*/) noexcept { return guard(this); }

  detail::semaphore_core core_{1};
};

}  // namespace ferrite::rt
