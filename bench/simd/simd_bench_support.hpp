// SPDX-License-Identifier: Apache-2.0
// What bench_simd's suites share: 64-byte-aligned, pre-touched input buffers kept for the
// run (so a row measures the kernel, not page faults or allocation), the kernel table of a
// named target (skipping the row when the machine cannot run it), and the rate counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <utility>

#include "ferrite/simd/detail/kernel_table.hpp"
#include "ferrite/simd/target.hpp"

namespace simd_bench {

namespace simd = ferrite::simd;

struct free_deleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

/// A buffer of `bytes` bytes, 4096-byte aligned, filled with pseudo-random bytes drawn from
/// `seed`, the same one for the same (bytes, seed) for the whole run.
inline unsigned char* buffer(std::size_t bytes, unsigned seed) {
  static std::map<std::pair<std::size_t, unsigned>, std::unique_ptr<unsigned char, free_deleter>>
      pool;
  auto& slot = pool[{bytes, seed}];
  if (!slot) {
    const std::size_t rounded = (bytes + 4095) / 4096 * 4096;
    slot.reset(
        static_cast<unsigned char*>(std::aligned_alloc(4096, rounded == 0 ? 4096 : rounded)));
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < rounded; i += 8) {
      const std::uint64_t v = rng();
      // SAFETY: i + 8 <= rounded, the allocation's size.
      std::memcpy(slot.get() + i, &v, 8);
    }
  }
  return slot.get();
}

/// `n` floats or doubles in [-1, 1), from buffer(n * sizeof(T), seed).
template <class T>
T* values(std::size_t n, unsigned seed) {
  static std::map<std::pair<std::size_t, unsigned>, bool> filled;
  T* v = reinterpret_cast<T*>(buffer(n * sizeof(T), seed + 1000));  // SAFETY: aligned, sized
  if (!filled[{n, seed}]) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<T> d(-1, 1);
    for (std::size_t i = 0; i < n; ++i) v[i] = d(rng);
    filled[{n, seed}] = true;
  }
  return v;
}

/// The kernels of `t`, or nullptr after marking the row skipped.
inline const simd::detail::kernel_table* kernels(benchmark::State& state, simd::target t) {
  const simd::detail::kernel_table* k = simd::detail::kernels_for(t);
  if (k == nullptr) state.SkipWithError("target not supported on this machine");
  return k;
}

/// Bytes per second over the row's iterations.
inline void set_bytes(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes_per_iteration) *
                          static_cast<std::int64_t>(state.iterations()));
}

}  // namespace simd_bench
