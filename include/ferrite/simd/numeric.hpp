// SPDX-License-Identifier: Apache-2.0
// Level-1 vector arithmetic on float and double: dot product, sum, and axpy (y += a x).
// The reductions keep several independent accumulators (eight vectors wide on the vector
// targets, eight scalars on the scalar one), which is what lets them run at the load ports'
// limit, and changes the rounding from a left-to-right loop's: the result is not bit-identical
// across targets, but every target meets the error bound below (derived in docs/simd.md).
//
// Error bound (u = 2^-24 for float, 2^-53 for double; gamma(k) = k u / (1 - k u)):
//   |dot(a, b) - exact| <= gamma(h + 1) * sum |a_i b_i|
//   |sum(x) - exact|    <= gamma(h) * sum |x_i|
//   with h = min(n - 1, ceil(n / 8) + 16), the deepest chain of roundings in any target's
//   summation tree. axpy rounds each element once (fused) or twice (scalar, separate
//   multiply and add): |y_i' - (a x_i + y_i)| <= u (|a x_i| + |a x_i + y_i|) (1 + u).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>

#include "ferrite/core/contract.hpp"

namespace ferrite::simd {

namespace detail {
// The dispatched entry points (src/simd/dispatch.cpp).
float dot(const float* a, const float* b, std::size_t n) noexcept;
double dot(const double* a, const double* b, std::size_t n) noexcept;
float sum(const float* x, std::size_t n) noexcept;
double sum(const double* x, std::size_t n) noexcept;
void axpy(float a, const float* x, float* y, std::size_t n) noexcept;
void axpy(double a, const double* x, double* y, std::size_t n) noexcept;
}  // namespace detail

/// The dot product sum a_i b_i, with several accumulators (error bound above).
/// Preconditions: a.size() == b.size() (FERRITE_DEBUG_ASSERT; otherwise the shorter length
/// is used). O(n); 0 for empty spans. The spans need no particular alignment.
[[nodiscard]] inline float dot(std::span<const float> a, std::span<const float> b) noexcept {
  FERRITE_DEBUG_ASSERT(a.size() == b.size(), "simd::dot: spans of different lengths");
  return detail::dot(a.data(), b.data(), std::min(a.size(), b.size()));
}
/// dot on doubles.
[[nodiscard]] inline double dot(std::span<const double> a, std::span<const double> b) noexcept {
  FERRITE_DEBUG_ASSERT(a.size() == b.size(), "simd::dot: spans of different lengths");
  return detail::dot(a.data(), b.data(), std::min(a.size(), b.size()));
}

/// The sum of `x`, with several accumulators (error bound above). O(n); 0 for an empty span.
[[nodiscard]] inline float sum(std::span<const float> x) noexcept {
  return detail::sum(x.data(), x.size());
}
/// sum on doubles.
[[nodiscard]] inline double sum(std::span<const double> x) noexcept {
  return detail::sum(x.data(), x.size());
}

/// y_i += a x_i for every i (BLAS saxpy/daxpy with unit strides), fused where the target has
/// FMA. Preconditions: x.size() == y.size() (FERRITE_DEBUG_ASSERT; otherwise the shorter
/// length is used); x and y do not overlap unless x.data() == y.data(). O(n).
inline void axpy(float a, std::span<const float> x, std::span<float> y) noexcept {
  FERRITE_DEBUG_ASSERT(x.size() == y.size(), "simd::axpy: spans of different lengths");
  detail::axpy(a, x.data(), y.data(), std::min(x.size(), y.size()));
}
/// axpy on doubles.
inline void axpy(double a, std::span<const double> x, std::span<double> y) noexcept {
  FERRITE_DEBUG_ASSERT(x.size() == y.size(), "simd::axpy: spans of different lengths");
  detail::axpy(a, x.data(), y.data(), std::min(x.size(), y.size()));
}

}  // namespace ferrite::simd
