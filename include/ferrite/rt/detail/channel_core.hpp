// SPDX-License-Identifier: Apache-2.0
// The state machine behind rt::channel<T>: a bounded ring of values, a FIFO of waiting
// senders (each holding its value in its awaiter) and one of waiting receivers, all under
// one spin_mutex, plus an atomic word counting the sender and receiver handles. Driven by
// plain wakers: the awaiters of channel.hpp call it with the current task's waker, the
// blocking_ operations and the model tests with a thread_parker's. Not a public header.
//
// Hand-off rules (each under the lock; the one or two waiters it grants are woken after it):
//  - A send that finds room pushes its value; if a receiver waits and an unreserved value
//    is buffered, the front receiver is granted a reservation (`reserved_`) and woken. The
//    value stays in the ring until that receiver takes it, so a receiver destroyed after its
//    grant loses nothing: it gives the reservation to the next receiver, or back.
//  - A receive takes the front value; if a sender waits (the ring was full), the front
//    sender's value moves into the freed slot at once and that sender is granted (its send
//    completed), and so may a waiting receiver be, for that value. So: senders wait only
//    while the ring is full, receivers only while every buffered value is reserved, and
//    per-sender order is kept (the ring and both queues are FIFO).
//  - close() (explicit, or the last sender or the last receiver dropped) refuses new sends,
//    gives every waiting sender its value back (closed) and wakes every waiting receiver
//    (closed); buffered values are still received, reserved ones by their receivers.
//
// ORDERING table (handles_; everything else is under lock_, and waiters synchronize
// through their wakes, wait_list.hpp):
//  (C1) relaxed fetch_add cloning a handle: made from a live handle of the same channel, so
//       the state is alive (as std::shared_ptr's copy).
//  (C2) acquire load of the dropping handle's side count: a count of 1 is this handle (no
//       other handle of that side exists or can appear), so it closes the channel before
//       letting go; pairs with (C3) of the handles dropped before.
//  (C3) acq_rel fetch_sub dropping a handle: release publishes this handle's uses; the
//       acquire of the one that brings both counts to zero orders them before the free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/thread_parker.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/sync_error.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt::detail {

/// What a channel operation that may queue did: completed (value moved, or received),
/// closed, or queued (the waiter will be woken).
enum class channel_step : std::uint8_t { done, closed, queued };

