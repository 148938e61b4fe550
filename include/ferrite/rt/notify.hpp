// SPDX-License-Identifier: Apache-2.0
// rt::notify: wakes tasks waiting for an event, with tokio::sync::Notify's semantics.
// notify_one() wakes the task that has waited longest, or, when nobody waits, stores one
// permit that the next `co_await n.notified()` consumes at once (so a notification sent just
// before the wait is not lost; several are coalesced into one). notify_waiters() wakes every
// task waiting now and stores nothing. A wait counts from its notified() call, not from the
// co_await: create the awaitable, check your condition, then await it, and a notify_waiters
// in between is not missed. notify_one and a wait that finds the permit are one CAS each.
//
// ```cpp
// rt::notify changed;
// rt::task<> consumer(state& s) {
//   for (;;) {
//     auto wait = changed.notified();     // counts from here
//     if (auto job = s.take()) { co_await run(*job); continue; }
//     co_await wait;
//   }
// }
// void producer(state& s, job j) { s.put(std::move(j)); changed.notify_one(); }
// ```
//
// When not to use it: to pass values, a channel (or oneshot) carries the value and the
// wake-up together; notify carries no data and no count beyond one permit.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/notify_core.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/sync_error.hpp"

namespace ferrite::rt {

class notify;

namespace detail {

/// The awaitable of notify::notified(): void, or std::expected<void, rt::stopped> when
/// `Stoppable`. Non-copyable and non-movable: its node may be linked.
template <bool Stoppable>
class [[nodiscard]] notified_awaiter {
  using stop_fn = stop_wait<notify_core, notify_core::node>;

 public:
  using result_type = std::conditional_t<Stoppable, std::expected<void, stopped>, void>;

  explicit notified_awaiter(notify_core& core) noexcept
    requires(!Stoppable)
      : core_(core), generation_(core.generation()) {}
  notified_awaiter(notify_core& core, std::stop_token stop) noexcept
    requires Stoppable
      : core_(core), generation_(core.generation()), stop_(std::move(stop)) {}
  notified_awaiter(const notified_awaiter&) = delete;
  notified_awaiter& operator=(const notified_awaiter&) = delete;
  /// Destroyed while waiting: unlinks its node; a notify_one that had already reached it is
  /// passed to the next waiter (or stored as the permit).
  ~notified_awaiter() {
    if (suspended_) {
      stop_.disarm();
      core_.abandon(node_);
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      node_.set_status(wait_status::stopped);
      return true;
    }
    if (core_.try_complete(generation_)) {
      node_.set_status(wait_status::granted);
      return true;
    }
    return false;
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    if (core_.complete_or_enqueue(node_, generation_, suspending_waker(caller))) return false;
    suspended_ = true;
    resume_when_settled(node_);  // a stale wake of the task leaves it queued
    stop_.arm(stop_fn{&core_, &node_});
    return true;
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    const wait_status outcome = node_.status();
    node_.set_status(wait_status::idle);
    if constexpr (Stoppable) {
      if (outcome == wait_status::stopped) return std::unexpected(stopped{});
      FERRITE_ASSERT(outcome == wait_status::granted, "rt::notify: resumed without a notification");
      return {};
    } else {
      FERRITE_ASSERT(outcome == wait_status::granted, "rt::notify: resumed without a notification");
    }
  }

 private:
  notify_core& core_;
  std::uint64_t generation_;
  notify_core::node node_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;
};

}  // namespace detail

/// An event without data that tasks wait for. Non-copyable and non-movable: waiters point at
/// it. Every member may be called from any thread; notified() is awaited in a task, and its
/// awaitable refers to the notify, which must outlive it.
///
/// Cancellation: notified() is cancellation-safe. A task aborted while it waits leaves no
/// waiter queued, and a notify_one that had already chosen it goes to the next waiter (or
/// becomes the stored permit), so no notification is lost. notified(stop_token) gives
/// rt::stopped when the token fires first, consuming nothing.
class notify {
 public:
  notify() noexcept = default;
  notify(const notify&) = delete;
  notify& operator=(const notify&) = delete;
  /// Preconditions: no task waits (debug-checked).
  ~notify() = default;

  /// Wakes the longest-waiting task; when none waits, stores the permit (at most one: more
  /// calls before a wait are coalesced). Everything done before it happens-before the
  /// woken wait completes. Complexity: one CAS when nobody waits, else O(1) under the lock.
  void notify_one() noexcept { core_.notify_one(); }

  /// Wakes every task waiting now, and every wait whose notified() call came before this
  /// call; stores no permit. Complexity: O(waiters), woken in batches outside the lock.
  void notify_waiters() noexcept { core_.notify_waiters(); }

  /// Awaitable: `co_await n.notified()` completes on the stored permit (consuming it), on a
  /// notify_one that picks this wait, or on a notify_waiters made after this call.
  /// Preconditions: awaited in a task.
  [[nodiscard]] detail::notified_awaiter<false> notified() noexcept {
    return detail::notified_awaiter<false>(core_);
  }
  /// As notified(), giving std::expected<void, rt::stopped>: rt::stopped, consuming nothing,
  /// when `stop` fires first (also when it fired before the call).
  [[nodiscard]] detail::notified_awaiter<true> notified(std::stop_token stop) noexcept {
    return detail::notified_awaiter<true>(core_, std::move(stop));
  }

  /// Tasks waiting right now (a hint, for tests and metrics).
  [[nodiscard]] std::size_t waiters_approx() const noexcept { return core_.waiters_approx(); }
  /// Whether a permit is stored right now (a hint, for tests).
  [[nodiscard]] bool has_permit_approx() const noexcept { return core_.permit_approx(); }

 private:
  detail::notify_core core_;
};

}  // namespace ferrite::rt
