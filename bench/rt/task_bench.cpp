// SPDX-License-Identifier: Apache-2.0
// rt side by side with Asio (when libasio-dev is installed), one thread:
//   task/nested_await/N      one co_await level of a chain of N tasks (per level)
//   spawn_join/ferrite       spawn a trivial task on the local executor and await its
//                            handle, inside one block_on (per spawn)
//   spawn_join/asio_co_spawn co_spawn of a trivial awaitable, run to completion by
//                            io_context::run (per coroutine, batches of 1,000)
//   spawn_join/asio_post     post of a trivial handler (per handler, batches of 1,000): the
//                            floor of Asio's executor, not a coroutine
//   block_on/ferrite         block_on of a trivial task: a fresh executor per call
#include <benchmark/benchmark.h>

#include <cstdint>

#include "ferrite/rt/block_on.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

#if __has_include(<asio.hpp>)
#include <asio.hpp>
#define FERRITE_BENCH_HAVE_ASIO 1
#else
#define FERRITE_BENCH_HAVE_ASIO 0
#endif

namespace {

namespace rt = ferrite::rt;

rt::task<std::uint64_t> trivial(std::uint64_t v) { co_return v + 1; }

rt::task<std::uint64_t> chain(std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return co_await chain(depth - 1) + 1;
}

void ferrite_block_on(benchmark::State& state) {
  std::uint64_t v = 0;
  for (auto _ : state) {
    v = rt::block_on(trivial(v));
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(ferrite_block_on)->Name("block_on/ferrite");

void ferrite_spawn_join(benchmark::State& state) {
  rt::local_executor ex;
  ex.block_on([&]() -> rt::task<> {
    std::uint64_t v = 0;
    for (auto _ : state) {
      v = co_await rt::spawn(trivial(v));
      benchmark::DoNotOptimize(v);
    }
  }());
}
BENCHMARK(ferrite_spawn_join)->Name("spawn_join/ferrite");

void ferrite_nested_await(benchmark::State& state) {
  const auto depth = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(rt::block_on(chain(depth)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(ferrite_nested_await)->Name("task/nested_await/ferrite")->Arg(64)->Arg(4096);

#if FERRITE_BENCH_HAVE_ASIO
asio::awaitable<std::uint64_t> asio_trivial(std::uint64_t v) { co_return v + 1; }

asio::awaitable<std::uint64_t> asio_chain(std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return co_await asio_chain(depth - 1) + 1;
}

constexpr int asio_batch = 1'000;

void asio_co_spawn_batch(benchmark::State& state) {
  asio::io_context io;
  std::uint64_t v = 0;
  for (auto _ : state) {
    for (int i = 0; i < asio_batch; ++i) {
      asio::co_spawn(io, asio_trivial(v), [&](std::exception_ptr, std::uint64_t r) { v = r; });
    }
    io.run();
    io.restart();
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * asio_batch);
}
BENCHMARK(asio_co_spawn_batch)->Name("spawn_join/asio_co_spawn");

void asio_post_batch(benchmark::State& state) {
  asio::io_context io;
  std::uint64_t v = 0;
  for (auto _ : state) {
    for (int i = 0; i < asio_batch; ++i) asio::post(io, [&] { ++v; });
    io.run();
    io.restart();
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * asio_batch);
}
BENCHMARK(asio_post_batch)->Name("spawn_join/asio_post");

void asio_nested_await(benchmark::State& state) {
  const auto depth = static_cast<std::uint64_t>(state.range(0));
  asio::io_context io;
  std::uint64_t v = 0;
  for (auto _ : state) {
    asio::co_spawn(io, asio_chain(depth), [&](std::exception_ptr, std::uint64_t r) { v = r; });
    io.run();
    io.restart();
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(asio_nested_await)->Name("task/nested_await/asio")->Arg(64)->Arg(4096);
#endif

}  // namespace
