// SPDX-License-Identifier: Apache-2.0
// rt::channel<T>(capacity): a bounded multi-producer multi-consumer channel for tasks.
// `co_await tx.send(v)` waits while the buffer is full, `co_await rx.recv()` while it is
// empty; both hand off directly to a waiting peer (a receive moves a waiting sender's value
// into the freed slot, so the sender's co_await completes without another round trip).
// Senders and receivers are copyable handles (copying clones: MPMC). Closing (tx.close(), or
// dropping every sender, or every receiver) refuses new sends and gives waiting senders
// their values back; receivers drain what is buffered, then get rt::closed. Waiting
// allocates nothing (the waiter lives in the awaiter, with the value being sent); the state
// is one allocation at creation (detail/channel_core.hpp).
//
// ```cpp
// auto [tx, rx] = rt::channel<request>(64);
// rt::task<> producer(rt::sender<request> tx) {
//   for (request& r : batch()) {
//     if (auto sent = co_await tx.send(std::move(r)); !sent) break;   // closed: r came back
//   }
// }
// rt::task<> worker(rt::receiver<request> rx) {
//   while (std::expected<request, rt::closed> r = co_await rx.recv()) handle(std::move(*r));
// }
// ```
//
// Closing by dropping: a sender passed by value to a spawned task lives in that task's frame,
// which stays until the task's join_handle is dropped (not merely awaited); reset() the
// sender when the task is done with it, or drop the handle, for the channel to close.
//
// recv() gives `std::expected<T, rt::closed>` rather than std::optional<T>: it says why it
// is empty, reads the same as the stoppable and try_ forms (whose errors are rt::recv_error),
// and stays unambiguous for T = std::optional<U>.
//
// When not to use it: one value, once: rt::oneshot; the latest value for many readers:
// rt::watch; between plain threads only, a sync:: queue without a runtime.
#pragma once

#include <coroutine>
#include <cstddef>
#include <expected>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/channel_core.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/sync_error.hpp"

