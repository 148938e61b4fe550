// SPDX-License-Identifier: Apache-2.0
// rt::oneshot<T>(): a channel for exactly one value, from one sender to one receiver, for
// handing a result to the task that waits for it. `tx.send(v)` never waits (from a task or
// any thread); `co_await std::move(rx)` gives `std::expected<T, rt::closed>`: the value, or
// rt::closed when the sender was dropped without sending. Lock-free: one allocation (from
// the frame allocator) per pair, one CAS to send, one load to receive a value that is there
// (detail/oneshot_core.hpp).
//
// ```cpp
// auto [tx, rx] = rt::oneshot<int>();
// std::thread([tx = std::move(tx)]() mutable { tx.send(compute()); }).detach();
// std::expected<int, rt::closed> v = co_await std::move(rx);
// ```
//
// When not to use it: for a stream of values, rt::channel; to wait for a spawned task's
// result, await its join_handle, which needs no extra allocation.
#pragma once

#include <coroutine>
#include <expected>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/oneshot_core.hpp"
#include "ferrite/rt/detail/thread_parker.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/frame_allocator.hpp"
#include "ferrite/rt/sync_error.hpp"

namespace ferrite::rt {

template <class T>
class oneshot_sender;
template <class T>
class oneshot_receiver;

namespace detail {

/// One oneshot's allocation: the core, from the frame allocator (short-lived and
/// frame-sized, the allocator's case).
template <class T>
struct oneshot_shared final : oneshot_core<T>, recycled_frame {};

/// Destroys the shared state if `last`.
template <class T>
void release_oneshot(oneshot_shared<T>* s, bool last) noexcept {
  if (last) delete s;
}

template <class T, bool Stoppable>
class oneshot_awaiter;

}  // namespace detail

/// The sending half of a oneshot. Move-only; dropping it without sending closes the oneshot
/// (the receiver gets rt::closed). Any thread.
template <class T>
class oneshot_sender {
 public:
  oneshot_sender() noexcept = default;
  oneshot_sender(oneshot_sender&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  oneshot_sender& operator=(oneshot_sender&& other) noexcept {
    if (this != &other) {
      reset();
      s_ = std::exchange(other.s_, nullptr);
    }
    return *this;
  }
  oneshot_sender(const oneshot_sender&) = delete;
  oneshot_sender& operator=(const oneshot_sender&) = delete;
  ~oneshot_sender() { reset(); }

  /// Sends `value` and wakes the receiver if it waits; the sender is empty afterwards.
  /// Fails, giving the value back (reason closed), if the receiver is gone.
  /// Preconditions: valid(). Progress: lock-free, never waits.
  std::expected<void, send_error<T>> send(T value) {
    FERRITE_ASSERT(s_ != nullptr, "rt::oneshot_sender: send on an empty sender");
    const typename detail::oneshot_core<T>::send_outcome r = s_->send(std::move(value));
    detail::oneshot_shared<T>* const s = std::exchange(s_, nullptr);
    if (r.sent) {
      detail::release_oneshot(s, r.last);
      return {};
    }
    send_error<T> back{s->take_back(), send_failure::closed};
    detail::release_oneshot(s, s->release_sender());
    return std::unexpected(std::move(back));
  }

  /// Whether the receiver is gone (a send would fail). Preconditions: valid().
  [[nodiscard]] bool is_closed() const noexcept { return s_->receiver_gone(); }
  /// Whether this handle can still send.
  [[nodiscard]] bool valid() const noexcept { return s_ != nullptr; }

 private:
  template <class U>
  friend std::pair<oneshot_sender<U>, oneshot_receiver<U>> oneshot();
  explicit oneshot_sender(detail::oneshot_shared<T>* s) noexcept : s_(s) {}
  void reset() noexcept {
    if (s_ != nullptr) {
      detail::oneshot_shared<T>* const s = std::exchange(s_, nullptr);
      detail::release_oneshot(s, s->drop_sender());
    }
  }
  detail::oneshot_shared<T>* s_ = nullptr;
};

/// The receiving half of a oneshot. Move-only; dropping it makes a later send fail (the
/// sender gets its value back), or destroys a value sent and never received.
template <class T>
class oneshot_receiver {
 public:
  oneshot_receiver() noexcept = default;
  oneshot_receiver(oneshot_receiver&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  oneshot_receiver& operator=(oneshot_receiver&& other) noexcept {
    if (this != &other) {
      reset();
      s_ = std::exchange(other.s_, nullptr);
    }
    return *this;
  }
  oneshot_receiver(const oneshot_receiver&) = delete;
  oneshot_receiver& operator=(const oneshot_receiver&) = delete;
  ~oneshot_receiver() { reset(); }

  /// `co_await std::move(rx)`: waits for the value; gives it, or rt::closed if the sender
  /// was dropped without sending. Consumes the receiver (it is empty after the co_await).
  /// Cancellation: aborting the awaiting task drops the receiver (a later send fails and
  /// gets its value back; a value already sent is destroyed with the state).
  /// Preconditions: valid(); awaited in a task.
  [[nodiscard]] detail::oneshot_awaiter<T, false> operator co_await() && noexcept {
    FERRITE_ASSERT(s_ != nullptr, "rt::oneshot_receiver: co_await on an empty receiver");
    return detail::oneshot_awaiter<T, false>(std::move(*this));
  }

  /// As `co_await std::move(rx)` but cancellable and not consuming until it succeeds: gives
  /// std::expected<T, rt::recv_error> with recv_error::stopped when `stop` fires first,
  /// leaving the receiver as it was (a value sent meanwhile is kept for the next receive).
  /// The receiver is empty after a receive that got the value.
  [[nodiscard]] detail::oneshot_awaiter<T, true> recv(std::stop_token stop) noexcept {
    FERRITE_ASSERT(s_ != nullptr, "rt::oneshot_receiver: recv on an empty receiver");
    return detail::oneshot_awaiter<T, true>(*this, std::move(stop));
  }

  /// The value if it was sent (the receiver is empty afterwards), recv_error::closed if the
  /// sender was dropped without sending, recv_error::empty otherwise. Never waits; one load.
  [[nodiscard]] std::expected<T, recv_error> try_recv() {
    FERRITE_ASSERT(s_ != nullptr, "rt::oneshot_receiver: try_recv on an empty receiver");
    switch (s_->poll()) {
      case detail::oneshot_poll::value: return take();
      case detail::oneshot_poll::closed: return std::unexpected(recv_error::closed);
      case detail::oneshot_poll::pending: break;
    }
    return std::unexpected(recv_error::empty);
  }

  /// For plain threads (not tasks): blocks the thread until the value comes or the sender
  /// is dropped. Consumes the receiver on success.
  std::expected<T, closed> blocking_recv() {
    FERRITE_ASSERT(s_ != nullptr, "rt::oneshot_receiver: recv on an empty receiver");
    detail::oneshot_poll p = s_->poll();
    if (p == detail::oneshot_poll::pending) {
      detail::thread_parker parker;
      p = s_->register_waker(parker.make_waker());
      if (p == detail::oneshot_poll::pending) {
        parker.park();
        p = s_->poll();
      }
    }
    if (p == detail::oneshot_poll::value) return take();
    return std::unexpected(closed{});
  }

  [[nodiscard]] bool valid() const noexcept { return s_ != nullptr; }

 private:
  template <class U>
  friend std::pair<oneshot_sender<U>, oneshot_receiver<U>> oneshot();
  template <class, bool>
  friend class detail::oneshot_awaiter;
  explicit oneshot_receiver(detail::oneshot_shared<T>* s) noexcept : s_(s) {}
  [[nodiscard]] detail::oneshot_core<T>& core() const noexcept { return *s_; }
  T take() {
    T v = s_->take_value();
    reset();
    return v;
  }
  void reset() noexcept {
    if (s_ != nullptr) {
      detail::oneshot_shared<T>* const s = std::exchange(s_, nullptr);
      detail::release_oneshot(s, s->drop_receiver());
    }
  }
  detail::oneshot_shared<T>* s_ = nullptr;
};

/// A connected sender and receiver. One allocation (frame allocator).
template <class T>
[[nodiscard]] std::pair<oneshot_sender<T>, oneshot_receiver<T>> oneshot() {
  auto* const s = new detail::oneshot_shared<T>();
  return {oneshot_sender<T>(s), oneshot_receiver<T>(s)};
}

namespace detail {

/// The awaiter of a oneshot receive: owns the receiver for `co_await std::move(rx)`
/// (result std::expected<T, closed>), borrows it for rx.recv(stop) (result
/// std::expected<T, recv_error>). Non-copyable and non-movable: its waker is registered.
template <class T, bool Stoppable>
class [[nodiscard]] oneshot_awaiter {
  struct stop_fn {
    oneshot_core<T>* core;
    void operator()() const noexcept { core->unregister().wake(); }
  };
  using receiver_ref = std::conditional_t<Stoppable, oneshot_receiver<T>&, oneshot_receiver<T>>;

