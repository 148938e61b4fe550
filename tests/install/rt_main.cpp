// SPDX-License-Identifier: Apache-2.0
// The install test's runtime consumer: the names and shapes of issue 14's "API the outside
// world will use" that exist today, through the installed <ferrite/rt.hpp> and ferrite::rt:
// rt::task<T> / rt::task<>, rt::block_on(task), rt::local_executor ex; ex.block_on(task),
// rt::spawn(task) -> rt::join_handle<T> (co_await h gives T), rt::yield_now(), rt::waker,
// rt::current_waker(). Exits non-zero if a result is wrong.
#include <cstdio>
#include <ferrite/rt.hpp>
#include <utility>

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

}  // namespace

int main() {
  const int a = rt::block_on(spawner());
  rt::local_executor ex;
  const int b = ex.block_on(forty_two());
  const bool ok = a == 42 && b == 42;
  std::puts(ok ? "consumer_rt: rt works from this build tree or install" : "consumer_rt: FAILED");
  return ok ? 0 : 1;
}
