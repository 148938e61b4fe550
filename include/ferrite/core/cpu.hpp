// SPDX-License-Identifier: Apache-2.0
// The CPU seen from user space: the spin-wait hint (pause), the time-stamp counter read with
// and without ordering (rdtsc, rdtscp, rdtsc_unordered), cycle_clock (the TSC calibrated to
// nanoseconds, or steady_clock where the TSC cannot be trusted), and cpuid feature detection
// checked against what the OS enabled (cpu_features, cpu_brand). x86-64 is the primary
// target; AArch64 reads the generic timer's virtual count, other platforms fall back to
// steady_clock, and feature detection reports nothing outside x86-64.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/detail/pause.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite {

// ---- spin hint ------------------------------------------------------------------------

/// One spin-wait hint: `pause` on x86-64, `yield` on AArch64, a compiler barrier elsewhere.
/// Put it in the body of every busy-wait loop: it frees execution resources for the sibling
/// hyperthread and avoids the memory-order mis-speculation flush when the loop exits.
/// Its latency varies by core from a few cycles to about 140 (Intel Skylake), so loops
/// should count iterations or read a clock, never assume a duration. Wait-free.
FERRITE_ALWAYS_INLINE void pause() noexcept { detail::cpu_relax(); }

// ---- time-stamp counter -----------------------------------------------------------------

/// A counter reading together with IA32_TSC_AUX, as rdtscp_aux() returns them.
struct tsc_aux_reading {
  std::uint64_t ticks;  ///< the counter, as rdtscp() returns it
  std::uint32_t aux;    ///< IA32_TSC_AUX, written by the OS per CPU; 0 off x86-64

  /// The CPU number in Linux's encoding of IA32_TSC_AUX ((node << 12) | cpu).
  [[nodiscard]] constexpr std::uint32_t cpu() const noexcept { return aux & 0xfffU; }
  /// The NUMA node number in Linux's encoding of IA32_TSC_AUX.
  [[nodiscard]] constexpr std::uint32_t node() const noexcept { return aux >> 12U; }
};

namespace detail {
/// steady_clock's reading in nanoseconds: the fallback counter off x86-64 and AArch64.
inline std::uint64_t steady_nanoseconds() noexcept {
  const auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

/// Whether this CPU implements rdtscp (cpuid 0x80000001 EDX bit 27); out of line, cached.
bool has_rdtscp() noexcept;
}  // namespace detail

/// The time-stamp counter with no ordering at all: the cheapest timestamp (x86-64 `rdtsc`,
/// AArch64 `mrs cntvct_el0`, elsewhere steady_clock nanoseconds).
///
/// rdtsc is not a serializing instruction (Intel SDM vol. 2B, RDTSC): the CPU may execute it
/// before earlier instructions have completed and after later ones have started, so around a
/// short region the reading can land anywhere in the out-of-order window (hundreds of
/// instructions on current cores). The asm has no memory clobber either, so the compiler may
/// move loads and stores across it. Use it for coarse timestamps (log lines, rate limiting,
/// a spin deadline), not to bracket a region. Wait-free.
FERRITE_ALWAYS_INLINE std::uint64_t rdtsc_unordered() noexcept {
#if FERRITE_ARCH_X86_64
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (std::uint64_t{hi} << 32U) | lo;
#elif FERRITE_ARCH_AARCH64
  std::uint64_t ticks = 0;
  asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
  return ticks;
#else
  return detail::steady_nanoseconds();
#endif
}

/// The time-stamp counter read after every earlier instruction has completed: take it at the
/// start of a measured region. x86-64: `lfence; rdtsc`. lfence does not let later
/// instructions (rdtsc included) begin until all earlier ones have completed locally; it is
/// dispatch-serializing on Intel, and on AMD when MSR C001_1029 bit 1 makes it so (Linux sets
/// it; newer AMD cores report it always on, cpuid 0x80000021 EAX bit 2). Earlier stores may
/// still sit in the store buffer. Later instructions may begin before the read retires, so
/// the region's first instructions can overlap the read by a few cycles. AArch64:
/// `isb; mrs cntvct_el0`. Elsewhere: steady_clock nanoseconds. The asm clobbers memory, so
/// the compiler keeps memory accesses on their side of it. Wait-free.
FERRITE_ALWAYS_INLINE std::uint64_t rdtsc() noexcept {
#if FERRITE_ARCH_X86_64
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  asm volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return (std::uint64_t{hi} << 32U) | lo;
#elif FERRITE_ARCH_AARCH64
  std::uint64_t ticks = 0;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(ticks) : : "memory");
  return ticks;
#else
  asm volatile("" ::: "memory");
  return detail::steady_nanoseconds();
#endif
}

