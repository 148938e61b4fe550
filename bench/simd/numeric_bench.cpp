// SPDX-License-Identifier: Apache-2.0
// dot, sum and axpy side by side with the plain loop (-O3 -march=native), Highway and xsimd,
// in L1 (n = 1024: two 4 KiB float arrays) and out of L2 (n = 4M: two 16 MiB arrays), with
// the physical limits in the same run: the L1 limit of a dot product, two loads per FMA
// (16 float pairs per cycle with AVX-512, 8 with AVX2; half that in doubles) at the core
// clock measured by a chain of dependent adds; and out of cache, the streaming-read
// bandwidth over the same 32 MiB, as bytes/s and as the dot product's FLOP/s at 8 bytes per
// two FLOP. Every row reports FLOP/s (2 per element for dot and axpy, 1 for sum).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <span>

#include "ferrite/simd/numeric.hpp"
#include "peers.hpp"
#include "simd_bench_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_bench::kernels;
using simd_bench::values;

enum class impl { ferrite, ferrite_avx2, ferrite_scalar, plain, highway, xsimd };

constexpr std::int64_t l1_length = 1024;
constexpr std::int64_t memory_length = std::int64_t{1} << 22;

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOP/s"] = benchmark::Counter(
      flops_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// The dot product of `which`, or nullptr (row skipped) when it cannot run here.
template <class T>
auto dot_of(benchmark::State& state, impl which) -> T (*)(const T*, const T*, std::size_t) {
  using fn = T (*)(const T*, const T*, std::size_t);
  const auto table = [&](simd::target t) -> fn {
    const simd::detail::kernel_table* k = kernels(state, t);
    if (k == nullptr) return nullptr;
    if constexpr (sizeof(T) == 4)
      return k->dot_f32;
    else
      return k->dot_f64;
  };
  switch (which) {
    case impl::ferrite:
      return [](const T* a, const T* b, std::size_t n) {
        return simd::dot(std::span<const T>(a, n), std::span<const T>(b, n));
      };
    case impl::ferrite_avx2: return table(simd::target::avx2);
    case impl::ferrite_scalar: return table(simd::target::scalar);
    case impl::plain:
      return [](const T* a, const T* b, std::size_t n) { return peers::plain_dot(a, b, n); };
    case impl::highway:
      if (!peers::have_highway) state.SkipWithError("Highway not installed");
      return [](const T* a, const T* b, std::size_t n) { return peers::highway_dot(a, b, n); };
    case impl::xsimd:
      if (!peers::have_xsimd) state.SkipWithError("xsimd not installed");
      return [](const T* a, const T* b, std::size_t n) { return peers::xsimd_dot(a, b, n); };
  }
  return nullptr;
}

template <class T>
void run_dot(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto dot = dot_of<T>(state, which);
  if (dot == nullptr || state.error_occurred()) return;
  const T* a = values<T>(n, 1);
  const T* b = values<T>(n, 2);
  for (auto _ : state) benchmark::DoNotOptimize(dot(a, b, n));
  set_flops(state, 2.0 * static_cast<double>(n));
  simd_bench::set_bytes(state, 2 * n * sizeof(T));
}

void BM_dot_f32(benchmark::State& state, impl which) { run_dot<float>(state, which); }
void BM_dot_f64(benchmark::State& state, impl which) { run_dot<double>(state, which); }

void both_lengths(benchmark::internal::Benchmark* b) { b->Arg(l1_length)->Arg(memory_length); }

BENCHMARK_CAPTURE(BM_dot_f32, ferrite, impl::ferrite)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f32, ferrite_avx2, impl::ferrite_avx2)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f32, ferrite_scalar, impl::ferrite_scalar)->Arg(l1_length);
BENCHMARK_CAPTURE(BM_dot_f32, plain_loop, impl::plain)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f32, highway, impl::highway)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f32, xsimd, impl::xsimd)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f64, ferrite, impl::ferrite)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f64, ferrite_avx2, impl::ferrite_avx2)->Arg(l1_length);
BENCHMARK_CAPTURE(BM_dot_f64, plain_loop, impl::plain)->Arg(l1_length);
BENCHMARK_CAPTURE(BM_dot_f64, highway, impl::highway)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_dot_f64, xsimd, impl::xsimd)->Apply(both_lengths);

void BM_sum_f32(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = values<float>(n, 3);
  if (which == impl::ferrite) {
    for (auto _ : state) benchmark::DoNotOptimize(simd::sum(std::span<const float>(x, n)));
  } else {
    for (auto _ : state) benchmark::DoNotOptimize(peers::plain_sum(x, n));
  }
  set_flops(state, static_cast<double>(n));
  simd_bench::set_bytes(state, n * sizeof(float));
}
BENCHMARK_CAPTURE(BM_sum_f32, ferrite, impl::ferrite)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_sum_f32, plain_loop, impl::plain)->Apply(both_lengths);

