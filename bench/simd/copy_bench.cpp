// SPDX-License-Identifier: Apache-2.0
// copy side by side with glibc's memcpy (ifunc-dispatched: AVX-512/EVEX, rep movsb from its
// threshold, non-temporal stores above 3/4 of its per-thread L3 share) at every power of
// four from 1 B to 1 GiB (the largest only when the machine has 4 GiB free), the selected
// target and the avx2 one. Source and destination are distinct 4096-byte-aligned buffers,
// pre-touched; each iteration copies the same bytes again.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstring>

#include "ferrite/simd/copy.hpp"
#include "simd_bench_support.hpp"

#if defined(__linux__)
#include <unistd.h>
#endif

namespace {

namespace simd = ferrite::simd;

enum class impl { ferrite, ferrite_avx2, glibc };

bool memory_for(std::size_t bytes) {
#if defined(__linux__)
  const long pages = sysconf(_SC_AVPHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 &&
         static_cast<double>(pages) * static_cast<double>(page) >
             2.0 * static_cast<double>(bytes) + 2e9;
#else
  return bytes < (std::size_t{1} << 28U);
#endif
}

void BM_copy(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  if (!memory_for(n)) {
    state.SkipWithError("not enough free memory for this size");
    return;
  }
  unsigned char* src = simd_bench::buffer(n, 11);
  unsigned char* dst = simd_bench::buffer(n, 12);
  switch (which) {
    case impl::ferrite:
      for (auto _ : state) {
        simd::copy(dst, src, n);
        benchmark::ClobberMemory();
      }
      break;
    case impl::ferrite_avx2: {
      const auto* k = simd_bench::kernels(state, simd::target::avx2);
      if (k == nullptr) return;
      for (auto _ : state) {
        k->copy(dst, src, n);
        benchmark::ClobberMemory();
      }
      break;
    }
    case impl::glibc:
      for (auto _ : state) {
        // SAFETY: two distinct buffers of at least n bytes.
        std::memcpy(dst, src, n);
        benchmark::ClobberMemory();
      }
      break;
  }
  simd_bench::set_bytes(state, n);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n = 1; n <= (std::int64_t{1} << 30); n *= 4) b->Arg(n);
  b->Arg(8)->Arg(32)->Arg(128)->Arg(512)->Arg(std::int64_t{8} << 20)->Arg(std::int64_t{32} << 20);
}
BENCHMARK_CAPTURE(BM_copy, ferrite, impl::ferrite)->Apply(sizes);
BENCHMARK_CAPTURE(BM_copy, ferrite_avx2, impl::ferrite_avx2)->Apply(sizes);
BENCHMARK_CAPTURE(BM_copy, glibc_memcpy, impl::glibc)->Apply(sizes);

}  // namespace
