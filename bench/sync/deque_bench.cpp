// SPDX-License-Identifier: Apache-2.0
// Work-stealing deque benchmarks: ferrite's ws_deque (Chase-Lev) against the reference point
// every scheduler starts from, a std::deque behind a lock (std::mutex, and ferrite's
// spin_mutex). No installed library offers a public Chase-Lev deque to compare with (oneTBB's
// task deques are internal; Boost, moodycamel and libcds have none), so the locked deques are
// the peers: they say what the lock-free owner path and the one-CAS steal buy.
//
// Workloads, items/s:
//   deque/owner_burst     one thread: push 1024 elements, pop them all (LIFO), repeat
//   deque/owner_pair      one thread: push one, pop it (the pop of the last element takes
//                         ws_deque's slow path: the seq_cst fence and a CAS on top)
//   deque/push_1thief     the owner pushes items_per_run while one thief steals them all; the run
//                         (release to join) is manual time, as in queue_bench.cpp
// Run with --benchmark_repetitions=5 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/spin_mutex.hpp"
#include "ferrite/sync/ws_deque.hpp"

namespace {

using u64 = std::uint64_t;

/// Items one push_1thief run moves.
constexpr u64 items_per_run = 1'000'000;
/// Elements per owner_burst round.
constexpr u64 burst_size = 1024;

// ---- adapters: push/pop for the owner, steal for thieves -------------------------------------

struct ferrite_ws {
  ferrite::sync::ws_deque<u64> d{64};
  void push(u64 v) { d.push(v); }
  bool pop(u64& v) {
    std::optional<u64> r = d.pop();
    if (!r) return false;
    v = *r;
    return true;
  }
  bool steal(u64& v) {
    ferrite::sync::steal_result<u64> r = d.steal();
    if (!r.is_success()) return false;
    v = r.value();
    return true;
  }
};

template <class Mutex>
struct locked_deque {
  Mutex m;
  std::deque<u64> d;
  void push(u64 v) {
    std::scoped_lock lock(m);
    d.push_back(v);
  }
  bool pop(u64& v) {
    std::scoped_lock lock(m);
    if (d.empty()) return false;
    v = d.back();
    d.pop_back();
    return true;
  }
  bool steal(u64& v) {
    std::scoped_lock lock(m);
    if (d.empty()) return false;
    v = d.front();
    d.pop_front();
    return true;
  }
};

using mutex_deque = locked_deque<std::mutex>;
using spin_deque = locked_deque<ferrite::sync::spin_mutex>;

// ---- workloads -----------------------------------------------------------------------------

template <class A>
void owner_burst(benchmark::State& state) {
  auto a = std::make_unique<A>();
  u64 sum = 0;
  for (auto _ : state) {
    for (u64 i = 0; i < burst_size; ++i) a->push(i);
    u64 v = 0;
    while (a->pop(v)) sum += v;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(burst_size));
}

template <class A>
void owner_pair(benchmark::State& state) {
  auto a = std::make_unique<A>();
  u64 sum = 0;
  u64 i = 0;
  for (auto _ : state) {
    a->push(++i);
    u64 v = 0;
    if (a->pop(v)) sum += v;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

/// The owner pushes 1..items_per_run; one thief steals until it has all of them (pausing, then
/// yielding, on empty or retry). The thief's sum checks that nothing was lost or duplicated.
template <class A>
void push_1thief(benchmark::State& state) {
  for (auto _ : state) {
    auto a = std::make_unique<A>();
    std::atomic<bool> go{false};
    u64 sum = 0;
    std::thread thief([&] {
      while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
      unsigned failures = 0;
      for (u64 got = 0; got < items_per_run;) {
        u64 v = 0;
        if (a->steal(v)) {
          sum += v;
          ++got;
          failures = 0;
        } else if (++failures < 64) {
          ferrite::spin_hint();
        } else {
          std::this_thread::yield();
        }
      }
    });
    const auto start = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (u64 v = 1; v <= items_per_run; ++v) a->push(v);
    thief.join();
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    if (sum != items_per_run * (items_per_run + 1) / 2) {
      state.SkipWithError("items lost or duplicated");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(items_per_run));
}

template <class A>
void add(const char* name) {
  const std::string n(name);
  benchmark::RegisterBenchmark(("deque/owner_burst/" + n).c_str(), owner_burst<A>);
  benchmark::RegisterBenchmark(("deque/owner_pair/" + n).c_str(), owner_pair<A>);
  benchmark::RegisterBenchmark(("deque/push_1thief/" + n).c_str(), push_1thief<A>)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(0.2);
}

[[maybe_unused]] const bool registered = [] {
  add<ferrite_ws>("ferrite_ws_deque");
  add<mutex_deque>("std_mutex_deque");
  add<spin_deque>("spin_mutex_deque");
  return true;
}();

}  // namespace
