// SPDX-License-Identifier: Apache-2.0
// Template bodies of executor.hpp: the spawned task (header + task in one allocation),
// spawn, block_on and the join handle's awaiter. Not a public header; ORDERING labels are
// task_header.hpp's.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/frame_allocator.hpp"

namespace ferrite::rt {
namespace detail {

/// One spawn's allocation (from the frame allocator, through recycled_frame): the header the
/// executor schedules and the task whose frame it runs. The task's result stays in its frame
/// until the join handle takes it.
template <class T>
struct spawned_task final : task_header, recycled_frame {
  spawned_task(executor_base* executor, task<T>&& t, std::uint32_t initial_refs) noexcept
      : task_header(executor, t.handle(), &destroy_self, &drop_body, initial_refs),
        body(std::move(t)) {}

  static void destroy_self(task_header* h) noexcept {
    // SAFETY: every header with this destroy function is a spawned_task<T> made by spawn();
    // the last reference is gone, so nobody else reaches it.
    delete static_cast<spawned_task*>(h);
  }

  static void drop_body(task_header* h) noexcept {
    // SAFETY: as in destroy_self; the executor calls this once, for a task it cancels.
    auto* const self = static_cast<spawned_task*>(h);
    self->body = task<T>();  // destroys the suspended frame (and the frames it owns)
    self->root = nullptr;
    self->leaf = nullptr;
  }

  task<T> body;  // owns the coroutine frame; destroyed (with it) by ~spawned_task
};

template <class T>
join_handle<T> spawn_on(executor_base* ex, task<T> t) {
  FERRITE_ASSERT(t.valid(), "rt::spawn: empty task");
  // Two references: the pool's (until the task finishes) and the handle's.
  auto* const s = new spawned_task<T>(ex, std::move(t), 2);
  if (ex->kind == executor_kind::blocking) {
    blocking_submit(s);
  } else {
    pool_submit(ex, s);
  }
  return join_handle<T>(s);
}

}  // namespace detail

template <class T>
join_handle<T> local_executor::spawn(task<T> t) {
  FERRITE_ASSERT(t.valid(), "rt::spawn: empty task");
  // Two references: the executor's (until the task finishes) and the handle's.
  auto* const s = new detail::spawned_task<T>(this, std::move(t), 2);
  live_.push_back(*s);
  schedule_local(s);
  return join_handle<T>(s);
}

template <class T>
T local_executor::block_on(task<T> t) {
  FERRITE_ASSERT(detail::current_task() == nullptr,
                 "rt::block_on: called from inside a task (await the task instead)");
  detail::executor_base* const outer = std::exchange(detail::current_executor(), this);
  struct restore {
    detail::executor_base* previous;
    ~restore() { detail::current_executor() = previous; }
  } restore_on_exit{outer};
  join_handle<T> root = spawn(std::move(t));
  run_until(*root.t_);
  typename join_handle<T>::awaiter result{root.t_};
  return result.await_resume();
}

template <class T>
void join_handle<T>::abort() noexcept {
  if (t_ != nullptr) detail::abort_task(t_);
}

template <class T>
T join_handle<T>::take_finished() {
  FERRITE_ASSERT(t_ != nullptr && t_->joinable_now(), "rt::join_handle: the task has not finished");
  awaiter result{t_};
  return result.await_resume();
}

template <class T>
bool join_handle<T>::awaiter::await_suspend(std::coroutine_handle<> caller) noexcept {
  detail::task_header* const me = detail::current_task();
  FERRITE_ASSERT(me != nullptr, "rt::join_handle: awaited outside a task");
  if (t->joinable_now()) {  // finished, but this task spent its budget: yield once first
    detail::yield_current(caller);
    return true;
  }
  // Resumed only once the task finished: a stale wake of the awaiting task leaves it here.
  detail::suspend_until(caller, &joined, t);
  if (t->kind != detail::executor_kind::local) {
    join_registered = t->register_join(current_waker());
    if (!join_registered) me->resume_check = nullptr;  // it completed meanwhile: resume now
    return join_registered;
  }
  FERRITE_ASSERT(me->owner == t->owner,
                 "rt::join_handle: a local task awaited outside a task of its own executor");
  waiting = me;
  t->joiner = me;  // finish() schedules it: no waker, no reference count
  return true;
}

template <class T>
T join_handle<T>::awaiter::await_resume() {
  join_registered = false;  // the completer took the join waker
  FERRITE_ASSERT(t->joinable_now(), "rt::join_handle: resumed before the end");
  if (t->has(detail::task_cancelled)) throw cancelled();
  // SAFETY: the header of a join_handle<T> is a spawned_task<T> (made by spawn<T>).
  auto* const s = static_cast<detail::spawned_task<T>*>(t);
  return s->body.handle().promise().take();
}

/// Runs `t` to its end on a fresh local_executor, with every task it spawns, and returns its
/// result (or rethrows its exception). Preconditions: not called from inside a task.
template <class T>
T block_on(task<T> t) {
  local_executor ex;
  return ex.block_on(std::move(t));
}

}  // namespace ferrite::rt
