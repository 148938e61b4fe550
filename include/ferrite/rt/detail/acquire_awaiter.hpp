// SPDX-License-Identifier: Apache-2.0
// The awaiter of async_semaphore::acquire and async_mutex::lock (with or without a
// std::stop_token): tries the lock-free fast path in await_ready, queues a waiter node that
// lives in the awaiter (so in the coroutine frame: waiting never allocates) in await_suspend,
// and turns the grant into the owner's RAII object (a permit, a guard) in await_resume. Not a
// public header.
#pragma once

#include <coroutine>
#include <cstddef>
#include <expected>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/semaphore_core.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/sync_error.hpp"

namespace ferrite::rt::detail {

/// Awaits `n` permits of `Owner`'s semaphore_core. `Owner` (async_semaphore, async_mutex)
/// has `core()`, `try_take(n)` (its lock-free fast path) and `grant(n)`, which wraps n
/// acquired permits in its RAII type. The result
/// is that type, or std::expected of it and rt::stopped when `Stoppable`.
/// Non-copyable and non-movable: its node may be linked.
template <bool Stoppable, class Owner>
class [[nodiscard]] acquire_awaiter {
  using grant_type = decltype(std::declval<Owner&>().grant(std::size_t{}));
  using stop_fn = stop_wait<semaphore_core, semaphore_core::node>;

 public:
  using result_type = std::conditional_t<Stoppable, std::expected<grant_type, stopped>, grant_type>;

  acquire_awaiter(Owner& owner, std::size_t n) noexcept
    requires(!Stoppable)
      : owner_(owner), n_(n) {}
  acquire_awaiter(Owner& owner, std::size_t n, std::stop_token stop) noexcept
    requires Stoppable
      : owner_(owner), n_(n), stop_(std::move(stop)) {}
  acquire_awaiter(const acquire_awaiter&) = delete;
  acquire_awaiter& operator=(const acquire_awaiter&) = delete;
  /// Destroyed while waiting (its task cancelled): leaves no waiter queued and gives back
  /// permits granted but not taken.
  ~acquire_awaiter() {
    if (suspended_) {
      stop_.disarm();
      owner_.core().abandon(node_);
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      node_.set_status(wait_status::stopped);
      return true;
    }
    if (owner_.try_take(n_)) {
      node_.set_status(wait_status::granted);
      return true;
    }
    return false;
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    semaphore_core& core = owner_.core();
    if (core.acquire_or_enqueue(node_, n_, suspending_waker(caller))) return false;
    suspended_ = true;
    resume_when_settled(node_);         // a stale wake of the task leaves it queued
    stop_.arm(stop_fn{&core, &node_});  // may fire at once: then the next poll sees stopped
    return true;
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    const wait_status outcome = node_.status();
    if constexpr (Stoppable) {
      if (outcome == wait_status::stopped) return std::unexpected(stopped{});
    }
    FERRITE_ASSERT(outcome == wait_status::granted,
                   "rt: a semaphore or mutex waiter resumed without a grant (a foreign wake?)");
    return owner_.grant(n_);
  }

 private:
  Owner& owner_;
  std::size_t n_;
  semaphore_core::node node_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;  // queued and not resumed: the destructor must abandon the node
};

}  // namespace ferrite::rt::detail
