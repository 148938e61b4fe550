// SPDX-License-Identifier: Apache-2.0
// simd/numeric.hpp: every target's dot, sum and axpy, float and double, against long double
// references on random inputs of every length 0..4097 at every element offset from a 64-byte
// boundary (0..15 floats, 0..7 doubles: every position in a cache line), on exact-size heap
// buffers (ASan catches a masked tail reading or writing one element outside). Each result
// must meet numeric.hpp's error bound, widened by the reference's own bound.
#include "ferrite/simd/numeric.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "simd_test_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_test::exact_buffer;
using simd_test::rng;

constexpr std::size_t max_length = 4097;

/// gamma(k) = k u / (1 - k u) for unit roundoff u.
long double gamma(std::size_t k, long double u) {
  const long double ku = static_cast<long double>(k) * u;
  return ku / (1 - ku);
}

/// numeric.hpp's depth of rounding: h = min(n - 1, ceil(n / 8) + 16).
std::size_t depth(std::size_t n) { return n == 0 ? 0 : std::min(n - 1, (n + 7) / 8 + 16); }

template <class T>
constexpr long double unit_roundoff = std::numeric_limits<T>::epsilon() / 2;

/// Values uniform in [-1, 1], drawn once: the inputs are windows of this pool at
/// pseudo-random starts (drawing 10^8 values per test would dominate its time).
template <class T>
const std::vector<T>& pool() {
  static const std::vector<T> values = [] {
    std::vector<T> v(std::size_t{1} << 16U);
    std::uniform_real_distribution<T> d(-1, 1);
    for (T& x : v) x = d(rng());
    return v;
  }();
  return values;
}

template <class T>
void fill_uniform(std::span<T> v) {
  const std::vector<T>& values = pool<T>();
  std::uniform_int_distribution<std::size_t> start(0, values.size() - v.size());
  std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(start(rng())), v.size(), v.begin());
}

/// Runs `check(n, offset)` at every length 0..4097 and every element offset of a cache line.
template <class T, class Check>
void every_length_and_offset(Check check) {
  for (std::size_t n = 0; n <= max_length; ++n) {
    for (std::size_t offset = 0; offset < 64 / sizeof(T); ++offset) check(n, offset);
  }
}

class Numeric : public simd_test::per_target {
 protected:
  template <class T>
  T dot(const T* a, const T* b, std::size_t n) const {
    if constexpr (sizeof(T) == 4)
      return kernels().dot_f32(a, b, n);
    else
      return kernels().dot_f64(a, b, n);
  }
  template <class T>
  T sum(const T* x, std::size_t n) const {
    if constexpr (sizeof(T) == 4)
      return kernels().sum_f32(x, n);
    else
      return kernels().sum_f64(x, n);
  }
  template <class T>
  void axpy(T a, const T* x, T* y, std::size_t n) const {
    if constexpr (sizeof(T) == 4)
      kernels().axpy_f32(a, x, y, n);
    else
      kernels().axpy_f64(a, x, y, n);
  }

  template <class T>
  void check_dot() const {
    every_length_and_offset<T>([&](std::size_t n, std::size_t offset) {
      exact_buffer<T> a(n, offset * sizeof(T));
      exact_buffer<T> b(n, ((offset * 5 + 3) % (64 / sizeof(T))) * sizeof(T));
      fill_uniform(a.span());
      fill_uniform(b.span());
      long double exact = 0;
      long double magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const long double p = static_cast<long double>(a.data()[i]) * b.data()[i];
        exact += p;
        magnitude += std::fabs(p);
      }
      const long double bound =
          (gamma(depth(n) + 1, unit_roundoff<T>) + gamma(n + 1, unit_roundoff<long double>)) *
          magnitude;
      const T got = dot<T>(a.data(), b.data(), n);
      ASSERT_LE(std::fabs(got - exact), bound) << "n=" << n << " offset=" << offset;
    });
  }

  template <class T>
  void check_sum() const {
    every_length_and_offset<T>([&](std::size_t n, std::size_t offset) {
      exact_buffer<T> x(n, offset * sizeof(T));
      fill_uniform(x.span());
      long double exact = 0;
      long double magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) {
        exact += x.data()[i];
        magnitude += std::fabs(static_cast<long double>(x.data()[i]));
      }
      const long double bound =
          (gamma(depth(n), unit_roundoff<T>) + gamma(n, unit_roundoff<long double>)) * magnitude;
      const T got = sum<T>(x.data(), n);
      ASSERT_LE(std::fabs(got - exact), bound) << "n=" << n << " offset=" << offset;
    });
  }

  template <class T>
  void check_axpy() const {
    std::uniform_real_distribution<T> scale(-4, 4);
    every_length_and_offset<T>([&](std::size_t n, std::size_t offset) {
      exact_buffer<T> x(n, offset * sizeof(T));
      exact_buffer<T> y(n, ((offset * 3 + 1) % (64 / sizeof(T))) * sizeof(T));
      fill_uniform(x.span());
      fill_uniform(y.span());
      const std::vector<T> before(y.data(), y.data() + n);
      const T a = scale(rng());
      axpy<T>(a, x.data(), y.data(), n);
      constexpr long double u = unit_roundoff<T>;
      for (std::size_t i = 0; i < n; ++i) {
        const long double ax = static_cast<long double>(a) * x.data()[i];
        const long double exact = ax + before[i];
        const long double bound = u * (std::fabs(ax) + std::fabs(exact)) * (1 + u);
        ASSERT_LE(std::fabs(y.data()[i] - exact), bound) << "n=" << n << " i=" << i;
      }
    });
  }
};

TEST_P(Numeric, DotFloat) { check_dot<float>(); }
TEST_P(Numeric, DotDouble) { check_dot<double>(); }
TEST_P(Numeric, SumFloat) { check_sum<float>(); }
TEST_P(Numeric, SumDouble) { check_sum<double>(); }
TEST_P(Numeric, AxpyFloat) { check_axpy<float>(); }
TEST_P(Numeric, AxpyDouble) { check_axpy<double>(); }

// axpy writes y[0, n) only: a larger array's elements around the span keep their values.
TEST_P(Numeric, AxpyTouchesOnlyItsSpan) {
  for (std::size_t n = 0; n <= 200; ++n) {
    std::vector<float> x(n + 64, 1.0F);
    std::vector<float> y(n + 64, 2.0F);
    axpy<float>(3.0F, x.data() + 32, y.data() + 32, n);
    for (std::size_t i = 0; i < y.size(); ++i) {
      ASSERT_EQ(y[i], i >= 32 && i < 32 + n ? 5.0F : 2.0F) << "n=" << n << " i=" << i;
    }
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(Numeric);

TEST(SimdNumeric, TypedEntryPoints) {
  const std::vector<float> a{1, 2, 3, 4, 5};
  const std::vector<float> b{5, 4, 3, 2, 1};
  EXPECT_EQ(simd::dot(std::span<const float>(a), std::span<const float>(b)), 35.0F);
  EXPECT_EQ(simd::sum(std::span<const float>(a)), 15.0F);
  const std::vector<double> c{0.5, 0.25};
  EXPECT_EQ(simd::dot(std::span<const double>(c), std::span<const double>(c)), 0.3125);
  EXPECT_EQ(simd::sum(std::span<const double>(c)), 0.75);
  std::vector<double> y{1, 1};
  simd::axpy(2.0, std::span<const double>(c), std::span<double>(y));
  EXPECT_EQ(y, (std::vector<double>{2, 1.5}));
  EXPECT_EQ(simd::sum(std::span<const float>()), 0.0F);
}

}  // namespace
