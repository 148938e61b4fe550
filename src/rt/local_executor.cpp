// SPDX-License-Identifier: Apache-2.0
// local_executor: the ready queue, polling, the injection queue and parking, cancellation,
// and the wakers of its tasks.
//
// ORDERING table (with task_header.hpp's T1/T2):
//  (X1) acq_rel exchange(true) of remote_pending (remote wake): release publishes what the
//       waker did before waking; acquire pairs with (X4), so a waker that finds the flag
//       clear again queues a new entry. Only the waker that changes false -> true pushes.
//  (X2) the parker's unpark (remote wake, after the push): its release pairs with the
//       owner's park (parker.hpp's K labels), so an owner that returns from park sees the
//       entry; an unpark before the park is kept, so the owner does not sleep past it.
//  (X4) acq_rel exchange(false) of remote_pending (drain): acquire pairs with every (X1)
//       that found the flag set (they are RMWs after the pushing one in its modification
//       order), so the poll that follows sees what each of those wakers did.
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/timer_driver.hpp"
#include "ferrite/rt/executor.hpp"

namespace ferrite::rt {
namespace {

detail::task_header* header_of(const void* data) noexcept {
  // SAFETY: task wakers are made by current_waker() with a task_header* as their data.
  return static_cast<detail::task_header*>(const_cast<void*>(data));
}

local_executor* local_owner(const detail::task_header* t) noexcept {
  FERRITE_DEBUG_ASSERT(t->kind == detail::executor_kind::local, "a local task");
  // SAFETY: a task whose owner is of kind local was spawned by a local_executor.
  return static_cast<local_executor*>(t->owner);
}

void wake_task_by_ref(const void* data) noexcept {
  detail::task_header* const t = header_of(data);
  if (local_executor::current() == t->owner) {  // the executor is alive: it drives us
    if (!t->is_finished()) local_owner(t)->schedule_local(t);
    return;
  }
  // A foreign wake: the executor may finish the task and be destroyed meanwhile.
  const detail::foreign_wake_guard guard;
  if (!detail::foreign_wake_guard::finished(*t)) local_owner(t)->schedule_remote(t);
}

constexpr waker_vtable task_waker_vtable{
    [](const void* data) noexcept -> const void* {
      header_of(data)->acquire_ref();
      return data;
    },
    [](const void* data) noexcept {
      wake_task_by_ref(data);
      header_of(data)->release_ref();
    },
    &wake_task_by_ref,
    [](const void* data) noexcept { header_of(data)->release_ref(); },
};

}  // namespace

local_executor::~local_executor() {
  // Drop every unfinished task's frame; their handles then report rt::cancelled.
  while (!live_.empty()) {
    detail::task_header* const t = &live_.front();
    t->flags = static_cast<std::uint8_t>((t->flags & ~(detail::task_queued | detail::task_abort)) |
                                         detail::task_cancelled);
    t->drop_frame(t);
    finish(t);
  }
  ready_head_ = ready_tail_ = nullptr;
  detail::wait_for_foreign_wakes();  // a wake from another thread may still be pushing
  drain_injected();                  // releases the references of wakes still queued
}

void local_executor::schedule_local(detail::task_header* t) noexcept {
  if ((t->flags & (detail::task_queued | detail::task_complete)) != 0) return;
  if (t->has(detail::task_running)) {
    t->flags |= detail::task_notified;  // requeued when its poll ends: never queued twice
    return;
  }
  t->flags |= detail::task_queued;
  t->next_ready = nullptr;
  if (ready_tail_ == nullptr) {
    ready_head_ = t;
  } else {
    ready_tail_->next_ready = t;
  }
  ready_tail_ = t;
}

void local_executor::schedule_remote(detail::task_header* t) noexcept {
  // ORDERING: (X1) acq_rel; see the table.
  if (t->remote_pending.exchange(true, std::memory_order_acq_rel)) return;  // coalesced
  t->acquire_ref();  // the queue entry's reference, released by drain_injected
  injected_.push(t);
  // ORDERING: (X2) unpark; see the table.
  parker_.unpark();
}

void local_executor::drain_injected() noexcept {
  while (detail::task_header* const t = injected_.try_pop()) {
    // ORDERING: (X4) acq_rel; see the table.
    t->remote_pending.exchange(false, std::memory_order_acq_rel);
    schedule_local(t);  // ignored for a finished task
    t->release_ref();
  }
}

void local_executor::poll(detail::task_header* t) noexcept {
  if (t->has(detail::task_abort)) {
    t->flags = static_cast<std::uint8_t>((t->flags & ~(detail::task_queued | detail::task_abort)) |
                                         detail::task_cancelled);
    t->drop_frame(t);
    finish(t);
    return;
  }
  t->flags = static_cast<std::uint8_t>(t->flags & ~detail::task_queued);
  if (!detail::may_resume(t)) return;  // a stale wake: it stays suspended
  t->flags |= detail::task_running;
  detail::coop_budget() = detail::coop_budget_per_poll;
  detail::task_header* const outer = std::exchange(detail::current_task(), t);
  t->leaf.resume();  // runs until the task suspends or ends (nested co_awaits move the leaf)
  detail::current_task() = outer;
  t->flags = static_cast<std::uint8_t>(t->flags & ~detail::task_running);
  if (t->root.done()) {
    finish(t);
  } else if (t->has(detail::task_notified)) {
    t->flags = static_cast<std::uint8_t>(t->flags & ~detail::task_notified);
    schedule_local(t);
  }
}

void local_executor::finish(detail::task_header* t) noexcept {
  t->flags |= detail::task_complete;
  t->mark_finished();
  t->live_hook.unlink();
  if (detail::task_header* const j = std::exchange(t->joiner, nullptr)) schedule_local(j);
  t->release_ref();  // the executor's reference
}

detail::task_header* local_executor::pop_ready() noexcept {
  detail::task_header* const t = ready_head_;
  if (t != nullptr) {
    ready_head_ = t->next_ready;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
  }
  return t;
}

std::size_t local_executor::run_ready() {
  detail::executor_base* const outer = std::exchange(detail::current_executor(), this);
  std::size_t polls = 0;
  drain_injected();
  fire_timers();
  while (detail::task_header* const t = pop_ready()) {
    poll(t);
    if ((++polls & 63U) == 0) {  // remote wakes and timers are not starved
      drain_injected();
      fire_timers();
    }
  }
  detail::current_executor() = outer;
  return polls;
}

void local_executor::run_until(const detail::task_header& root) {
  for (;;) {
    drain_injected();
    std::uint32_t polls = 0;
    while (detail::task_header* const t = pop_ready()) {
      poll(t);
      if (root.has(detail::task_complete)) return;
      if ((++polls & 63U) == 0) {  // remote wakes and timers are not starved
        drain_injected();
        fire_timers();
      }
    }
    if (root.has(detail::task_complete)) return;
    park();
  }
}

void local_executor::park() noexcept {
  fire_timers();
  drain_injected();
  if (ready_head_ != nullptr) return;
  const std::optional<clock::time_point> next =
      timers_ != nullptr ? timers_->next_deadline() : std::nullopt;
  if (!next) {
    parker_.park();  // until a remote wake
    return;
  }
  if (clock::paused()) {  // idle, time stands still: jump to the next timer
    clock::advance_to(*next);
    return;
  }
  const clock::time_point now = clock::now();
  if (*next > now) parker_.park_for(*next - now);
}

void local_executor::fire_timers() noexcept {
  if (timers_ != nullptr) timers_->fire_due();
}

detail::timer_driver& local_executor::timers() {
  if (timers_ == nullptr) timers_ = std::make_unique<detail::timer_driver>();
  return *timers_;
}

void detail::wait_for_foreign_wakes() noexcept {
  // ORDERING: (T21) seq_cst fence: see task_header.hpp's table.
  fence(std::memory_order_seq_cst);
  // ORDERING: (T22) acquire: see task_header.hpp's table.
  while (foreign_wakes_in_flight().load(std::memory_order_acquire) != 0) ferrite::yield_now();
}

void detail::abort_task(task_header* t) noexcept {
  if (t->kind != executor_kind::local) {
    const foreign_wake_guard guard;  // the pool may be finishing it and shutting down
    if (!foreign_wake_guard::finished(*t) && t->request_abort()) pool_schedule(t);
    return;
  }
  if (t->has(task_complete)) return;
  t->flags |= task_abort;
  local_owner(t)->schedule_local(t);  // cancelled at its next poll (no-op if already queued)
}

void yield_now::await_suspend(std::coroutine_handle<> self) noexcept {
  detail::yield_current(self);
}

void detail::yield_current(std::coroutine_handle<> self) noexcept {
  detail::task_header* const t = detail::current_task();
  FERRITE_ASSERT(t != nullptr, "rt::yield_now: not inside a task polled by an executor");
  t->leaf = self;
  t->resume_check = nullptr;  // yielded: any wake resumes it
  // Running: marked notified, so the end of this poll requeues it at the back.
  if (t->kind == detail::executor_kind::local) {
    local_owner(t)->schedule_local(t);
  } else {
    static_cast<void>(t->notify());  // running, so never "queue it now"
  }
}

waker current_waker() {
  detail::task_header* const t = detail::current_task();
  FERRITE_ASSERT(t != nullptr, "rt::current_waker: not inside a task polled by an executor");
  if (t->kind != detail::executor_kind::local) return detail::pool_task_waker(t);
  t->acquire_ref();
  return waker(t, &task_waker_vtable);
}

}  // namespace ferrite::rt
