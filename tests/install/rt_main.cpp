// SPDX-License-Identifier: Apache-2.0
// The install test's runtime consumer: the names and shapes of issue 14's "API the outside
// world will use" that exist today, through the installed <ferrite/rt.hpp> and ferrite::rt:
// rt::task<T> / rt::task<>, rt::block_on(task), rt::local_executor ex; ex.block_on(task),
// rt::spawn(task) -> rt::join_handle<T> (co_await h gives T), rt::yield_now(), rt::waker,
// rt::current_waker(); rt::thread_pool pool(rt::pool_options{.workers = N}), pool.spawn,
// rt::block_on(task, pool), rt::spawn_blocking(fn), rt::sleep_for / rt::sleep_until,
// rt::timeout(d, task) -> std::expected<T, rt::timed_out>, rt::when_all (a tuple),
// rt::when_any (a variant whose index() is the winner), rt::task_scope (spawn, join).
// Exits non-zero if a result is wrong.
#include <chrono>
#include <cstdio>
#include <expected>
#include <ferrite/rt.hpp>
#include <utility>
#include <variant>

namespace rt = ferrite::rt;

namespace {

rt::task<int> forty_two() { co_return 42; }

rt::task<> nothing() { co_return; }

rt::task<int> spawner() {
  rt::join_handle<int> h = rt::spawn(forty_two());
  co_await rt::yield_now();
  co_await nothing();
  rt::waker w = rt::current_waker();
  const bool have_waker = !w.empty();
  const int v = co_await h;
  co_return have_waker ? v : -1;
}

rt::task<int> composed() {
  using namespace std::chrono_literals;
  auto [x, y] = co_await rt::when_all(forty_two(), nothing());
  static_cast<void>(y);
  std::variant<int, std::monostate> first = co_await rt::when_any(forty_two(), nothing());
  std::expected<int, rt::timed_out> in_time = co_await rt::timeout(1h, forty_two());
  co_await rt::sleep_for(1ms);
  co_await rt::sleep_until(rt::clock::now());
  const int blocking = co_await rt::spawn_blocking([] { return 42; });
  rt::task_scope scope;
  scope.spawn(nothing());
  co_await scope.join();
  const bool ok = x == 42 && (first.index() == 0 || first.index() == 1) &&
                  in_time.value_or(0) == 42 && blocking == 42;
  co_return ok ? 42 : -1;
}

}  // namespace

int main() {
  const int a = rt::block_on(spawner());
  rt::local_executor ex;
  const int b = ex.block_on(forty_two());
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  rt::join_handle<int> h = pool.spawn(forty_two());
  const int c = rt::block_on(composed(), pool);
  const int d =
      pool.block_on([](rt::join_handle<int>& j) -> rt::task<int> { co_return co_await j; }(h));
  const bool ok = a == 42 && b == 42 && c == 42 && d == 42;
  std::puts(ok ? "consumer_rt: rt works from this build tree or install" : "consumer_rt: FAILED");
  return ok ? 0 : 1;
}
