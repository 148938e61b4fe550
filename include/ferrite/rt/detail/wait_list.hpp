// SPDX-License-Identifier: Apache-2.0
// The waiter-list machinery shared by every synchronization primitive of rt (async_mutex,
// async_semaphore, notify, channel, watch): a waiter node that lives inside the awaiter (in
// the waiting coroutine's frame, so waiting never allocates), the FIFO list of those nodes
// that a primitive guards with its own sync::spin_mutex, and the batch of wakers a primitive
// collects under that lock and wakes after releasing it. Not a public header.
//
// Depends on nothing of the executor: a primitive's core (try, enqueue, grant, cancel) is
// driven by plain wakers, which is how the model tests drive it (tests/model/rt_*) and how
// the blocking_ operations of plain threads do (thread_parker.hpp).
//
// The protocol every primitive keeps:
//  - A node's status changes only under the primitive's lock: idle -> queued when it is
//    linked; queued -> granted | closed | stopped when someone takes it off the list, and that
//    someone moves the node's waker out in the same critical section. So each wait is woken
//    exactly once, by whoever changed its status, and never after its node is gone: the
//    waker (which counts a reference to its task) is woken after the lock is released, when
//    the node may already be destroyed.
//  - The awaiter reads its status after the wake without the lock: a wake synchronizes with
//    the resumption it causes (the executors guarantee it: release/acquire pairs X1/X4 of
//    local_executor.cpp; thread_parker's P1/P4), and the node is off the list, so nobody
//    writes it any more. The status is an atomic (W1/W2) because the executor's resume
//    check (detail::resume_when_settled) reads it while the primitive may settle the node.
//  - An awaiter destroyed without being resumed (its task aborted) takes the lock, unlinks
//    its node if it is still queued, and passes on anything it was granted and did not
//    consume (the primitive's `abandon`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/intrusive_list.hpp"

namespace ferrite::rt::detail {

/// Where a wait stands. See the file comment for who writes it when.
enum class wait_status : std::uint8_t {
  idle,     ///< not in a list: not yet waiting, completed at once, or consumed
  queued,   ///< linked in the primitive's list, with its waker
  granted,  ///< taken off the list with what it waited for
  closed,   ///< taken off the list because the primitive closed
  stopped,  ///< taken off the list by its stop_token
};

/// A waiter node: the list hook, the waker to wake, the status, and what the primitive needs
/// to know about the wait (`Payload`: the permits wanted, a generation, the value to send).
/// Non-copyable and non-movable (a list points at it): it lives in an awaiter.
template <class Payload>
struct waiter {
  waiter() noexcept = default;
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;
  ~waiter() = default;

  /// Read by the awaiter after its wake and by the executor's resume check (which may run
  /// while the primitive settles the node): an atomic, so the check is not a data race.
  [[nodiscard]] wait_status status() const noexcept {
    // ORDERING: (W1) acquire: pairs with (W2), so a check that sees the node settled sees
    // what the primitive granted with it.
    return status_.load(std::memory_order_acquire);
  }
  void set_status(wait_status s) noexcept {
    // ORDERING: (W2) release: see (W1).
    status_.store(s, std::memory_order_release);
  }

  sync::list_hook hook;
  waker to_wake;  ///< guarded by the primitive's lock
  Payload data{};

 private:
  atomic<wait_status> status_{wait_status::idle};
};

/// The empty payload, for waits that need nothing more than their place in the queue.
struct no_payload {};

/// A FIFO of waiters, guarded by the lock of the primitive that owns it.
template <class Payload>
using wait_queue = sync::intrusive_list<waiter<Payload>, &waiter<Payload>::hook>;

/// Links `w` at the back of `q` with the waker `to_wake`. Preconditions: the caller holds
/// q's lock; `w` is not linked.
template <class Payload>
void enqueue(wait_queue<Payload>& q, waiter<Payload>& w, waker&& to_wake) noexcept {
  w.to_wake = std::move(to_wake);
  w.set_status(wait_status::queued);
  q.push_back(w);
}

/// Takes `w` off `q` with the status `outcome` and returns its waker, to wake once the lock
/// is released. Preconditions: the caller holds q's lock; `w` is queued in `q`.
template <class Payload>
[[nodiscard]] waker dequeue(wait_queue<Payload>& q, waiter<Payload>& w,
                            wait_status outcome) noexcept {
  FERRITE_DEBUG_ASSERT(w.status() == wait_status::queued, "rt: dequeue of a waiter not queued");
  q.erase(w);
  waker taken = std::move(w.to_wake);
  // Last: once the status says settled, the executor's resume check may let the waiting task
  // resume and destroy the node, so nothing of it may be touched after this store.
  w.set_status(outcome);
  return taken;
}

/// Wakers collected under a primitive's lock and woken after it is released (never wake
/// under the lock: the woken task may run at once on another thread and contend for it).
/// Holds up to `capacity`; a primitive that may wake more (notify_waiters, close, a large
/// release) takes them in rounds: fill, unlock, wake, lock again. Whatever is left is woken
/// by the destructor, so declare the batch before the lock guard.
class wake_batch {
 public:
  static constexpr std::size_t capacity = 8;

  wake_batch() noexcept = default;
  wake_batch(const wake_batch&) = delete;
  wake_batch& operator=(const wake_batch&) = delete;
  ~wake_batch() { wake_all(); }

  [[nodiscard]] bool full() const noexcept { return size_ == capacity; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// Preconditions: !full().
  void push(waker&& w) noexcept {
    FERRITE_DEBUG_ASSERT(!full(), "rt::wake_batch: push into a full batch");
    wakers_[size_++] = std::move(w);
  }

  /// Wakes (and releases) every collected waker, in the order they were pushed.
  void wake_all() noexcept {
    for (std::size_t i = 0; i < size_; ++i) std::move(wakers_[i]).wake();
    size_ = 0;
  }

 private:
  std::array<waker, capacity> wakers_{};
  std::size_t size_ = 0;
};

}  // namespace ferrite::rt::detail
