// SPDX-License-Identifier: Apache-2.0
// rt::watch<T>(initial): one value that a sender updates and any number of receivers read,
// with tokio::sync::watch's semantics. The sender replaces the value (send, send_replace,
// send_modify), which bumps a version; each receiver remembers the version it saw, and
// `co_await rx.changed()` completes once a newer version exists (at once if one already
// does), marking it seen. Intermediate values may be skipped: a receiver sees the latest,
// not every one. `rx.borrow()` reads the current value in place under the watch's spin
// lock. Dropping the sender closes the watch: changed() then gives rt::closed (after any
// unseen version was reported).
//
// ```cpp
// auto [tx, rx] = rt::watch<config>(load_config());
// rt::task<> worker(rt::watch_receiver<config> cfg) {
//   while (co_await cfg.changed()) {
//     config c = *cfg.borrow_and_update();   // copy out: do not hold the borrow long
//     co_await apply(c);
//   }
// }
// tx.send(reload_config());                   // every worker sees the new version
// ```
//
// When not to use it: when every value matters (a log, a queue of jobs), rt::channel keeps
// them all; a borrow holds a spin lock, so a T that is expensive to read wants to be behind
// a pointer (watch<std::shared_ptr<const config>>).
#pragma once

#include <coroutine>
#include <cstdint>
#include <expected>
#include <mutex>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/wait_awaiter.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/detail/watch_core.hpp"
#include "ferrite/rt/sync_error.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt {

template <class T>
class watch_sender;
template <class T>
class watch_receiver;

namespace detail {
template <class T, bool Stoppable>
class changed_awaiter;
}  // namespace detail

/// A read of a watch's current value, holding the watch's spin lock: every send (and every
/// other borrow) waits until it is destroyed. Keep it short; never co_await while holding it.
template <class T>
class [[nodiscard]] watch_ref {
 public:
  watch_ref(const watch_ref&) = delete;
  watch_ref& operator=(const watch_ref&) = delete;
  ~watch_ref() = default;

  const T& operator*() const noexcept { return *value_; }
  const T* operator->() const noexcept { return value_; }
  /// Whether this value is newer than what the receiver had seen before this borrow.
  [[nodiscard]] bool has_changed() const noexcept { return changed_; }

 private:
  friend class watch_sender<T>;
  friend class watch_receiver<T>;
  watch_ref(std::unique_lock<sync::spin_mutex>&& lock, const T& value, bool changed) noexcept
      : lock_(std::move(lock)), value_(&value), changed_(changed) {}
  std::unique_lock<sync::spin_mutex> lock_;
  const T* value_;
  bool changed_;
};

