// SPDX-License-Identifier: Apache-2.0
// The scalar target's arithmetic and copy: reductions over eight independent accumulators
// (the compiler may not reassociate floating-point sums, so the loop spells out the eight
// chains that let additions overlap; the same summation tree on every architecture), axpy as
// the plain loop, and copy as memcpy.
#include <cstring>

#include "kernels.hpp"

namespace ferrite::simd::detail::scalar {

namespace {

constexpr std::size_t lanes = 8;

/// Pairwise sum of the eight accumulators: depth 3.
template <class T>
T combine(const T (&acc)[lanes]) noexcept {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

template <class T>
T dot(const T* a, const T* b, std::size_t n) noexcept {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) acc[k] += a[i + k] * b[i + k];
  }
  for (std::size_t k = 0; i < n; ++i, ++k) acc[k] += a[i] * b[i];  // k < 7: one more each
  return combine(acc);
}

template <class T>
T sum(const T* x, std::size_t n) noexcept {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) acc[k] += x[i + k];
  }
  for (std::size_t k = 0; i < n; ++i, ++k) acc[k] += x[i];
  return combine(acc);
}

template <class T>
void axpy(T a, const T* x, T* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

float dot_f32(const float* a, const float* b, std::size_t n) noexcept { return dot(a, b, n); }
double dot_f64(const double* a, const double* b, std::size_t n) noexcept { return dot(a, b, n); }
float sum_f32(const float* x, std::size_t n) noexcept { return sum(x, n); }
double sum_f64(const double* x, std::size_t n) noexcept { return sum(x, n); }
void axpy_f32(float a, const float* x, float* y, std::size_t n) noexcept { axpy(a, x, y, n); }
void axpy_f64(double a, const double* x, double* y, std::size_t n) noexcept { axpy(a, x, y, n); }

void copy(void* dst, const void* src, std::size_t n) noexcept {
  if (n == 0) return;  // memcpy's pointers must be valid even for n == 0
  // SAFETY: copy()'s preconditions: n readable bytes at src, n writable at dst, disjoint.
  std::memcpy(dst, src, n);
}

}  // namespace ferrite::simd::detail::scalar
