// SPDX-License-Identifier: Apache-2.0
// core/cpu.hpp: the ordered TSC reads never go backwards on one CPU, rdtscp's aux value is
// the CPU the kernel says we run on, cycle_clock's calibration is plausible, cached and agrees
// with steady_clock over a busy-wait, and cpu_features() agrees flag by flag with the
// compiler's __builtin_cpu_supports (and /proc/cpuinfo for the flags the builtin lacks).
// Nothing here asserts how fast anything is.
#include "ferrite/core/cpu.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if FERRITE_OS_LINUX
#include <sched.h>
#endif

namespace {

using ferrite::cpu_feature_set;
using ferrite::cycle_clock;

// ---- helpers ---------------------------------------------------------------------------

#if FERRITE_OS_LINUX
/// Pins the calling thread to one CPU for its lifetime, then restores the previous mask.
class scoped_pin {
 public:
  explicit scoped_pin(int cpu) {
    if (sched_getaffinity(0, sizeof(saved_), &saved_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(static_cast<std::size_t>(cpu), &one);
    pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~scoped_pin() {
    if (pinned_) sched_setaffinity(0, sizeof(saved_), &saved_);
  }
  scoped_pin(const scoped_pin&) = delete;
  scoped_pin& operator=(const scoped_pin&) = delete;

  [[nodiscard]] bool pinned() const { return pinned_; }

 private:
  cpu_set_t saved_{};
  bool pinned_ = false;
};

/// The CPUs this thread may run on.
[[maybe_unused]] std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(static_cast<std::size_t>(cpu), &set)) cpus.push_back(cpu);
  }
  return cpus;
}
#endif

/// The "flags" line of /proc/cpuinfo as a set, empty when unreadable.
[[maybe_unused]] std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

/// The value of the first "model name" line of /proc/cpuinfo, if any.
[[maybe_unused]] std::optional<std::string> proc_cpuinfo_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos || colon + 2 > line.size()) return std::string();
    return line.substr(colon + 2);
  }
  return std::nullopt;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// ---- pause and the TSC -----------------------------------------------------------------

TEST(Cpu, PauseReturns) {
  for (int i = 0; i < 1000; ++i) ferrite::pause();
}

TEST(Cpu, TscAuxDecodesLinuxEncoding) {
  constexpr ferrite::tsc_aux_reading r{42, (3U << 12U) | 17U};
  static_assert(r.cpu() == 17U);
  static_assert(r.node() == 3U);
}

// Ordered reads on one CPU: each rdtsc() (lfence; rdtsc) waits for the previous rdtscp() to
// complete, and each rdtscp() for the previous rdtsc(), so the sequence cannot go backwards.
// Pinned when possible so a migration between two cores' counters cannot be blamed.
TEST(Cpu, OrderedReadsAreMonotonicOnOneThread) {
#if FERRITE_ARCH_X86_64
  if (!ferrite::cpu_features().rdtscp) GTEST_SKIP() << "no rdtscp on this CPU";
#endif
#if FERRITE_OS_LINUX
  const scoped_pin pin(sched_getcpu());
#endif
  constexpr int reads = 200'000;
  int backwards = 0;
  std::uint64_t previous = ferrite::rdtsc();
  for (int i = 0; i < reads; ++i) {
    const std::uint64_t a = ferrite::rdtsc();
    const std::uint64_t b = ferrite::rdtscp();
    const std::uint64_t c = ferrite::rdtscp_aux().ticks;
    if (a < previous || b < a || c < b) ++backwards;
    previous = c;
  }
  EXPECT_EQ(backwards, 0) << "out of " << reads << " rounds";
  EXPECT_GT(previous, 0U);
}

