// SPDX-License-Identifier: Apache-2.0
// The heavy side of ferrite's asymmetric fences: probing and registering Linux's
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) once per process, and the syscall itself. The
// mode is chosen by a static initializer (so the first protect/pin does not pay for it) or by
// whichever fence runs first, and never changes afterwards. See asymmetric_fence.hpp, whose
// table of pairs lists this file's labels (M1)-(M5) too.
#include "ferrite/sync/asymmetric_fence.hpp"

#include "ferrite/core/contract.hpp"

#if FERRITE_OS_LINUX
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ferrite::sync {

namespace {

#if FERRITE_OS_LINUX && defined(__NR_membarrier)
long sys_membarrier(int cmd) noexcept {
  // SAFETY: membarrier takes (int cmd, unsigned flags, int cpu_id) and touches no user memory.
  return ::syscall(__NR_membarrier, cmd, 0U, 0);
}
#endif

bool probe_membarrier() noexcept {
#if FERRITE_OS_LINUX && defined(__NR_membarrier)
  const long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);
  return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
         (cmds & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0;
#else
  return false;
#endif
}

}  // namespace

bool membarrier_supported() noexcept { return probe_membarrier(); }

#if FERRITE_TSAN || FERRITE_CHECK

namespace detail {
asymmetric_fence_mode init_asymmetric_fence() noexcept { return asymmetric_fence_mode::symmetric; }
// ORDERING: (M1) the symmetric fallback: pairs with the seq_cst fence (A1) of
// asymmetric_light_fence().
void membarrier_heavy_fence() noexcept { fence(std::memory_order_seq_cst); }
}  // namespace detail

asymmetric_fence_mode current_asymmetric_fence_mode() noexcept {
  return asymmetric_fence_mode::symmetric;
}

#else

namespace detail {

asymmetric_fence_mode init_asymmetric_fence() noexcept {
  // ORDERING: (M2) acquire; pairs with the release CAS (M3) of the thread that chose first.
  const unsigned char seen = asymmetric_fence_mode_word.load(std::memory_order_acquire);
  if (seen != 0) return static_cast<asymmetric_fence_mode>(seen);
  bool use_membarrier = probe_membarrier();
#if FERRITE_OS_LINUX && defined(__NR_membarrier)
  // Registration is process-wide and idempotent, so racing initializers may both register.
  // It must complete before any thread can read "membarrier" and issue the heavy syscall.
  if (use_membarrier)
    use_membarrier = sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
  const auto chosen = static_cast<unsigned char>(use_membarrier ? asymmetric_fence_mode::membarrier
                                                                : asymmetric_fence_mode::symmetric);
  unsigned char expected = 0;
  // ORDERING: (M3) release CAS; pairs with the acquire loads (A6) in asymmetric_heavy_fence
  // and (M2) here: the registration above happens-before any heavy fence that reads the mode.
  // (A2), the light side's relaxed load, needs no synchronization: it issues no syscall.
  if (asymmetric_fence_mode_word.compare_exchange_strong(
          expected, chosen, std::memory_order_release, std::memory_order_acquire)) {
    return static_cast<asymmetric_fence_mode>(chosen);
  }
  return static_cast<asymmetric_fence_mode>(expected);  // another thread chose (the same) first
}

void membarrier_heavy_fence() noexcept {
#if FERRITE_OS_LINUX && defined(__NR_membarrier)
  // The kernel executes smp_mb() on this CPU before and after interrupting every CPU that runs
  // a thread of this process (threads not running pass a barrier on their next context
  // switch); the compiler barriers keep this thread's own accesses on their side of the call.
  // ORDERING: (M4) compiler barrier: this thread's earlier accesses stay before the syscall.
  compiler_fence(std::memory_order_seq_cst);
  const long rc = sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  // ORDERING: (M5) compiler barrier: this thread's later accesses stay after the syscall.
  compiler_fence(std::memory_order_seq_cst);
  // Cannot fail once registered (only EINVAL/EPERM, both excluded by the probe and
  // registration); a failure would silently break every light fence, so check always.
  FERRITE_ASSERT(rc == 0, "membarrier(PRIVATE_EXPEDITED) failed after registration");
#else
  FERRITE_UNREACHABLE("membarrier mode chosen on a platform without membarrier");
#endif
}

}  // namespace detail

asymmetric_fence_mode current_asymmetric_fence_mode() noexcept {
  return detail::init_asymmetric_fence();
}

namespace {
// Chooses the mode during static initialization, so the first protect/pin of the program
// does not pay for the two syscalls. Fences that run earlier choose it themselves.
[[maybe_unused]] const asymmetric_fence_mode g_startup_mode = detail::init_asymmetric_fence();
}  // namespace

#endif  // FERRITE_TSAN || FERRITE_CHECK

}  // namespace ferrite::sync
