// SPDX-License-Identifier: Apache-2.0
// Runtime dispatch: which target's kernels this process runs, chosen once, and the entry
// points that call through the chosen table. The active table starts as resolving_table,
// whose every entry resolves the target, installs the chosen table and forwards the call, so
// the first call of any kernel pays for cpuid and getenv and every later call is one load
// and one indirect call. The kernel tables are constants (constant-initialized, never
// written), which is what lets the pointer to them be read and written relaxed.
//
// ORDERING (the one atomic, active_table_):
//   (1) relaxed load in table(): any table it reads is complete (constant-initialized before
//       the program started); needs no pair.
//   (2) relaxed store in resolve(): publishes a pointer to a constant table; threads that
//       resolve concurrently store the same pointer (the choice is a function-local static).
#include <cstdlib>
#include <string_view>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cpu.hpp"
#include "ferrite/simd/copy.hpp"
#include "ferrite/simd/crc32c.hpp"
#include "ferrite/simd/detail/kernel_table.hpp"
#include "ferrite/simd/find.hpp"
#include "ferrite/simd/numeric.hpp"
#include "ferrite/simd/target.hpp"
#include "kernels.hpp"

#if FERRITE_OS_LINUX
#include <unistd.h>
#endif
#if FERRITE_SIMD_X86
#include <cpuid.h>
#endif

