// SPDX-License-Identifier: Apache-2.0
// The instruction-set levels ferrite::simd has kernels for, and the one this process uses.
// Every kernel is written once per level (scalar, avx2, avx512) in its own translation unit,
// compiled for that level only; one level is chosen for the whole process on the first call
// of any kernel (or of selected_target()), from cpu_features() or from the FERRITE_SIMD
// environment variable, and never changes afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ferrite::simd {

/// An instruction-set level with its own kernels. Ordered: each level's requirements include
/// the previous level's, so a CPU that runs a level runs every level below it.
enum class target : std::uint8_t {
  /// Portable C++ (and libc's memchr/memcpy): compiles and runs on any architecture.
  scalar = 0,
  /// x86-64 with AVX2, FMA, BMI1, BMI2, POPCNT, SSE4.2 (crc32) and PCLMULQDQ, with the OS
  /// saving the YMM state: Intel Haswell (2013) and later, AMD Zen and later.
  avx2 = 1,
  /// The avx2 set plus AVX-512 F, BW, VL and DQ, with the OS saving the opmask and ZMM state:
  /// Intel Skylake-SP (2017) and later server cores, Ice Lake client, AMD Zen 4. crc32c also
  /// uses VPCLMULQDQ where the CPU has it (Ice Lake, Zen 4 and later).
  avx512 = 2,
};

/// The number of targets: every target's underlying value is below it.
inline constexpr std::size_t target_count = 3;

/// The target's name: "scalar", "avx2" or "avx512" (the values FERRITE_SIMD accepts).
[[nodiscard]] constexpr std::string_view to_string(target t) noexcept {
  switch (t) {
    case target::scalar: return "scalar";
    case target::avx2: return "avx2";
    case target::avx512: return "avx512";
  }
  return "scalar";
}

/// Whether this build has kernels for `t` and this CPU, with its OS, can run them. The
/// scalar target is always supported. The first call runs cpuid (cached afterwards).
[[nodiscard]] bool target_supported(target t) noexcept;

/// The target every dispatched kernel of this process uses. Resolved once, on the first call
/// of this or of any kernel: the FERRITE_SIMD environment variable's target when it names one
/// ("scalar", "avx2", "avx512") and that target is supported, else the best supported target
/// not above the one it names, else (FERRITE_SIMD unset, empty or unknown) the best supported
/// target. Later changes to the environment have no effect. Thread-safe.
[[nodiscard]] target selected_target() noexcept;

/// selected_target()'s name: "scalar", "avx2" or "avx512".
[[nodiscard]] std::string_view active_target() noexcept;

}  // namespace ferrite::simd
