// SPDX-License-Identifier: Apache-2.0
// Model tests of the runtime's executors (src/rt compiled with FERRITE_CHECK=1, so the
// workers are model threads, parking is the checker's atomic wait, and the executors'
// thread-locals are per model thread): a wake from another thread racing the local
// executor's park (no lost wake-up: the checker reports a deadlock otherwise), the same on a
// one-worker pool, and a spawn + join on a two-worker pool where the other worker may be
// parked, searching or stealing (no worker sleeps while the spawned task waits; it runs once).
#include <gtest/gtest.h>

#include <coroutine>
#include <mutex>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/thread_pool.hpp"
#include "ferrite/sync/spin_mutex.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
namespace rt = ferrite::rt;

/// Set once by a model thread; a task awaits it. Its waker is taken under a spin lock.
class event {
 public:
  void fire() {
    rt::waker w;
    {
      std::lock_guard guard(lock_);
      // ORDERING: release: the task that sees it set was woken after (the lock orders both).
      set_.store(true, std::memory_order_release);
      w = std::move(waiter_);
    }
    std::move(w).wake();
  }
  auto wait() {
    struct awaiter {
      event& e;
      bool await_ready() const {
        // ORDERING: acquire: pairs with fire's release.
        return e.set_.load(std::memory_order_acquire);
      }
      bool await_suspend(std::coroutine_handle<> self) {
        std::lock_guard guard(e.lock_);
        // ORDERING: relaxed: under the lock fire() takes too.
        if (e.set_.load(std::memory_order_relaxed)) return false;
        rt::detail::suspend_until(self, &is_set, &e);
        e.waiter_ = rt::current_waker();
        return true;
      }
      void await_resume() const noexcept {}
      static bool is_set(const void* p) noexcept {
        // ORDERING: acquire: pairs with fire's release.
        return static_cast<const event*>(p)->set_.load(std::memory_order_acquire);
      }
    };
    return awaiter{*this};
  }

 private:
  ferrite::sync::spin_mutex lock_;
  ferrite::atomic<bool> set_{false};
  rt::waker waiter_;
};

rt::task<int> wait_then(event& e, int v) {
  co_await e.wait();
  co_return v;
}

rt::task<int> value_of(int v) { co_return v; }

}  // namespace

TEST(ExecutorModel, ARemoteWakeRacingTheLocalExecutorsPark) {
  expect_pass([] {
    event e;
    ferrite::thread firer([&] { e.fire(); });
    const int v = rt::block_on(wait_then(e, 4));
    firer.join();
    FERRITE_ASSERT(v == 4);
  });
}

// The pool's tests search with one preemption: a worker's loop is long (queues, spin locks,
// the idle protocol), and bound 2 takes minutes (2.8M executions for the one-worker test).
constexpr int pool_bound = 1;

TEST(ExecutorModel, ARemoteWakeRacingAPoolWorkersPark) {
  expect_pass(
      [] {
        event e;
        rt::thread_pool pool(rt::pool_options{.workers = 1});
        ferrite::thread firer([&] { e.fire(); });
        const int v = pool.block_on(wait_then(e, 5));
        firer.join();
        FERRITE_ASSERT(v == 5);
      },
      fixed_options(pool_bound));
}

TEST(ExecutorModel, SpawnAndJoinOnTwoWorkers) {
  expect_pass(
      [] {
        rt::thread_pool pool(rt::pool_options{.workers = 2});
        const int v =
            pool.block_on([]() -> rt::task<int> { co_return co_await rt::spawn(value_of(6)); }());
        FERRITE_ASSERT(v == 6);
      },
      fixed_options(pool_bound));
}
