// SPDX-License-Identifier: Apache-2.0
// rt::local_executor: runs tasks on one thread. spawn() gives a join_handle; the executor
// polls ready tasks in FIFO order, and a task that suspends is polled again when it is woken
// (yield_now() requeues it at the back; a waker from current_waker() wakes it from anywhere).
// block_on(task) drives a task, and everything it spawns, to its end. Spawns and wakes made on
// the executor's own thread use no atomic read-modify-write; wakes from other threads go
// through a lock-free injection queue and unpark the executor through a futex.
//
// ```cpp
// rt::local_executor ex;
// int v = ex.block_on([]() -> rt::task<int> {
//   rt::join_handle<int> h = rt::spawn(compute());   // runs when this task suspends
//   co_await rt::yield_now();
//   co_return co_await h;                            // the child's result (or its exception)
// }());
// ```
//
// When not to use it: work that must use more than one core wants thread_pool (next); a task
// that blocks its thread (a blocking syscall, a long computation) stalls every other task of
// its local executor.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/parker.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/detail/timer_driver.hpp"
#include "ferrite/rt/frame_allocator.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/intrusive_list.hpp"
#include "ferrite/sync/intrusive_mpsc_queue.hpp"

namespace ferrite::rt {

template <class T>
class join_handle;
class thread_pool;

namespace detail {
/// Spawns `t` on `ex`, a thread_pool's core or the blocking pool.
template <class T>
join_handle<T> spawn_on(executor_base* ex, task<T> t);
/// join_handle::abort without the handle's type: cancels `t` at its next poll. For a local
/// task, on its executor's thread; a pool task, any thread.
void abort_task(task_header* t) noexcept;
}  // namespace detail

/// What awaiting a join handle of an aborted task throws.
class cancelled : public std::runtime_error {
 public:
  cancelled() : std::runtime_error("ferrite::rt: the task was cancelled") {}
};

/// A single-threaded executor. Non-movable: tasks and wakers hold its address.
/// Preconditions: it is driven (block_on, run) on one thread at a time; wakers of its tasks
/// are not used after it is destroyed.
class local_executor : public detail::executor_base {
 public:
  local_executor() noexcept : executor_base(detail::executor_kind::local) {}
  local_executor(const local_executor&) = delete;
  local_executor& operator=(const local_executor&) = delete;
  /// Destroys the frames of the tasks that did not finish (their join handles then report
  /// rt::cancelled). Preconditions: not called from one of its tasks.
  ~local_executor();

  /// Starts `t` on this executor: it runs when the executor next polls (the caller keeps
  /// running). One allocation from the frame allocator, no atomic RMW.
  /// Complexity: O(1).
  template <class T>
  join_handle<T> spawn(task<T> t);

  /// Runs `t` and every task it spawns until `t` finishes, parking the thread when nothing is
  /// ready; returns its result or rethrows its exception. Tasks still unfinished when `t`
  /// finishes stay on the executor.
  template <class T>
  T block_on(task<T> t);

  /// Polls ready tasks until none is ready (does not park). Returns how many polls it made.
  std::size_t run_ready();

  /// The local executor driving this thread, or null (also inside a thread_pool's worker).
  [[nodiscard]] static local_executor* current() noexcept {
    detail::executor_base* const e = detail::current_executor();
    return e != nullptr && e->kind == detail::executor_kind::local ? static_cast<local_executor*>(e)
                                                                   : nullptr;
  }

  // For the runtime's awaitables and wakers (detail).
  /// Its timers, made on first use (owner thread).
  detail::timer_driver& timers();
  void schedule_local(detail::task_header* t) noexcept;   ///< owner thread
  void schedule_remote(detail::task_header* t) noexcept;  ///< any other thread
  void poll(detail::task_header* t) noexcept;

 private:
  void run_until(const detail::task_header& root);
  detail::task_header* pop_ready() noexcept;
  void drain_injected() noexcept;
  void park() noexcept;
  void fire_timers() noexcept;
  void finish(detail::task_header* t) noexcept;

