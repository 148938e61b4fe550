// SPDX-License-Identifier: Apache-2.0
// CRC-32C side by side with Intel ISA-L's crc32_iscsi (hand-written assembly, its own
// runtime dispatch; Debian libisal-dev) at 64 B, 4 KiB and 1 MiB, with ferrite's three
// kernels: the selected one (VPCLMULQDQ folding on this machine), the avx2 target's (the
// crc32 instruction on three streams) and the scalar slicing-by-8. ISA-L's result is checked
// against ferrite's before its row runs.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferrite/simd/crc32c.hpp"
#include "simd_bench_support.hpp"

#if FERRITE_BENCH_HAVE_ISAL
#include <isa-l/crc.h>
#endif

namespace {

namespace simd = ferrite::simd;

enum class impl { ferrite, ferrite_avx2, ferrite_scalar, isal };

void BM_crc32c(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  unsigned char* p = simd_bench::buffer(n, 5);
  const auto bytes = std::as_bytes(std::span(p, n));
  switch (which) {
    case impl::ferrite:
      for (auto _ : state) benchmark::DoNotOptimize(simd::crc32c(bytes));
      break;
    case impl::ferrite_avx2:
    case impl::ferrite_scalar: {
      const auto* k = simd_bench::kernels(
          state, which == impl::ferrite_avx2 ? simd::target::avx2 : simd::target::scalar);
      if (k == nullptr) return;
      for (auto _ : state) benchmark::DoNotOptimize(~k->crc32c_update(~0U, p, n));
      break;
    }
    case impl::isal:
#if FERRITE_BENCH_HAVE_ISAL
      // ISA-L takes and returns the register without the final inversion.
      if (~crc32_iscsi(p, static_cast<int>(n), ~0U) != simd::crc32c(bytes)) {
        state.SkipWithError("ISA-L's crc32_iscsi disagrees with crc32c");
        return;
      }
      for (auto _ : state) benchmark::DoNotOptimize(~crc32_iscsi(p, static_cast<int>(n), ~0U));
#else
      state.SkipWithError("ISA-L (libisal-dev) not installed");
      return;
#endif
      break;
  }
  simd_bench::set_bytes(state, n);
}
BENCHMARK_CAPTURE(BM_crc32c, ferrite, impl::ferrite)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_crc32c, ferrite_avx2_sse42_3way, impl::ferrite_avx2)
    ->Arg(64)
    ->Arg(4096)
    ->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_crc32c, ferrite_scalar_slicing8, impl::ferrite_scalar)
    ->Arg(64)
    ->Arg(4096)
    ->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_crc32c, isal_crc32_iscsi, impl::isal)->Arg(64)->Arg(4096)->Arg(1 << 20);

}  // namespace
