// SPDX-License-Identifier: Apache-2.0
// spin_mutex: Lockable semantics (lock/try_lock/unlock, std::lock_guard, std::unique_lock,
// std::scoped_lock over two mutexes taken in opposite orders), exact counts under
// contention from more threads than cores, and the contention metrics.
#include "ferrite/sync/spin_mutex.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/metrics.hpp"

namespace {

using ferrite::sync::spin_mutex;

#if !FERRITE_CHECK
static_assert(sizeof(spin_mutex) == 1, "one byte: users pad it when they need to");
static_assert(alignof(spin_mutex) == 1);
#endif
static_assert(!std::is_copy_constructible_v<spin_mutex>);
static_assert(!std::is_move_constructible_v<spin_mutex>);
static_assert(std::is_nothrow_default_constructible_v<spin_mutex>);

#if FERRITE_TSAN
constexpr std::uint64_t per_thread = 5'000;
#else
constexpr std::uint64_t per_thread = 50'000;
#endif
constexpr int threads = 4;  // oversubscribes the 2-core machine

TEST(SpinMutex, LockUnlockAndTryLock) {
  spin_mutex m;
  EXPECT_FALSE(m.is_locked());
  m.lock();
  EXPECT_TRUE(m.is_locked());
  EXPECT_FALSE(m.try_lock());
  m.unlock();
  EXPECT_FALSE(m.is_locked());
  ASSERT_TRUE(m.try_lock());
  EXPECT_TRUE(m.is_locked());
  EXPECT_FALSE(m.try_lock());
  m.unlock();
}

TEST(SpinMutex, TryLockFromAnotherThreadFailsWhileHeld) {
  spin_mutex m;
  m.lock();
  bool got = true;
  ferrite::thread t([&] { got = m.try_lock(); });
  t.join();
  EXPECT_FALSE(got);
  m.unlock();
  ferrite::thread u([&] {
    got = m.try_lock();
    if (got) m.unlock();
  });
  u.join();
  EXPECT_TRUE(got);
}

TEST(SpinMutex, WorksWithStandardLockTypes) {
  spin_mutex m;
  {
    const std::lock_guard guard(m);
    EXPECT_TRUE(m.is_locked());
  }
  EXPECT_FALSE(m.is_locked());
  {
    std::unique_lock lock(m, std::try_to_lock);
    EXPECT_TRUE(lock.owns_lock());
    std::unique_lock other(m, std::try_to_lock);
    EXPECT_FALSE(other.owns_lock());
    lock.unlock();
    EXPECT_TRUE(other.try_lock());
  }
  EXPECT_FALSE(m.is_locked());
  {
    std::unique_lock lock(m, std::defer_lock);
    EXPECT_FALSE(m.is_locked());
    lock.lock();
    EXPECT_TRUE(m.is_locked());
  }
  EXPECT_FALSE(m.is_locked());
}

TEST(SpinMutex, CountsExactlyUnderContention) {
  spin_mutex m;
  ferrite::cell<std::uint64_t> total{0};
  std::vector<ferrite::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        const std::lock_guard guard(m);
        total.with_mut([](std::uint64_t* p) { ++*p; });
      }
    });
  }
  for (ferrite::thread& t : pool) t.join();
  EXPECT_EQ(total.get_mut(), threads * per_thread);
  EXPECT_FALSE(m.is_locked());
}

TEST(SpinMutex, TryLockLoopCountsExactly) {
  spin_mutex m;
  ferrite::cell<std::uint64_t> total{0};
  std::vector<ferrite::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        while (!m.try_lock()) ferrite::yield_now();
        total.with_mut([](std::uint64_t* p) { ++*p; });
        m.unlock();
      }
    });
  }
  for (ferrite::thread& t : pool) t.join();
  EXPECT_EQ(total.get_mut(), threads * per_thread);
}

// std::scoped_lock's deadlock avoidance (std::lock) runs on lock() and try_lock(): threads
// taking the same two mutexes in opposite orders must neither deadlock nor lose an update.
TEST(SpinMutex, ScopedLockOverTwoMutexesInOppositeOrders) {
  spin_mutex a;
  spin_mutex b;
  ferrite::cell<std::uint64_t> in_a{0};
  ferrite::cell<std::uint64_t> in_b{0};
  std::vector<ferrite::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread / 4; ++i) {
        const auto bump = [&] {
          in_a.with_mut([](std::uint64_t* p) { ++*p; });
          in_b.with_mut([](std::uint64_t* p) { *p += 2; });
        };
        if (t % 2 == 0) {
          const std::scoped_lock both(a, b);
          bump();
        } else {
          const std::scoped_lock both(b, a);
          bump();
        }
      }
    });
  }
  for (ferrite::thread& t : pool) t.join();
  EXPECT_EQ(in_a.get_mut(), threads * (per_thread / 4));
  EXPECT_EQ(in_b.get_mut(), 2 * threads * (per_thread / 4));
  EXPECT_FALSE(a.is_locked());
  EXPECT_FALSE(b.is_locked());
}

#if FERRITE_METRICS
std::uint64_t metric_total(std::string_view name) {
  const ferrite::metrics::snapshot snap = ferrite::metrics::take_snapshot(name);
  const ferrite::metrics::entry* e = snap.find(name);
  return e == nullptr ? 0 : e->total;
}

// Deterministic contention: the main thread holds the mutex until the other thread's
// lock() has been counted as contended; that lock() then takes at least one backoff step.
TEST(SpinMutex, ContendedLocksAreCounted) {
  const std::uint64_t contended_before = metric_total("sync.spin_mutex.contended");
  const std::uint64_t spins_before = metric_total("sync.spin_mutex.spins");
  spin_mutex m;
  m.lock();
  ferrite::thread waiter([&] {
    m.lock();
    m.unlock();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (metric_total("sync.spin_mutex.contended") == contended_before &&
         std::chrono::steady_clock::now() < deadline) {
    ferrite::yield_now();
  }
  m.unlock();
  waiter.join();
  EXPECT_GT(metric_total("sync.spin_mutex.contended"), contended_before);
  EXPECT_GT(metric_total("sync.spin_mutex.spins"), spins_before);
}

TEST(SpinMutex, UncontendedLocksAreNotCounted) {
  spin_mutex m;
  // Nobody else is around: every lock() takes the fast path.
  const std::uint64_t before = metric_total("sync.spin_mutex.contended");
  for (int i = 0; i < 1000; ++i) {
    const std::lock_guard guard(m);
  }
  EXPECT_EQ(metric_total("sync.spin_mutex.contended"), before);
}
#endif  // FERRITE_METRICS

}  // namespace