 public:
  using result_type = std::expected<T, std::conditional_t<Stoppable, recv_error, closed>>;

  explicit oneshot_awaiter(oneshot_receiver<T>&& rx) noexcept
    requires(!Stoppable)
      : rx_(std::move(rx)) {}
  oneshot_awaiter(oneshot_receiver<T>& rx, std::stop_token stop) noexcept
    requires Stoppable
      : rx_(rx), stop_(std::move(stop)) {}
  oneshot_awaiter(const oneshot_awaiter&) = delete;
  oneshot_awaiter& operator=(const oneshot_awaiter&) = delete;
  /// Destroyed while waiting: takes its waker back (the sender may still wake the task,
  /// which is harmless); an owned receiver is then dropped.
  ~oneshot_awaiter() {
    if (suspended_) {
      stop_.disarm();
      rx_.core().unregister().reset();
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    stopped_first_ = stop_.stop_requested();  // as every stoppable wait: stopped, untouched
    return stopped_first_ || rx_.core().poll() != oneshot_poll::pending;
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    oneshot_core<T>& core = rx_.core();
    if (core.register_waker(suspending_waker(caller)) != oneshot_poll::pending) return false;
    suspended_ = true;
    resume_when(&settled, this);  // a stale wake of the task leaves it waiting
    stop_.arm(stop_fn{&core});
    return true;
  }

  static bool settled(const void* self) noexcept {
    const auto* const me = static_cast<const oneshot_awaiter*>(self);
    return me->rx_.core().poll() != oneshot_poll::pending || me->stop_.stop_requested();
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    if constexpr (Stoppable) {
      if (stopped_first_) return std::unexpected(recv_error::stopped);
    }
    switch (rx_.core().poll()) {
      case oneshot_poll::value: return rx_.take();
      case oneshot_poll::closed: return std::unexpected(closed_error());
      case oneshot_poll::pending: break;
    }
    FERRITE_ASSERT(stop_.stop_requested(),
                   "rt::oneshot: resumed without a value (a foreign wake?)");
    if constexpr (Stoppable) return std::unexpected(recv_error::stopped);
    FERRITE_UNREACHABLE();
  }

 private:
  static auto closed_error() noexcept {
    if constexpr (Stoppable) {
      return recv_error::closed;
    } else {
      return closed{};
    }
  }

  receiver_ref rx_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;
  bool stopped_first_ = false;  // the token had fired before the receive began
};

}  // namespace detail

}  // namespace ferrite::rt
