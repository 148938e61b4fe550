// SPDX-License-Identifier: Apache-2.0
// The CPU's spin-wait hint, by inline assembly. Shared by cpu.hpp's pause() and
// atomic.hpp's spin_hint() so neither header has to include the other.
#pragma once

#include "ferrite/core/platform.hpp"

namespace ferrite::detail {

/// One spin-wait hint: `pause` on x86-64 (lets the sibling hyperthread run and avoids the
/// memory-order mis-speculation penalty on loop exit), `yield` on AArch64, nothing elsewhere.
FERRITE_ALWAYS_INLINE void cpu_relax() noexcept {
#if FERRITE_ARCH_X86_64
  asm volatile("pause" ::: "memory");
#elif FERRITE_ARCH_AARCH64
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

}  // namespace ferrite::detail
