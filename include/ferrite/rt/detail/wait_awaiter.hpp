// SPDX-License-Identifier: Apache-2.0
// What the awaiters of the synchronization primitives share with the executor: the waker
// of the task that suspends (recording the suspending coroutine as the one a wake resumes,
// as task's awaiter and yield_now do), and the std::stop_callback that cancels a wait whose
// stop_token fires. The primitives' cores (wait_list.hpp and the *_core.hpp headers) know
// nothing of tasks; this header is the only bridge. Not a public header.
//
// An awaiter that suspends keeps three rules (docs/rt.md, "Cancellation safety"):
//  - await_suspend queues its node and returns true; it never returns false after queueing
//    (a wake may already be on its way, and a task is resumed once per wake). A stop
//    callback armed after queueing may fire at once, on this thread: it wakes the running
//    task, which is polled again at once and resumes with `stopped`.
//  - await_resume disarms the stop callback before reading the outcome (the callback's
//    destructor waits for a callback running on another thread).
//  - the destructor of an awaiter suspended and never resumed (its task was cancelled)
//    disarms the callback, then lets the core unlink the node or pass on a grant.
#pragma once

#include <coroutine>
#include <optional>
#include <stop_token>
#include <utility>

#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/waker.hpp"

namespace ferrite::rt::detail {

/// The waker of the task being polled, with `caller` recorded as the coroutine its next
/// poll resumes. Preconditions: called in await_suspend of a task polled by an executor.
[[nodiscard]] inline waker suspending_waker(std::coroutine_handle<> caller) {
  set_leaf(caller);
  return current_waker();
}

/// After a wait was queued (await_suspend returns true): the task resumes only once `node`
/// left the queue (granted, closed or stopped), so a stale wake of the task (a waker it left
/// somewhere earlier) leaves it waiting instead of ending the wait early. No effect outside a
/// task (a plain thread's blocking_ operation).
template <class Node>
void resume_when_settled(const Node& node) noexcept {
  task_header* const t = current_task();
  if (t == nullptr) return;
  t->resume_check = [](const void* n) noexcept {
    return static_cast<const Node*>(n)->status() != wait_status::queued;
  };
  t->resume_ctx = &node;
}

/// The same for a wait whose readiness the awaiter itself answers (`ready(ctx)`).
inline void resume_when(ready_fn ready, const void* ctx) noexcept {
  if (task_header* const t = current_task()) {
    t->resume_check = ready;
    t->resume_ctx = ctx;
  }
}

/// The stop_token of a stoppable wait and, while the wait is queued, the stop_callback that
/// calls `Fn` (a core's stop() on the awaiter's node). For non-stoppable waits (`Stoppable`
/// false) an empty object whose members do nothing.
template <bool Stoppable, class Fn>
class stop_link {
 public:
  stop_link() noexcept = default;
  [[nodiscard]] static constexpr bool stop_requested() noexcept { return false; }
  void arm(Fn /*fn*/) noexcept {}
  void disarm() noexcept {}
};

template <class Fn>
class stop_link<true, Fn> {
 public:
  explicit stop_link(std::stop_token token) noexcept : token_(std::move(token)) {}
  stop_link(const stop_link&) = delete;
  stop_link& operator=(const stop_link&) = delete;
  ~stop_link() = default;

  [[nodiscard]] bool stop_requested() const noexcept { return token_.stop_requested(); }
  /// Registers `fn` with the token (it runs at once, on this thread, if a stop was
  /// requested meanwhile). No effect for a token that can never be stopped.
  void arm(Fn fn) noexcept {
    if (token_.stop_possible()) callback_.emplace(token_, std::move(fn));
  }
  /// Deregisters the callback; waits for it if it is running on another thread.
  void disarm() noexcept { callback_.reset(); }

 private:
  std::stop_token token_;
  std::optional<std::stop_callback<Fn>> callback_;
};

/// The stop callback of the cores whose wait is cancelled by `Core::stop(Node&)`.
template <class Core, class Node>
struct stop_wait {
  Core* core;
  Node* node;
  void operator()() const noexcept { core->stop(*node); }
};

}  // namespace ferrite::rt::detail
