// SPDX-License-Identifier: Apache-2.0
// rt::clock: the runtime's clock, std::chrono::steady_clock unless a test pauses it. Paused,
// now() stands still and moves only by advance() or, when an executor has nothing to run
// but a timer, by jumping to that timer's deadline (tokio's paused time): a test of timeouts
// and intervals runs instantly and exactly, with no sleep.
//
// ```cpp
// rt::clock::pause();
// rt::block_on([]() -> rt::task<> {
//   const auto t0 = rt::clock::now();
//   co_await rt::sleep_for(std::chrono::hours(1));     // returns at once, one hour later
//   assert(rt::clock::now() - t0 >= std::chrono::hours(1));
// }());
// rt::clock::resume();
// ```
//
// When not to use it: the paused state is process-wide; pause only in tests that own the
// process's runtime.
#pragma once

#include <chrono>

namespace ferrite::rt {

class clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<clock, duration>;
  static constexpr bool is_steady = true;

  /// The current time: steady_clock's, or the paused time. Any thread; wait-free.
  static time_point now() noexcept;

  /// Freezes now() where it is. Idempotent.
  static void pause() noexcept;
  /// Lets now() run with steady_clock again (from the real time, not from the paused one).
  static void resume() noexcept;
  [[nodiscard]] static bool paused() noexcept;
  /// Moves the paused time forward by `d` (no effect when not paused, or for d <= 0).
  static void advance(duration d) noexcept;
  /// Moves the paused time forward to `t` if it is later (the executors' jump to the next
  /// timer when they are idle).
  static void advance_to(time_point t) noexcept;
};

}  // namespace ferrite::rt
