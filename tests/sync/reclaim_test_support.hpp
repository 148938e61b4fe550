// SPDX-License-Identifier: Apache-2.0
// Shared by the hazard pointer and epoch tests: the stress scale, the magic values that
// objects carry while alive and after their deleter ran, and per-test retire counters.
#pragma once

#include <cstdint>

#include "ferrite/core/atomic.hpp"

namespace ferrite_test {

#if FERRITE_TSAN
// TSan runs about 10x slower: keep each test well under 10 s.
inline constexpr int stress_scale = 8;
#else
inline constexpr int stress_scale = 32;
#endif

inline constexpr std::uint64_t alive_magic = 0xA11CEA11CEA11CE5ULL;
inline constexpr std::uint64_t dead_magic = 0xDEADDEADDEADDEADULL;

/// Counts creations and deleter calls of one test.
struct counters {
  ferrite::atomic<std::uint64_t> created{0};
  ferrite::atomic<std::uint64_t> deleted{0};
};

/// Objects created and not yet deleted.
inline std::uint64_t outstanding(const counters& c) {
  // ORDERING: relaxed; read after the threads that update the counters were joined.
  return c.created.load(std::memory_order_relaxed) - c.deleted.load(std::memory_order_relaxed);
}

}  // namespace ferrite_test
