// SPDX-License-Identifier: Apache-2.0
// Container benchmarks: "build and drop a container of n ints" (push_back n ints into a fresh
// container, make its data escape, destroy it) for n = 8 (fits the inline buffer) and n = 32
// (spills to the heap), side by side with the peers that are installed:
//
//   growable, inline capacity 8:  ferrite small_vector<int, 8>, absl::InlinedVector<int, 8>,
//                                 boost::container::small_vector<int, 8>, std::vector<int>
//   fixed capacity (8 and 32):    ferrite inline_vector<int, N>,
//                                 boost::container::static_vector<int, N>
//
// Abseil is linked when CMake finds it (FERRITE_BENCH_HAVE_ABSL); Boost.Container is
// header-only and used when its headers exist. Compare medians of repeated runs
// (--benchmark_repetitions=5 --benchmark_report_aggregates_only=true); on a noisy machine
// prefer instruction counts (valgrind --tool=callgrind with --benchmark_filter).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <vector>

#include "ferrite/mem/inline_vector.hpp"
#include "ferrite/mem/small_vector.hpp"

#if defined(FERRITE_BENCH_HAVE_ABSL) && FERRITE_BENCH_HAVE_ABSL
#include <absl/container/inlined_vector.h>
#define FERRITE_BENCH_ABSL 1
#else
#define FERRITE_BENCH_ABSL 0
#endif

#if __has_include(<boost/container/small_vector.hpp>) && \
    __has_include(<boost/container/static_vector.hpp>)
#include <boost/container/small_vector.hpp>
#include <boost/container/static_vector.hpp>
#define FERRITE_BENCH_BOOST 1
#else
#define FERRITE_BENCH_BOOST 0
#endif

namespace {

/// push_back n ints into a fresh V, let its data escape, destroy it.
template <class V>
void build_and_drop(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    V v;
    for (int i = 0; i < n; ++i) v.push_back(i);
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// ---- growable containers: inline capacity 8; n = 8 stays inline, n = 32 spills -----------

#define FERRITE_BUILD_DROP(name, ...) \
  BENCHMARK_TEMPLATE(build_and_drop, __VA_ARGS__)->Name("build_drop/" name)->Arg(8)->Arg(32)

FERRITE_BUILD_DROP("ferrite::small_vector<int,8>", ferrite::mem::small_vector<int, 8>);
#if FERRITE_BENCH_ABSL
FERRITE_BUILD_DROP("absl::InlinedVector<int,8>", absl::InlinedVector<int, 8>);
#endif
#if FERRITE_BENCH_BOOST
FERRITE_BUILD_DROP("boost::small_vector<int,8>", boost::container::small_vector<int, 8>);
#endif
FERRITE_BUILD_DROP("std::vector<int>", std::vector<int>);

// ---- fixed capacity: fill to capacity -------------------------------------------------------

#define FERRITE_BUILD_DROP_FIXED(name, n, ...) \
  BENCHMARK_TEMPLATE(build_and_drop, __VA_ARGS__)->Name("build_drop_fixed/" name)->Arg(n)

FERRITE_BUILD_DROP_FIXED("ferrite::inline_vector<int,8>", 8, ferrite::mem::inline_vector<int, 8>);
FERRITE_BUILD_DROP_FIXED("ferrite::inline_vector<int,32>", 32,
                         ferrite::mem::inline_vector<int, 32>);
#if FERRITE_BENCH_BOOST
FERRITE_BUILD_DROP_FIXED("boost::static_vector<int,8>", 8, boost::container::static_vector<int, 8>);
FERRITE_BUILD_DROP_FIXED("boost::static_vector<int,32>", 32,
                         boost::container::static_vector<int, 32>);
#endif

}  // namespace
