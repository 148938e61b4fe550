// SPDX-License-Identifier: Apache-2.0
// What a metric increment costs, side by side: a ferrite counter add (1 and 2 threads: each
// thread writes its own slot, so the time per add should not grow with threads), one shared
// relaxed fetch_add (1 and 2 threads: the contended cache line it replaces), a thread-local
// plain u64 increment (the floor, register-addressed as in a hot loop, and %fs-addressed),
// and the FERRITE_METRICS=0 counter against an empty loop (the two must cost the same: the
// disabled add compiles to nothing). Also a histogram record and a registry snapshot.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/metrics.hpp"

namespace {

namespace fm = ferrite::metrics;

fm::counter g_counter{"bench.metrics.counter", "increments by the counter benchmark"};
fm::histogram g_histogram{"bench.metrics.histogram", "samples of the histogram benchmark"};
ferrite::atomic<std::uint64_t> g_shared{0};
thread_local std::uint64_t t_plain = 0;
// The empty type, named explicitly (this unit is built with the project's FERRITE_METRICS).
constinit fm::disabled_v1::counter g_disabled{"bench.metrics.disabled"};

void BM_metrics_counter_add(benchmark::State& state) {
  for (auto _ : state) g_counter.add();
}
BENCHMARK(BM_metrics_counter_add)->Threads(1)->Threads(2);

void BM_metrics_shared_fetch_add(benchmark::State& state) {
  for (auto _ : state) {
    // ORDERING: relaxed, as a naive shared counter would be; nothing pairs with it.
    g_shared.fetch_add(1, std::memory_order_relaxed);
  }
}
BENCHMARK(BM_metrics_shared_fetch_add)->Threads(1)->Threads(2);

// The floor: a plain increment of this thread's own u64, through its address (as a hot
// loop holds it), kept in memory each iteration by the clobber.
void BM_metrics_thread_local_increment(benchmark::State& state) {
  std::uint64_t* mine = &t_plain;
  benchmark::DoNotOptimize(mine);  // the compiler forgets it is t_plain: register-addressed
  for (auto _ : state) {
    ++*mine;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_metrics_thread_local_increment)->Threads(1)->Threads(2);

// The same, addressed %fs-relative every iteration (one memory-destination add): slower on
// some cores, which rename memory only for register-addressed accesses.
void BM_metrics_thread_local_fs_increment(benchmark::State& state) {
  for (auto _ : state) {
    ++t_plain;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_metrics_thread_local_fs_increment)->Threads(1)->Threads(2);

void BM_metrics_disabled_counter_add(benchmark::State& state) {
  for (auto _ : state) g_disabled.add();
}
BENCHMARK(BM_metrics_disabled_counter_add);

void BM_metrics_empty_loop(benchmark::State& state) {
  for (auto _ : state) {
  }
}
BENCHMARK(BM_metrics_empty_loop);

void BM_metrics_histogram_record(benchmark::State& state) {
  std::uint64_t v = 1;
  for (auto _ : state) {
    g_histogram.record(v);
    v = v * 3 + 1;  // spread over the buckets
  }
}
BENCHMARK(BM_metrics_histogram_record)->Threads(1)->Threads(2);

void BM_metrics_take_snapshot(benchmark::State& state) {
  g_counter.add();
  for (auto _ : state) benchmark::DoNotOptimize(fm::take_snapshot("bench.metrics."));
}
BENCHMARK(BM_metrics_take_snapshot);

}  // namespace
