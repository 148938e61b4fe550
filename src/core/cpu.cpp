// SPDX-License-Identifier: Apache-2.0
// The compiled-once half of cpu.hpp: cpuid/xgetbv feature detection, the brand string and
// the TSC calibration against steady_clock, each computed on first use and cached in a
// function-local static (thread-safe initialization; concurrent first callers wait for the
// one computing it). Nothing here is on a hot path.
#include "ferrite/core/cpu.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if FERRITE_ARCH_X86_64
// <cpuid.h> rather than hand-written asm: __get_cpuid_count checks the leaf against the
// maximum of its range (basic or extended) and returns zeros for an unsupported one (Intel
// would otherwise answer with the highest basic leaf's data), and it handles rbx, which
// cpuid writes and the compiler may reserve, for both GCC and clang.
#include <cpuid.h>
#endif
#if FERRITE_OS_LINUX
#include <time.h>
#endif

namespace ferrite {
namespace {

// ---- cpuid and xgetbv -------------------------------------------------------------------

#if FERRITE_ARCH_X86_64
struct cpuid_regs {
  std::uint32_t eax = 0;
  std::uint32_t ebx = 0;
  std::uint32_t ecx = 0;
  std::uint32_t edx = 0;
};

/// cpuid(leaf, subleaf); all zeros when the CPU does not implement the leaf.
cpuid_regs cpuid(std::uint32_t leaf, std::uint32_t subleaf = 0) noexcept {
  cpuid_regs r;
  if (__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx) == 0) return {};
  return r;
}

/// XCR0: the register states the OS saves and restores on context switch.
/// Preconditions: cpuid 1 ECX bit 27 (OSXSAVE); otherwise xgetbv raises #UD.
std::uint64_t xgetbv0() noexcept {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  // xgetbv by asm: the _xgetbv intrinsic needs -mxsave on the whole translation unit.
  asm("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0U));
  return (std::uint64_t{hi} << 32U) | lo;
}

constexpr bool bit(std::uint32_t reg, unsigned n) noexcept { return ((reg >> n) & 1U) != 0; }

// XCR0 state components (Intel SDM vol. 1, 13.1).
constexpr std::uint64_t xcr0_sse_avx = 0x06;  // XMM (bit 1) and upper YMM (bit 2)
constexpr std::uint64_t xcr0_avx512 = 0xe0;   // opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7)
constexpr std::uint32_t leaf_ext_features = 0x80000001;
constexpr std::uint32_t leaf_power_management = 0x80000007;
#endif

cpu_feature_set detect_features() noexcept {
  cpu_feature_set f;
#if FERRITE_ARCH_X86_64
  const cpuid_regs l1 = cpuid(1);
  const cpuid_regs l7 = cpuid(7, 0);
  const cpuid_regs ext = cpuid(leaf_ext_features);
  const cpuid_regs power = cpuid(leaf_power_management);

  const bool osxsave = bit(l1.ecx, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & xcr0_sse_avx) == xcr0_sse_avx;
  const bool os_zmm = os_ymm && (xcr0 & xcr0_avx512) == xcr0_avx512;

  f.sse42 = bit(l1.ecx, 20);
  f.popcnt = bit(l1.ecx, 23);
  f.avx = os_ymm && bit(l1.ecx, 28);
  f.avx2 = os_ymm && bit(l7.ebx, 5);
  f.fma = os_ymm && bit(l1.ecx, 12);
  f.bmi1 = bit(l7.ebx, 3);
  f.bmi2 = bit(l7.ebx, 8);
  f.avx512f = os_zmm && bit(l7.ebx, 16);
  f.avx512bw = os_zmm && bit(l7.ebx, 30);
  f.avx512vl = os_zmm && bit(l7.ebx, 31);
  f.avx512dq = os_zmm && bit(l7.ebx, 17);
  f.avx512cd = os_zmm && bit(l7.ebx, 28);
  f.avx512vbmi = os_zmm && bit(l7.ecx, 1);
  f.pclmul = bit(l1.ecx, 1);
  f.f16c = os_ymm && bit(l1.ecx, 29);
  f.lzcnt = bit(ext.ecx, 5);
  f.erms = bit(l7.ebx, 9);
  f.fsrm = bit(l7.edx, 4);
  f.rdtscp = bit(ext.edx, 27);
  f.invariant_tsc = bit(power.edx, 8);
  f.hypervisor = bit(l1.ecx, 31);
#endif
  return f;
}

/// Every flag of cpu_feature_set with its name in to_string(), in declaration order.
struct feature_name {
  std::string_view name;
  bool cpu_feature_set::* flag;
};
constexpr std::array<feature_name, 21> feature_names{{
    {"sse4.2", &cpu_feature_set::sse42},
    {"popcnt", &cpu_feature_set::popcnt},
    {"avx", &cpu_feature_set::avx},
    {"avx2", &cpu_feature_set::avx2},
    {"fma", &cpu_feature_set::fma},
    {"bmi1", &cpu_feature_set::bmi1},
    {"bmi2", &cpu_feature_set::bmi2},
    {"avx512f", &cpu_feature_set::avx512f},
    {"avx512bw", &cpu_feature_set::avx512bw},
    {"avx512vl", &cpu_feature_set::avx512vl},
    {"avx512dq", &cpu_feature_set::avx512dq},
    {"avx512cd", &cpu_feature_set::avx512cd},
    {"avx512vbmi", &cpu_feature_set::avx512vbmi},
    {"pclmul", &cpu_feature_set::pclmul},
    {"f16c", &cpu_feature_set::f16c},
    {"lzcnt", &cpu_feature_set::lzcnt},
    {"erms", &cpu_feature_set::erms},
    {"fsrm", &cpu_feature_set::fsrm},
    {"rdtscp", &cpu_feature_set::rdtscp},
    {"invariant_tsc", &cpu_feature_set::invariant_tsc},
    {"hypervisor", &cpu_feature_set::hypervisor},
}};
// A flag added to cpu_feature_set without a name here would be missing from to_string().
static_assert(sizeof(cpu_feature_set) == feature_names.size() * sizeof(bool),
              "every cpu_feature_set flag needs an entry in feature_names");

// ---- brand string ----------------------------------------------------------------------

// Offsets rather than a string_view: the struct is returned by value, which would leave a
// view pointing into the copied-from array.
struct brand_string {
  std::array<char, 48> text{};  // cpuid 0x80000002..4: 3 leaves x 4 registers x 4 bytes
  std::size_t begin = 0;        // the trimmed brand is text[begin, begin + size)
  std::size_t size = 0;
};

brand_string read_brand() noexcept {
  brand_string b;
#if FERRITE_ARCH_X86_64
  for (std::uint32_t i = 0; i < 3; ++i) {
    const cpuid_regs r = cpuid(0x80000002U + i);
    const std::array<std::uint32_t, 4> words{r.eax, r.ebx, r.ecx, r.edx};
    // SAFETY: 16 bytes from a std::array of 4 uint32_t (trivially copyable) into
    // text[16 i, 16 i + 16), inside the 48-byte array for i < 3.
    std::memcpy(b.text.data() + std::size_t{16} * i, words.data(), sizeof(words));
  }
#endif
  std::string_view s(b.text.data(), b.text.size());
  s = s.substr(0, s.find('\0'));
  const std::size_t first = s.find_first_not_of(' ');
  if (first == std::string_view::npos) return b;
  b.begin = first;
  b.size = s.find_last_not_of(' ') + 1 - first;
  return b;
}

// ---- TSC calibration ---------------------------------------------------------------------

/// How long the calibration measures: long enough that the error of the two clock pairs
/// (tens of nanoseconds each) is a few parts per million, short enough for a first call.
constexpr std::uint64_t calibration_window_ns = 10'000'000;

struct clock_pair {
  std::uint64_t ticks = 0;
  std::uint64_t nanoseconds = 0;
};

/// A steady_clock reading bracketed by two ordered TSC reads, the tightest of a few tries,
/// so that an interrupt between the reads cannot skew the pair by more than the bracket.
clock_pair read_clock_pair() noexcept {
  clock_pair best;
  std::uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t before = rdtsc();
    const std::uint64_t ns = detail::steady_nanoseconds();
    const std::uint64_t after = rdtsc();  // lfence: waits for the steady_clock read
    if (after >= before && after - before < best_width) {
      best_width = after - before;
      best = {before + (after - before) / 2, ns};
    }
  }
  return best;
}

/// Lets steady_clock pass `deadline_ns`, sleeping where the OS allows.
void wait_until(std::uint64_t deadline_ns) noexcept {
  for (std::uint64_t now = detail::steady_nanoseconds(); now < deadline_ns;
       now = detail::steady_nanoseconds()) {
#if FERRITE_OS_LINUX
    const timespec remaining{0, static_cast<long>(deadline_ns - now)};  // < 1 s: fits
    nanosleep(&remaining, nullptr);
#else
    pause();
#endif
  }
}

struct tsc_calibration {
  double ticks_per_second = 1e9;
  double nanoseconds_per_tick = 1.0;
};

/// Measures the TSC rate against steady_clock over calibration_window_ns. Retries a
/// measurement that is implausible (a TSC that went backwards, or off by orders of
/// magnitude), which only a core migration between unsynchronized TSCs would cause.
tsc_calibration calibrate() noexcept {
  tsc_calibration c;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const clock_pair start = read_clock_pair();
    wait_until(start.nanoseconds + calibration_window_ns);
    const clock_pair end = read_clock_pair();
    const double ticks = static_cast<double>(end.ticks - start.ticks);
    const double ns = static_cast<double>(end.nanoseconds - start.nanoseconds);
    c.ticks_per_second = ticks * 1e9 / ns;
    c.nanoseconds_per_tick = ns / ticks;
    if (end.ticks > start.ticks && c.ticks_per_second > 1e6 && c.ticks_per_second < 1e11) {
      break;
    }
  }
  return c;
}

const tsc_calibration& calibration() noexcept {
  static const tsc_calibration c = calibrate();
  return c;
}

}  // namespace

// ---- public and detail entry points ------------------------------------------------------

std::string cpu_feature_set::to_string() const {
  std::string out;
  for (const feature_name& f : feature_names) {
    if (!(this->*f.flag)) continue;
    if (!out.empty()) out += ' ';
    out += f.name;
  }
  return out;
}

const cpu_feature_set& cpu_features() noexcept {
  static const cpu_feature_set features = detect_features();
  return features;
}

std::string_view cpu_brand() noexcept {
  static const brand_string brand = read_brand();
  // SAFETY: read_brand() keeps begin + size <= text.size() (a trimmed sub-range of text).
  return {brand.text.data() + brand.begin, brand.size};
}

namespace detail {

bool has_rdtscp() noexcept { return cpu_features().rdtscp; }

bool has_invariant_tsc() noexcept { return cpu_features().invariant_tsc; }

double tsc_nanoseconds_per_tick() noexcept { return calibration().nanoseconds_per_tick; }

double tsc_ticks_per_second() noexcept { return calibration().ticks_per_second; }

}  // namespace detail
}  // namespace ferrite
