// SPDX-License-Identifier: Apache-2.0
// rt::async_mutex on the local executor: an uncontended lock does not suspend, waiters get
// the lock in FIFO order by hand-off (try_lock cannot barge in between), sections exclude
// each other across suspensions, a waiter aborted while queued or just after the hand-off
// leaves no waiter and no lock behind (and its frame is destroyed), stop tokens cancel a
// queued lock and not a granted one; and tasks of executors on several threads contend for
// one mutex (label concurrency: TSan sees the guarded counter).
#include "ferrite/rt/async_mutex.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"
#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;
using ferrite_test::frame_local;

/// Yields n times: lets every other ready task run.
rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

TEST(AsyncMutex, UncontendedLockCompletesWithoutSuspending) {
  rt::async_mutex m;
  rt::block_on([&]() -> rt::task<> {
    {
      rt::async_mutex::guard g = co_await m.lock();
      EXPECT_TRUE(g.owns_lock());
      EXPECT_EQ(g.mutex(), &m);
      EXPECT_TRUE(m.is_locked());
      EXPECT_FALSE(m.try_lock().has_value()) << "held";
    }
    EXPECT_FALSE(m.is_locked());
    std::optional<rt::async_mutex::guard> t = m.try_lock();
    EXPECT_TRUE(t.has_value());
    if (t) t->unlock();
    EXPECT_FALSE(t && t->owns_lock());
    EXPECT_FALSE(m.is_locked());
  }());
}

TEST(AsyncMutex, WaitersGetTheLockInFifoOrderByHandOff) {
  rt::async_mutex m;
  std::string order;
  auto waiter = [&](char name) -> rt::task<> {
    rt::async_mutex::guard g = co_await m.lock();
    order += name;
    co_await rt::yield_now();  // held across a suspension
  };
  rt::block_on([&]() -> rt::task<> {
    rt::async_mutex::guard held = co_await m.lock();
    std::vector<rt::join_handle<void>> hs;
    for (char c : std::string("abcd")) hs.push_back(rt::spawn(waiter(c)));
    co_await settle();
    EXPECT_EQ(m.waiters_approx(), 4U);
    held.unlock();
    EXPECT_TRUE(m.is_locked()) << "handed to the first waiter, not made free";
    EXPECT_FALSE(m.try_lock().has_value()) << "try_lock barged past the queue";
    for (auto& h : hs) co_await h;
  }());
  EXPECT_EQ(order, "abcd");
  EXPECT_FALSE(m.is_locked());
}

TEST(AsyncMutex, SectionsExcludeEachOtherAcrossSuspensions) {
  rt::async_mutex m;
  int inside = 0;
  int entered = 0;
  auto worker = [&]() -> rt::task<> {
    for (int i = 0; i < 20; ++i) {
      rt::async_mutex::guard g = co_await m.lock();
      EXPECT_EQ(++inside, 1) << "two tasks in the section";
      ++entered;
      co_await rt::yield_now();
      --inside;
    }
  };
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int t = 0; t < 5; ++t) hs.push_back(rt::spawn(worker()));
    for (auto& h : hs) co_await h;
  }());
  EXPECT_EQ(entered, 100);
}

TEST(AsyncMutex, AbortedQueuedWaiterLeavesNoWaiter) {
  frame_local::alive = 0;
  rt::async_mutex m;
  bool reached = false;
  auto waiter = [&]() -> rt::task<> {
    frame_local keep;
    rt::async_mutex::guard g = co_await m.lock();
    reached = true;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::async_mutex::guard held = co_await m.lock();
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    EXPECT_EQ(m.waiters_approx(), 1U);
    EXPECT_EQ(frame_local::alive, 1);
    h.abort();
    co_await settle();
    EXPECT_TRUE(h.is_finished());
    EXPECT_EQ(frame_local::alive, 0) << "the aborted waiter's frame was destroyed";
    EXPECT_EQ(m.waiters_approx(), 0U) << "its node was unlinked";
    held.unlock();
    EXPECT_FALSE(m.is_locked()) << "nobody to hand the lock to";
  }());
  EXPECT_FALSE(reached);
}