  detail::task_header* ready_head_ = nullptr;
  detail::task_header* ready_tail_ = nullptr;
  sync::intrusive_list<detail::task_header, &detail::task_header::live_hook> live_;
  sync::intrusive_mpsc_queue<detail::task_header, &detail::task_header::remote_next> injected_;
  detail::parker parker_;  // unparked by remote wakes
  std::unique_ptr<detail::timer_driver> timers_;
};

/// A spawned task's result, to await (`co_await std::move(h)` or `co_await h`), or to detach.
/// Move-only; destroying a handle detaches the task (it keeps running; its result is
/// dropped). A local_executor's task is awaited from a task of the same executor; a
/// thread_pool's from a task of any executor.
template <class T>
class [[nodiscard]] join_handle {
 public:
  join_handle() noexcept = default;
  join_handle(join_handle&& other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      t_ = std::exchange(other.t_, nullptr);
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { detach(); }

  /// Lets the task run on without a handle; the handle is empty afterwards.
  void detach() noexcept {
    if (t_ != nullptr) std::exchange(t_, nullptr)->release_ref();
  }
  /// Whether the task finished (with a result, an exception, or cancelled). Any thread.
  [[nodiscard]] bool is_finished() const noexcept { return t_ != nullptr && t_->is_finished(); }
  /// Cancels the task at its next suspension point: it is not resumed again, its frame is
  /// destroyed, and awaiting this handle throws rt::cancelled. No effect once it finished.
  /// Preconditions: for a local_executor's task, called on the executor's thread (a pool's
  /// task: any thread).
  void abort() noexcept;
  [[nodiscard]] bool valid() const noexcept { return t_ != nullptr; }
  /// For the runtime's composition (when_all, when_any, task_scope): the spawned task.
  [[nodiscard]] detail::task_header* header() const noexcept { return t_; }
  /// The result of a task that finished (is_finished()), taken without suspending; rethrows
  /// its exception, or rt::cancelled. Preconditions: finished; taken once.
  T take_finished();

  struct awaiter {
    detail::task_header* t;
    detail::task_header* waiting = nullptr;  // the awaiting task, while registered as joiner
    bool join_registered = false;            // a pool task's join_waker is ours
    explicit awaiter(detail::task_header* joined) noexcept : t(joined) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    // Destroyed unresumed (its task cancelled): the finishing task must not wake it.
    ~awaiter() {
      if (waiting != nullptr && t->joiner == waiting) t->joiner = nullptr;
      if (join_registered) t->cancel_join();
    }
    /// Ready once the task finished, unless the awaiting task spent its budget (coop).
    [[nodiscard]] bool await_ready() const noexcept {
      return t->joinable_now() && detail::coop_proceed();
    }
    bool await_suspend(std::coroutine_handle<> caller) noexcept;
    T await_resume();
    static bool joined(const void* header) noexcept {
      return static_cast<const detail::task_header*>(header)->joinable_now();
    }
  };
  awaiter operator co_await() noexcept {
    FERRITE_ASSERT(t_ != nullptr, "rt::join_handle: co_await on an empty handle");
    return awaiter{t_};
  }

 private:
  friend class local_executor;
  friend class thread_pool;
  template <class U>
  friend join_handle<U> detail::spawn_on(detail::executor_base* ex, task<U> t);
  explicit join_handle(detail::task_header* t) noexcept : t_(t) {}
  detail::task_header* t_ = nullptr;
};

/// Spawns `t` on the executor driving this thread: a local_executor's (block_on, run_ready)
/// or the thread_pool whose worker this is (onto the worker's own queue).
/// Preconditions: called on a thread an executor is driving (FERRITE_ASSERT).
template <class T>
join_handle<T> spawn(task<T> t) {
  detail::executor_base* const ex = detail::current_executor();
  FERRITE_ASSERT(ex != nullptr, "rt::spawn: no executor is driving this thread");
  if (ex->kind == detail::executor_kind::local) {
    return static_cast<local_executor*>(ex)->spawn(std::move(t));
  }
  return detail::spawn_on(ex, std::move(t));
}

/// Awaitable: requeues the current task at the back of its executor's ready queue, so that
/// the other ready tasks run first.
struct yield_now {
  [[nodiscard]] bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> self) noexcept;
  void await_resume() const noexcept {}
};

/// A waker for the task being polled on this thread; waking it (from any thread) schedules the
/// task again. Preconditions: called inside a task polled by an executor (FERRITE_ASSERT).
waker current_waker();

}  // namespace ferrite::rt

#include "ferrite/rt/detail/executor_impl.hpp"
