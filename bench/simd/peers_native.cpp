// SPDX-License-Identifier: Apache-2.0
// bench_simd's peers compiled with -O3 -march=native (bench/simd/CMakeLists.txt): see
// peers.hpp. The plain loops are written the obvious way; the compiler vectorizes what it
// may (count, find) and not what it may not (a float sum's order is fixed without
// -ffast-math, so plain_dot and plain_sum stay one scalar chain, which is the point of the
// comparison).
#include <cstring>

#include "ferrite/core/cpu.hpp"
#include "peers.hpp"

#if __has_include(<hwy/highway.h>)
// Only the target -march=native selects: this file is built for this machine alone.
#define HWY_COMPILE_ONLY_STATIC 1
#include <hwy/contrib/algo/find-inl.h>
#include <hwy/contrib/dot/dot-inl.h>
#include <hwy/highway.h>
#define FERRITE_BENCH_HAVE_HIGHWAY 1
#else
#define FERRITE_BENCH_HAVE_HIGHWAY 0
#endif

#if __has_include(<xsimd/xsimd.hpp>)
#include <xsimd/xsimd.hpp>
#define FERRITE_BENCH_HAVE_XSIMD 1
#else
#define FERRITE_BENCH_HAVE_XSIMD 0
#endif

namespace peers {

float plain_dot(const float* a, const float* b, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

double plain_dot(const double* a, const double* b, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float plain_sum(const float* x, std::size_t n) noexcept {
  float s = 0;
  for (std::size_t i = 0; i < n; ++i) s += x[i];
  return s;
}

void plain_axpy(float a, const float* x, float* y, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

std::size_t plain_find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] == b) return i;
  }
  return ~std::size_t{0};
}

std::size_t plain_find_crlf(const unsigned char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (p[i] == '\r' && p[i + 1] == '\n') return i;
  }
  return ~std::size_t{0};
}

std::size_t plain_count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  std::size_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += p[i] == b ? 1U : 0U;
  return c;
}

std::size_t plain_find_any_of(const unsigned char* p, std::size_t n, const bool* member) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (member[p[i]]) return i;
  }
  return ~std::size_t{0};
}

#if FERRITE_BENCH_HAVE_HIGHWAY
namespace hn = hwy::HWY_NAMESPACE;
const bool have_highway = true;
float highway_dot(const float* a, const float* b, std::size_t n) noexcept {
  return hn::Dot::Compute<0>(hn::ScalableTag<float>(), a, b, n);
}
double highway_dot(const double* a, const double* b, std::size_t n) noexcept {
  return hn::Dot::Compute<0>(hn::ScalableTag<double>(), a, b, n);
}
std::size_t highway_find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  const std::size_t i = hn::Find(hn::ScalableTag<std::uint8_t>(), b, p, n);
  return i == n ? ~std::size_t{0} : i;
}
#else
const bool have_highway = false;
float highway_dot(const float*, const float*, std::size_t) noexcept { return 0; }
double highway_dot(const double*, const double*, std::size_t) noexcept { return 0; }
std::size_t highway_find_byte(const unsigned char*, std::size_t, unsigned char) noexcept {
  return 0;
}
#endif

#if FERRITE_BENCH_HAVE_XSIMD
const bool have_xsimd = true;

template <class T>
T xsimd_dot_impl(const T* a, const T* b, std::size_t n) noexcept {
  using batch = xsimd::batch<T>;
  constexpr std::size_t w = batch::size;
  batch s0(T{0});
  batch s1(T{0});
  batch s2(T{0});
  batch s3(T{0});
  std::size_t i = 0;
  for (; i + 4 * w <= n; i += 4 * w) {
    s0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), s0);
    s1 = xsimd::fma(batch::load_unaligned(a + i + w), batch::load_unaligned(b + i + w), s1);
    s2 = xsimd::fma(batch::load_unaligned(a + i + 2 * w), batch::load_unaligned(b + i + 2 * w), s2);
    s3 = xsimd::fma(batch::load_unaligned(a + i + 3 * w), batch::load_unaligned(b + i + 3 * w), s3);
  }
  T s = xsimd::hadd((s0 + s1) + (s2 + s3));  // xsimd 8's horizontal sum
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

float xsimd_dot(const float* a, const float* b, std::size_t n) noexcept {
  return xsimd_dot_impl(a, b, n);
}
double xsimd_dot(const double* a, const double* b, std::size_t n) noexcept {
  return xsimd_dot_impl(a, b, n);
}
#else
const bool have_xsimd = false;
float xsimd_dot(const float*, const float*, std::size_t) noexcept { return 0; }
double xsimd_dot(const double*, const double*, std::size_t) noexcept { return 0; }
#endif

