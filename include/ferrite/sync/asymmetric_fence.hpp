// SPDX-License-Identifier: Apache-2.0
// Asymmetric fences: a pair of seq_cst fences where one side (the "light" side, run on every
// read-side operation: a hazard pointer's protect, an epoch pin) costs only a compiler barrier
// and the other side (the "heavy" side, run rarely: a hazard pointer scan, an epoch advance)
// pays for both with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running
// thread of the process execute a full barrier. This is folly's asymmetric_thread_fence_light /
// _heavy and the technique of Dice, Huang and Yang, "Asymmetric Dekker Synchronization" (2001).
// The mode is chosen once per process; where the kernel lacks membarrier both sides are real
// seq_cst fences. Under ThreadSanitizer and the model checker both sides are always real
// seq_cst fences, since neither understands membarrier.
//
// Orderings: every atomic operation has one label, numbered in reading order: (A1)-(A7) here,
// (M1)-(M5) in src/sync/asymmetric_fence.cpp.
//  (A1) seq_cst fence (light side, TSan/checker builds): pairs with the heavy side's (A5).
//  (A2) relaxed load of the mode word (light side): written once by the CAS (M3), never
//       changed; a thread that reads 0 chooses the mode itself before fencing.
//  (A3) seq_cst fence (light side, symmetric mode): pairs with the heavy side's (A7).
//  (A4) compiler barrier (light side, membarrier mode): pairs with the membarrier between
//       (M4) and (M5), which runs a full barrier on this CPU before or after it.
//  (A5) seq_cst fence (heavy side, TSan/checker builds): pairs with (A1).
//  (A6) acquire load of the mode word (heavy side): synchronizes-with the release CAS (M3),
//       so a thread that sees membarrier mode also sees the registration.
//  (A7) seq_cst fence (heavy side, symmetric mode): pairs with (A3).
//  (M1) seq_cst fence (membarrier_heavy_fence in TSan/checker builds): as (A5).
//  (M2) acquire load of the mode word (init): synchronizes-with the CAS (M3) of the chooser.
//  (M3) release CAS of the mode word (init): read by (A6, M2); (A2) needs no synchronization.
//  (M4) compiler barrier before the membarrier syscall: keeps this thread's accesses before it.
//  (M5) compiler barrier after the syscall: keeps this thread's later accesses after it.
#pragma once

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::sync {

/// How the asymmetric fence pair is implemented in this process.
enum class asymmetric_fence_mode : unsigned char {
  /// light = compiler barrier, heavy = membarrier(PRIVATE_EXPEDITED) syscall.
  membarrier = 1,
  /// light = heavy = fence(seq_cst): the kernel has no usable membarrier, or this is a
  /// TSan or model-checking build.
  symmetric = 2,
};

namespace detail {
#if !(FERRITE_TSAN || FERRITE_CHECK)
/// 0 until the mode is chosen, then an asymmetric_fence_mode value, never changed again.
/// Written once by init_asymmetric_fence() (a static initializer in asymmetric_fence.cpp, or
/// the first fence that runs before it).
inline atomic<unsigned char> asymmetric_fence_mode_word{0};
#endif
/// Chooses the mode (probes and registers membarrier) if not done yet and returns it.
/// Thread-safe and idempotent; every caller gets the same answer.
FERRITE_COLD asymmetric_fence_mode init_asymmetric_fence() noexcept;
/// The heavy side in membarrier mode: the syscall (out of line, never inlined into loops).
FERRITE_COLD void membarrier_heavy_fence() noexcept;
}  // namespace detail

/// The mode this process uses (chooses it on first call). Always `symmetric` in TSan and
/// model-checking builds. Progress: wait-free after the first call, which makes two syscalls.
[[nodiscard]] asymmetric_fence_mode current_asymmetric_fence_mode() noexcept;

/// True when this kernel accepts MEMBARRIER_CMD_PRIVATE_EXPEDITED (queried, not cached;
/// independent of the build's mode). For tests and diagnostics.
[[nodiscard]] bool membarrier_supported() noexcept;

/// The light side of an asymmetric seq_cst fence pair. Behaves, against any
/// asymmetric_heavy_fence() in another thread, as a `fence(std::memory_order_seq_cst)`.
/// In membarrier mode it is a compiler barrier (no instruction) plus one relaxed load of the
/// mode word and a predictable branch; otherwise it is a real seq_cst fence.
///
/// Pairing: the classic store-buffering (Dekker) pattern
/// ```
///   light thread:  x.store(1, relaxed); asymmetric_light_fence(); r1 = y.load(relaxed);
///   heavy thread:  y.store(1, relaxed); asymmetric_heavy_fence(); r2 = x.load(relaxed);
/// ```
/// cannot end with r1 == 0 && r2 == 0. Two light fences do NOT order against each other.
/// Progress: wait-free.
FERRITE_ALWAYS_INLINE void asymmetric_light_fence() noexcept {
#if FERRITE_TSAN || FERRITE_CHECK
  // ORDERING: (A1) neither TSan nor the model checker understands membarrier: a real seq_cst
  // fence here, paired with the real seq_cst fence (A5) of asymmetric_heavy_fence().
  fence(std::memory_order_seq_cst);
#else
  // ORDERING: (A2) relaxed; the word is written once (M3 in init_asymmetric_fence) and never
  // changes afterwards. A thread that still reads 0 chooses the mode itself before fencing,
  // so every light fence runs in the same mode as every heavy fence.
  const unsigned char mode = detail::asymmetric_fence_mode_word.load(std::memory_order_relaxed);
  if (mode != static_cast<unsigned char>(asymmetric_fence_mode::membarrier)) [[unlikely]] {
    if (detail::init_asymmetric_fence() != asymmetric_fence_mode::membarrier) {
      // ORDERING: (A3) symmetric mode: pairs with the seq_cst fence (A7) in
      // asymmetric_heavy_fence().
      fence(std::memory_order_seq_cst);
    }
  }
  // ORDERING: (A4) membarrier mode: the heavy side's membarrier runs a full barrier on this CPU
  // at some point of this thread's execution; this compiler barrier keeps program order around
  // the light fence so that point falls either before or after it, never across it.
  compiler_fence(std::memory_order_seq_cst);
#endif
}

/// The heavy side of an asymmetric seq_cst fence pair: acts as a seq_cst fence on the calling
/// thread and, against every asymmetric_light_fence() of every other thread, as if that light
/// fence were a seq_cst fence. In membarrier mode it costs one syscall (interrupting each CPU
/// currently running a thread of this process); otherwise it is a fence(seq_cst). Call it
/// rarely (amortize over many operations).
/// Progress: wait-free in symmetric mode; a system call (bounded, non-blocking) otherwise.
FERRITE_ALWAYS_INLINE void asymmetric_heavy_fence() noexcept {
#if FERRITE_TSAN || FERRITE_CHECK
  // ORDERING: (A5) pairs with the seq_cst fence (A1) of asymmetric_light_fence() (symmetric
  // here).
  fence(std::memory_order_seq_cst);
#else
  // ORDERING: (A6) acquire; pairs with the release CAS (M3) in init_asymmetric_fence, so a
  // thread that sees "membarrier" also sees the registration that made the syscall legal.
  const unsigned char mode = detail::asymmetric_fence_mode_word.load(std::memory_order_acquire);
  if (mode == static_cast<unsigned char>(asymmetric_fence_mode::membarrier) ||
      detail::init_asymmetric_fence() == asymmetric_fence_mode::membarrier) {
    detail::membarrier_heavy_fence();
  } else {
    // ORDERING: (A7) symmetric mode: pairs with the seq_cst fence (A3) in
    // asymmetric_light_fence().
    fence(std::memory_order_seq_cst);
  }
#endif
}

}  // namespace ferrite::sync
