// SPDX-License-Identifier: Apache-2.0
// Timers: the timer driver's arm and cancel, 1M timers live at once (armed one after the
// other, then all cancelled), per timer; and one armed and cancelled at a time. The tokio
// peer (bench/peers/rust) measures the second shape: a sleep polled once, then dropped.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/timer_driver.hpp"

namespace {

namespace rt = ferrite::rt;
using namespace std::chrono_literals;

void timers_1m_armed_then_cancelled(benchmark::State& state) {
  constexpr std::size_t n = 1'000'000;
  rt::detail::timer_driver driver;
  auto entries = std::make_unique<rt::detail::timer_entry[]>(n);
  const rt::clock::time_point base = rt::clock::now() + 1h;
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      benchmark::DoNotOptimize(
          driver.arm(entries[i], base + std::chrono::microseconds(i * 37 % 3'600'000'000ULL), {}));
    }
    for (std::size_t i = 0; i < n; ++i) driver.disarm(entries[i]);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(timers_1m_armed_then_cancelled)
    ->Name("timers/1m_armed_then_cancelled")
    ->Unit(benchmark::kMillisecond);

void timer_arm_cancel(benchmark::State& state) {
  rt::detail::timer_driver driver;
  rt::detail::timer_entry e;
  const rt::clock::time_point at = rt::clock::now() + 1h;
  for (auto _ : state) {
    benchmark::DoNotOptimize(driver.arm(e, at, {}));
    driver.disarm(e);
  }
}
BENCHMARK(timer_arm_cancel)->Name("timers/arm_cancel_one");

}  // namespace