/// The sending half of a watch. Move-only (one sender); dropping it closes the watch.
template <class T>
class watch_sender {
 public:
  watch_sender() noexcept = default;
  watch_sender(watch_sender&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  watch_sender& operator=(watch_sender&& other) noexcept {
    if (this != &other) {
      reset();
      c_ = std::exchange(other.c_, nullptr);
    }
    return *this;
  }
  watch_sender(const watch_sender&) = delete;
  watch_sender& operator=(const watch_sender&) = delete;
  ~watch_sender() { reset(); }

  /// Replaces the value and wakes every receiver waiting in changed(). Fails, giving the
  /// value back (reason closed), when no receiver exists. Complexity: O(waiters woken).
  std::expected<void, send_error<T>> send(T value) {
    if (!c_->has_receivers()) {
      return std::unexpected(send_error<T>{std::move(value), send_failure::closed});
    }
    c_->modify([&](T& v) { v = std::move(value); });
    return {};
  }
  /// Replaces the value whether or not a receiver exists, and returns the old one.
  T send_replace(T value) {
    return c_->modify([&](T& v) { return std::exchange(v, std::move(value)); });
  }
  /// Modifies the value in place (`fn(T&)`, called under the lock: keep it short) and
  /// counts it as a new version. Returns fn's result.
  template <class Fn>
  decltype(auto) send_modify(Fn&& fn) {
    return c_->modify(std::forward<Fn>(fn));
  }

  /// Reads the current value (see watch_ref).
  [[nodiscard]] watch_ref<T> borrow() const noexcept {
    std::unique_lock lock(c_->lock());
    return watch_ref<T>(std::move(lock), c_->value_locked(), false);
  }
  /// A new receiver that has seen the current value.
  [[nodiscard]] watch_receiver<T> subscribe() const noexcept {
    c_->clone_receiver();
    return watch_receiver<T>(c_, c_->version());
  }
  [[nodiscard]] std::size_t receiver_count() const noexcept { return c_->receiver_count(); }
  /// Whether every receiver is gone (a send would fail).
  [[nodiscard]] bool is_closed() const noexcept { return !c_->has_receivers(); }
  [[nodiscard]] bool valid() const noexcept { return c_ != nullptr; }
  /// Drops the sender now: the watch closes.
  void reset() noexcept {
    if (c_ == nullptr) return;
    detail::watch_core<T>* const c = std::exchange(c_, nullptr);
    if (c->drop_sender()) delete c;
  }

 private:
  template <class U, class... Args>
  friend std::pair<watch_sender<U>, watch_receiver<U>> watch(Args&&... args);
  explicit watch_sender(detail::watch_core<T>* c) noexcept : c_(c) {}
  detail::watch_core<T>* c_ = nullptr;
};

/// A receiving half of a watch. Copying clones it, with the same seen version. The
/// awaitable of changed() refers to this receiver, which must outlive it.
template <class T>
class watch_receiver {
 public:
  watch_receiver() noexcept = default;
  watch_receiver(const watch_receiver& other) noexcept : c_(other.c_), seen_(other.seen_) {
    if (c_ != nullptr) c_->clone_receiver();
  }
  watch_receiver(watch_receiver&& other) noexcept
      : c_(std::exchange(other.c_, nullptr)), seen_(other.seen_) {}
  watch_receiver& operator=(watch_receiver other) noexcept {
    std::swap(c_, other.c_);
    std::swap(seen_, other.seen_);
    return *this;
  }
  ~watch_receiver() { reset(); }

  /// Awaitable: `co_await rx.changed()` gives std::expected<void, rt::closed>: done once a
  /// version newer than the one seen exists (at once if it already does), which it marks
  /// seen; rt::closed once the sender is gone and every version was seen.
  /// Cancellation-safe (nothing is consumed by waiting). Preconditions: in a task.
  [[nodiscard]] detail::changed_awaiter<T, false> changed() noexcept {
    return detail::changed_awaiter<T, false>(*this);
  }
  /// As changed(), giving std::expected<void, rt::recv_error>: recv_error::stopped, marking
  /// nothing seen, when `stop` fires first.
  [[nodiscard]] detail::changed_awaiter<T, true> changed(std::stop_token stop) noexcept {
    return detail::changed_awaiter<T, true>(*this, std::move(stop));
  }

  /// Reads the current value without marking it seen (see watch_ref).
  [[nodiscard]] watch_ref<T> borrow() const noexcept {
    std::unique_lock lock(c_->lock());
    return watch_ref<T>(std::move(lock), c_->value_locked(), c_->version_locked() != seen_);
  }
  /// Reads the current value and marks it seen.
  [[nodiscard]] watch_ref<T> borrow_and_update() noexcept {
    std::unique_lock lock(c_->lock());
    const bool changed = c_->version_locked() != seen_;
    seen_ = c_->version_locked();
    return watch_ref<T>(std::move(lock), c_->value_locked(), changed);
  }
  /// Whether a version newer than the one seen exists.
  [[nodiscard]] bool has_changed() const noexcept { return c_->version() != seen_; }
  /// The version this receiver saw last.
  [[nodiscard]] std::uint64_t seen_version() const noexcept { return seen_; }
  [[nodiscard]] bool valid() const noexcept { return c_ != nullptr; }
  void reset() noexcept {
    if (c_ == nullptr) return;
    detail::watch_core<T>* const c = std::exchange(c_, nullptr);
    if (c->drop_receiver()) delete c;
  }

