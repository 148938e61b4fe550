// SPDX-License-Identifier: Apache-2.0
// Waiting for the first of several spawned tasks to finish (when_any, timeout): one awaitable
// that registers the awaiting task as the joiner of each, resumes when any is done, and takes
// its registrations back. Not a public header.
#pragma once

#include <coroutine>
#include <cstddef>
#include <span>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/waker.hpp"

namespace ferrite::rt {
waker current_waker();
namespace detail {

/// `co_await join_any{tasks}`: resumes once one of `tasks` finished. Cancellation-safe: a
/// destroyed awaiter unregisters from every task.
class join_any {
 public:
  explicit join_any(std::span<task_header* const> tasks) noexcept : tasks_(tasks) {}
  join_any(const join_any&) = delete;
  join_any& operator=(const join_any&) = delete;
  ~join_any() { unregister(); }

  [[nodiscard]] bool await_ready() const noexcept { return any_done(); }
  bool await_suspend(std::coroutine_handle<> self) noexcept {
    task_header* const me = current_task();
    FERRITE_ASSERT(me != nullptr, "rt::when_any: awaited outside a task");
    me_ = me;
    suspend_until(self, &any_done_erased, this);
    for (task_header* t : tasks_) {
      if (t->kind == executor_kind::local) {
        FERRITE_ASSERT(t->owner == me->owner,
                       "rt::when_any: a local task awaited outside its own executor");
        if (t->joinable_now()) return give_up(me);
        t->joiner = me;
      } else if (!t->register_join(current_waker())) {
        return give_up(me);
      }
      ++registered_;
    }
    return true;
  }
  void await_resume() noexcept { unregister(); }

 private:
  static bool any_done_erased(const void* self) noexcept {
    return static_cast<const join_any*>(self)->any_done();
  }
  [[nodiscard]] bool any_done() const noexcept {
    for (task_header* t : tasks_) {
      if (t->joinable_now()) return true;
    }
    return false;
  }
  bool give_up(task_header* me) noexcept {  // one finished while registering: resume now
    me->resume_check = nullptr;
    unregister();
    return false;
  }
  void unregister() noexcept {
    for (std::size_t i = 0; i < registered_; ++i) {
      task_header* const t = tasks_[i];
      if (t->kind == executor_kind::local) {
        if (t->joiner == me_) t->joiner = nullptr;
      } else {
        t->cancel_join();
      }
    }
    registered_ = 0;
  }

  std::span<task_header* const> tasks_;
  task_header* me_ = nullptr;  // the awaiting task, once registered
  std::size_t registered_ = 0;
};

}  // namespace detail
}  // namespace ferrite::rt