void BM_axpy_f32(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const float* x = values<float>(n, 4);
  float* y = values<float>(n, 5);  // grows by 1e-3 x per iteration: stays finite
  if (which == impl::ferrite) {
    for (auto _ : state) {
      simd::axpy(1e-3F, std::span<const float>(x, n), std::span<float>(y, n));
      benchmark::ClobberMemory();
    }
  } else {
    for (auto _ : state) {
      peers::plain_axpy(1e-3F, x, y, n);
      benchmark::ClobberMemory();
    }
  }
  set_flops(state, 2.0 * static_cast<double>(n));
  simd_bench::set_bytes(state, 3 * n * sizeof(float));
}
BENCHMARK_CAPTURE(BM_axpy_f32, ferrite, impl::ferrite)->Apply(both_lengths);
BENCHMARK_CAPTURE(BM_axpy_f32, plain_loop, impl::plain)->Apply(both_lengths);

// ---- the limits ------------------------------------------------------------------------------

/// The L1 limit of a dot product as the issue models it: `pairs` element pairs per cycle (two
/// loads per FMA) at the core clock, measured by a chain of dependent adds. One iteration
/// measures the clock (about 0.1 s).
void BM_limit_dot_l1_model(benchmark::State& state, double pairs_per_cycle) {
  double ghz = 0;
  for (auto _ : state) ghz = peers::measured_core_ghz();
  if (ghz == 0) {
    state.SkipWithError("core clock not measured on this architecture");
    return;
  }
  state.counters["FLOP/s"] = benchmark::Counter(2 * pairs_per_cycle * ghz * 1e9);
  state.counters["core_GHz"] = benchmark::Counter(ghz);
}
BENCHMARK_CAPTURE(BM_limit_dot_l1_model, f32_avx512_16_pairs_per_cycle, 16.0)->Iterations(1);
BENCHMARK_CAPTURE(BM_limit_dot_l1_model, f32_avx2_8_pairs_per_cycle, 8.0)->Iterations(1);
BENCHMARK_CAPTURE(BM_limit_dot_l1_model, f64_avx512_8_pairs_per_cycle, 8.0)->Iterations(1);

/// The L1 limit of a dot product from the measured load rate: each load of `width` bytes
/// brings width / sizeof(T) elements, half a pair each, so FLOP/s = loads/s x width /
/// sizeof(T) (two FLOP per pair). Whatever the clock does under vector load, this is the rate
/// the load ports sustain.
void BM_limit_dot_l1_loads(benchmark::State& state, int width, int element_bytes) {
  double loads_per_ns = 0;
  for (auto _ : state) loads_per_ns = peers::measured_l1_loads_per_ns(width);
  if (loads_per_ns == 0) {
    state.SkipWithError("these loads are not available in this build");
    return;
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(loads_per_ns * 1e9 * static_cast<double>(width / element_bytes));
  state.counters["loads/ns"] = benchmark::Counter(loads_per_ns);
}
BENCHMARK_CAPTURE(BM_limit_dot_l1_loads, f32_zmm, 64, 4)->Iterations(1);
BENCHMARK_CAPTURE(BM_limit_dot_l1_loads, f32_ymm, 32, 4)->Iterations(1);
BENCHMARK_CAPTURE(BM_limit_dot_l1_loads, f64_zmm, 64, 8)->Iterations(1);

/// The L1 limit as the core runs it: the bare AVX-512 loop of load + FMA from memory (see
/// peers.hpp), 16 FLOP per load of 16 floats.
void BM_limit_dot_l1_bare_loop(benchmark::State& state) {
  double loads_per_ns = 0;
  for (auto _ : state) loads_per_ns = peers::measured_l1_fma_loads_per_ns();
  if (loads_per_ns == 0) {
    state.SkipWithError("needs AVX-512 in this build");
    return;
  }
  state.counters["FLOP/s"] = benchmark::Counter(loads_per_ns * 1e9 * 16);
  state.counters["loads/ns"] = benchmark::Counter(loads_per_ns);
}
BENCHMARK(BM_limit_dot_l1_bare_loop)->Name("BM_limit_dot_l1_bare_loop/f32_zmm")->Iterations(1);

/// The streaming-read limit: the two dot inputs of n floats (or doubles: T) read with the
/// widest loads and nothing else; FLOP/s is what a dot product reading at that rate reaches.
template <class T>
void BM_limit_stream_read(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const T* a = values<T>(n, 1);
  const T* b = values<T>(n, 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(peers::stream_read(a, n * sizeof(T)));
    benchmark::DoNotOptimize(peers::stream_read(b, n * sizeof(T)));
  }
  set_flops(state, 2.0 * static_cast<double>(n));
  simd_bench::set_bytes(state, 2 * n * sizeof(T));
}
BENCHMARK_TEMPLATE(BM_limit_stream_read, float)->Arg(memory_length);
BENCHMARK_TEMPLATE(BM_limit_stream_read, double)->Arg(memory_length);

}  // namespace