  /// The watch's state, for tests (hints).
  [[nodiscard]] const detail::watch_core<T>& core() const noexcept { return *c_; }

 private:
  template <class U, class... Args>
  friend std::pair<watch_sender<U>, watch_receiver<U>> watch(Args&&... args);
  friend class watch_sender<T>;
  template <class, bool>
  friend class detail::changed_awaiter;
  watch_receiver(detail::watch_core<T>* c, std::uint64_t seen) noexcept : c_(c), seen_(seen) {}
  detail::watch_core<T>* c_ = nullptr;
  std::uint64_t seen_ = 0;
};

/// A watch holding T(args...), its version 0 seen by the receiver. One allocation.
template <class T, class... Args>
[[nodiscard]] std::pair<watch_sender<T>, watch_receiver<T>> watch(Args&&... args) {
  auto* const c = new detail::watch_core<T>(std::in_place, std::forward<Args>(args)...);
  return {watch_sender<T>(c), watch_receiver<T>(c, 0)};
}

namespace detail {

/// The awaiter of watch_receiver::changed. Non-copyable and non-movable.
template <class T, bool Stoppable>
class [[nodiscard]] changed_awaiter {
  using stop_fn = stop_wait<watch_core<T>, typename watch_core<T>::node>;
  using step = typename watch_core<T>::step;

 public:
  using result_type = std::expected<void, std::conditional_t<Stoppable, recv_error, closed>>;

  explicit changed_awaiter(watch_receiver<T>& rx) noexcept
    requires(!Stoppable)
      : rx_(rx) {}
  changed_awaiter(watch_receiver<T>& rx, std::stop_token stop) noexcept
    requires Stoppable
      : rx_(rx), stop_(std::move(stop)) {}
  changed_awaiter(const changed_awaiter&) = delete;
  changed_awaiter& operator=(const changed_awaiter&) = delete;
  ~changed_awaiter() {
    if (suspended_) {
      stop_.disarm();
      rx_.c_->abandon(node_);
    }
  }

  [[nodiscard]] bool await_ready() noexcept {
    if (stop_.stop_requested()) {
      node_.set_status(wait_status::stopped);
      return true;
    }
    return settle(rx_.c_->changed_or_enqueue(rx_.seen_, nullptr, waker()));
  }

  bool await_suspend(std::coroutine_handle<> caller) {
    if (settle(rx_.c_->changed_or_enqueue(rx_.seen_, &node_, suspending_waker(caller)))) {
      return false;
    }
    suspended_ = true;
    resume_when_settled(node_);  // a stale wake of the task leaves it queued
    stop_.arm(stop_fn{rx_.c_, &node_});
    return true;
  }

  result_type await_resume() {
    stop_.disarm();
    suspended_ = false;
    switch (node_.status()) {
      case wait_status::granted:
        rx_.seen_ = node_.data;  // the version it was woken for (set by the send)
        return {};
      case wait_status::closed:
        if constexpr (Stoppable) {
          return std::unexpected(recv_error::closed);
        } else {
          return std::unexpected(closed{});
        }
      case wait_status::stopped:
        if constexpr (Stoppable) return std::unexpected(recv_error::stopped);
        break;
      case wait_status::idle:
      case wait_status::queued: break;
    }
    FERRITE_UNREACHABLE("rt::watch: changed() resumed without a change (a foreign wake?)");
  }

 private:
  /// Records an immediate outcome (a newer version: granted, the seen version updated by
  /// the core; closed); false when queued (or, without a node, when it would be).
  bool settle(step s) noexcept {
    if (s == step::queued) return false;
    if (s == step::done) {
      node_.data = rx_.seen_;
      node_.set_status(wait_status::granted);
    } else {
      node_.set_status(wait_status::closed);
    }
    return true;
  }

  watch_receiver<T>& rx_;
  typename watch_core<T>::node node_;
  [[no_unique_address]] stop_link<Stoppable, stop_fn> stop_;
  bool suspended_ = false;
};

}  // namespace detail

}  // namespace ferrite::rt
