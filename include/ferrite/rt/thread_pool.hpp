// SPDX-License-Identifier: Apache-2.0
// rt::thread_pool: a work-stealing executor with one worker thread per hardware thread (by
// default). Tasks spawned on it run on any worker and may move between workers at each
// suspension; a task woken by a task of the same worker runs next on that worker (the LIFO
// slot), so two tasks passing messages stay on one core and in its cache. Idle workers steal
// half of a busy worker's queue; at most half the workers search at once, and a parked worker
// is woken only when nobody is searching already (tokio's scheduler, in C++).
//
// ```cpp
// rt::thread_pool pool(rt::pool_options{.workers = 2});
// int v = pool.block_on([]() -> rt::task<int> {
//   rt::join_handle<int> a = rt::spawn(work(1));   // onto this worker's queue
//   rt::join_handle<int> b = rt::spawn(work(2));   // another worker may steal it
//   co_return co_await a + co_await b;
// }());
// ```
//
// When not to use it: a server that shards its state per core runs one local_executor per
// thread instead (no task ever migrates, no atomic on a wake); a task that blocks (a blocking
// syscall, a long computation) holds its worker: give it to spawn_blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

namespace ferrite::rt {

namespace detail {
class pool_core;
}

/// How a thread_pool is made.
struct pool_options {
  /// Worker threads; 0 means one per hardware thread (std::thread::hardware_concurrency()).
  std::size_t workers = 0;
};

/// Counters of one worker (approximate while the pool runs; exact once it is shut down).
struct worker_stats {
  std::uint64_t polls = 0;            ///< task polls
  std::uint64_t local_wakes = 0;      ///< wakes made by this worker's tasks (into its LIFO slot)
  std::uint64_t steals = 0;           ///< successful steals from another worker
  std::uint64_t stolen_tasks = 0;     ///< tasks those steals moved here
  std::uint64_t parks = 0;            ///< times it went to sleep
  std::uint64_t unparks = 0;          ///< times another thread woke it
  std::uint64_t injected = 0;         ///< tasks it took from the injection queue
  std::uint64_t lifo_hits = 0;        ///< polls taken from the LIFO slot
  std::uint64_t lifo_capped = 0;      ///< LIFO tasks sent to the queue's back by the cap
  std::uint64_t overflows = 0;        ///< times its full queue moved half to the injection queue
  std::uint64_t budget_yields = 0;    ///< polls that ended because the task spent its budget
  std::uint64_t max_queue_depth = 0;  ///< deepest its local queue was seen
};

/// A work-stealing pool of worker threads. Non-movable: tasks and wakers hold its core.
/// Destroying it shuts it down (see shutdown()).
class thread_pool {
 public:
  explicit thread_pool(pool_options options = {});
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  /// shutdown(), then frees the pool. Preconditions: not called from one of its workers.
  ~thread_pool();

  /// Starts `t` on the pool: onto the calling worker's queue when called from one of this
  /// pool's tasks, else onto the injection queue (a parked worker is woken). Any thread.
  /// After shutdown() the task is cancelled at once (its handle reports rt::cancelled).
  template <class T>
  join_handle<T> spawn(task<T> t) {
    return detail::spawn_on(core_executor(), std::move(t));
  }

  /// Runs `t` on the pool and blocks the calling thread until it finishes; returns its result
  /// or rethrows its exception. Preconditions: not called from inside a task (FERRITE_ASSERT).
  template <class T>
  T block_on(task<T> t);

  /// Stops accepting spawns, cancels every unfinished task at its next suspension (a running
  /// poll finishes first; frames are destroyed, their handles report rt::cancelled), and
  /// joins the workers. Idempotent. Preconditions: not called from one of its workers.
  void shutdown() noexcept;

  /// How many worker threads it runs.
  [[nodiscard]] std::size_t workers() const noexcept;
  /// Every worker's counters, in worker order.
  [[nodiscard]] std::vector<worker_stats> stats() const;
  /// Writes the task state machine as a Mermaid stateDiagram-v2, each transition annotated
  /// with how often the pool's tasks took it so far.
  void dump_state_machine(std::ostream& out) const;

  /// The pool whose worker this thread is, or null.
  [[nodiscard]] static thread_pool* current() noexcept;

 private:
  [[nodiscard]] detail::executor_base* core_executor() const noexcept;
  std::unique_ptr<detail::pool_core> core_;
};

template <class T>
T thread_pool::block_on(task<T> t) {
  FERRITE_ASSERT(detail::current_task() == nullptr,
                 "rt::thread_pool::block_on: called from inside a task (await it instead)");
  join_handle<T> h = spawn(std::move(t));
  detail::wait_until_complete(h.t_);
  typename join_handle<T>::awaiter result{h.t_};
  return result.await_resume();
}

/// Runs `t` on `pool` and blocks until it finishes (pool.block_on(t)).
template <class T>
T block_on(task<T> t, thread_pool& pool) {
  return pool.block_on(std::move(t));
}

}  // namespace ferrite::rt