// The lock is handed to b (b is woken), then b is aborted before it runs: its awaiter's
// destructor must pass the lock to c; without that, c waits forever and the mutex stays held.
TEST(AsyncMutex, AbortAfterHandOffPassesTheLockOn) {
  rt::async_mutex m;
  std::string order;
  auto waiter = [&](char name) -> rt::task<> {
    rt::async_mutex::guard g = co_await m.lock();
    order += name;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::async_mutex::guard held = co_await m.lock();
    rt::join_handle<void> b = rt::spawn(waiter('b'));
    rt::join_handle<void> c = rt::spawn(waiter('c'));
    co_await settle();
    held.unlock();  // b now owns the lock, but has not run
    b.abort();
    co_await settle();
    EXPECT_TRUE(b.is_finished());
    EXPECT_TRUE(c.is_finished()) << "the lock died with b";
    if (!c.is_finished()) c.abort();  // end the test instead of hanging
    co_await settle();
  }());
  EXPECT_EQ(order, "c");
  EXPECT_FALSE(m.is_locked());
  EXPECT_EQ(m.waiters_approx(), 0U);
}

TEST(AsyncMutex, StopTokenCancelsAQueuedLock) {
  rt::async_mutex m;
  std::stop_source stop;
  bool stopped = false;
  auto waiter = [&]() -> rt::task<> {
    std::expected<rt::async_mutex::guard, rt::stopped> g = co_await m.lock(stop.get_token());
    stopped = !g.has_value();
  };
  rt::block_on([&]() -> rt::task<> {
    rt::async_mutex::guard held = co_await m.lock();
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    EXPECT_EQ(m.waiters_approx(), 1U);
    stop.request_stop();  // the callback runs here and wakes the waiter
    EXPECT_EQ(m.waiters_approx(), 0U) << "a stopped lock leaves no waiter queued";
    co_await h;
    EXPECT_TRUE(m.is_locked()) << "still ours";
    held.unlock();
    EXPECT_FALSE(m.is_locked()) << "a stopped lock holds nothing";
  }());
  EXPECT_TRUE(stopped);
}

TEST(AsyncMutex, StopBeforeTheCallGivesStoppedEvenWhenFree) {
  rt::async_mutex m;
  std::stop_source stop;
  stop.request_stop();
  rt::block_on([&]() -> rt::task<> {
    auto g = co_await m.lock(stop.get_token());
    EXPECT_FALSE(g.has_value());
    EXPECT_FALSE(m.is_locked());
    auto ok = co_await m.lock(std::stop_token());  // a token that can never stop
    EXPECT_TRUE(ok.has_value());
  }());
  EXPECT_FALSE(m.is_locked());
}

TEST(AsyncMutex, StopAfterTheHandOffKeepsTheLock) {
  rt::async_mutex m;
  std::stop_source stop;
  bool got = false;
  auto waiter = [&]() -> rt::task<> {
    auto g = co_await m.lock(stop.get_token());
    got = g.has_value();
  };
  rt::block_on([&]() -> rt::task<> {
    rt::async_mutex::guard held = co_await m.lock();
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    held.unlock();        // granted to the waiter
    stop.request_stop();  // too late: the grant stands
    co_await h;
  }());
  EXPECT_TRUE(got);
  EXPECT_FALSE(m.is_locked());
}

// Tasks on executors of four threads contend for one mutex; the counter it guards is plain
// memory, so TSan reports a race if the hand-off did not order the sections.
TEST(AsyncMutex, TasksOnSeveralThreadsExclude) {
  constexpr int threads = 4;
  constexpr int tasks_per_thread = 4;
  constexpr int rounds = 500;
  rt::async_mutex m;
  std::int64_t counter = 0;  // guarded by m
  auto worker = [&]() -> rt::task<> {
    for (int i = 0; i < rounds; ++i) {
      rt::async_mutex::guard g = co_await m.lock();
      const std::int64_t seen = counter;
      if (i % 7 == 0) co_await rt::yield_now();
      counter = seen + 1;
    }
  };
  auto run_thread = [&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int t = 0; t < tasks_per_thread; ++t) hs.push_back(rt::spawn(worker()));
    for (auto& h : hs) co_await h;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&] { rt::block_on(run_thread()); });
  for (auto& t : pool) t.join();
  EXPECT_EQ(counter, std::int64_t{threads} * tasks_per_thread * rounds);
  EXPECT_FALSE(m.is_locked());
  EXPECT_EQ(m.waiters_approx(), 0U);
}

}  // namespace