namespace ferrite::rt {

template <class T>
class sender;
template <class T>
class receiver;

namespace detail {
template <class T, bool Stoppable>
class send_awaiter;
template <class T, bool Stoppable>
class recv_awaiter;
}  // namespace detail

/// A sending handle of a channel<T>. Copying clones it (one more sender); the channel
/// closes when the last sender is dropped. Any thread; send() is awaited in a task, and its
/// awaitable refers to the channel through this handle's reference: keep the handle alive
/// until the co_await ends (always so in `co_await tx.send(v)`).
template <class T>
class sender {
 public:
  sender() noexcept = default;
  sender(const sender& other) noexcept : c_(other.c_) {
    if (c_ != nullptr) c_->clone_sender();
  }
  sender(sender&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  sender& operator=(sender other) noexcept {
    std::swap(c_, other.c_);
    return *this;
  }
  ~sender() { reset(); }

  /// Awaitable: `co_await tx.send(v)` gives std::expected<void, rt::send_error<T>>: done
  /// once `v` is buffered (or handed to a receiver); the value back with reason closed if
  /// the channel is or becomes closed first. Waits only while the buffer is full.
  /// Cancellation: aborting the task while it waits destroys `v` (it was not sent); use the
  /// stop_token form to get it back. Preconditions: valid(); awaited in a task.
  [[nodiscard]] detail::send_awaiter<T, false> send(T value) {
    FERRITE_ASSERT(c_ != nullptr, "rt::sender: send on an empty sender");
    return detail::send_awaiter<T, false>(*c_, std::move(value));
  }
  /// As send(v), and if `stop` fires before the value is taken, gives it back with reason
  /// stopped (no waiter left queued, nothing sent).
  [[nodiscard]] detail::send_awaiter<T, true> send(T value, std::stop_token stop) {
    FERRITE_ASSERT(c_ != nullptr, "rt::sender: send on an empty sender");
    return detail::send_awaiter<T, true>(*c_, std::move(value), std::move(stop));
  }

  /// Sends `value` if there is room now; else gives it back (full or closed). Never waits.
  std::expected<void, send_error<T>> try_send(T value) {
    FERRITE_ASSERT(c_ != nullptr, "rt::sender: try_send on an empty sender");
    std::expected<void, send_failure> r = c_->try_send(value);
    if (r) return {};
    return std::unexpected(send_error<T>{std::move(value), r.error()});
  }

  /// For plain threads (not tasks): sends, blocking the thread while the buffer is full.
  std::expected<void, send_error<T>> blocking_send(T value) {
    FERRITE_ASSERT(c_ != nullptr, "rt::sender: send on an empty sender");
    return detail::blocking_send(*c_, std::move(value));
  }

  /// Closes the channel for every handle: no more sends; waiting senders get their values
  /// back; receivers drain the buffer, then get rt::closed.
  void close() noexcept { c_->close(); }
  [[nodiscard]] bool is_closed() const noexcept { return c_->is_closed(); }
  [[nodiscard]] bool valid() const noexcept { return c_ != nullptr; }
  /// Drops this handle now (closing the channel if it was the last sender).
  void reset() noexcept {
    if (c_ == nullptr) return;
    detail::channel_core<T>* const c = std::exchange(c_, nullptr);
    if (c->drop_sender()) delete c;  // the last handle of either side
  }

  /// The channel's state, for tests and metrics (hints).
  [[nodiscard]] const detail::channel_core<T>& core() const noexcept { return *c_; }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);
  explicit sender(detail::channel_core<T>* c) noexcept : c_(c) {}
  detail::channel_core<T>* c_ = nullptr;
};

/// A receiving handle of a channel<T>. Copying clones it (one more receiver, sharing the
/// same values: each value goes to one receiver); the channel closes when the last receiver
/// is dropped. Any thread; recv() is awaited in a task (keep the handle alive until the
/// co_await ends, as for sender::send).
template <class T>
class receiver {
 public:
  receiver() noexcept = default;
  receiver(const receiver& other) noexcept : c_(other.c_) {
    if (c_ != nullptr) c_->clone_receiver();
  }
  receiver(receiver&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  receiver& operator=(receiver other) noexcept {
    std::swap(c_, other.c_);
    return *this;
  }
  ~receiver() { reset(); }

  /// Awaitable: `co_await rx.recv()` gives std::expected<T, rt::closed>: the front value,
  /// waiting while nothing is buffered; rt::closed once the channel is closed and drained.
  /// Cancellation-safe: a task aborted while it waits loses no value (one granted to it is
  /// passed to the next receiver or stays buffered). Preconditions: valid(); in a task.
  [[nodiscard]] detail::recv_awaiter<T, false> recv() noexcept {
    FERRITE_ASSERT(c_ != nullptr, "rt::receiver: recv on an empty receiver");
    return detail::recv_awaiter<T, false>(*c_);
  }
  /// As recv(), giving std::expected<T, rt::recv_error>: recv_error::stopped, with nothing
  /// taken and no waiter left, when `stop` fires first; recv_error::closed when closed.
  [[nodiscard]] detail::recv_awaiter<T, true> recv(std::stop_token stop) noexcept {
    FERRITE_ASSERT(c_ != nullptr, "rt::receiver: recv on an empty receiver");
    return detail::recv_awaiter<T, true>(*c_, std::move(stop));
  }

  /// The front value if one is buffered (and not promised to a waiting receiver), else
  /// recv_error::empty, or recv_error::closed once closed and drained. Never waits.
  [[nodiscard]] std::expected<T, recv_error> try_recv() noexcept {
    FERRITE_ASSERT(c_ != nullptr, "rt::receiver: try_recv on an empty receiver");
    return c_->try_recv();
  }

  /// For plain threads (not tasks): receives, blocking the thread while nothing is buffered.
  std::expected<T, closed> blocking_recv() {
    FERRITE_ASSERT(c_ != nullptr, "rt::receiver: recv on an empty receiver");
    return detail::blocking_recv(*c_);
  }

  /// Closes the channel (as sender::close): the buffer can still be drained.
  void close() noexcept { c_->close(); }
  [[nodiscard]] bool is_closed() const noexcept { return c_->is_closed(); }
  [[nodiscard]] bool valid() const noexcept { return c_ != nullptr; }
  /// Drops this handle now (closing the channel if it was the last receiver).
  void reset() noexcept {
    if (c_ == nullptr) return;
    detail::channel_core<T>* const c = std::exchange(c_, nullptr);
    if (c->drop_receiver()) delete c;  // the last handle of either side
  }

  /// The channel's state, for tests and metrics (hints).
  [[nodiscard]] const detail::channel_core<T>& core() const noexcept { return *c_; }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);
  explicit receiver(detail::channel_core<T>* c) noexcept : c_(c) {}
  detail::channel_core<T>* c_ = nullptr;
};

/// A channel buffering up to `capacity` values: one sender and one receiver (copy them for
/// more). One allocation for the state and one for the ring.
/// Preconditions: capacity >= 1; T is nothrow move constructible.
template <class T>
[[nodiscard]] std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
  auto* const c = new detail::channel_core<T>(capacity);
  return {sender<T>(c), receiver<T>(c)};
}

}  // namespace ferrite::rt

#include "ferrite/rt/detail/channel_impl.hpp"