namespace ferrite::simd {

namespace detail {
namespace {

constexpr kernel_table scalar_table{
    .isa = target::scalar,
    .crc32c_name = "slicing-by-8",
    .find_byte = &scalar::find_byte,
    .find_any_of = &scalar::find_any_of,
    .find_crlf = &scalar::find_crlf,
    .find_all_crlf = &scalar::find_all_crlf,
    .count_byte = &scalar::count_byte,
    .crc32c_update = &scalar::crc32c_update,
    .dot_f32 = &scalar::dot_f32,
    .dot_f64 = &scalar::dot_f64,
    .sum_f32 = &scalar::sum_f32,
    .sum_f64 = &scalar::sum_f64,
    .axpy_f32 = &scalar::axpy_f32,
    .axpy_f64 = &scalar::axpy_f64,
    .copy = &scalar::copy,
};

#if FERRITE_SIMD_X86
constexpr kernel_table avx2_table{
    .isa = target::avx2,
    .crc32c_name = "sse4.2 3-way",
    .find_byte = &avx2::find_byte,
    .find_any_of = &avx2::find_any_of,
    .find_crlf = &avx2::find_crlf,
    .find_all_crlf = &avx2::find_all_crlf,
    .count_byte = &avx2::count_byte,
    .crc32c_update = &sse42::crc32c_update,
    .dot_f32 = &avx2::dot_f32,
    .dot_f64 = &avx2::dot_f64,
    .sum_f32 = &avx2::sum_f32,
    .sum_f64 = &avx2::sum_f64,
    .axpy_f32 = &avx2::axpy_f32,
    .axpy_f64 = &avx2::axpy_f64,
    .copy = &avx2::copy,
};

constexpr kernel_table avx512_table{
    .isa = target::avx512,
    .crc32c_name = "vpclmulqdq",
    .find_byte = &avx512::find_byte,
    .find_any_of = &avx512::find_any_of,
    .find_crlf = &avx512::find_crlf,
    .find_all_crlf = &avx512::find_all_crlf,
    .count_byte = &avx512::count_byte,
    .crc32c_update = &avx512::crc32c_update,
    .dot_f32 = &avx512::dot_f32,
    .dot_f64 = &avx512::dot_f64,
    .sum_f32 = &avx512::sum_f32,
    .sum_f64 = &avx512::sum_f64,
    .axpy_f32 = &avx512::axpy_f32,
    .axpy_f64 = &avx512::axpy_f64,
    .copy = &avx512::copy,
};

// AVX-512 without VPCLMULQDQ (Skylake-SP, Cascade Lake): the crc32 instruction path.
constexpr kernel_table avx512_table_without_vpclmulqdq{
    .isa = target::avx512,
    .crc32c_name = "sse4.2 3-way",
    .find_byte = &avx512::find_byte,
    .find_any_of = &avx512::find_any_of,
    .find_crlf = &avx512::find_crlf,
    .find_all_crlf = &avx512::find_all_crlf,
    .count_byte = &avx512::count_byte,
    .crc32c_update = &sse42::crc32c_update,
    .dot_f32 = &avx512::dot_f32,
    .dot_f64 = &avx512::dot_f64,
    .sum_f32 = &avx512::sum_f32,
    .sum_f64 = &avx512::sum_f64,
    .axpy_f32 = &avx512::axpy_f32,
    .axpy_f64 = &avx512::axpy_f64,
    .copy = &avx512::copy,
};

/// VPCLMULQDQ (cpuid 7 ECX bit 10), which core's cpu_feature_set does not report. Its ZMM
/// form needs the AVX-512 state, which the avx512 target's flags already checked.
bool has_vpclmulqdq() noexcept {
  unsigned eax = 0;
  unsigned ebx = 0;
  unsigned ecx = 0;
  unsigned edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  return ((ecx >> 10U) & 1U) != 0;
}
#endif

bool cpu_runs(target t) noexcept {
#if FERRITE_SIMD_X86
  const cpu_feature_set& f = cpu_features();
  const bool avx2_set = f.avx2 && f.fma && f.bmi1 && f.bmi2 && f.popcnt && f.sse42 && f.pclmul;
  switch (t) {
    case target::scalar: return true;
    case target::avx2: return avx2_set;
    case target::avx512: return avx2_set && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
  }
  return false;
#else
  return t == target::scalar;
#endif
}

const kernel_table* table_of(target t) noexcept {
  if (!cpu_runs(t)) return nullptr;
  switch (t) {
    case target::scalar: return &scalar_table;
#if FERRITE_SIMD_X86
    case target::avx2: return &avx2_table;
    case target::avx512: {
      static const bool vpclmulqdq = has_vpclmulqdq();
      return vpclmulqdq ? &avx512_table : &avx512_table_without_vpclmulqdq;
    }
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

target best_supported() noexcept {
  if (cpu_runs(target::avx512)) return target::avx512;
  if (cpu_runs(target::avx2)) return target::avx2;
  return target::scalar;
}

target choose_once() noexcept {
  // Read once, before any thread could be calling setenv through us.
  const char* env = std::getenv("FERRITE_SIMD");  // NOLINT(concurrency-mt-unsafe)
  return choose_target(env != nullptr ? std::string_view(env) : std::string_view(),
                       best_supported());
}

const kernel_table& resolve() noexcept;

// The table installed before the first call: each entry resolves, then forwards.
constexpr kernel_table resolving_table{
    .isa = target::scalar,
    .crc32c_name = "unresolved",
    .find_byte = [](const unsigned char* p, std::size_t n,
                    unsigned char b) noexcept { return resolve().find_byte(p, n, b); },
    .find_any_of = [](const unsigned char* p, std::size_t n,
                      const byte_set_tables& s) noexcept { return resolve().find_any_of(p, n, s); },
    .find_crlf = [](const unsigned char* p,
                    std::size_t n) noexcept { return resolve().find_crlf(p, n); },
    .find_all_crlf =
        [](const unsigned char* p, std::size_t n, std::size_t* out, std::size_t capacity) noexcept {
          return resolve().find_all_crlf(p, n, out, capacity);
        },
    .count_byte = [](const unsigned char* p, std::size_t n,
                     unsigned char b) noexcept { return resolve().count_byte(p, n, b); },
    .crc32c_update = [](std::uint32_t crc, const unsigned char* p,
                        std::size_t n) noexcept { return resolve().crc32c_update(crc, p, n); },
    .dot_f32 = [](const float* a, const float* b,
                  std::size_t n) noexcept { return resolve().dot_f32(a, b, n); },
    .dot_f64 = [](const double* a, const double* b,
                  std::size_t n) noexcept { return resolve().dot_f64(a, b, n); },
    .sum_f32 = [](const float* x, std::size_t n) noexcept { return resolve().sum_f32(x, n); },
    .sum_f64 = [](const double* x, std::size_t n) noexcept { return resolve().sum_f64(x, n); },
    .axpy_f32 = [](float a, const float* x, float* y,
                   std::size_t n) noexcept { resolve().axpy_f32(a, x, y, n); },
    .axpy_f64 = [](double a, const double* x, double* y,
                   std::size_t n) noexcept { resolve().axpy_f64(a, x, y, n); },
    .copy = [](void* dst, const void* src, std::size_t n) noexcept { resolve().copy(dst, src, n); },
};

ferrite::atomic<const kernel_table*> active_table_{&resolving_table};

const kernel_table* install() noexcept {
  const kernel_table* t = table_of(choose_once());  // a supported target: never null
  // ORDERING: (2) relaxed store of a pointer to a constant table; see the header comment.
  active_table_.store(t, std::memory_order_relaxed);
  return t;
}

const kernel_table& resolve() noexcept {
  static const kernel_table* const installed = install();
  return *installed;
}

const kernel_table& table() noexcept {
  // ORDERING: (1) relaxed load; the table it points to is constant-initialized.
  return *active_table_.load(std::memory_order_relaxed);
}

/// A cache size from the OS, or `fallback` when it reports none.
std::size_t cache_size([[maybe_unused]] int name, std::size_t fallback) noexcept {
#if FERRITE_OS_LINUX
  const long bytes = sysconf(name);
  if (bytes > 0) return static_cast<std::size_t>(bytes);
#endif
  return fallback;
}

copy_thresholds compute_copy_thresholds() noexcept {
#if FERRITE_OS_LINUX && defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  const std::size_t l1 = cache_size(_SC_LEVEL1_DCACHE_SIZE, std::size_t{32} << 10U);
  const std::size_t l2 = cache_size(_SC_LEVEL2_CACHE_SIZE, std::size_t{2} << 20U);
#else
  const std::size_t l1 = std::size_t{32} << 10U;
  const std::size_t l2 = std::size_t{2} << 20U;
#endif
  // rep movsb wins once source and destination no longer fit in L1 together; non-temporal
  // stores once the copy is well past what the core's own L2 holds (the L3 share a VM or a
  // busy socket leaves is not observable). Neither below copy_policy_floor.
  const std::size_t rep = l1 / 2 > copy_policy_floor ? l1 / 2 : copy_policy_floor;
  const std::size_t non_temporal =
      8 * l2 > (std::size_t{1} << 20U) ? 8 * l2 : std::size_t{1} << 20U;
  return {cpu_features().erms ? rep : ~std::size_t{0}, non_temporal};
}

}  // namespace

target choose_target(std::string_view requested, target best) noexcept {
  target want = best;
  if (requested == "scalar") want = target::scalar;
  if (requested == "avx2") want = target::avx2;
  if (requested == "avx512") want = target::avx512;
  return want < best ? want : best;
}

const kernel_table* kernels_for(target t) noexcept { return table_of(t); }

const copy_thresholds& copy_policy() noexcept {
  static const copy_thresholds thresholds = compute_copy_thresholds();
  return thresholds;
}

const kernel_table& active_kernels() noexcept { return resolve(); }

// ---- the dispatched entry points ---------------------------------------------------------

std::size_t find_byte(const void* data, std::size_t size, unsigned char needle) noexcept {
  return table().find_byte(static_cast<const unsigned char*>(data), size, needle);
}

std::size_t find_any_of(const void* data, std::size_t size, const byte_set& set) noexcept {
  return table().find_any_of(static_cast<const unsigned char*>(data), size, set.tables());
}

std::size_t find_crlf(const void* data, std::size_t size) noexcept {
  return table().find_crlf(static_cast<const unsigned char*>(data), size);
}

std::size_t find_all_crlf(const void* data, std::size_t size, std::size_t* out,
                          std::size_t capacity) noexcept {
  return table().find_all_crlf(static_cast<const unsigned char*>(data), size, out, capacity);
}

std::size_t count_byte(const void* data, std::size_t size, unsigned char needle) noexcept {
  return table().count_byte(static_cast<const unsigned char*>(data), size, needle);
}

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) noexcept {
  return ~table().crc32c_update(~crc, static_cast<const unsigned char*>(data), size);
}

float dot(const float* a, const float* b, std::size_t n) noexcept {
  return table().dot_f32(a, b, n);
}
double dot(const double* a, const double* b, std::size_t n) noexcept {
  return table().dot_f64(a, b, n);
}
float sum(const float* x, std::size_t n) noexcept { return table().sum_f32(x, n); }
double sum(const double* x, std::size_t n) noexcept { return table().sum_f64(x, n); }
void axpy(float a, const float* x, float* y, std::size_t n) noexcept {
  table().axpy_f32(a, x, y, n);
}
void axpy(double a, const double* x, double* y, std::size_t n) noexcept {
  table().axpy_f64(a, x, y, n);
}

}  // namespace detail

// ---- the public functions that are not inline ----------------------------------------------

bool target_supported(target t) noexcept { return detail::table_of(t) != nullptr; }

target selected_target() noexcept { return detail::resolve().isa; }

std::string_view active_target() noexcept { return to_string(selected_target()); }

std::uint32_t crc32c_combine(std::uint32_t crc1, std::uint32_t crc2, std::uint64_t len2) noexcept {
  return detail::scalar::crc32c_shift(crc1, len2) ^ crc2;
}

void copy(void* dst, const void* src, std::size_t n) noexcept { detail::table().copy(dst, src, n); }

std::size_t non_temporal_threshold() noexcept { return detail::copy_policy().non_temporal; }

}  // namespace ferrite::simd
