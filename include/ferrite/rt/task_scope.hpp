// SPDX-License-Identifier: Apache-2.0
// rt::task_scope: structured concurrency (tokio #1879's missing piece; Trio's nursery). Tasks
// spawned into a scope are its children; `co_await scope.join()` waits for all of them,
// including those spawned while it waits; the first child to throw cancels its siblings, and
// join() rethrows that exception once every child ended. So no child outlives the join.
//
// ```cpp
// rt::task_scope scope;
// for (auto& conn : conns) scope.spawn(serve(conn));
// co_await scope.join();   // every serve() ended; the first failure is rethrown here
// ```
//
// When not to use it: for a fixed set of tasks whose results you want, when_all is shorter.
// Warning: a scope destroyed without join() (an exception in its owner, say) cancels its
// children at their next suspension but cannot wait for them: join before leaving a scope
// whose children use the owner's locals.
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt {

class task_scope {
 public:
  task_scope() : state_(std::make_shared<state>()) {}
  task_scope(const task_scope&) = delete;
  task_scope& operator=(const task_scope&) = delete;
  /// Cancels the children still running (see the warning above).
  ~task_scope();

  /// Spawns `t` as a child on the current executor; its result is dropped, its exception
  /// fails the scope. Preconditions: on a thread an executor drives.
  template <class T>
  void spawn(task<T> t) {
    join_handle<void> h = rt::spawn(run_child(state_, std::move(t)));
    std::lock_guard guard(state_->lock);
    state_->children.push_back(std::move(h));
  }

  /// Waits for every child; rethrows the first child's exception. Await it once.
  task<> join();

  /// Cancels every child that has not finished (at its next suspension point).
  void cancel() noexcept;

  /// Children spawned so far (finished or not).
  [[nodiscard]] std::size_t size() const;

 private:
  struct state {
    mutable sync::spin_mutex lock;
    std::deque<join_handle<void>> children;  // stable addresses while more are spawned
    std::exception_ptr first_failure;
    void fail(std::exception_ptr e) noexcept;
  };

  template <class T>
  static task<> run_child(std::shared_ptr<state> st, task<T> t) {
    try {
      co_await std::move(t);
    } catch (...) {
      st->fail(std::current_exception());
    }
  }

  std::shared_ptr<state> state_;
};

}  // namespace ferrite::rt
