// SPDX-License-Identifier: Apache-2.0
// ferrite rt: the coroutine runtime. task<T> is a lazy coroutine whose nested co_awaits run
// inline by symmetric transfer in constant stack, with frames from a recycling per-thread
// allocator (no operator new in steady state). Two executors run tasks: local_executor (one
// thread, no atomic RMW on a local spawn or wake) and thread_pool (work stealing with a LIFO
// slot, a cooperative budget and tokio's searching/parking protocol); spawn gives a
// join_handle (await, detach, abort), block_on drives a task from synchronous code, wakers
// wake a task from any thread, spawn_blocking runs blocking calls on their own threads.
// Timers (sleep_for, sleep_until, interval, timeout) come from a timer wheel per executor,
// on rt::clock, which tests pause. when_all, when_any and task_scope compose tasks without
// letting any outlive its parent. docs/rt.md has the diagrams and the measurements.
//
// ```cpp
// #include <ferrite/rt.hpp>
// namespace rt = ferrite::rt;
//
// rt::task<int> parse(std::string_view s) { co_return static_cast<int>(s.size()); }
// rt::task<int> total() {
//   int a = co_await parse("GET");                      // runs parse inline
//   rt::join_handle<int> b = rt::spawn(parse("key"));   // runs when this task suspends
//   co_await rt::yield_now();
//   co_return a + co_await b;
// }
// int main() { return rt::block_on(total()) == 6 ? 0 : 1; }
// ```
//
// When not to use it: a task is the unit of asynchronous work; a plain function call is
// cheaper for code that never waits, and a blocking call belongs in spawn_blocking, not in a
// task (it holds the executor's thread).
#pragma once

#include "ferrite/rt/async_mutex.hpp"
#include "ferrite/rt/async_semaphore.hpp"
#include "ferrite/rt/block_on.hpp"
#include "ferrite/rt/channel.hpp"
#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/frame_allocator.hpp"
#include "ferrite/rt/notify.hpp"
#include "ferrite/rt/oneshot.hpp"
#include "ferrite/rt/spawn_blocking.hpp"
#include "ferrite/rt/sync_error.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/rt/task_scope.hpp"
#include "ferrite/rt/thread_pool.hpp"
#include "ferrite/rt/time.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/rt/watch.hpp"
#include "ferrite/rt/when_all.hpp"
#include "ferrite/rt/when_any.hpp"
