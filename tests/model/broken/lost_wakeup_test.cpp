// SPDX-License-Identifier: Apache-2.0
// Broken zoo: a lost wake-up. The notifier sets the flag and notifies without holding the
// mutex, between the waiter's check and its wait: the waiter sleeps forever (every thread
// blocked: a deadlock). Setting the flag under the mutex fixes it.
#include <gtest/gtest.h>

#include <mutex>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

void run(bool notify_under_lock) {
  ferrite::check::mutex m;
  ferrite::check::condition_variable cv;
  ferrite::atomic<bool> ready{false};
  ferrite::thread notifier([&] {
    if (notify_under_lock) {
      std::lock_guard lock(m);
      ready.store(true, std::memory_order_relaxed);
    } else {
      ready.store(true, std::memory_order_relaxed);
    }
    cv.notify_one();
  });
  {
    std::unique_lock lock(m);
    while (!ready.load(std::memory_order_relaxed)) cv.wait(lock);
  }
  notifier.join();
}

TEST(BrokenLostWakeup, NotifyWithoutTheLockCanBeLost) {
  expect_failure(failure_kind::deadlock, [] { run(false); });
}

TEST(FixedLostWakeup, FlagSetUnderTheLock) {
  expect_pass([] { run(true); });
}

}  // namespace
