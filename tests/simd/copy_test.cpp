// SPDX-License-Identifier: Apache-2.0
// simd/copy.hpp: every target's copy against the source bytes at every length 0..1100 with
// source and destination at independent misalignments (each of 0..63 for the source), on
// exact-size heap buffers (ASan catches one byte read or written outside), at lengths around
// each kernel's size classes, and across non_temporal_threshold() (the non-temporal path);
// the bytes around a destination inside a larger array keep their values.
#include "ferrite/simd/copy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "simd_test_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_test::exact_buffer;
using simd_test::rng;

void fill_random(unsigned char* p, std::size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(byte(rng()));
}

class Copy : public simd_test::per_target {
 protected:
  void check(std::size_t n, std::size_t src_mis, std::size_t dst_mis) const {
    exact_buffer src(n, src_mis);
    exact_buffer dst(n, dst_mis);
    fill_random(src.data(), n);
    std::memset(dst.data(), 0, n);
    kernels().copy(dst.data(), src.data(), n);
    ASSERT_TRUE(std::equal(src.data(), src.data() + n, dst.data()))
        << "n=" << n << " src+" << src_mis << " dst+" << dst_mis;
  }
};

TEST_P(Copy, EveryLengthAndMisalignment) {
  for (std::size_t n = 0; n <= 1100; ++n) {
    for (std::size_t mis = 0; mis < 64; ++mis) {
      ASSERT_NO_FATAL_FAILURE(check(n, mis, (mis * 37 + n) % 64));
    }
  }
}

TEST_P(Copy, LongLengths) {
  std::uniform_int_distribution<std::size_t> len(1101, std::size_t{1} << 20U);
  for (std::size_t i = 0; i < 20; ++i) {
    ASSERT_NO_FATAL_FAILURE(check(len(rng()), i % 64, (i * 7) % 64));
  }
}

TEST_P(Copy, AcrossTheNonTemporalThreshold) {
  const std::size_t t = simd::non_temporal_threshold();
  for (const std::size_t n : {t - 1, t, t + 77}) ASSERT_NO_FATAL_FAILURE(check(n, 3, 61));
}

TEST_P(Copy, TouchesOnlyItsDestination) {
  for (std::size_t n = 0; n <= 600; ++n) {
    std::vector<unsigned char> src(n + 128, 0xab);
    std::vector<unsigned char> dst(n + 128, 0x11);
    kernels().copy(dst.data() + 64, src.data() + 64, n);
    for (std::size_t i = 0; i < dst.size(); ++i) {
      ASSERT_EQ(dst[i], i >= 64 && i < 64 + n ? 0xab : 0x11) << "n=" << n << " i=" << i;
    }
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(Copy);

TEST(SimdCopy, EntryPointAndThreshold) {
  const char text[] = "ferrite";
  char out[sizeof(text)] = {};
  simd::copy(out, text, sizeof(text));
  EXPECT_STREQ(out, "ferrite");
  simd::copy(nullptr, nullptr, 0);
  EXPECT_GE(simd::non_temporal_threshold(), std::size_t{1} << 20U);
}

}  // namespace
