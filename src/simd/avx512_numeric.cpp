// SPDX-License-Identifier: Apache-2.0
// The avx512 target's arithmetic and copy. Reductions: eight accumulator vectors, so that
// eight independent FMA (or add) chains cover the instruction's latency of four cycles at
// two per cycle; for long inputs a masked first step brings `a` to a 64-byte boundary (an
// unaligned 64-byte load splits a cache line and costs a second load-port cycle); the
// elements after the last full step of eight vectors take one masked vector per accumulator. Copy:
// one or two masked or overlapping vectors up to 512 bytes, a loop of four aligned stores above,
// non-temporal stores from non_temporal_threshold(). Compiled with -mavx512f -mavx512bw -mavx512vl
// -mavx512dq -mfma -mbmi2; follows kernels.hpp's rule (no inline functions from standard headers).
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::avx512 {

namespace {

/// The length from which the reductions spend a masked step to align their first input.
constexpr std::size_t align_minimum = 256;

std::size_t misalignment(const void* p) noexcept {
  // SAFETY: the address is used only for its low bits.
  return reinterpret_cast<std::uintptr_t>(p) & 63U;
}

// ---- one lane type's operations, so each kernel is written once ---------------------------

struct f32 {
  using value = float;
  using vector = __m512;
  using mask = __mmask16;
  static constexpr std::size_t lanes = 16;
  static vector zero() noexcept { return _mm512_setzero_ps(); }
  static vector splat(value a) noexcept { return _mm512_set1_ps(a); }
  static mask first(std::size_t n) noexcept {
    return static_cast<mask>(_bzhi_u32(0xffffU, static_cast<unsigned>(n)));
  }
  // SAFETY (loads, stores): the callers pass `lanes` valid elements, or the masked lanes'.
  static vector load(const value* p) noexcept { return _mm512_loadu_ps(p); }
  static vector load(mask m, const value* p) noexcept { return _mm512_maskz_loadu_ps(m, p); }
  static void store(value* p, vector v) noexcept { _mm512_storeu_ps(p, v); }
  static void store(value* p, mask m, vector v) noexcept { _mm512_mask_storeu_ps(p, m, v); }
  static vector fma(vector a, vector b, vector c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static vector add(vector a, vector b) noexcept { return _mm512_add_ps(a, b); }
  static value reduce(vector v) noexcept { return _mm512_reduce_add_ps(v); }
};

struct f64 {
  using value = double;
  using vector = __m512d;
  using mask = __mmask8;
  static constexpr std::size_t lanes = 8;
  static vector zero() noexcept { return _mm512_setzero_pd(); }
  static vector splat(value a) noexcept { return _mm512_set1_pd(a); }
  static mask first(std::size_t n) noexcept {
    return static_cast<mask>(_bzhi_u32(0xffU, static_cast<unsigned>(n)));
  }
  static vector load(const value* p) noexcept { return _mm512_loadu_pd(p); }
  static vector load(mask m, const value* p) noexcept { return _mm512_maskz_loadu_pd(m, p); }
  static void store(value* p, vector v) noexcept { _mm512_storeu_pd(p, v); }
  static void store(value* p, mask m, vector v) noexcept { _mm512_mask_storeu_pd(p, m, v); }
  static vector fma(vector a, vector b, vector c) noexcept { return _mm512_fmadd_pd(a, b, c); }
  static vector add(vector a, vector b) noexcept { return _mm512_add_pd(a, b); }
  static value reduce(vector v) noexcept { return _mm512_reduce_add_pd(v); }
};

/// The elements before `a`'s next 64-byte boundary, when worth a masked step: 0..lanes - 1.
template <class L>
std::size_t head_length(const typename L::value* a, std::size_t n) noexcept {
  const std::size_t off = misalignment(a);
  if (n < align_minimum || off % sizeof(typename L::value) != 0 || off == 0) return 0;
  return (64 - off) / sizeof(typename L::value);
}

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
  std::size_t i = head_length<L>(a, n);
  if (i != 0) acc.v7 = L::fma(L::load(L::first(i), a), L::load(L::first(i), b), acc.v7);
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
  std::size_t i = head_length<L>(x, n);
  if (i != 0) acc.v7 = L::add(L::load(L::first(i), x), acc.v7);
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
    const typename L::mask m = L::first(n - i);
    L::store(y + i, m, L::fma(va, L::load(m, x + i), L::load(m, y + i)));
  }
}

// ---- copy ----------------------------------------------------------------------------------

constexpr std::size_t width = 64;
constexpr std::size_t page = 4096;

using vec = __m512i;

vec load(const unsigned char* p) noexcept {
  // SAFETY: the caller passes 64 readable bytes at p.
  return _mm512_loadu_si512(p);
}

void store(unsigned char* p, vec v) noexcept {
  // SAFETY: the caller passes 64 writable bytes at p.
  _mm512_storeu_si512(p, v);
}

/// Aligned store, regular or non-temporal. Preconditions: p is 64-byte aligned.
template <bool NonTemporal>
void store_aligned(unsigned char* p, vec v) noexcept {
  // SAFETY: the callers step from a 64-byte boundary of the destination, inside it.
  if constexpr (NonTemporal) {
    _mm512_stream_si512(reinterpret_cast<__m512i*>(p), v);
  } else {
    _mm512_store_si512(p, v);
  }
}

/// Copies [0, n) for 2 64 < n <= 8 64: four or eight vectors from the front and the back,
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

/// Copies 4 64 bytes from s + i to the aligned d + i.
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

/// Copies [0, n) for n > 8 64: the first vector unaligned, steps of 4 64 bytes to aligned
/// destinations, the last 4 64 bytes unaligned. Non-temporal: the steps go four pages at a
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
  const std::size_t end = n - 4 * width;  // steps below end write below end + 4 64 - 1 < n
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

/// The copies above 2 64 bytes, out of line so that the small copies' path has no frame.
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
  if (n <= width) {  // one masked vector; n == 0 is an empty mask, which touches nothing
    const __mmask64 m = _bzhi_u64(~0ULL, n);
    // SAFETY: masked load and store: only bytes [0, n) are touched.
    _mm512_mask_storeu_epi8(d, m, _mm512_maskz_loadu_epi8(m, s));
    return;
  }
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

}  // namespace ferrite::simd::detail::avx512
