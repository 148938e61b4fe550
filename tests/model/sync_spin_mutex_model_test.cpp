// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::spin_mutex under ferrite::check: lock() and try_lock() exclude (the
// critical sections touch a race-checked cell, so an overlap is a reported data race) and no
// update is lost.
#include <gtest/gtest.h>

#include <mutex>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/spin_mutex.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)

/// Three threads increment a race-checked counter under lock(): no race, no lost update.
TEST(SpinMutexModel, LockExcludesThreeThreads) {
  expect_pass([] {
    ferrite::sync::spin_mutex m;
    ferrite::cell<int> counter(0);
    auto add = [&] {
      std::lock_guard lock(m);
      counter.with_mut([](int* c) { ++*c; });
    };
    ferrite::thread t1(add);
    ferrite::thread t2(add);
    add();
    t1.join();
    t2.join();
    FERRITE_ASSERT(counter.with([](const int* c) { return *c; }) == 3, "lost update");
    FERRITE_ASSERT(!m.is_locked());
  });
}

/// Two sections per thread (the second lock() after an unlock() races with the other
/// thread's acquisition): the counter ends at 4.
TEST(SpinMutexModel, RelockTwoThreads) {
  expect_pass([] {
    ferrite::sync::spin_mutex m;
    ferrite::cell<int> counter(0);
    auto add_twice = [&] {
      for (int i = 0; i < 2; ++i) {
        std::lock_guard lock(m);
        counter.with_mut([](int* c) { ++*c; });
      }
    };
    ferrite::thread t(add_twice);
    add_twice();
    t.join();
    FERRITE_ASSERT(counter.with([](const int* c) { return *c; }) == 4, "lost update");
  });
}

/// try_lock() excludes too, and fails only while the mutex is (or was just) held: the
/// counter equals the number of successful try_locks, and an uncontended try_lock succeeds.
TEST(SpinMutexModel, TryLockExcludes) {
  expect_pass([] {
    ferrite::sync::spin_mutex m;
    ferrite::cell<int> counter(0);
    int wins = 0;  // bookkeeping: model threads run one at a time on one OS thread
    auto attempt = [&] {
      if (m.try_lock()) {
        ++wins;
        counter.with_mut([](int* c) { ++*c; });
        m.unlock();
      }
    };
    ferrite::thread t(attempt);
    attempt();
    t.join();
    FERRITE_ASSERT(wins >= 1, "both try_locks failed on a mutex that was free at some point");
    FERRITE_ASSERT(counter.with([](const int* c) { return *c; }) == wins);
    FERRITE_ASSERT(m.try_lock(), "try_lock of a free mutex failed");
    m.unlock();
  });
}

}  // namespace