// Linux writes IA32_TSC_AUX = (node << 12) | cpu on every CPU; pinned to each allowed CPU in
// turn, rdtscp must report that CPU (and node), as sched_getcpu/getcpu do.
TEST(Cpu, RdtscpAuxIsTheCurrentCpuWhenPinned) {
#if FERRITE_ARCH_X86_64 && FERRITE_OS_LINUX
  if (!ferrite::cpu_features().rdtscp) GTEST_SKIP() << "no rdtscp on this CPU";
  const std::vector<int> cpus = allowed_cpus();
  if (cpus.empty()) GTEST_SKIP() << "sched_getaffinity failed";
  int checked = 0;
  for (const int cpu : cpus) {
    if (checked == 64) break;  // enough on a big machine
    const scoped_pin pin(cpu);
    if (!pin.pinned()) continue;
    const ferrite::tsc_aux_reading r = ferrite::rdtscp_aux();
    unsigned kernel_cpu = 0;
    unsigned kernel_node = 0;
    ASSERT_EQ(getcpu(&kernel_cpu, &kernel_node), 0);
    EXPECT_EQ(kernel_cpu, static_cast<unsigned>(cpu));
    EXPECT_EQ(r.cpu(), kernel_cpu) << "aux " << r.aux;
    EXPECT_EQ(r.node(), kernel_node) << "aux " << r.aux;
    EXPECT_EQ(static_cast<int>(r.cpu()), sched_getcpu());
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "could not pin this thread to any CPU";
#else
  GTEST_SKIP() << "IA32_TSC_AUX is x86-64 and its encoding Linux's";
#endif
}

// ---- cycle_clock -----------------------------------------------------------------------

TEST(CycleClock, IsInvariantFollowsCpuid) {
#if FERRITE_ARCH_X86_64
  EXPECT_EQ(cycle_clock::is_invariant(), ferrite::cpu_features().invariant_tsc);
#else
  EXPECT_FALSE(cycle_clock::is_invariant());
#endif
  static_assert(cycle_clock::is_steady);
}

TEST(CycleClock, TicksPerSecondIsPlausibleAndCached) {
  const double first = cycle_clock::ticks_per_second();
  const double second = cycle_clock::ticks_per_second();
  EXPECT_EQ(first, second);
  if (cycle_clock::is_invariant()) {
    EXPECT_GT(first, 100e6);
    EXPECT_LT(first, 10e9);
  } else {
    EXPECT_EQ(first, 1e9);
  }
}

// The first calls race: every thread must see the one calibration.
TEST(CycleClock, ConcurrentFirstCallsAgree) {
  constexpr int threads = 4;
  std::vector<double> seen(threads, 0.0);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(
        [&seen, t] { seen[static_cast<std::size_t>(t)] = cycle_clock::ticks_per_second(); });
  }
  for (std::thread& w : workers) w.join();
  for (const double s : seen) EXPECT_EQ(s, seen[0]);
}

TEST(CycleClock, ConversionsAreConsistent) {
  EXPECT_EQ(cycle_clock::to_nanoseconds(0), 0U);
  EXPECT_EQ(cycle_clock::to_duration(0), std::chrono::nanoseconds(0));
  const auto one_second = static_cast<std::uint64_t>(cycle_clock::ticks_per_second());
  const double ns = static_cast<double>(cycle_clock::to_nanoseconds(one_second));
  EXPECT_NEAR(ns, 1e9, 1e9 * 1e-6);
  for (const std::uint64_t ticks : {std::uint64_t{1}, std::uint64_t{12345}, one_second * 7}) {
    EXPECT_EQ(cycle_clock::to_duration(ticks).count(),
              static_cast<std::int64_t>(cycle_clock::to_nanoseconds(ticks)));
  }
  if (!cycle_clock::is_invariant()) {
    EXPECT_EQ(cycle_clock::to_nanoseconds(123456789), 123456789U);
  }
  // Saturation instead of overflow (UBSan checks the float-to-integer conversion).
  EXPECT_GT(cycle_clock::to_nanoseconds(UINT64_MAX), 0U);
  EXPECT_GE(cycle_clock::to_duration(UINT64_MAX).count(), 0);
}

// Both clocks around the same ~20 ms busy-wait (no sleep: nothing here waits on another
// thread). The cycle_clock reads bracket the steady_clock ones, so a preemption inside the
// bracket only lengthens the cycle interval; up to three tries absorb that on a loaded host.
TEST(CycleClock, ToNanosecondsMatchesSteadyClockOverABusyWait) {
  using std::chrono::steady_clock;
  static_cast<void>(cycle_clock::ticks_per_second());  // calibrate outside the interval
  constexpr auto busy = std::chrono::milliseconds(20);
  double ratio = 0.0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const cycle_clock::rep c0 = cycle_clock::now();
    const steady_clock::time_point s0 = steady_clock::now();
    while (steady_clock::now() - s0 < busy) ferrite::pause();
    const steady_clock::time_point s1 = steady_clock::now();
    const cycle_clock::rep c1 = cycle_clock::now();
    ASSERT_GE(c1, c0);
    const double steady_ns = std::chrono::duration<double, std::nano>(s1 - s0).count();
    const double cycle_ns = static_cast<double>(cycle_clock::to_nanoseconds(c1 - c0));
    EXPECT_EQ(cycle_clock::to_duration(c1 - c0).count(),
              static_cast<std::int64_t>(cycle_clock::to_nanoseconds(c1 - c0)));
    ratio = cycle_ns / steady_ns;
    if (ratio > 0.8 && ratio < 1.2) break;
  }
  EXPECT_GT(ratio, 0.8);
  EXPECT_LT(ratio, 1.2);
}