std::uint64_t stream_read(const void* p, std::size_t n) noexcept {
  // GCC vector extensions: the widest loads -march=native allows.
  using v8 = std::uint64_t __attribute__((vector_size(64)));
  const auto* bytes = static_cast<const unsigned char*>(p);
  v8 acc[8] = {};
  for (std::size_t i = 0; i + 512 <= n; i += 512) {
    for (std::size_t k = 0; k < 8; ++k) {
      v8 v;
      // SAFETY: 64 bytes inside [p, p + n); memcpy is the aliasing-safe unaligned load.
      std::memcpy(&v, bytes + i + 64 * k, sizeof(v));
      acc[k] |= v;
    }
  }
  v8 all = acc[0] | acc[1] | acc[2] | acc[3] | acc[4] | acc[5] | acc[6] | acc[7];
  std::uint64_t r = 0;
  for (int k = 0; k < 8; ++k) r |= all[k];
  return r;
}

double measured_core_ghz() noexcept {
#if defined(__x86_64__)
  // 16 dependent adds per iteration: 16 cycles (the loop's decrement and branch run beside
  // them). The fastest of 20 rounds: a round the OS preempted is slower, never faster.
  constexpr std::uint64_t iterations = 1'000'000;
  double best_ns = 1e300;
  for (int round = 0; round < 20; ++round) {
    std::uint64_t chain = 0;
    std::uint64_t count = iterations;
    const std::uint64_t start = ferrite::cycle_clock::now();
    asm volatile(
        "1:\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "dec %1\n\tjnz 1b"
        : "+r"(chain), "+r"(count)
        : "r"(std::uint64_t{1}));
    const std::uint64_t ticks = ferrite::cycle_clock::now() - start;
    const auto ns = static_cast<double>(ferrite::cycle_clock::to_nanoseconds(ticks));
    if (ns < best_ns) best_ns = ns;
  }
  return 16.0 * static_cast<double>(iterations) / best_ns;
#else
  return 0;  // not measured off x86-64: the limit rows say so
#endif
}

double measured_l1_loads_per_ns(int width) noexcept {
#if defined(__x86_64__)
  // Sixteen independent aligned loads per iteration from 1 KiB that stays in L1, nothing
  // else but the loop's decrement and branch: the load ports' rate at the running clock.
  alignas(64) static unsigned char block[1024];
  constexpr long iterations = 2'000'000;
  double best_ns = 1e300;
  for (int round = 0; round < 10; ++round) {
    long count = iterations;
    const std::uint64_t start = ferrite::cycle_clock::now();
    if (width == 64) {
#if defined(__AVX512F__)
      asm volatile(
          "1:\n\t"
          ".irp k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n\t"
          "vmovaps \\k*64(%1), %%zmm\\k\n\t"
          ".endr\n\t"
          "dec %0\n\tjnz 1b"
          : "+r"(count)
          : "r"(block)
          : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
            "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#else
      return 0;
#endif
    } else {
#if defined(__AVX2__)
      asm volatile(
          "1:\n\t"
          ".irp k, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n\t"
          "vmovaps \\k*32(%1), %%ymm\\k\n\t"
          ".endr\n\t"
          "dec %0\n\tjnz 1b"
          : "+r"(count)
          : "r"(block)
          : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
            "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#else
      return 0;
#endif
    }
    const std::uint64_t ticks = ferrite::cycle_clock::now() - start;
    const auto ns = static_cast<double>(ferrite::cycle_clock::to_nanoseconds(ticks));
    if (ns < best_ns) best_ns = ns;
  }
  return 16.0 * static_cast<double>(iterations) / best_ns;
#else
  static_cast<void>(width);
  return 0;
#endif
}

double measured_l1_fma_loads_per_ns() noexcept {
#if defined(__x86_64__) && defined(__AVX512F__)
  // The dot product's inner loop and nothing else: eight load + FMA-from-memory pairs per
  // 512 bytes of each of two 8 KiB arrays (L1-resident), eight accumulators, no call, no
  // reduction. Its load rate is the best any dot kernel can reach on this core at the clock
  // the core runs FMA-dense AVX-512 code at.
  alignas(4096) static float arrays[2][2048];
  double best_ns = 1e300;
  for (int round = 0; round < 200; ++round) {
    const std::uint64_t start = ferrite::cycle_clock::now();
    for (int pass = 0; pass < 100; ++pass) {
      long i = 0;
      asm volatile(
          "1:\n\t"
          ".irp k, 0, 1, 2, 3, 4, 5, 6, 7\n\t"
          "vmovups \\k*64(%1,%0), %%zmm\\k\n\t"
          "vfmadd231ps \\k*64(%2,%0), %%zmm\\k, %%zmm1\\k\n\t"
          ".endr\n\t"
          "add $512, %0\n\tcmp $8192, %0\n\tjne 1b"
          : "+r"(i)
          : "r"(arrays[0]), "r"(arrays[1])
          : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm10",
            "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17");
    }
    const std::uint64_t ticks = ferrite::cycle_clock::now() - start;
    const auto ns = static_cast<double>(ferrite::cycle_clock::to_nanoseconds(ticks));
    if (ns < best_ns) best_ns = ns;
  }
  return 100.0 * 256.0 / best_ns;  // 256 loads per pass
#else
  return 0;
#endif
}

}  // namespace peers
