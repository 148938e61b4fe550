// SPDX-License-Identifier: Apache-2.0
// thread_pool side by side with Asio's thread_pool (when libasio-dev is installed), 2 workers:
//   pool_spawn_join/ferrite   spawn a trivial task from a pool task and await its handle
//   pool_spawn_join/asio_co_spawn  co_spawn of a trivial awaitable onto asio::thread_pool,
//                             batches of 1,000 awaited through a countdown (per coroutine)
//   pool_spawn_join/asio_post post of a trivial handler onto asio::thread_pool (per handler,
//                             batches of 1,000): the floor of Asio's pool, not a coroutine
//   pool_chained_spawn/ferrite each task spawns the next (detached), the last wakes the
//                             waiter; per link, chains of 1,000 (tokio's chained_spawn)
//   yield/ferrite_pool, yield/ferrite_local  one yield_now round trip
// Timings are wall-clock (the work runs on the pool's threads).
#include <benchmark/benchmark.h>

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "ferrite/rt.hpp"

#if __has_include(<asio.hpp>)
#include <asio.hpp>
#define FERRITE_BENCH_HAVE_ASIO 1
#else
#define FERRITE_BENCH_HAVE_ASIO 0
#endif

namespace {

namespace rt = ferrite::rt;

constexpr std::size_t workers = 2;
constexpr int batch = 1'000;

rt::task<std::uint64_t> trivial(std::uint64_t v) { co_return v + 1; }

void ferrite_pool_spawn_join(benchmark::State& state) {
  rt::thread_pool pool(rt::pool_options{.workers = workers});
  pool.block_on([&]() -> rt::task<> {
    std::uint64_t v = 0;
    for (auto _ : state) {
      v = co_await rt::spawn(trivial(v));
      benchmark::DoNotOptimize(v);
    }
  }());
}
BENCHMARK(ferrite_pool_spawn_join)->Name("pool_spawn_join/ferrite")->UseRealTime();

rt::task<> link(int left, rt::notify& done) {
  if (left == 0) {
    done.notify_one();  // stores a permit if the waiter is not waiting yet
    co_return;
  }
  rt::spawn(link(left - 1, done)).detach();
}

void ferrite_pool_chained_spawn(benchmark::State& state) {
  rt::thread_pool pool(rt::pool_options{.workers = workers});
  for (auto _ : state) {
    rt::notify done;
    pool.block_on([](rt::notify& d) -> rt::task<> {
      rt::spawn(link(batch, d)).detach();
      co_await d.notified();
    }(done));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}
BENCHMARK(ferrite_pool_chained_spawn)->Name("pool_chained_spawn/ferrite")->UseRealTime();

void ferrite_pool_yield(benchmark::State& state) {
  rt::thread_pool pool(rt::pool_options{.workers = workers});
  pool.block_on([&]() -> rt::task<> {
    for (auto _ : state) co_await rt::yield_now();
  }());
}
BENCHMARK(ferrite_pool_yield)->Name("yield/ferrite_pool")->UseRealTime();

void ferrite_local_yield(benchmark::State& state) {
  rt::block_on([&]() -> rt::task<> {
    for (auto _ : state) co_await rt::yield_now();
  }());
}
BENCHMARK(ferrite_local_yield)->Name("yield/ferrite_local");

#if FERRITE_BENCH_HAVE_ASIO
asio::awaitable<std::uint64_t> asio_trivial(std::uint64_t v) { co_return v + 1; }

/// Counts a batch down; the benchmark thread waits on it (futex).
struct countdown {
  std::atomic<int> left{0};
  void arrive() {
    if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) left.notify_one();
  }
  void wait() {
    for (int v = left.load(std::memory_order_acquire); v != 0;
         v = left.load(std::memory_order_acquire)) {
      left.wait(v, std::memory_order_acquire);
    }
  }
};

void asio_pool_co_spawn(benchmark::State& state) {
  asio::thread_pool pool(workers);
  countdown c;
  std::atomic<std::uint64_t> v{0};
  for (auto _ : state) {
    c.left.store(batch, std::memory_order_relaxed);
    for (int i = 0; i < batch; ++i) {
      asio::co_spawn(pool, asio_trivial(1), [&](std::exception_ptr, std::uint64_t r) {
        v.fetch_add(r, std::memory_order_relaxed);
        c.arrive();
      });
    }
    c.wait();
  }
  benchmark::DoNotOptimize(v.load());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}
BENCHMARK(asio_pool_co_spawn)->Name("pool_spawn_join/asio_co_spawn")->UseRealTime();

void asio_pool_post(benchmark::State& state) {
  asio::thread_pool pool(workers);
  countdown c;
  for (auto _ : state) {
    c.left.store(batch, std::memory_order_relaxed);
    for (int i = 0; i < batch; ++i) asio::post(pool, [&] { c.arrive(); });
    c.wait();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
}
BENCHMARK(asio_pool_post)->Name("pool_spawn_join/asio_post")->UseRealTime();
#endif

}  // namespace
