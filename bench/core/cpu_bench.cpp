// SPDX-License-Identifier: Apache-2.0
// The cost of reading time and of spinning, side by side: the three TSC reads (unordered,
// lfence-ordered, rdtscp-ordered), cycle_clock::now and its conversion, steady_clock::now
// (the vDSO clock_gettime it replaces) and the pause hint. Each iteration is one call, so a
// row's time is that call's cost in a tight loop, back-to-back dependent on nothing; ordered
// reads also pay for draining the pipeline they wait on.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "ferrite/core/cpu.hpp"

namespace {

// rdtscp() raises #UD on an x86-64 CPU without the instruction; elsewhere it falls back.
bool rdtscp_available(benchmark::State& state) {
#if FERRITE_ARCH_X86_64
  if (!ferrite::cpu_features().rdtscp) {
    state.SkipWithError("no rdtscp on this CPU");
    return false;
  }
#endif
  static_cast<void>(state);
  return true;
}

void BM_rdtsc_unordered(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ferrite::rdtsc_unordered());
}
BENCHMARK(BM_rdtsc_unordered);

void BM_rdtsc(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ferrite::rdtsc());
}
BENCHMARK(BM_rdtsc);

void BM_rdtscp(benchmark::State& state) {
  if (!rdtscp_available(state)) return;
  for (auto _ : state) benchmark::DoNotOptimize(ferrite::rdtscp());
}
BENCHMARK(BM_rdtscp);

void BM_rdtscp_aux(benchmark::State& state) {
  if (!rdtscp_available(state)) return;
  for (auto _ : state) benchmark::DoNotOptimize(ferrite::rdtscp_aux());
}
BENCHMARK(BM_rdtscp_aux);

void BM_cycle_clock_now(benchmark::State& state) {
  static_cast<void>(ferrite::cycle_clock::is_invariant());  // cpuid outside the loop
  for (auto _ : state) benchmark::DoNotOptimize(ferrite::cycle_clock::now());
  state.SetLabel(ferrite::cycle_clock::is_invariant() ? "tsc" : "steady_clock");
}
BENCHMARK(BM_cycle_clock_now);

void BM_cycle_clock_to_nanoseconds(benchmark::State& state) {
  static_cast<void>(ferrite::cycle_clock::ticks_per_second());  // calibrate outside the loop
  std::uint64_t ticks = 123'456'789;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ticks);
    benchmark::DoNotOptimize(ferrite::cycle_clock::to_nanoseconds(ticks));
  }
}
BENCHMARK(BM_cycle_clock_to_nanoseconds);

void BM_steady_clock_now(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_steady_clock_now);

void BM_pause(benchmark::State& state) {
  for (auto _ : state) ferrite::pause();
}
BENCHMARK(BM_pause);

}  // namespace
