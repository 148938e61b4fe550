// SPDX-License-Identifier: Apache-2.0
// A thread parker (the futex one of Rust's std::thread::park): an executor's thread sleeps
// in park() until another thread calls unpark(); an unpark that comes first is kept, so the
// next park returns at once (no lost wake-up), and several unparks before a park count as
// one. park_for() also returns when the timeout passes. Not a public header.
#pragma once

#include <chrono>
#include <cstdint>

#include "ferrite/core/atomic.hpp"

namespace ferrite::rt::detail {

class parker {
 public:
  /// Returns once an unpark() arrived since the last return (consuming it). Owner thread.
  void park() noexcept;
  /// As park(), but also returns after `timeout`; true when it consumed an unpark.
  bool park_for(std::chrono::nanoseconds timeout) noexcept;
  /// Makes the owner's current or next park return. Any thread; one RMW, and a futex wake
  /// only when the owner sleeps.
  void unpark() noexcept;

 private:
  static constexpr std::int32_t empty = 0;
  static constexpr std::int32_t notified = 1;
  static constexpr std::int32_t parked = -1;
  /// Invariant: parked only while the owner is inside park/park_for; notified only between
  /// an unpark and the park that consumes it.
  atomic<std::int32_t> state_{empty};
};

}  // namespace ferrite::rt::detail