// ---- cpu features ----------------------------------------------------------------------

struct feature_oracle {
  std::string_view name;         // its word in to_string()
  bool cpu_feature_set::* flag;  // the field
  std::optional<bool> expected;  // the compiler's or the kernel's answer; nullopt: unknown
};

/// Every field of cpu_feature_set with an independent answer for this machine:
/// __builtin_cpu_supports where GCC 12 and clang 19 both know the feature (both check OS
/// support through xgetbv like cpu_features() does), /proc/cpuinfo for the rest.
std::vector<feature_oracle> oracles() {
#if FERRITE_ARCH_X86_64
  __builtin_cpu_init();
  const auto builtin = [](int supported) { return std::optional<bool>(supported != 0); };
  const std::set<std::string> flags = proc_cpuinfo_flags();
  const auto kernel = [&flags](const char* flag) -> std::optional<bool> {
    if (flags.empty()) return std::nullopt;
    return flags.contains(flag);
  };
  return {
      {"sse4.2", &cpu_feature_set::sse42, builtin(__builtin_cpu_supports("sse4.2"))},
      {"popcnt", &cpu_feature_set::popcnt, builtin(__builtin_cpu_supports("popcnt"))},
      {"avx", &cpu_feature_set::avx, builtin(__builtin_cpu_supports("avx"))},
      {"avx2", &cpu_feature_set::avx2, builtin(__builtin_cpu_supports("avx2"))},
      {"fma", &cpu_feature_set::fma, builtin(__builtin_cpu_supports("fma"))},
      {"bmi1", &cpu_feature_set::bmi1, builtin(__builtin_cpu_supports("bmi"))},
      {"bmi2", &cpu_feature_set::bmi2, builtin(__builtin_cpu_supports("bmi2"))},
      {"avx512f", &cpu_feature_set::avx512f, builtin(__builtin_cpu_supports("avx512f"))},
      {"avx512bw", &cpu_feature_set::avx512bw, builtin(__builtin_cpu_supports("avx512bw"))},
      {"avx512vl", &cpu_feature_set::avx512vl, builtin(__builtin_cpu_supports("avx512vl"))},
      {"avx512dq", &cpu_feature_set::avx512dq, builtin(__builtin_cpu_supports("avx512dq"))},
      {"avx512cd", &cpu_feature_set::avx512cd, builtin(__builtin_cpu_supports("avx512cd"))},
      {"avx512vbmi", &cpu_feature_set::avx512vbmi, builtin(__builtin_cpu_supports("avx512vbmi"))},
      {"pclmul", &cpu_feature_set::pclmul, builtin(__builtin_cpu_supports("pclmul"))},
      {"f16c", &cpu_feature_set::f16c, builtin(__builtin_cpu_supports("f16c"))},
      {"lzcnt", &cpu_feature_set::lzcnt, builtin(__builtin_cpu_supports("lzcnt"))},
      {"erms", &cpu_feature_set::erms, kernel("erms")},
      {"fsrm", &cpu_feature_set::fsrm, kernel("fsrm")},
      {"rdtscp", &cpu_feature_set::rdtscp, kernel("rdtscp")},
      // Linux sets nonstop_tsc exactly from cpuid 0x80000007 EDX bit 8.
      {"invariant_tsc", &cpu_feature_set::invariant_tsc, kernel("nonstop_tsc")},
      {"hypervisor", &cpu_feature_set::hypervisor, kernel("hypervisor")},
  };
#else
  const std::optional<bool> no = false;
  return {
      {"sse4.2", &cpu_feature_set::sse42, no},
      {"popcnt", &cpu_feature_set::popcnt, no},
      {"avx", &cpu_feature_set::avx, no},
      {"avx2", &cpu_feature_set::avx2, no},
      {"fma", &cpu_feature_set::fma, no},
      {"bmi1", &cpu_feature_set::bmi1, no},
      {"bmi2", &cpu_feature_set::bmi2, no},
      {"avx512f", &cpu_feature_set::avx512f, no},
      {"avx512bw", &cpu_feature_set::avx512bw, no},
      {"avx512vl", &cpu_feature_set::avx512vl, no},
      {"avx512dq", &cpu_feature_set::avx512dq, no},
      {"avx512cd", &cpu_feature_set::avx512cd, no},
      {"avx512vbmi", &cpu_feature_set::avx512vbmi, no},
      {"pclmul", &cpu_feature_set::pclmul, no},
      {"f16c", &cpu_feature_set::f16c, no},
      {"lzcnt", &cpu_feature_set::lzcnt, no},
      {"erms", &cpu_feature_set::erms, no},
      {"fsrm", &cpu_feature_set::fsrm, no},
      {"rdtscp", &cpu_feature_set::rdtscp, no},
      {"invariant_tsc", &cpu_feature_set::invariant_tsc, no},
      {"hypervisor", &cpu_feature_set::hypervisor, no},
  };
#endif
}

