// SPDX-License-Identifier: Apache-2.0
// simd/target.hpp and the dispatch: the choice rule (FERRITE_SIMD caps the best supported
// target; empty and unknown names are ignored), support agreeing with cpu_features(), every
// supported target's table complete and labelled, the selected target following the
// environment the process started with (CTest runs this once per FERRITE_SIMD value), and
// the dispatched entry points using the selected table.
#include "ferrite/simd/target.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

#include "ferrite/core/cpu.hpp"
#include "ferrite/simd/crc32c.hpp"
#include "ferrite/simd/detail/kernel_table.hpp"

namespace {

namespace simd = ferrite::simd;
using simd::target;
using simd::detail::choose_target;

TEST(SimdTarget, Names) {
  EXPECT_EQ(simd::to_string(target::scalar), "scalar");
  EXPECT_EQ(simd::to_string(target::avx2), "avx2");
  EXPECT_EQ(simd::to_string(target::avx512), "avx512");
}

TEST(SimdTarget, ChoiceRule) {
  EXPECT_EQ(choose_target("", target::avx512), target::avx512);
  EXPECT_EQ(choose_target("scalar", target::avx512), target::scalar);
  EXPECT_EQ(choose_target("avx2", target::avx512), target::avx2);
  EXPECT_EQ(choose_target("avx512", target::avx512), target::avx512);
  EXPECT_EQ(choose_target("avx512", target::avx2), target::avx2);  // capped by the CPU
  EXPECT_EQ(choose_target("avx2", target::scalar), target::scalar);
  EXPECT_EQ(choose_target("AVX2", target::avx512), target::avx512);  // names are exact
  EXPECT_EQ(choose_target("neon", target::avx2), target::avx2);
}

TEST(SimdTarget, SupportFollowsCpuFeatures) {
  const ferrite::cpu_feature_set& f = ferrite::cpu_features();
  EXPECT_TRUE(simd::target_supported(target::scalar));
#if defined(__x86_64__)
  const bool avx2 = f.avx2 && f.fma && f.bmi1 && f.bmi2 && f.popcnt && f.sse42 && f.pclmul;
  EXPECT_EQ(simd::target_supported(target::avx2), avx2);
  EXPECT_EQ(simd::target_supported(target::avx512),
            avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq);
#else
  static_cast<void>(f);
  EXPECT_FALSE(simd::target_supported(target::avx2));
  EXPECT_FALSE(simd::target_supported(target::avx512));
#endif
}

TEST(SimdTarget, SupportedTablesAreCompleteAndLabelled) {
  for (const target t : {target::scalar, target::avx2, target::avx512}) {
    const simd::detail::kernel_table* k = simd::detail::kernels_for(t);
    ASSERT_EQ(k != nullptr, simd::target_supported(t)) << simd::to_string(t);
    if (k == nullptr) continue;
    EXPECT_EQ(k->isa, t);
    EXPECT_NE(k->crc32c_name, nullptr);
    EXPECT_TRUE(k->find_byte && k->find_any_of && k->find_crlf && k->find_all_crlf &&
                k->count_byte && k->crc32c_update && k->dot_f32 && k->dot_f64 && k->sum_f32 &&
                k->sum_f64 && k->axpy_f32 && k->axpy_f64 && k->copy);
  }
}

/// The best supported target, from target_supported alone.
target best_supported() {
  if (simd::target_supported(target::avx512)) return target::avx512;
  if (simd::target_supported(target::avx2)) return target::avx2;
  return target::scalar;
}

TEST(SimdTarget, FollowsTheEnvironment) {
  const char* env = std::getenv("FERRITE_SIMD");  // NOLINT(concurrency-mt-unsafe)
  const std::string_view requested = env != nullptr ? env : "";
  target expected = best_supported();
  if (requested == "scalar") expected = target::scalar;
  if (requested == "avx2" && expected > target::avx2) expected = target::avx2;
  EXPECT_EQ(simd::selected_target(), expected) << "FERRITE_SIMD=" << requested;
  EXPECT_EQ(simd::active_target(), simd::to_string(expected));
  EXPECT_EQ(&simd::detail::active_kernels(), simd::detail::kernels_for(expected));
  EXPECT_EQ(simd::crc32c("123456789"), 0xE3069283U);  // a call through the chosen table
  std::printf("active target: %.*s (crc32c: %s)\n", static_cast<int>(simd::active_target().size()),
              simd::active_target().data(), simd::detail::active_kernels().crc32c_name);
}

}  // namespace
