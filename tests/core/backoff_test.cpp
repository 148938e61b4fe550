// SPDX-License-Identifier: Apache-2.0
// backoff: the step schedule, and a stress test of a test-and-test-and-set lock that backs
// off with it (every increment under the lock is counted exactly once).
#include "ferrite/core/backoff.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

TEST(Backoff, SpinNeverCompletes) {
  ferrite::backoff b;
  for (int i = 0; i < 100; ++i) b.spin();
  EXPECT_FALSE(b.is_completed());
  EXPECT_EQ(b.step(), ferrite::backoff::spin_limit + 1);
}

TEST(Backoff, SnoozeCompletesAfterYieldLimit) {
  ferrite::backoff b;
  std::uint32_t calls = 0;
  while (!b.is_completed()) {
    b.snooze();
    ++calls;
  }
  EXPECT_EQ(calls, ferrite::backoff::yield_limit + 1);
  b.reset();
  EXPECT_EQ(b.step(), 0U);
  EXPECT_FALSE(b.is_completed());
}

class tas_lock {
 public:
  void lock() noexcept {
    ferrite::backoff b;
    for (;;) {
      // ORDERING: acquire pairs with the release store in unlock().
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      // ORDERING: relaxed read-only wait; the exchange above does the synchronizing.
      while (locked_.load(std::memory_order_relaxed)) b.snooze();
    }
  }
  // ORDERING: release pairs with the acquire exchange in lock().
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  ferrite::atomic<bool> locked_{false};
};

TEST(Backoff, LockWithBackoffCountsExactly) {
  constexpr int threads = 4;  // oversubscribe the 2-core machine
  constexpr std::uint64_t per_thread = 20000;
  tas_lock lock;
  ferrite::cell<std::uint64_t> total{0};
  std::vector<ferrite::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        lock.lock();
        total.with_mut([](std::uint64_t* p) { ++*p; });
        lock.unlock();
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(total.get_mut(), threads * per_thread);
}

}  // namespace
