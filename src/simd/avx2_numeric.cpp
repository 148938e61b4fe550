// SPDX-License-Identifier: Apache-2.0
// The avx2 target's arithmetic and copy. Reductions: eight accumulator vectors (eight
// independent FMA or add chains cover the latency of four cycles at two per cycle); the
// elements after the last full step of eight vectors take one AVX masked load (vmaskmov:
// element granularity, masked elements are not read and do not fault) per accumulator. Copy:
// overlapping moves from both ends up to 256 bytes, a loop of four aligned stores above,
// non-temporal stores from non_temporal_threshold(). Compiled with -mavx2 -mfma -mbmi -mbmi2;
// follows kernels.hpp's rule (no inline functions from standard headers).
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::avx2 {

namespace {

/// The mask of elements [0, n) of a vector of 32-bit (or, from `wide`, 64-bit) elements.
__m256i first_elements(std::size_t n) noexcept {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
__m256i first_wide_elements(std::size_t n) noexcept {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(n)),
                            _mm256_setr_epi64x(0, 1, 2, 3));
}

// ---- one lane type's operations, so each kernel is written once ---------------------------

struct f32 {
  using value = float;
  using vector = __m256;
  static constexpr std::size_t lanes = 8;
  static vector zero() noexcept { return _mm256_setzero_ps(); }
  static vector splat(value a) noexcept { return _mm256_set1_ps(a); }
  static __m256i first(std::size_t n) noexcept { return first_elements(n); }
  // SAFETY (loads, stores): the callers pass `lanes` valid elements, or the masked lanes'.
  static vector load(const value* p) noexcept { return _mm256_loadu_ps(p); }
  static vector load(__m256i m, const value* p) noexcept { return _mm256_maskload_ps(p, m); }
  static void store(value* p, vector v) noexcept { _mm256_storeu_ps(p, v); }
  static void store(value* p, __m256i m, vector v) noexcept { _mm256_maskstore_ps(p, m, v); }
  static vector fma(vector a, vector b, vector c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static vector add(vector a, vector b) noexcept { return _mm256_add_ps(a, b); }
  static value reduce(vector v) noexcept {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

struct f64 {
  using value = double;
  using vector = __m256d;
  static constexpr std::size_t lanes = 4;
  static vector zero() noexcept { return _mm256_setzero_pd(); }
  static vector splat(value a) noexcept { return _mm256_set1_pd(a); }
  static __m256i first(std::size_t n) noexcept { return first_wide_elements(n); }
  static vector load(const value* p) noexcept { return _mm256_loadu_pd(p); }
  static vector load(__m256i m, const value* p) noexcept { return _mm256_maskload_pd(p, m); }
  static void store(value* p, vector v) noexcept { _mm256_storeu_pd(p, v); }
  static void store(value* p, __m256i m, vector v) noexcept { _mm256_maskstore_pd(p, m, v); }
  static vector fma(vector a, vector b, vector c) noexcept { return _mm256_fmadd_pd(a, b, c); }
  static vector add(vector a, vector b) noexcept { return _mm256_add_pd(a, b); }
  static value reduce(vector v) noexcept {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};

/// Eight accumulators (named, not an array: GCC keeps an array of them in memory across the
/// loops), summed pairwise (depth 3), then across lanes (depth log2 lanes).
template <class L>
struct accumulators {
  using vector = typename L::vector;
  vector v0 = L::zero(), v1 = L::zero(), v2 = L::zero(), v3 = L::zero();
  vector v4 = L::zero(), v5 = L::zero(), v6 = L::zero(), v7 = L::zero();

  typename L::value total() const noexcept {
    return L::reduce(
        L::add(L::add(L::add(v0, v1), L::add(v2, v3)), L::add(L::add(v4, v5), L::add(v6, v7))));
  }
};

// Inlined into each exported kernel (one instance each): no jump between the two.
template <class L>
[[gnu::always_inline]] inline typename L::value dot(const typename L::value* a,
                                                    const typename L::value* b,
                                                    std::size_t n) noexcept {
  constexpr std::size_t w = L::lanes;
  accumulators<L> acc;
  std::size_t i = 0;
  for (; i + 8 * w <= n; i += 8 * w) {
    acc.v0 = L::fma(L::load(a + i), L::load(b + i), acc.v0);
    acc.v1 = L::fma(L::load(a + i + w), L::load(b + i + w), acc.v1);
    acc.v2 = L::fma(L::load(a + i + 2 * w), L::load(b + i + 2 * w), acc.v2);
    acc.v3 = L::fma(L::load(a + i + 3 * w), L::load(b + i + 3 * w), acc.v3);
    acc.v4 = L::fma(L::load(a + i + 4 * w), L::load(b + i + 4 * w), acc.v4);
    acc.v5 = L::fma(L::load(a + i + 5 * w), L::load(b + i + 5 * w), acc.v5);
    acc.v6 = L::fma(L::load(a + i + 6 * w), L::load(b + i + 6 * w), acc.v6);
    acc.v7 = L::fma(L::load(a + i + 7 * w), L::load(b + i + 7 * w), acc.v7);
  }
  // The last n - i < 8 w elements: one masked step per accumulator, all eight (an empty mask
  // reads nothing; branching per step would cost more than the masked loads).
  if (i < n) {
    const auto step = [&](typename L::vector& v, std::size_t k) noexcept {
      const std::size_t at = i + k * w < n ? i + k * w : n;
      const auto m = L::first(n - at);
      v = L::fma(L::load(m, a + at), L::load(m, b + at), v);
    };
    step(acc.v0, 0);
    step(acc.v1, 1);
    step(acc.v2, 2);
    step(acc.v3, 3);
    step(acc.v4, 4);
    step(acc.v5, 5);
    step(acc.v6, 6);
    step(acc.v7, 7);
  }
  return acc.total();
}

template <class L>
[[gnu::always_inline]] inline typename L::value sum(const typename L::value* x,
                                                    std::size_t n) noexcept {
  constexpr std::size_t w = L::lanes;
  accumulators<L> acc;
  std::size_t i = 0;
  for (; i + 8 * w <= n; i += 8 * w) {
    acc.v0 = L::add(L::load(x + i), acc.v0);
    acc.v1 = L::add(L::load(x + i + w), acc.v1);
    acc.v2 = L::add(L::load(x + i + 2 * w), acc.v2);
    acc.v3 = L::add(L::load(x + i + 3 * w), acc.v3);
    acc.v4 = L::add(L::load(x + i + 4 * w), acc.v4);
    acc.v5 = L::add(L::load(x + i + 5 * w), acc.v5);
    acc.v6 = L::add(L::load(x + i + 6 * w), acc.v6);
    acc.v7 = L::add(L::load(x + i + 7 * w), acc.v7);
  }
  if (i < n) {  // as in dot
    const auto step = [&](typename L::vector& v, std::size_t k) noexcept {
      const std::size_t at = i + k * w < n ? i + k * w : n;
      v = L::add(L::load(L::first(n - at), x + at), v);
    };
    step(acc.v0, 0);
    step(acc.v1, 1);
    step(acc.v2, 2);
    step(acc.v3, 3);
    step(acc.v4, 4);
    step(acc.v5, 5);
    step(acc.v6, 6);
    step(acc.v7, 7);
  }
  return acc.total();
}

template <class L>
[[gnu::always_inline]] inline void axpy(typename L::value a, const typename L::value* x,
                                        typename L::value* y, std::size_t n) noexcept {
  constexpr std::size_t w = L::lanes;
  const typename L::vector va = L::splat(a);
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    const typename L::vector y0 = L::fma(va, L::load(x + i), L::load(y + i));
    const typename L::vector y1 = L::fma(va, L::load(x + i + w), L::load(y + i + w));
    const typename L::vector y2 = L::fma(va, L::load(x + i + 2 * w), L::load(y + i + 2 * w));
    const typename L::vector y3 = L::fma(va, L::load(x + i + 3 * w), L::load(y + i + 3 * w));
    L::store(y + i, y0);
    L::store(y + i + w, y1);
    L::store(y + i + 2 * w, y2);
    L::store(y + i + 3 * w, y3);
  }
  for (; i + w <= n; i += w) L::store(y + i, L::fma(va, L::load(x + i), L::load(y + i)));
  if (i < n) {
    const __m256i m = L::first(n - i);
    L::store(y + i, m, L::fma(va, L::load(m, x + i), L::load(m, y + i)));
  }
}

// ---- copy ----------------------------------------------------------------------------------

constexpr std::size_t width = 32;
constexpr std::size_t page = 4096;

using vec = __m256i;

vec load(const unsigned char* p) noexcept {
  // SAFETY: the caller passes 32 readable bytes at p.
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

void store(unsigned char* p, vec v) noexcept {
  // SAFETY: the caller passes 32 writable bytes at p.
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

/// Aligned store, regular or non-temporal. Preconditions: p is 32-byte aligned.
template <bool NonTemporal>
void store_aligned(unsigned char* p, vec v) noexcept {
  // SAFETY: the callers step from a 32-byte boundary of the destination, inside it.
  if constexpr (NonTemporal) {
    _mm256_stream_si256(reinterpret_cast<__m256i*>(p), v);
  } else {
    _mm256_store_si256(reinterpret_cast<__m256i*>(p), v);
  }
}

/// Copies [0, n) for n < 32 with two overlapping moves of the largest power of two <= n.
void copy_small(unsigned char* d, const unsigned char* s, std::size_t n) noexcept {
  // SAFETY (every move): each pair covers [0, k) and [n - k, n) with k <= n, in bounds.
  if (n >= 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + n - 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), b);
  } else if (n >= 8) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    __builtin_memcpy(&a, s, 8);
    __builtin_memcpy(&b, s + n - 8, 8);
    __builtin_memcpy(d, &a, 8);
    __builtin_memcpy(d + n - 8, &b, 8);
  } else if (n >= 4) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    __builtin_memcpy(&a, s, 4);
    __builtin_memcpy(&b, s + n - 4, 4);
    __builtin_memcpy(d, &a, 4);
    __builtin_memcpy(d + n - 4, &b, 4);
  } else if (n >= 2) {
    std::uint16_t a = 0;
    std::uint16_t b = 0;
    __builtin_memcpy(&a, s, 2);
    __builtin_memcpy(&b, s + n - 2, 2);
    __builtin_memcpy(d, &a, 2);
    __builtin_memcpy(d + n - 2, &b, 2);
  } else if (n == 1) {
    *d = *s;
  }
}

/// Copies [0, n) for 2 32 < n <= 8 32: four or eight vectors from the front and the back,
/// overlapping in the middle; all loads before the stores.
void copy_medium(unsigned char* d, const unsigned char* s, std::size_t n) noexcept {
  const vec f0 = load(s);
  const vec f1 = load(s + width);
  const vec b1 = load(s + n - 2 * width);
  const vec b0 = load(s + n - width);
  if (n > 4 * width) {
    const vec f2 = load(s + 2 * width);
    const vec f3 = load(s + 3 * width);
    const vec b3 = load(s + n - 4 * width);
    const vec b2 = load(s + n - 3 * width);
    store(d + 2 * width, f2);
    store(d + 3 * width, f3);
    store(d + n - 4 * width, b3);
    store(d + n - 3 * width, b2);
  }
  store(d, f0);
  store(d + width, f1);
  store(d + n - 2 * width, b1);
  store(d + n - width, b0);
}

/// Copies 4 32 bytes from s + i to the aligned d + i.
template <bool NonTemporal>
void copy_step(unsigned char* d, const unsigned char* s, std::size_t i) noexcept {
  const vec v0 = load(s + i);
  const vec v1 = load(s + i + width);
  const vec v2 = load(s + i + 2 * width);
  const vec v3 = load(s + i + 3 * width);
  store_aligned<NonTemporal>(d + i, v0);
  store_aligned<NonTemporal>(d + i + width, v1);
  store_aligned<NonTemporal>(d + i + 2 * width, v2);
  store_aligned<NonTemporal>(d + i + 3 * width, v3);
}

/// Copies [0, n) for n > 8 32: the first vector unaligned, steps of 4 32 bytes to aligned
/// destinations, the last 4 32 bytes unaligned. Non-temporal: the steps go four pages at a
/// time, interleaved (two vectors from each page in turn), which keeps four DRAM pages open
/// instead of one and measured faster than one stream (docs/simd.md), then a store fence.
template <bool NonTemporal>
[[gnu::noinline]] void copy_large(unsigned char* d, const unsigned char* s,
                                  std::size_t n) noexcept {
  const vec b3 = load(s + n - 4 * width);
  const vec b2 = load(s + n - 3 * width);
  const vec b1 = load(s + n - 2 * width);
  const vec b0 = load(s + n - width);
  store(d, load(s));
  // SAFETY: the address is used only for its low bits.
  std::size_t i = width - (reinterpret_cast<std::uintptr_t>(d) & (width - 1));
  const std::size_t end = n - 4 * width;  // steps below end write below end + 4 32 - 1 < n
  if constexpr (NonTemporal) {
    for (; i + 4 * page <= end; i += 4 * page) {
      for (std::size_t at = i; at < i + page; at += 2 * width) {
        for (std::size_t k = 0; k < 4; ++k) {
          const std::size_t from = at + k * page;
          // Eight vectors ahead in this page's stream, clamped to the input (a prefetch never
          // faults, but the pointer must stay inside the object).
          const std::size_t ahead = from + 8 * width < n ? from + 8 * width : n - 1;
          // SAFETY: s + ahead is inside the source; the cast is to prefetch's parameter type.
          _mm_prefetch(reinterpret_cast<const char*>(s + ahead), _MM_HINT_T0);
          const vec v0 = load(s + from);
          const vec v1 = load(s + from + width);
          store_aligned<true>(d + from, v0);
          store_aligned<true>(d + from + width, v1);
        }
      }
    }
  }
  for (; i < end; i += 4 * width) copy_step<NonTemporal>(d, s, i);
  // Non-temporal stores are weakly ordered: the fence orders them before later stores, as an
  // ordinary copy's would be.
  if constexpr (NonTemporal) _mm_sfence();
  store(d + n - 4 * width, b3);
  store(d + n - 3 * width, b2);
  store(d + n - 2 * width, b1);
  store(d + n - width, b0);
}

void rep_movsb(unsigned char* d, const unsigned char* s, std::size_t n) noexcept {
  // SAFETY: copy()'s preconditions: n bytes from s to d, disjoint; the direction flag is
  // clear at every function boundary (the ABI).
  asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/// The copies above 2 32 bytes, out of line so that the small copies' path has no frame.
[[gnu::noinline]] void copy_above(unsigned char* d, const unsigned char* s,
                                  std::size_t n) noexcept {
  if (n <= 8 * width) return copy_medium(d, s, n);
  if (n >= copy_policy_floor) {
    static const copy_thresholds& policy = copy_policy();
    if (n >= policy.non_temporal) return copy_large<true>(d, s, n);
    if (n >= policy.rep_movsb) return rep_movsb(d, s, n);
  }
  copy_large<false>(d, s, n);
}

}  // namespace

float dot_f32(const float* a, const float* b, std::size_t n) noexcept { return dot<f32>(a, b, n); }
double dot_f64(const double* a, const double* b, std::size_t n) noexcept {
  return dot<f64>(a, b, n);
}
float sum_f32(const float* x, std::size_t n) noexcept { return sum<f32>(x, n); }
double sum_f64(const double* x, std::size_t n) noexcept { return sum<f64>(x, n); }
void axpy_f32(float a, const float* x, float* y, std::size_t n) noexcept { axpy<f32>(a, x, y, n); }
void axpy_f64(double a, const double* x, double* y, std::size_t n) noexcept {
  axpy<f64>(a, x, y, n);
}

void copy(void* dst, const void* src, std::size_t n) noexcept {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (n < width) return copy_small(d, s, n);
  if (n <= 2 * width) {
    const vec a = load(s);
    const vec b = load(s + n - width);
    store(d, a);
    store(d + n - width, b);
    return;
  }
  if (n <= 8 * width) return copy_medium(d, s, n);
  if (n < copy_policy_floor) return copy_large<false>(d, s, n);
  copy_above(d, s, n);
}

}  // namespace ferrite::simd::detail::avx2
