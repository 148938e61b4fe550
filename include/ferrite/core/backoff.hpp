// SPDX-License-Identifier: Apache-2.0
// backoff: exponential backoff for spin loops, in the shape of crossbeam's Backoff. `spin()`
// is for retrying a failed CAS (only spin hints); `snooze()` is for waiting on another
// thread (spin hints first, then yielding the time slice); `is_completed()` says it is time
// to block on something heavier (a futex, atomic::wait, a condition variable).
#pragma once

#include <cstdint>

#include "ferrite/core/atomic.hpp"

namespace ferrite {

/// Exponential backoff for one waiting episode; cheap to create, not shared between
/// threads. Step k spins 2^k hints (up to 2^spin_limit), then snooze() yields.
///
/// Example, waiting for a flag and falling back to blocking:
/// ```cpp
/// ferrite::backoff b;
/// while (!ready.load(std::memory_order_acquire)) {
///   if (b.is_completed()) { ready.wait(false, std::memory_order_acquire); break; }
///   b.snooze();
/// }
/// ```
class backoff {
 public:
  /// Steps during which spin()/snooze() only spin (2^6 = 64 hints at the last one).
  static constexpr std::uint32_t spin_limit = 6;
  /// Steps after which is_completed() is true (snooze() yields from spin_limit on).
  static constexpr std::uint32_t yield_limit = 10;

  constexpr backoff() noexcept = default;

  /// Back off in a lock-free retry loop (a CAS lost to another thread): spins 2^step
  /// hints, never yields. Use when the other thread is making progress.
  void spin() noexcept {
    const std::uint32_t s = step_ < spin_limit ? step_ : spin_limit;
    for (std::uint32_t i = 0; i < (std::uint32_t{1} << s); ++i) spin_hint();
    if (step_ <= spin_limit) ++step_;
  }

  /// Back off while waiting for another thread to do something: spins like spin() for the
  /// first steps, then yields the time slice each call.
  void snooze() noexcept {
    if (step_ <= spin_limit) {
      for (std::uint32_t i = 0; i < (std::uint32_t{1} << step_); ++i) spin_hint();
    } else {
      yield_now();
    }
    if (step_ <= yield_limit) ++step_;
  }

  /// True once backing off stopped paying: the caller should block instead of spinning.
  [[nodiscard]] constexpr bool is_completed() const noexcept { return step_ > yield_limit; }

  /// Starts a new waiting episode.
  constexpr void reset() noexcept { step_ = 0; }

  /// The current step (0 after construction or reset).
  [[nodiscard]] constexpr std::uint32_t step() const noexcept { return step_; }

 private:
  std::uint32_t step_ = 0;
};

}  // namespace ferrite
