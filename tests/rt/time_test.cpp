// SPDX-License-Identifier: Apache-2.0
// Timers: sleeps on the paused clock (they jump, exactly, and never early), deadline order over
// many tasks on the local executor and on the pool, cancellation leaving no timer, interval
// ticks, real-clock sleeps, and a stale wake that must not end a sleep early.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt.hpp"

namespace rt = ferrite::rt;
using namespace std::chrono_literals;

namespace {

/// Pauses the clock for one test.
struct paused_clock {
  paused_clock() { rt::clock::pause(); }
  paused_clock(const paused_clock&) = delete;
  paused_clock& operator=(const paused_clock&) = delete;
  ~paused_clock() { rt::clock::resume(); }
};

struct wake_record {
  rt::clock::time_point deadline;
  rt::clock::time_point woke;
};

rt::task<> sleeper(rt::clock::duration d, std::mutex& m, std::vector<wake_record>& out) {
  const rt::clock::time_point deadline = rt::clock::now() + d;
  co_await rt::sleep_until(deadline);
  const rt::clock::time_point woke = rt::clock::now();
  std::lock_guard guard(m);
  out.push_back({deadline, woke});
}

void expect_in_order_and_not_early(const std::vector<wake_record>& log, std::size_t n) {
  ASSERT_EQ(log.size(), n);
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_GE(log[i].woke, log[i].deadline) << "woke early";
    EXPECT_LE(log[i].woke - log[i].deadline, 1ms) << "jumped past the deadline's tick";
    if (i > 0) {
      EXPECT_GE(log[i].deadline, log[i - 1].deadline) << "out of order";
    }
  }
}

std::vector<rt::clock::duration> random_durations(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<rt::clock::duration> ds;
  for (std::size_t i = 0; i < n; ++i) {
    ds.push_back(std::chrono::microseconds(rng() % 10'000'000'000ULL));  // up to ~2.8 hours
  }
  return ds;
}

}  // namespace

TEST(Time, ASleepOnThePausedClockJumpsExactlyToItsTick) {
  paused_clock paused;
  const rt::clock::time_point t0 = rt::clock::now();
  rt::block_on([]() -> rt::task<> { co_await rt::sleep_for(1h); }());
  const auto slept = rt::clock::now() - t0;
  EXPECT_GE(slept, 1h);
  EXPECT_LE(slept, 1h + 1ms);
}

TEST(Time, TimersFireInDeadlineOrderOnTheLocalExecutor) {
  paused_clock paused;
  std::mutex m;
  std::vector<wake_record> log;
  const auto ds = random_durations(500);
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (const auto d : ds) hs.push_back(rt::spawn(sleeper(d, m, log)));
    for (auto& h : hs) co_await h;
  }());
  expect_in_order_and_not_early(log, ds.size());
}

TEST(Time, TimersFireInDeadlineOrderOnThePool) {
  paused_clock paused;
  std::mutex m;
  std::vector<wake_record> log;
  const auto ds = random_durations(300);
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  pool.block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (const auto d : ds) hs.push_back(rt::spawn(sleeper(d, m, log)));
    for (auto& h : hs) co_await h;
  }());
  // Two workers may record wakes of the same tick in either order: compare as a set.
  ASSERT_EQ(log.size(), ds.size());
  for (const wake_record& r : log) EXPECT_GE(r.woke, r.deadline) << "woke early";
}

TEST(Time, ACancelledSleepLeavesNoTimer) {
  rt::local_executor ex;
  ex.block_on([]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn([]() -> rt::task<> { co_await rt::sleep_for(1h); }());
    co_await rt::yield_now();  // it armed its timer
    EXPECT_FALSE(rt::local_executor::current()->timers().empty());
    h.abort();
    try {
      co_await h;
    } catch (const rt::cancelled&) {
    }
    EXPECT_TRUE(rt::local_executor::current()->timers().empty());
  }());
}

TEST(Time, AnIntervalTicksAtEveryPeriod) {
  paused_clock paused;
  std::vector<rt::clock::time_point> ticks;
  rt::block_on([](std::vector<rt::clock::time_point>& out) -> rt::task<> {
    rt::interval every(10ms);
    for (int i = 0; i < 5; ++i) {
      co_await every.tick();
      out.push_back(rt::clock::now());
    }
  }(ticks));
  ASSERT_EQ(ticks.size(), 5U);
  for (std::size_t i = 1; i < ticks.size(); ++i) {
    EXPECT_GE(ticks[i] - ticks[0], (10ms * static_cast<int>(i)) - 1ms);
    EXPECT_LE(ticks[i] - ticks[0], (10ms * static_cast<int>(i)) + 1ms);
  }
}

TEST(Time, RealClockSleepsAreNotEarlyOnBothExecutors) {
  const auto t0 = rt::clock::now();
  rt::block_on([]() -> rt::task<> { co_await rt::sleep_for(5ms); }());
  EXPECT_GE(rt::clock::now() - t0, 5ms);
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  const auto t1 = rt::clock::now();
  pool.block_on([]() -> rt::task<> { co_await rt::sleep_for(5ms); }());
  EXPECT_GE(rt::clock::now() - t1, 5ms);
}

TEST(Time, AStaleWakeDoesNotEndASleepEarly) {
  std::atomic<bool> stop{false};
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  const auto slept = pool.block_on([](std::atomic<bool>& done) -> rt::task<rt::clock::duration> {
    const rt::waker stale = rt::current_waker();
    std::thread noise([&] {
      while (!done.load()) stale.wake_by_ref();
    });
    const auto t0 = rt::clock::now();
    co_await rt::sleep_for(20ms);
    const auto d = rt::clock::now() - t0;
    done.store(true);
    noise.join();
    co_return d;
  }(stop));
  EXPECT_GE(slept, 20ms);
}
