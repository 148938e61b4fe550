// SPDX-License-Identifier: Apache-2.0
// rt::clock: steady_clock, or a paused time kept as nanoseconds since steady_clock's epoch.
//
// ORDERING table:
//  (C1) acquire load of paused_ (now): pairs with (C3), so a reader that sees the clock
//       paused reads a paused time at least the one pause() stored.
//  (C2) relaxed load of the paused time (now, and advance's CAS loop start): its value is
//       all there is; monotonic because every store is a max (C4).
//  (C3) release store of paused_ (pause, resume): publishes the time stored before it.
//  (C4) relaxed store (pause) and relaxed CAS (advance_to, keeping the maximum) of the
//       paused time: the time is a single value; ordering other data by it is the caller's.
#include "ferrite/rt/clock.hpp"

#include <chrono>
#include <cstdint>

#include "ferrite/core/atomic.hpp"

namespace ferrite::rt {
namespace {

constinit atomic<bool> paused_{false};
constinit atomic<std::int64_t> paused_at_{0};  // clock::duration ticks since the epoch

clock::time_point from_steady(std::chrono::steady_clock::time_point t) noexcept {
  return clock::time_point(t.time_since_epoch());
}

}  // namespace

clock::time_point clock::now() noexcept {
  // ORDERING: (C1) acquire: see the table.
  if (paused_.load(std::memory_order_acquire)) {
    // ORDERING: (C2) relaxed: see the table.
    return time_point(duration(paused_at_.load(std::memory_order_relaxed)));
  }
  return from_steady(std::chrono::steady_clock::now());
}

void clock::pause() noexcept {
  if (paused()) return;
  // ORDERING: (C4) relaxed: see the table.
  paused_at_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                   std::memory_order_relaxed);
  // ORDERING: (C3) release: see the table.
  paused_.store(true, std::memory_order_release);
}

void clock::resume() noexcept {
  // ORDERING: (C3) release: see the table.
  paused_.store(false, std::memory_order_release);
}

bool clock::paused() noexcept {
  // ORDERING: (C1) acquire: see the table.
  return paused_.load(std::memory_order_acquire);
}

void clock::advance(duration d) noexcept {
  if (d > duration::zero()) advance_to(now() + d);
}

void clock::advance_to(time_point t) noexcept {
  if (!paused()) return;
  const std::int64_t target = t.time_since_epoch().count();
  // ORDERING: (C2) relaxed: see the table.
  std::int64_t seen = paused_at_.load(std::memory_order_relaxed);
  // ORDERING: (C4) relaxed CAS: see the table.
  while (seen < target &&
         !paused_at_.compare_exchange_weak(seen, target, std::memory_order_relaxed)) {
  }
}

}  // namespace ferrite::rt
