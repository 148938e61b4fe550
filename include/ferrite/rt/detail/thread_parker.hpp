// SPDX-License-Identifier: Apache-2.0
// thread_parker: a one-shot waker for a plain thread, so code outside any task can wait on a
// runtime primitive (the channel's blocking_send / blocking_recv, oneshot's blocking_recv)
// and the model tests can drive a primitive's core with model threads. The thread queues a
// waiter whose waker is the parker's, then parks on an atomic until the wake. Not a public
// header.
//
// The parker lives on the parked thread's stack, so the waker must be done with it before
// park() returns: the wake stores `woken`, notifies, then stores `done`, and park() returns
// only once it reads `done` (spinning for the short moment between the two stores). Its
// wakers do not count references: each wait is woken at most once (wait_list.hpp's protocol)
// and its waker is never cloned (cloning asserts).
//
// ORDERING table:
//  (P1) release store of woken by the wake: everything the waking thread did before (the
//       grant it made under the primitive's lock) happens-before the parked thread's return
//       from park(), through the acquire (P4) or (P5) that reads it or the later store (P3).
//  (P2) notify_one after (P1): wakes a thread blocked in (P5).
//  (P3) release store of done, the wake's last access to the parker: park() returns only
//       after reading it (P4), so the parker may be destroyed after that.
//  (P4) acquire load in park(): pairs with (P1) and (P3).
//  (P5) acquire wait while the value is still `waiting`: pairs with (P1).
#pragma once

#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/waker.hpp"

namespace ferrite::rt::detail {

/// A one-shot parking spot for the calling thread. Non-copyable and non-movable: its wakers
/// point at it.
class thread_parker {
 public:
  thread_parker() noexcept = default;
  thread_parker(const thread_parker&) = delete;
  thread_parker& operator=(const thread_parker&) = delete;
  ~thread_parker() = default;

  /// The waker to store in a waiter; waking it unparks this parker. At most one per parker.
  [[nodiscard]] waker make_waker() noexcept { return waker(this, &vtable); }

  /// Blocks until the waker was woken (and is done with this parker). Blocking.
  void park() noexcept {
    for (;;) {
      // ORDERING: (P4) acquire; see the table.
      const std::uint32_t s = state_.load(std::memory_order_acquire);
      if (s == done) return;
      if (s == waiting) {
        // ORDERING: (P5) acquire; see the table.
        state_.wait(waiting, std::memory_order_acquire);
      } else {
        spin_hint();  // woken: only the notify call is left before `done`
      }
    }
  }

 private:
  static constexpr std::uint32_t waiting = 0;
  static constexpr std::uint32_t woken = 1;
  static constexpr std::uint32_t done = 2;

  static thread_parker* of(const void* data) noexcept {
    // SAFETY: the parker's wakers are made by make_waker() with `this` as their data.
    return static_cast<thread_parker*>(const_cast<void*>(data));
  }
  static void unpark(const void* data) noexcept {
    thread_parker* const p = of(data);
    // ORDERING: (P1) release; see the table.
    p->state_.store(woken, std::memory_order_release);
    // ORDERING: (P2) notify; see the table.
    p->state_.notify_one();
    // ORDERING: (P3) release; see the table.
    p->state_.store(done, std::memory_order_release);
  }
  static constexpr waker_vtable vtable{
      [](const void* data) noexcept -> const void* {
        FERRITE_ASSERT(false, "rt::thread_parker: its waker is one-shot and never cloned");
        return data;
      },
      &unpark,
      &unpark,
      [](const void* /*data*/) noexcept {},
  };

  atomic<std::uint32_t> state_{waiting};
};

}  // namespace ferrite::rt::detail
