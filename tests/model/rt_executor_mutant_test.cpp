// SPDX-License-Identifier: Apache-2.0
// The planted bug of the pool's model tests: a remote wake racing a worker's park, built twice
// (tests/model/CMakeLists.txt): against the real runtime it must pass; against the runtime
// whose park() lacks its seq_cst fence (P6), generated from the real source, it must find the
// lost wake-up (a deadlock) the fence prevents.
#include <gtest/gtest.h>

#include <coroutine>
#include <mutex>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/thread_pool.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;
namespace rt = ferrite::rt;

/// A value a model thread publishes and wakes a task for (as the real test's event).
struct slot {
  ferrite::atomic<int> value{0};
  ferrite::atomic<bool> waiting{false};
  rt::waker w;
};

struct await_value {
  slot& s;
  bool await_ready() const {
    // ORDERING: acquire: pairs with the firer's release.
    return s.value.load(std::memory_order_acquire) != 0;
  }
  bool await_suspend(std::coroutine_handle<> self) {
    rt::detail::suspend_until(self, &ready, &s);
    s.w = rt::current_waker();
    // ORDERING: acq_rel: publishes the waker; sees a value published first.
    if (s.waiting.exchange(true, std::memory_order_acq_rel)) return false;
    return true;
  }
  int await_resume() const {
    // ORDERING: acquire: pairs with the firer's release.
    return s.value.load(std::memory_order_acquire);
  }
  static bool ready(const void* p) noexcept {
    // ORDERING: acquire: pairs with the firer's release.
    return static_cast<const slot*>(p)->value.load(std::memory_order_acquire) != 0;
  }
};

void remote_wake_racing_park() {
  slot s;
  rt::thread_pool pool(rt::pool_options{.workers = 1});
  ferrite::thread firer([&] {
    // ORDERING: release: the value before the wake.
    s.value.store(7, std::memory_order_release);
    // ORDERING: acq_rel: sees the waker if the task registered first.
    if (s.waiting.exchange(true, std::memory_order_acq_rel)) std::move(s.w).wake();
  });
  const int v =
      pool.block_on([](slot& sl) -> rt::task<int> { co_return co_await await_value{sl}; }(s));
  firer.join();
  FERRITE_ASSERT(v == 7);
}

}  // namespace

#if FERRITE_RT_MUTANT
TEST(ExecutorMutant, AParkWithoutItsFenceLosesAWakeUp) {
  expect_failure(failure_kind::deadlock, remote_wake_racing_park, fixed_options(1));
}
#else
TEST(ExecutorModel, ARemoteValueRacingAPoolWorkersPark) {
  expect_pass(remote_wake_racing_park, fixed_options(1));
}
#endif
