// SPDX-License-Identifier: Apache-2.0
// Time in tasks: sleep_for / sleep_until, interval, and timeout(d, task). Each executor keeps
// a hierarchical timer wheel of 1 ms ticks (O(1) arm and cancel); a sleep is armed when it
// suspends and disarmed when it is destroyed (a cancelled task leaves no timer behind). Timers
// fire in deadline order and never early (a deadline is rounded up to the next tick); they
// may fire late by up to a tick plus the time the executor takes to come round. The clock is
// rt::clock, which tests can pause (clock.hpp).
//
// ```cpp
// co_await rt::sleep_for(50ms);
// rt::interval every(1s);
// for (;;) { co_await every.tick(); heartbeat(); }
// std::expected<int, rt::timed_out> r = co_await rt::timeout(200ms, fetch());
// ```
//
// When not to use it: a deadline for a blocking call belongs to that call (poll's timeout,
// SO_RCVTIMEO); a timer here wakes a task, not a thread.
#pragma once

#include <chrono>
#include <coroutine>
#include <expected>

#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/timer_driver.hpp"

namespace ferrite::rt {

/// What timeout() gives when the deadline came first.
struct timed_out {
  friend bool operator==(timed_out, timed_out) noexcept = default;
};

/// Awaitable: completes at (or after) its deadline. Non-movable once made (the wheel links
/// it); made by sleep_until / sleep_for and awaited at once. Cancellation-safe: destroying it
/// (its task cancelled) disarms the timer.
class [[nodiscard]] sleep {
 public:
  explicit sleep(clock::time_point deadline) noexcept : deadline_(deadline) {}
  sleep(const sleep&) = delete;
  sleep& operator=(const sleep&) = delete;
  ~sleep();

  [[nodiscard]] bool await_ready() const noexcept { return clock::now() >= deadline_; }
  bool await_suspend(std::coroutine_handle<> self) noexcept;
  void await_resume() const noexcept {}

  [[nodiscard]] clock::time_point deadline() const noexcept { return deadline_; }

 private:
  static bool fired(const void* self) noexcept;
  clock::time_point deadline_;
  detail::timer_entry entry_;
};

/// Completes at `t` (at once if it passed). Preconditions: awaited inside a task.
inline sleep sleep_until(clock::time_point t) noexcept { return sleep(t); }
/// Completes `d` from now.
inline sleep sleep_for(clock::duration d) noexcept { return sleep(clock::now() + d); }

/// Ticks every `period`, the first tick at once; a late tick is not skipped but followed by
/// the ticks it missed, back to back (tokio's MissedTickBehavior::Burst).
class interval {
 public:
  explicit interval(clock::duration period) noexcept : period_(period), next_(clock::now()) {}
  /// Awaitable: completes at the next tick.
  sleep tick() noexcept {
    const clock::time_point at = next_;
    next_ += period_;
    return sleep(at);
  }
  [[nodiscard]] clock::duration period() const noexcept { return period_; }

 private:
  clock::duration period_;
  clock::time_point next_;
};

}  // namespace ferrite::rt
