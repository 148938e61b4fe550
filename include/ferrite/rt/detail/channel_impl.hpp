// SPDX-License-Identifier: Apache-2.0
// The awaiters of channel.hpp: send_awaiter holds the value being sent (a waiting send's
// node points at it, and a receiver moves it into the ring from there), recv_awaiter holds a
// value taken without waiting. Both try the channel in await_ready, queue in await_suspend
// and read their node's outcome in await_resume. Not a public header.
#pragma once

#include <coroutine>
#include <expected>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/channel.hpp"
#include "ferrite/rt/detail/channel_core.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/sync_error.hpp"

namespace ferrite::rt::detail {

/// `co_await tx.send(v)` and `co_await tx.send(v, stop)`: std::expected<void,
/// rt::send_error<T>> (the value comes back on closed or stopped). Non-copyable and
/// non-movable: a queued node points at it.
template <class T, bool Stoppable>
class [[nodiscard]] send_awaiter {
  struct stop_fn {
    channel_core<T>* core;
    typename channel_core<T>::send_node* node;
    void operator()() const noexcept { core->stop_send(*node); }
  };

 public:
  using result_type = std::expected<void, send_error<T>>;

  send_awaiter(channel_core<T>& core, T&& value) noexcept
    requires(!Stoppable)
      : core_(core), value_(std::move(value)) {}
  send_awaiter(channel_core<T>& core, T&& value, std::stop_token stop) noexcept
    requires Stoppable
      : core_(core), value_(std::move(value)), stop_(std::move(stop)) {}
  send_awaiter(const send_awaiter&) = delete;
  send_awaiter& operator=(const send_awaiter&) = delete;
  /// Destroyed while waiting: unlinks its node; the value, not sent, dies with it.
  ~send_awaiter() {
    if (suspended_) {
      stop_.disarm();
      core_.abandon_send(node_);
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      node_.set_status(wait_status::stopped);
      return true;
    }
    const std::expected<void, send_failure> r = core_.try_send(value_);
    if (r) {
      node_.set_status(wait_status::granted);
    } else if (r.error() == send_failure::closed) {
      node_.set_status(wait_status::closed);
    } else {
      return false;  // full: queue
    }
    return true;
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    if (core_.send_or_enqueue(node_, value_, suspending_waker(caller)) != channel_step::queued) {
      return false;
    }
    suspended_ = true;
    resume_when_settled(node_);  // a stale wake of the task leaves it queued
    stop_.arm(stop_fn{&core_, &node_});
    return true;
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    switch (node_.status()) {
      case wait_status::granted: return {};
      case wait_status::closed:
        return std::unexpected(send_error<T>{std::move(value_), send_failure::closed});
      case wait_status::stopped:
        return std::unexpected(send_error<T>{std::move(value_), send_failure::stopped});
      case wait_status::idle:
      case wait_status::queued: break;
    }
    FERRITE_UNREACHABLE("rt::channel: a send resumed while still queued (a foreign wake?)");
  }

 private:
  channel_core<T>& core_;
  T value_;
  typename channel_core<T>::send_node node_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;
};

/// `co_await rx.recv()`: std::expected<T, rt::closed>; `co_await rx.recv(stop)`:
/// std::expected<T, rt::recv_error>. Non-copyable and non-movable: a queued node is in it.
template <class T, bool Stoppable>
class [[nodiscard]] recv_awaiter {
  struct stop_fn {
    channel_core<T>* core;
    typename channel_core<T>::recv_node* node;
    void operator()() const noexcept { core->stop_recv(*node); }
  };
  using error_type = std::conditional_t<Stoppable, recv_error, closed>;

 public:
  using result_type = std::expected<T, error_type>;

  explicit recv_awaiter(channel_core<T>& core) noexcept
    requires(!Stoppable)
      : core_(core) {}
  recv_awaiter(channel_core<T>& core, std::stop_token stop) noexcept
    requires Stoppable
      : core_(core), stop_(std::move(stop)) {}
  recv_awaiter(const recv_awaiter&) = delete;
  recv_awaiter& operator=(const recv_awaiter&) = delete;
  /// Destroyed while waiting: unlinks its node, or passes a granted value's reservation on.
  ~recv_awaiter() {
    if (suspended_) {
      stop_.disarm();
      core_.abandon_recv(node_);
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      node_.set_status(wait_status::stopped);
      return true;
    }
    return settle(core_.try_recv());
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    if (settle(core_.recv_or_enqueue(node_, suspending_waker(caller)))) return false;
    suspended_ = true;
    resume_when_settled(node_);  // a stale wake of the task leaves it queued
    stop_.arm(stop_fn{&core_, &node_});
    return true;
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    if (value_) return std::move(*value_);
    switch (node_.status()) {
      case wait_status::granted: return core_.take_reserved();
      case wait_status::closed: return std::unexpected(closed_error());
      case wait_status::stopped:
        if constexpr (Stoppable) return std::unexpected(recv_error::stopped);
        break;
      case wait_status::idle:
      case wait_status::queued: break;
    }
    FERRITE_UNREACHABLE("rt::channel: a receive resumed without a value (a foreign wake?)");
  }

 private:
  static error_type closed_error() noexcept {
    if constexpr (Stoppable) {
      return recv_error::closed;
    } else {
      return closed{};
    }
  }

  /// Records an immediate outcome; false when nothing happened (empty: not queued by
  /// try_recv, queued by recv_or_enqueue).
  bool settle(std::expected<T, recv_error>&& r) noexcept {
    if (r) {
      value_.emplace(std::move(*r));
      return true;
    }
    if (r.error() == recv_error::closed) {
      node_.set_status(wait_status::closed);
      return true;
    }
    return false;
  }

  channel_core<T>& core_;
  typename channel_core<T>::recv_node node_;
  std::optional<T> value_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;
};

}  // namespace ferrite::rt::detail
