// SPDX-License-Identifier: Apache-2.0
// The state behind rt::watch<T>: one value and its version under a spin_mutex, a FIFO of
// receivers waiting for a version newer than the one they saw, and an atomic word counting
// the handles. A send replaces the value, bumps the version and wakes every waiter whose
// seen version is older (in rounds of one wake_batch, outside the lock). Driven by plain
// wakers like the other cores. Not a public header.
//
// ORDERING table (handles_; the value, version, closed flag and waiters are under lock_):
//  (W1) relaxed fetch_add cloning a handle: made from a live handle (as shared_ptr's copy).
//  (W2) acquire load of the receiver count by a send: zero means every receiver is gone
//       (only the sender can add one back, with subscribe()); pairs with (W3).
//  (W3) acq_rel fetch_sub dropping a handle: release publishes the handle's uses; the one
//       that brings both counts to zero acquires them all before the free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt::detail {

/// The value, version, waiters and handle counts of one watch. Non-copyable and
/// non-movable: handles and waiters point at it. Every member is callable from any thread.
template <class T>
class watch_core {
 public:
  /// A waiting receiver; its payload is the version it saw (and, once granted, the version
  /// it was woken for).
  using node = waiter<std::uint64_t>;

  template <class... Args>
  explicit watch_core(std::in_place_t /*tag*/, Args&&... args)
      : value_(std::forward<Args>(args)...) {}
  watch_core(const watch_core&) = delete;
  watch_core& operator=(const watch_core&) = delete;
  ~watch_core() { FERRITE_DEBUG_ASSERT(waiters_.empty(), "rt::watch destroyed with waiters"); }

  // -- handles ---------------------------------------------------------------------------

  void clone_receiver() noexcept {
    // ORDERING: (W1) relaxed; see the table.
    handles_.fetch_add(receiver_unit, std::memory_order_relaxed);
  }
  /// Whether a receiver exists (a send with none fails). Sender side.
  [[nodiscard]] bool has_receivers() const noexcept {
    // ORDERING: (W2) acquire; see the table.
    return handles_.load(std::memory_order_acquire) >= receiver_unit;
  }
  [[nodiscard]] std::size_t receiver_count() const noexcept {
    // ORDERING: (W2) acquire; see the table.
    return static_cast<std::size_t>(handles_.load(std::memory_order_acquire) / receiver_unit);
  }
  /// The sender is dropped: closes (waking every waiter). True if the caller must destroy.
  [[nodiscard]] bool drop_sender() noexcept {
    close();
    return drop_handle(sender_unit);
  }
  /// A receiver is dropped. True if the caller must destroy the state.
  [[nodiscard]] bool drop_receiver() noexcept { return drop_handle(receiver_unit); }

  // -- sender ----------------------------------------------------------------------------

  /// Replaces the value by `fn(value)` (fn modifies it in place, under the lock), bumps the
  /// version and wakes every receiver waiting for a newer one (after the lock, in rounds of
  /// one wake_batch). Returns fn's result. If fn throws, nothing changed but what fn did.
  template <class Fn>
  std::invoke_result_t<Fn&, T&> modify(Fn&& fn) {
    using result = std::invoke_result_t<Fn&, T&>;
    wake_batch wakes;
    bool more = false;
    if constexpr (std::is_void_v<result>) {
      {
        std::lock_guard guard(lock_);
        fn(value_);
        ++version_;
        more = take_older_locked(wakes);
      }
      wake_rest(wakes, more);
    } else {
      result r = [&] {
        std::lock_guard guard(lock_);
        result out = fn(value_);
        ++version_;
        more = take_older_locked(wakes);
        return out;
      }();
      wake_rest(wakes, more);
      return r;
    }
  }

  /// The version of the current value (starts at 0).
  [[nodiscard]] std::uint64_t version() const noexcept {
    std::lock_guard guard(lock_);
    return version_;
  }

  // -- receivers -------------------------------------------------------------------------

