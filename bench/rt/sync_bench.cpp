// SPDX-License-Identifier: Apache-2.0
// The runtime's synchronization primitives side by side with their peers, one thread:
//   mutex/uncontended/ferrite      co_await m.lock() and the guard's unlock, in a task
//   mutex/uncontended/std_mutex    std::mutex lock + unlock (Asio has no async mutex, #935),
//                                  in a process that has started a thread (see below)
//   mutex/uncontended/spin_mutex   sync::spin_mutex lock + unlock, the floor of a lock
//   channel/ping_pong/ferrite      one round trip between two tasks on the local executor
//                                  through two rt::channel<int>(1) (per round trip)
//   channel/ping_pong/asio         the same with asio::experimental::channel (Asio 1.22) and
//                                  two coroutines on one io_context
//   oneshot/ferrite                rt::oneshot<int>(): create, send, co_await in a task
//   oneshot/std_promise            std::promise<int> / std::future<int>: create, set, get
//   notify/one_then_wait/ferrite   notify_one (stores the permit), then notified() takes it
#include <benchmark/benchmark.h>

#include <cstdint>
#include <future>
#include <mutex>
#include <thread>

#include "ferrite/rt/async_mutex.hpp"
#include "ferrite/rt/channel.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/notify.hpp"
#include "ferrite/rt/oneshot.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/rt/thread_pool.hpp"
#include "ferrite/sync/spin_mutex.hpp"

#if __has_include(<asio.hpp>) && __has_include(<asio/experimental/channel.hpp>)
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/channel.hpp>
#define FERRITE_BENCH_HAVE_ASIO_CHANNEL 1
#else
#define FERRITE_BENCH_HAVE_ASIO_CHANNEL 0
#endif

namespace {

namespace rt = ferrite::rt;

// glibc elides the lock prefix of its mutexes while a process has never created a thread
// (x86 lowlevellock), which no server is; one thread created and joined before main makes
// std::mutex pay for its atomics as it does in a real program.
[[maybe_unused]] const bool process_is_multithreaded = [] {
  std::thread([] {}).join();
  return true;
}();

void ferrite_mutex_uncontended(benchmark::State& state) {
  rt::async_mutex m;
  std::uint64_t n = 0;
  rt::block_on([&]() -> rt::task<> {
    for (auto _ : state) {
      rt::async_mutex::guard g = co_await m.lock();
      benchmark::DoNotOptimize(++n);
    }
  }());
}
BENCHMARK(ferrite_mutex_uncontended)->Name("mutex/uncontended/ferrite");

void std_mutex_uncontended(benchmark::State& state) {
  std::mutex m;
  std::uint64_t n = 0;
  for (auto _ : state) {
    std::lock_guard g(m);
    benchmark::DoNotOptimize(++n);
  }
}
BENCHMARK(std_mutex_uncontended)->Name("mutex/uncontended/std_mutex");

void spin_mutex_uncontended(benchmark::State& state) {
  ferrite::sync::spin_mutex m;
  std::uint64_t n = 0;
  for (auto _ : state) {
    std::lock_guard g(m);
    benchmark::DoNotOptimize(++n);
  }
}
BENCHMARK(spin_mutex_uncontended)->Name("mutex/uncontended/spin_mutex");

void ferrite_channel_ping_pong(benchmark::State& state) {
  auto [ping_tx, ping_rx] = rt::channel<int>(1);
  auto [pong_tx, pong_rx] = rt::channel<int>(1);
  // Named: a coroutine lambda's captures live in the closure, which must outlive the task.
  auto echo = [&]() -> rt::task<> {
    while (auto v = co_await ping_rx.recv()) {
      if (!co_await pong_tx.send(*v + 1)) break;
    }
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> peer = rt::spawn(echo());
    int v = 0;
    for (auto _ : state) {
      static_cast<void>(co_await ping_tx.send(v));
      v = (co_await pong_rx.recv()).value_or(0);
      benchmark::DoNotOptimize(v);
    }
    ping_tx.close();
    co_await peer;
  }());
}
BENCHMARK(ferrite_channel_ping_pong)->Name("channel/ping_pong/ferrite");

