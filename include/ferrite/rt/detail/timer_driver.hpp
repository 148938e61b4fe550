// SPDX-License-Identifier: Apache-2.0
// An executor's timers: a timer_wheel of 1 ms ticks under a lock (a pool's tasks arm and
// disarm from any worker), the wakers of armed sleeps, and fire_due(), which the executor
// calls when it looks for work and before it parks. Not a public header.
//
// ORDERING table:
//  (D1) release store of timer_entry::fired (fire_due, under the lock, before the wake):
//       pairs with (D2), so a poll that sees the sleep fired resumes it.
//  (D2) acquire load of fired (the sleep's resume check, by the polling thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "ferrite/core/atomic.hpp"
#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/timer_wheel.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt::detail {

class timer_driver;

/// A sleep's timer: in the wheel while armed, with the waker to wake when it fires.
struct timer_entry : wheel_entry {
  waker wake_me;
  atomic<bool> fired{false};
  timer_driver* driver = nullptr;  ///< where it was armed (to disarm it there)

  [[nodiscard]] bool has_fired() const noexcept {
    // ORDERING: (D2) acquire: see the table.
    return fired.load(std::memory_order_acquire);
  }
};

class timer_driver {
 public:
  using tick_length = std::chrono::milliseconds;

  timer_driver() noexcept : start_(clock::now()) {}
  timer_driver(const timer_driver&) = delete;
  timer_driver& operator=(const timer_driver&) = delete;
  ~timer_driver() = default;

  /// Arms `e` to wake `w` at `deadline` (rounded up to the next tick: never early). False when
  /// the deadline has passed already: `e` is not armed and the caller does not wait.
  bool arm(timer_entry& e, clock::time_point deadline, waker w) noexcept;
  /// Disarms `e` if it is still armed (a sleep destroyed before it fired). Any thread.
  void disarm(timer_entry& e) noexcept;
  /// Fires every timer due by clock::now(), waking their tasks outside the lock. Returns how
  /// many it fired.
  std::size_t fire_due() noexcept;
  /// When the earliest armed timer is due, if any.
  [[nodiscard]] std::optional<clock::time_point> next_deadline() noexcept;
  [[nodiscard]] bool empty() noexcept;

 private:
  [[nodiscard]] std::uint64_t tick_at_or_after(clock::time_point t) const noexcept;
  [[nodiscard]] std::uint64_t tick_before(clock::time_point t) const noexcept;

  sync::spin_mutex lock_;
  timer_wheel wheel_;
  const clock::time_point start_;
};

}  // namespace ferrite::rt::detail