  /// The lock, for a borrow: the value may be read while it is held.
  [[nodiscard]] sync::spin_mutex& lock() const noexcept { return lock_; }
  /// The value and its version. Preconditions: lock() is held.
  [[nodiscard]] const T& value_locked() const noexcept { return value_; }
  [[nodiscard]] std::uint64_t version_locked() const noexcept { return version_; }

  /// What a changed() finds: a newer version (`done`, the version in `seen`), the sender
  /// gone (`closed`), or neither (`queued`: `w` waits with `to_wake`; with `w` null, nothing
  /// is queued).
  enum class step : std::uint8_t { done, closed, queued };
  [[nodiscard]] step changed_or_enqueue(std::uint64_t& seen, node* w, waker&& to_wake) noexcept {
    std::lock_guard guard(lock_);
    if (version_ != seen) {
      seen = version_;
      return step::done;
    }
    if (closed_) return step::closed;
    if (w != nullptr) {
      w->data = seen;
      enqueue(waiters_, *w, std::move(to_wake));
    }
    return step::queued;
  }

  /// A queued changed()'s stop_token fired: takes it off as stopped and wakes it.
  void stop(node& w) noexcept {
    waker to_wake;
    {
      std::lock_guard guard(lock_);
      if (w.status() != wait_status::queued) return;
      to_wake = dequeue(waiters_, w, wait_status::stopped);
    }
    std::move(to_wake).wake();
  }

  /// A changed()'s awaiter is destroyed unresumed: unlinks it if queued (a wake it was
  /// granted carries nothing that others need: every waiter is woken).
  void abandon(node& w) noexcept {
    waker dropped;
    std::lock_guard guard(lock_);
    if (w.status() == wait_status::queued) dropped = dequeue(waiters_, w, wait_status::idle);
  }

  [[nodiscard]] std::size_t waiters_approx() const noexcept {
    std::lock_guard guard(lock_);
    return waiters_.size();
  }

 private:
  static constexpr std::uint64_t sender_unit = 1;
  static constexpr std::uint64_t receiver_unit = std::uint64_t{1} << 32;

  /// Under the lock: moves the waiters that saw an older version than the current one into
  /// `wakes` (granted, woken for the current version); true if `wakes` filled up first.
  /// Queued seen versions never decrease along the queue (a receiver queues only when it
  /// saw the current version), so those are at the front.
  bool take_older_locked(wake_batch& wakes) noexcept {
    while (!waiters_.empty() && waiters_.front().data < version_) {
      if (wakes.full()) return true;
      node& front = waiters_.front();
      front.data = version_;
      wakes.push(dequeue(waiters_, front, wait_status::granted));
    }
    return false;
  }

  /// Wakes `wakes`, then the rest of the older waiters in further rounds.
  void wake_rest(wake_batch& wakes, bool more) noexcept {
    wakes.wake_all();
    while (more) {
      wake_batch next;
      std::lock_guard guard(lock_);
      more = take_older_locked(next);
    }
  }

  /// Marks the sender gone and wakes every waiter with closed.
  void close() noexcept {
    bool more = true;
    while (more) {
      wake_batch wakes;
      std::lock_guard guard(lock_);
      closed_ = true;
      more = false;
      while (!waiters_.empty()) {
        if (wakes.full()) {
          more = true;
          break;
        }
        wakes.push(dequeue(waiters_, waiters_.front(), wait_status::closed));
      }
    }
  }

  bool drop_handle(std::uint64_t unit) noexcept {
    // ORDERING: (W3) acq_rel; see the table.
    return handles_.fetch_sub(unit, std::memory_order_acq_rel) == unit;
  }

  mutable sync::spin_mutex lock_;
  T value_;
  std::uint64_t version_ = 0;
  bool closed_ = false;  // the sender is gone
  wait_queue<std::uint64_t> waiters_;
  /// The sender (0 or 1) in bits 0-31, receivers in bits 32-63. Invariant: the state is
  /// destroyed exactly when both reach zero.
  atomic<std::uint64_t> handles_{sender_unit + receiver_unit};
};

}  // namespace ferrite::rt::detail