TEST(CpuFeatures, TheOracleTableCoversEveryField) {
  EXPECT_EQ(oracles().size() * sizeof(bool), sizeof(cpu_feature_set));
}

TEST(CpuFeatures, AgreeWithTheCompilerAndTheKernel) {
  const cpu_feature_set& f = ferrite::cpu_features();
  int compared = 0;
  for (const feature_oracle& o : oracles()) {
    if (!o.expected.has_value()) continue;
    EXPECT_EQ(f.*o.flag, *o.expected) << o.name;
    ++compared;
  }
  EXPECT_GE(compared, 16);  // every __builtin_cpu_supports row at least
}

TEST(CpuFeatures, ComputedOnceAndCached) {
  const cpu_feature_set& a = ferrite::cpu_features();
  const cpu_feature_set& b = ferrite::cpu_features();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(a, b);
}

TEST(CpuFeatures, ToStringListsExactlyTheSetFeaturesInOrder) {
  const cpu_feature_set& f = ferrite::cpu_features();
  std::vector<std::string> expected;
  for (const feature_oracle& o : oracles()) {
    if (f.*o.flag) expected.emplace_back(o.name);
  }
  const std::string s = f.to_string();
  EXPECT_EQ(split_words(s), expected) << s;
  EXPECT_EQ(s.find("  "), std::string::npos);
  if (!s.empty()) {
    EXPECT_NE(s.front(), ' ');
    EXPECT_NE(s.back(), ' ');
  }
}

TEST(CpuFeatures, ToStringOfHandBuiltSets) {
  EXPECT_EQ(cpu_feature_set{}.to_string(), "");
  cpu_feature_set f;
  f.sse42 = f.popcnt = f.avx = f.avx2 = f.fma = f.bmi1 = f.bmi2 = true;
  EXPECT_EQ(f.to_string(), "sse4.2 popcnt avx avx2 fma bmi1 bmi2");
  cpu_feature_set g;
  g.invariant_tsc = g.avx512vl = true;
  EXPECT_EQ(g.to_string(), "avx512vl invariant_tsc");
  cpu_feature_set all;
  for (const feature_oracle& o : oracles()) all.*o.flag = true;
  EXPECT_EQ(split_words(all.to_string()).size(), oracles().size());
}

TEST(CpuBrand, TrimmedCachedAndAsTheKernelReportsIt) {
  const std::string_view brand = ferrite::cpu_brand();
  EXPECT_EQ(brand.data(), ferrite::cpu_brand().data());
  if (brand.empty()) return;
  EXPECT_NE(brand.front(), ' ');
  EXPECT_NE(brand.back(), ' ');
  EXPECT_EQ(brand.find('\0'), std::string_view::npos);
#if FERRITE_ARCH_X86_64 && FERRITE_OS_LINUX
  if (const std::optional<std::string> model = proc_cpuinfo_model_name()) {
    EXPECT_EQ(brand, *model);
  }
#endif
}

}  // namespace
