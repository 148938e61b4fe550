// SPDX-License-Identifier: Apache-2.0
// next_pow2 three ways over the same random 64-bit inputs: ferrite::next_pow2 (branch-free,
// total), std::bit_ceil (the peer; inputs stay <= 2^63 where it is defined) and a naive
// doubling loop (the hand-written baseline). Two input sets: `spread` covers every magnitude
// evenly (bit_ceil's x <= 1 branch is almost never taken), `mixed` makes half the inputs a
// random 0 or 1 (that branch becomes a coin flip). 64 Ki inputs (512 KiB, cache-resident):
// with only a few thousand, the branch predictor memorizes the repeated sequence and hides
// the mispredictions a real workload would pay. Reports items/s.
#include <benchmark/benchmark.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "ferrite/core/bits.hpp"

namespace {

constexpr std::size_t input_count = std::size_t{1} << 16;

enum class input_set : std::uint8_t { spread, mixed };

std::vector<std::uint64_t> make_inputs(input_set set) {
  std::mt19937_64 rng(0xB175'BE7CU);
  std::vector<std::uint64_t> v(input_count);
  for (auto& x : v) {
    if (set == input_set::mixed && (rng() & 1U) != 0) {
      x = rng() & 1U;
    } else {
      x = rng() >> (1U + rng() % 63U);  // shift by 1..63: every magnitude, never above 2^63
    }
  }
  return v;
}

const std::vector<std::uint64_t>& inputs(input_set set) {
  static const std::vector<std::uint64_t> spread = make_inputs(input_set::spread);
  static const std::vector<std::uint64_t> mixed = make_inputs(input_set::mixed);
  return set == input_set::spread ? spread : mixed;
}

std::uint64_t naive_next_pow2(std::uint64_t x) {
  std::uint64_t p = 1;
  while (p < x) {
    p <<= 1U;
  }
  return p;
}

template <class F>
void run(benchmark::State& state, input_set set, F next_pow2) {
  const std::vector<std::uint64_t>& in = inputs(set);
  std::vector<std::uint64_t> out(in.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = next_pow2(in[i]);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void bm_next_pow2_ferrite(benchmark::State& state, input_set set) {
  run(state, set, [](std::uint64_t x) { return ferrite::next_pow2(x); });
}
void bm_next_pow2_std_bit_ceil(benchmark::State& state, input_set set) {
  run(state, set, [](std::uint64_t x) { return std::bit_ceil(x); });
}
void bm_next_pow2_naive_loop(benchmark::State& state, input_set set) {
  run(state, set, [](std::uint64_t x) { return naive_next_pow2(x); });
}

BENCHMARK_CAPTURE(bm_next_pow2_ferrite, spread, input_set::spread);
BENCHMARK_CAPTURE(bm_next_pow2_std_bit_ceil, spread, input_set::spread);
BENCHMARK_CAPTURE(bm_next_pow2_naive_loop, spread, input_set::spread);
BENCHMARK_CAPTURE(bm_next_pow2_ferrite, mixed, input_set::mixed);
BENCHMARK_CAPTURE(bm_next_pow2_std_bit_ceil, mixed, input_set::mixed);
BENCHMARK_CAPTURE(bm_next_pow2_naive_loop, mixed, input_set::mixed);

}  // namespace