/// One channel's ring, waiters and handle counts. Non-copyable and non-movable: handles
/// and waiters point at it. Every member is callable from any thread.
template <class T>
class channel_core {
  // Values move under the lock, inside grants that must not fail halfway.
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "rt::channel<T>: T must be nothrow move constructible");

 public:
  using recv_node = waiter<no_payload>;
  /// A waiting sender; its payload points at the value it sends (in its awaiter).
  using send_node = waiter<T*>;

  /// A channel buffering at most `capacity` values, with one sender and one receiver handle
  /// counted. Preconditions: capacity >= 1.
  explicit channel_core(std::size_t capacity)
      : slots_(std::make_unique<slot[]>(capacity)), capacity_(capacity) {
    FERRITE_ASSERT(capacity >= 1, "rt::channel: capacity must be at least 1");
  }
  channel_core(const channel_core&) = delete;
  channel_core& operator=(const channel_core&) = delete;
  ~channel_core() {
    FERRITE_DEBUG_ASSERT(senders_.empty() && receivers_.empty(),
                         "rt::channel destroyed with waiters queued");
    while (size_ != 0) static_cast<void>(pop_locked());
  }

  // -- handles ---------------------------------------------------------------------------

  void clone_sender() noexcept { add_handle(sender_unit); }
  void clone_receiver() noexcept { add_handle(receiver_unit); }
  /// Drops a sender handle, closing the channel if it was the last sender. Returns whether
  /// the caller must destroy the channel (no handle left).
  [[nodiscard]] bool drop_sender() noexcept { return drop_handle(sender_unit); }
  [[nodiscard]] bool drop_receiver() noexcept { return drop_handle(receiver_unit); }

  // -- sending ---------------------------------------------------------------------------

  /// Pushes `v` (moving from it) if there is room; else leaves it. Never queues.
  [[nodiscard]] std::expected<void, send_failure> try_send(T& v) noexcept {
    waker to_wake;
    {
      std::lock_guard guard(lock_);
      if (closed_) return std::unexpected(send_failure::closed);
      if (size_ == capacity_) return std::unexpected(send_failure::full);
      to_wake = push_locked(std::move(v));
    }
    std::move(to_wake).wake();
    return {};
  }

  /// As try_send, but queues `w` (pointing at `v`, with `to_wake`) when the ring is full.
  /// done: `v` was pushed (w granted); closed: `v` is untouched (w closed); queued: a
  /// receiver will move `v` in and grant w, or close() will give it back.
  [[nodiscard]] channel_step send_or_enqueue(send_node& w, T& v, waker&& to_wake) noexcept {
    waker receiver;
    {
      std::lock_guard guard(lock_);
      if (closed_) {
        w.set_status(wait_status::closed);
        return channel_step::closed;
      }
      if (size_ == capacity_) {
        w.data = &v;
        enqueue(senders_, w, std::move(to_wake));
        return channel_step::queued;
      }
      receiver = push_locked(std::move(v));
      w.set_status(wait_status::granted);
    }
    std::move(receiver).wake();
    return channel_step::done;
  }

  /// A queued send's stop_token fired: unless its value already went (granted) or came
  /// back (closed), takes it off as stopped and wakes it; its value is untouched.
  void stop_send(send_node& w) noexcept { stop_waiter(senders_, w); }

  /// A send's awaiter is destroyed without being resumed: unlinks it if still queued (its
  /// value is destroyed with the awaiter); a granted send's value is already in the ring.
  void abandon_send(send_node& w) noexcept {
    waker dropped;
    std::lock_guard guard(lock_);
    if (w.status() == wait_status::queued) dropped = dequeue(senders_, w, wait_status::idle);
  }

  // -- receiving -------------------------------------------------------------------------

  /// The front unreserved value, or empty / closed (closed once the channel is closed and
  /// every buffered value is taken or reserved). Never queues.
  [[nodiscard]] std::expected<T, recv_error> try_recv() noexcept {
    refill_wakes wakes;
    std::expected<T, recv_error> r = std::unexpected(recv_error::empty);
    {
      std::lock_guard guard(lock_);
      if (size_ > reserved_) {
        r.emplace(pop_locked());
        wakes = refill_locked();
      } else if (closed_) {
        r = std::unexpected(recv_error::closed);
      }
    }
    wakes.wake();
    return r;
  }

  /// As try_recv, but queues `w` (with `to_wake`) instead of reporting empty: then gives
  /// recv_error::empty and the waiter is granted a reservation (take_reserved) or closed.
  [[nodiscard]] std::expected<T, recv_error> recv_or_enqueue(recv_node& w,
                                                             waker&& to_wake) noexcept {
    refill_wakes wakes;
    std::expected<T, recv_error> r = std::unexpected(recv_error::empty);
    {
      std::lock_guard guard(lock_);
      if (size_ > reserved_) {
        r.emplace(pop_locked());
        wakes = refill_locked();
      } else if (closed_) {
        r = std::unexpected(recv_error::closed);
      } else {
        enqueue(receivers_, w, std::move(to_wake));
      }
    }
    wakes.wake();
    return r;
  }

  /// The value reserved for a granted receiver. Preconditions: its waiter was granted.
  [[nodiscard]] T take_reserved() noexcept {
    refill_wakes wakes;
    std::optional<T> v;
    {
      std::lock_guard guard(lock_);
      FERRITE_DEBUG_ASSERT(reserved_ != 0 && size_ >= reserved_, "rt::channel: no reservation");
      --reserved_;
      v.emplace(pop_locked());
      wakes = refill_locked();
    }
    wakes.wake();
    return std::move(*v);
  }

  /// A queued receive's stop_token fired: takes it off as stopped and wakes it, unless it
  /// was already granted (then the grant stands) or closed.
  void stop_recv(recv_node& w) noexcept { stop_waiter(receivers_, w); }

  /// A receive's awaiter is destroyed without being resumed: unlinks it if queued; if it
  /// was granted, passes its reservation to the next waiting receiver (or releases it, the
  /// value stays buffered for anyone).
  void abandon_recv(recv_node& w) noexcept {
    waker dropped;
    waker next;
    {
      std::lock_guard guard(lock_);
      const wait_status s = w.status();
      if (s == wait_status::queued) {
        dropped = dequeue(receivers_, w, wait_status::idle);
      } else if (s == wait_status::granted) {
        w.set_status(wait_status::idle);
        --reserved_;
        next = grant_receiver_locked();
      }
    }
    dropped.reset();
    std::move(next).wake();
  }

  // -- closing ---------------------------------------------------------------------------

  /// Refuses further sends; gives every waiting sender its value back and wakes every
  /// waiting receiver with `closed`. Buffered values stay receivable. Idempotent.
  void close() noexcept {
    bool more = true;
    while (more) {
      wake_batch wakes;
      std::lock_guard guard(lock_);
      closed_ = true;
      more = take_all_locked(senders_, wakes) || take_all_locked(receivers_, wakes);
    }
  }

  [[nodiscard]] bool is_closed() const noexcept {
    std::lock_guard guard(lock_);
    return closed_;
  }
  /// Values buffered right now (reserved ones included), and waiters: hints for tests.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    std::lock_guard guard(lock_);
    return size_;
  }
  [[nodiscard]] std::size_t waiting_senders_approx() const noexcept {
    std::lock_guard guard(lock_);
    return senders_.size();
  }
  [[nodiscard]] std::size_t waiting_receivers_approx() const noexcept {
    std::lock_guard guard(lock_);
    return receivers_.size();
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct slot {
    alignas(T) std::byte bytes[sizeof(T)];
  };

  static constexpr std::uint64_t sender_unit = 1;
  static constexpr std::uint64_t receiver_unit = std::uint64_t{1} << 32;
  static constexpr std::uint64_t side_mask = 0xffff'ffffU;

  static std::uint64_t count_of(std::uint64_t word, std::uint64_t unit) noexcept {
    return (word / unit) & side_mask;
  }

  void add_handle(std::uint64_t unit) noexcept {
    // ORDERING: (C1) relaxed; see the table.
    const std::uint64_t prev = handles_.fetch_add(unit, std::memory_order_relaxed);
    FERRITE_ASSERT(count_of(prev, unit) < side_mask, "rt::channel: too many handles");
  }

  bool drop_handle(std::uint64_t unit) noexcept {
    // ORDERING: (C2) acquire; see the table.
    if (count_of(handles_.load(std::memory_order_acquire), unit) == 1) close();
    // ORDERING: (C3) acq_rel; see the table.
    return handles_.fetch_sub(unit, std::memory_order_acq_rel) == unit;
  }

  T* slot_at(std::size_t i) noexcept {
    // SAFETY: i < capacity_ (callers reduce modulo capacity_); the slot holds a live T
    // exactly when it is among the size_ slots from head_ (std::launder: the T was created
    // by placement new in these bytes).
    return std::launder(reinterpret_cast<T*>(slots_[i].bytes));
  }

  /// Under the lock, with room: appends `v`; returns the waker of a receiver granted it.
  [[nodiscard]] waker push_locked(T&& v) noexcept {
    std::size_t tail = head_ + size_;
    if (tail >= capacity_) tail -= capacity_;
    // SAFETY: size_ < capacity_, so the slot at tail holds no value.
    ::new (static_cast<void*>(slots_[tail].bytes)) T(std::move(v));
    ++size_;
    return grant_receiver_locked();
  }

  /// Under the lock, with size_ != 0: removes and returns the front value.
  [[nodiscard]] T pop_locked() noexcept {
    T* const p = slot_at(head_);
    T v = std::move(*p);
    std::destroy_at(p);
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --size_;
    return v;
  }

  /// Under the lock: the front receiver, granted a reservation, if a value is unreserved.
  [[nodiscard]] waker grant_receiver_locked() noexcept {
    if (receivers_.empty() || size_ <= reserved_) return waker();
    ++reserved_;
    return dequeue(receivers_, receivers_.front(), wait_status::granted);
  }

  /// The wakers a receive may owe: the sender whose value moved into the freed slot, and
  /// the receiver granted that value (receivers may wait on a full ring whose values are
  /// all reserved).
  struct refill_wakes {
    waker sender;
    waker receiver;
    void wake() noexcept {
      std::move(sender).wake();
      std::move(receiver).wake();
    }
  };

  /// Under the lock, after a pop made room: moves the front waiting sender's value in.
  [[nodiscard]] refill_wakes refill_locked() noexcept {
    refill_wakes w;
    if (senders_.empty()) return w;
    send_node& front = senders_.front();
    w.receiver = push_locked(std::move(*front.data));
    w.sender = dequeue(senders_, front, wait_status::granted);
    return w;
  }

  template <class Node>
  void stop_waiter(sync::intrusive_list<Node, &Node::hook>& q, Node& w) noexcept {
    waker to_wake;
    {
      std::lock_guard guard(lock_);
      if (w.status() != wait_status::queued) return;
      to_wake = dequeue(q, w, wait_status::stopped);
    }
    std::move(to_wake).wake();
  }

  /// Under the lock: moves waiters of `q` into `wakes` as closed; true if `wakes` filled up
  /// before `q` emptied.
  template <class Node>
  static bool take_all_locked(sync::intrusive_list<Node, &Node::hook>& q,
                              wake_batch& wakes) noexcept {
    while (!q.empty()) {
      if (wakes.full()) return true;
      wakes.push(dequeue(q, q.front(), wait_status::closed));
    }
    return false;
  }

  mutable sync::spin_mutex lock_;
  bool closed_ = false;
  std::size_t head_ = 0;      // index of the front value
  std::size_t size_ = 0;      // values buffered (reserved ones included)
  std::size_t reserved_ = 0;  // buffered values promised to granted receivers
  std::unique_ptr<slot[]> slots_;
  std::size_t capacity_;
  wait_queue<T*> senders_;
  wait_queue<no_payload> receivers_;
  /// Handles: senders in bits 0-31, receivers in bits 32-63. Invariant: the channel is
  /// destroyed exactly when both counts reach zero, and closed once either does.
  atomic<std::uint64_t> handles_{sender_unit + receiver_unit};
};

/// For plain threads: sends `value`, blocking while the ring is full.
template <class T>
std::expected<void, send_error<T>> blocking_send(channel_core<T>& c, T value) {
  typename channel_core<T>::send_node node;
  thread_parker parker;
  channel_step step = c.send_or_enqueue(node, value, parker.make_waker());
  if (step == channel_step::queued) {
    parker.park();
    step = node.status() == wait_status::granted ? channel_step::done : channel_step::closed;
  }
  if (step == channel_step::done) return {};
  return std::unexpected(send_error<T>{std::move(value), send_failure::closed});
}

/// For plain threads: receives, blocking while nothing is buffered and the channel is open.
template <class T>
std::expected<T, closed> blocking_recv(channel_core<T>& c) {
  typename channel_core<T>::recv_node node;
  thread_parker parker;
  std::expected<T, recv_error> r = c.recv_or_enqueue(node, parker.make_waker());
  if (r) return std::move(*r);
  if (r.error() == recv_error::empty) {
    parker.park();
    if (node.status() == wait_status::granted) return c.take_reserved();
  }
  return std::unexpected(closed{});
}

}  // namespace ferrite::rt::detail
