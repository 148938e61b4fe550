// SPDX-License-Identifier: Apache-2.0
// ferrite rt: the coroutine runtime. Today: task<T>, a lazy coroutine whose nested
// co_awaits run inline by symmetric transfer in constant stack, with frames from a recycling
// per-thread allocator (no operator new in steady state); local_executor with spawn and
// join_handle (await, detach, abort), yield_now and wakers that wake a task from any thread;
// and block_on, which drives a task from synchronous code. The thread pool, timers, channels
// and async locks are being built on these (docs/rt.md says what is there).
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
// cheaper for code that never waits.
#pragma once

#include "ferrite/rt/async_mutex.hpp"
#include "ferrite/rt/async_semaphore.hpp"
#include "ferrite/rt/block_on.hpp"
#include "ferrite/rt/channel.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/frame_allocator.hpp"
#include "ferrite/rt/notify.hpp"
#include "ferrite/rt/oneshot.hpp"
#include "ferrite/rt/sync_error.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/rt/watch.hpp"
