// SPDX-License-Identifier: Apache-2.0
// rt::spawn_blocking(fn): runs a blocking call (a file read, a DNS lookup, a long computation)
// on a separate, bounded pool of threads, so it holds no executor's thread, and returns a
// join_handle for its result (tokio's spawn_blocking). Threads are started on demand, up to
// blocking_pool_max_threads, and leave after 10 s without work.
//
// ```cpp
// rt::task<std::string> load(std::string path) {
//   co_return co_await rt::spawn_blocking([path] { return read_whole_file(path); });
// }
// ```
//
// When not to use it: for work that never blocks, spawn (a task) is much cheaper; a call that
// blocks forever holds one of the pool's threads forever (abort() cannot interrupt a call
// that already started; it only cancels one still queued).
#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

namespace ferrite::rt {

/// The most threads the blocking pool runs at once; further calls queue (FIFO).
inline constexpr std::size_t blocking_pool_max_threads = 64;

namespace detail {
/// The blocking call as a task that never suspends: polled once, it runs `fn` to its end.
template <class F, class R = std::invoke_result_t<F&>>
task<R> run_blocking(F fn) {
  if constexpr (std::is_void_v<R>) {
    std::invoke(fn);
    co_return;
  } else {
    co_return std::invoke(fn);
  }
}
}  // namespace detail

/// Runs `fn()` on the blocking pool; the handle gives its result (or rethrows its exception).
/// Callable from any thread, inside a task or not. `fn` is moved to the pool's thread.
/// Warning: a thread that cannot be started (the system is out of threads) terminates the
/// process; at exit the pool waits for the calls still running.
template <class F>
  requires std::is_invocable_v<std::decay_t<F>&>
join_handle<std::invoke_result_t<std::decay_t<F>&>> spawn_blocking(F&& fn) {
  return detail::spawn_on(detail::blocking_executor(),
                          detail::run_blocking(std::decay_t<F>(std::forward<F>(fn))));
}

}  // namespace ferrite::rt