// The same between two tasks on a 2-worker pool (the LIFO slot keeps the pair on one worker,
// as tokio's multi_thread does), and between two local executors on two threads (every message
// wakes the other thread: the cross-thread round trip, tokio's ping_pong/cross_thread).
void ferrite_channel_ping_pong_pool(benchmark::State& state) {
  auto [ping_tx, ping_rx] = rt::channel<int>(1);
  auto [pong_tx, pong_rx] = rt::channel<int>(1);
  auto echo = [&]() -> rt::task<> {
    while (auto v = co_await ping_rx.recv()) {
      if (!co_await pong_tx.send(*v + 1)) break;
    }
  };
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  pool.block_on([&]() -> rt::task<> {
    rt::join_handle<void> peer = rt::spawn(echo());
    int v = 0;
    for (auto _ : state) {
      static_cast<void>(co_await ping_tx.send(v));
      v = (co_await pong_rx.recv()).value_or(0);
      benchmark::DoNotOptimize(v);
    }
    ping_tx.close();
    co_await peer;
  }());
}
BENCHMARK(ferrite_channel_ping_pong_pool)->Name("channel/ping_pong/ferrite_pool")->UseRealTime();

void ferrite_channel_ping_pong_cross_thread(benchmark::State& state) {
  auto [ping_tx, ping_rx] = rt::channel<int>(1);
  auto [pong_tx, pong_rx] = rt::channel<int>(1);
  std::thread other([&, rx = ping_rx, tx = pong_tx]() mutable {
    rt::block_on([](rt::receiver<int>& in, rt::sender<int>& out) -> rt::task<> {
      while (auto v = co_await in.recv()) {
        if (!co_await out.send(*v + 1)) break;
      }
    }(rx, tx));
  });
  ping_rx = {};
  pong_tx = {};
  rt::block_on([&]() -> rt::task<> {
    int v = 0;
    for (auto _ : state) {
      static_cast<void>(co_await ping_tx.send(v));
      v = (co_await pong_rx.recv()).value_or(0);
      benchmark::DoNotOptimize(v);
    }
    ping_tx.close();
  }());
  other.join();
}
BENCHMARK(ferrite_channel_ping_pong_cross_thread)
    ->Name("channel/ping_pong/ferrite_cross_thread")
    ->UseRealTime();

void ferrite_oneshot(benchmark::State& state) {
  rt::block_on([&]() -> rt::task<> {
    int v = 0;
    for (auto _ : state) {
      auto [tx, rx] = rt::oneshot<int>();
      static_cast<void>(tx.send(v + 1));
      v = (co_await std::move(rx)).value_or(0);
      benchmark::DoNotOptimize(v);
    }
  }());
}
BENCHMARK(ferrite_oneshot)->Name("oneshot/ferrite");

void std_promise(benchmark::State& state) {
  int v = 0;
  for (auto _ : state) {
    std::promise<int> p;
    std::future<int> f = p.get_future();
    p.set_value(v + 1);
    v = f.get();
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(std_promise)->Name("oneshot/std_promise");

void ferrite_notify(benchmark::State& state) {
  rt::notify n;
  rt::block_on([&]() -> rt::task<> {
    for (auto _ : state) {
      n.notify_one();
      co_await n.notified();
    }
  }());
}
BENCHMARK(ferrite_notify)->Name("notify/one_then_wait/ferrite");

#if FERRITE_BENCH_HAVE_ASIO_CHANNEL
using asio_channel = asio::experimental::channel<void(asio::error_code, int)>;

asio::awaitable<void> asio_echo(asio_channel& ping, asio_channel& pong) {
  for (;;) {
    auto [ec, v] = co_await ping.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    co_await pong.async_send(asio::error_code{}, v + 1, asio::use_awaitable);
  }
}

asio::awaitable<void> asio_driver(benchmark::State& state, asio_channel& ping, asio_channel& pong) {
  int v = 0;
  for (auto _ : state) {
    co_await ping.async_send(asio::error_code{}, v, asio::use_awaitable);
    v = co_await pong.async_receive(asio::use_awaitable);
    benchmark::DoNotOptimize(v);
  }
  ping.close();
}

void asio_channel_ping_pong(benchmark::State& state) {
  asio::io_context io;
  asio_channel ping(io, 1);
  asio_channel pong(io, 1);
  asio::co_spawn(io, asio_echo(ping, pong), asio::detached);
  asio::co_spawn(io, asio_driver(state, ping, pong), asio::detached);
  io.run();
}
BENCHMARK(asio_channel_ping_pong)->Name("channel/ping_pong/asio");
#endif

}  // namespace