/// The TSC and IA32_TSC_AUX, read after every earlier instruction has executed and before
/// any later one starts: take it at the end of a measured region. x86-64: `rdtscp; lfence`.
/// rdtscp waits until all earlier instructions have executed and earlier loads are globally
/// visible (earlier stores may not be yet); the lfence after it keeps later instructions from
/// starting before the read. AArch64: `isb; mrs cntvct_el0; isb`, aux 0. Elsewhere:
/// steady_clock nanoseconds, aux 0. Clobbers memory like rdtsc(). Wait-free.
///
/// Preconditions (x86-64): the CPU implements rdtscp, cpu_features().rdtscp (every x86-64 CPU
/// since about 2008 does; a hypervisor may hide it). Checked by FERRITE_DEBUG_ASSERT;
/// otherwise the instruction raises #UD (SIGILL).
FERRITE_ALWAYS_INLINE tsc_aux_reading rdtscp_aux() noexcept {
#if FERRITE_ARCH_X86_64
  FERRITE_DEBUG_ASSERT(detail::has_rdtscp(), "rdtscp is not implemented by this CPU");
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  std::uint32_t aux = 0;
  asm volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
  return {(std::uint64_t{hi} << 32U) | lo, aux};
#elif FERRITE_ARCH_AARCH64
  std::uint64_t ticks = 0;
  asm volatile("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(ticks) : : "memory");
  return {ticks, 0};
#else
  asm volatile("" ::: "memory");
  const std::uint64_t ticks = detail::steady_nanoseconds();
  asm volatile("" ::: "memory");
  return {ticks, 0};
#endif
}

/// rdtscp_aux() without the aux value: the ordered read for the end of a measured region.
/// A region is measured as `rdtscp() - rdtsc()`. Same preconditions as rdtscp_aux().
/// Wait-free.
FERRITE_ALWAYS_INLINE std::uint64_t rdtscp() noexcept { return rdtscp_aux().ticks; }

// ---- cycle_clock -----------------------------------------------------------------------

namespace detail {
/// Whether the TSC is invariant (cpuid 0x80000007 EDX bit 8); out of line, cached.
bool has_invariant_tsc() noexcept;
/// Nanoseconds per TSC tick, calibrated on the first call (blocks for the calibration
/// window; concurrent first callers wait for the one calibrating). Only when the TSC is
/// invariant.
double tsc_nanoseconds_per_tick() noexcept;
/// TSC ticks per second, calibrated with tsc_nanoseconds_per_tick().
double tsc_ticks_per_second() noexcept;
}  // namespace detail

/// A cheap monotonic clock in CPU ticks: the TSC on x86-64 when it is invariant (constant
/// rate in every P-, C- and T-state), otherwise steady_clock with one tick per nanosecond.
/// Ticks are plain `std::uint64_t` (not a std::chrono time_point); convert intervals with
/// to_nanoseconds() or to_duration().
///
/// Warning: ticks read on different cores are comparable only if the OS keeps their TSCs
/// synchronized (Linux checks this at boot and falls back to another clocksource when they
/// are not; a TSC it marked unstable is not detected here). The calibration is a 10 ms
/// measurement against steady_clock on the first call that needs it (a few parts per million
/// of error, typically); call ticks_per_second() at startup to pay for it there.
class cycle_clock {
 public:
  using rep = std::uint64_t;
  static constexpr bool is_steady = true;

  /// True when now() reads the TSC: x86-64 with an invariant TSC (cpuid 0x80000007 EDX
  /// bit 8). False on other architectures. The first call runs cpuid; later ones cost a load.
  [[nodiscard]] static bool is_invariant() noexcept {
    static const bool invariant = detail::has_invariant_tsc();
    return invariant;
  }

  /// The current tick count: rdtsc_unordered() when is_invariant(), else steady_clock
  /// nanoseconds. Unordered like rdtsc_unordered(): to bracket a short region, use rdtsc()
  /// and rdtscp() (their ticks are this clock's ticks when is_invariant()). Wait-free.
  [[nodiscard]] static rep now() noexcept {
#if FERRITE_ARCH_X86_64
    if (is_invariant()) [[likely]] {
      return rdtsc_unordered();
    }
#endif
    return detail::steady_nanoseconds();
  }

  /// Ticks per second: the calibrated TSC frequency when is_invariant(), else exactly 1e9.
  /// The first call calibrates (about 10 ms, blocking; thread-safe), later ones return the
  /// cached value.
  [[nodiscard]] static double ticks_per_second() noexcept {
    return is_invariant() ? detail::tsc_ticks_per_second() : 1e9;
  }

  /// Converts a tick count (an interval `end - start`, end >= start) to nanoseconds,
  /// rounded to nearest; saturates at UINT64_MAX. The first call may calibrate.
  [[nodiscard]] static std::uint64_t to_nanoseconds(rep ticks) noexcept {
    if (!is_invariant()) return ticks;
    const double ns = static_cast<double>(ticks) * detail::tsc_nanoseconds_per_tick() + 0.5;
    return ns < 0x1p64 ? static_cast<std::uint64_t>(ns) : UINT64_MAX;
  }

  /// to_nanoseconds() as a std::chrono::nanoseconds; saturates at its maximum.
  [[nodiscard]] static std::chrono::nanoseconds to_duration(rep ticks) noexcept {
    const std::uint64_t ns = to_nanoseconds(ticks);
    return std::chrono::nanoseconds(ns < std::uint64_t{INT64_MAX} ? static_cast<std::int64_t>(ns)
                                                                  : INT64_MAX);
  }
};

// ---- cpu features ----------------------------------------------------------------------

/// The instruction-set extensions this CPU implements and the OS has enabled. A flag whose
/// registers need OS support (AVX, AVX2, FMA, F16C: the YMM state in XCR0; AVX-512: the
/// opmask and ZMM state too) is true only when cpuid reports OSXSAVE and xgetbv shows those
/// state bits, so a true flag means the instructions can be executed. All false off x86-64.
struct cpu_feature_set {
  bool sse42 = false;          ///< SSE4.2 (crc32, pcmpistri); cpuid 1 ECX 20
  bool popcnt = false;         ///< cpuid 1 ECX 23
  bool avx = false;            ///< cpuid 1 ECX 28, OS: YMM
  bool avx2 = false;           ///< cpuid 7 EBX 5, OS: YMM
  bool fma = false;            ///< FMA3; cpuid 1 ECX 12, OS: YMM
  bool bmi1 = false;           ///< andn, blsr, tzcnt...; cpuid 7 EBX 3
  bool bmi2 = false;           ///< pdep, pext, shlx...; cpuid 7 EBX 8
  bool avx512f = false;        ///< cpuid 7 EBX 16, OS: opmask + ZMM
  bool avx512bw = false;       ///< cpuid 7 EBX 30, OS: opmask + ZMM
  bool avx512vl = false;       ///< cpuid 7 EBX 31, OS: opmask + ZMM
  bool avx512dq = false;       ///< cpuid 7 EBX 17, OS: opmask + ZMM
  bool avx512cd = false;       ///< cpuid 7 EBX 28, OS: opmask + ZMM
  bool avx512vbmi = false;     ///< vpermb, vpmultishiftqb; cpuid 7 ECX 1, OS: opmask + ZMM
  bool pclmul = false;         ///< carry-less multiply (crc folding); cpuid 1 ECX 1
  bool f16c = false;           ///< half-float conversion; cpuid 1 ECX 29, OS: YMM
  bool lzcnt = false;          ///< cpuid 0x80000001 ECX 5 (ABM)
  bool erms = false;           ///< enhanced rep movsb/stosb; cpuid 7 EBX 9
  bool fsrm = false;           ///< fast short rep movsb; cpuid 7 EDX 4
  bool rdtscp = false;         ///< the rdtscp instruction; cpuid 0x80000001 EDX 27
  bool invariant_tsc = false;  ///< constant-rate, never-stopping TSC; cpuid 0x80000007 EDX 8
  bool hypervisor = false;     ///< running under a hypervisor; cpuid 1 ECX 31

  /// The set flags as space-separated names, in declaration order: "sse4.2 popcnt avx avx2
  /// fma bmi1 bmi2 avx512f avx512bw avx512vl avx512dq avx512cd avx512vbmi pclmul f16c lzcnt
  /// erms fsrm rdtscp invariant_tsc hypervisor" when all are set; "" when none is.
  [[nodiscard]] std::string to_string() const;

  friend constexpr bool operator==(const cpu_feature_set&, const cpu_feature_set&) = default;
};

/// This CPU's features, detected by cpuid and xgetbv on the first call and cached for the
/// process (thread-safe; later calls return the same object). The first call costs a few
/// cpuid instructions (each a VM exit under a hypervisor: microseconds).
[[nodiscard]] const cpu_feature_set& cpu_features() noexcept;

/// The processor brand string from cpuid 0x80000002..4 ("AMD EPYC 9R14 96-Core Processor"),
/// trimmed; "" when the CPU has none or off x86-64. Cached like cpu_features().
[[nodiscard]] std::string_view cpu_brand() noexcept;

}  // namespace ferrite
