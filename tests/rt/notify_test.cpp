// SPDX-License-Identifier: Apache-2.0
// rt::notify on the local executor, tokio::sync::Notify's semantics: notify_one before any
// wait stores one permit (several coalesce), notify_one wakes waiters in FIFO order,
// notify_waiters wakes all current waiters and stores nothing, a wait counts from its
// notified() call, a waiter aborted after notify_one chose it passes the notification on
// (to the next waiter, or as the permit), stop tokens cancel a queued wait; and plain threads
// notifying tasks of an executor never lose a wake-up (label concurrency).
#include "ferrite/rt/notify.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

TEST(Notify, NotifyOneBeforeTheWaitStoresOneCoalescedPermit) {
  rt::notify n;
  n.notify_one();
  n.notify_one();  // coalesced
  EXPECT_TRUE(n.has_permit_approx());
  int woken = 0;
  auto waiter = [&]() -> rt::task<> {
    co_await n.notified();
    ++woken;
  };
  rt::block_on([&]() -> rt::task<> {
    co_await n.notified();  // consumes the permit without suspending
    EXPECT_FALSE(n.has_permit_approx());
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    EXPECT_EQ(woken, 0) << "the second notify_one was coalesced into the first";
    EXPECT_EQ(n.waiters_approx(), 1U);
    n.notify_one();
    co_await h;
  }());
  EXPECT_EQ(woken, 1);
}

TEST(Notify, NotifyOneWakesWaitersInFifoOrder) {
  rt::notify n;
  std::string order;
  auto waiter = [&](char name) -> rt::task<> {
    co_await n.notified();
    order += name;
  };
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (char c : std::string("abc")) hs.push_back(rt::spawn(waiter(c)));
    co_await settle();
    for (int i = 0; i < 3; ++i) {
      n.notify_one();
      co_await settle();
    }
    for (auto& h : hs) co_await h;
  }());
  EXPECT_EQ(order, "abc");
  EXPECT_FALSE(n.has_permit_approx());
}

TEST(Notify, NotifyWaitersWakesEveryCurrentWaiterAndStoresNothing) {
  constexpr int waiters = 20;  // more than one wake batch
  rt::notify n;
  int woken = 0;
  auto waiter = [&]() -> rt::task<> {
    co_await n.notified();
    ++woken;
  };
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int i = 0; i < waiters; ++i) hs.push_back(rt::spawn(waiter()));
    co_await settle();
    n.notify_waiters();
    EXPECT_EQ(n.waiters_approx(), 0U);
    EXPECT_FALSE(n.has_permit_approx()) << "notify_waiters stores no permit";
    for (auto& h : hs) co_await h;
    n.notify_waiters();  // nobody waits: nothing is stored
    EXPECT_FALSE(n.has_permit_approx());
  }());
  EXPECT_EQ(woken, waiters);
}

TEST(Notify, AWaitCountsFromItsNotifiedCall) {
  rt::notify n;
  rt::block_on([&]() -> rt::task<> {
    auto wait = n.notified();
    n.notify_waiters();  // after notified(), before the co_await: completes the wait
    co_await wait;
    auto later = n.notified();  // after that notify_waiters: not completed by it
    EXPECT_FALSE(later.await_ready());
  }());
}

TEST(Notify, PermitSurvivesNotifyWaiters) {
  rt::notify n;
  n.notify_one();
  n.notify_waiters();
  EXPECT_TRUE(n.has_permit_approx()) << "notify_waiters consumed the stored permit";
}

TEST(Notify, AbortedWaiterChosenByNotifyOnePassesItToTheNext) {
  rt::notify n;
  std::string order;
  auto waiter = [&](char name) -> rt::task<> {
    co_await n.notified();
    order += name;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(waiter('a'));
    rt::join_handle<void> b = rt::spawn(waiter('b'));
    co_await settle();
    n.notify_one();  // chooses a, which has not run
    a.abort();
    co_await settle();
    EXPECT_TRUE(b.is_finished()) << "the notification died with a";
    if (!b.is_finished()) b.abort();
    co_await settle();
  }());
  EXPECT_EQ(order, "b");
}

TEST(Notify, AbortedLastWaiterChosenByNotifyOneLeavesThePermit) {
  frame_local::alive = 0;
  rt::notify n;
  auto waiter = [&]() -> rt::task<> {
    frame_local keep;
    co_await n.notified();
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(waiter());
    co_await settle();
    n.notify_one();
    a.abort();
    co_await settle();
    EXPECT_EQ(frame_local::alive, 0);
    EXPECT_TRUE(n.has_permit_approx()) << "the notification was lost";
    EXPECT_EQ(n.waiters_approx(), 0U);
  }());
}

TEST(Notify, AbortedQueuedWaiterLeavesNoWaiter) {
  rt::notify n;
  auto waiter = [&]() -> rt::task<> { co_await n.notified(); };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(waiter());
    co_await settle();
    EXPECT_EQ(n.waiters_approx(), 1U);
    a.abort();
    co_await settle();
    EXPECT_EQ(n.waiters_approx(), 0U);
    n.notify_one();
    EXPECT_TRUE(n.has_permit_approx()) << "nobody waits: the permit is stored";
  }());
}

TEST(Notify, StopTokenCancelsAQueuedWait) {
  rt::notify n;
  std::stop_source stop;
  bool stopped = false;
  auto waiter = [&]() -> rt::task<> {
    std::expected<void, rt::stopped> r = co_await n.notified(stop.get_token());
    stopped = !r.has_value();
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    stop.request_stop();
    EXPECT_EQ(n.waiters_approx(), 0U);
    co_await h;
    n.notify_one();
    EXPECT_TRUE(n.has_permit_approx()) << "the stopped wait consumed nothing";
  }());
  EXPECT_TRUE(stopped);
}

// Plain threads notify_one a counter's worth of times while a task waits; each wake is for
// a number the thread published first. The task must see every number (no lost wake-up):
// the threads wait for the task to take each one before the next notify.
TEST(Notify, PlainThreadsNotifyingATaskLoseNoWakeUp) {
  constexpr int threads = 3;
  constexpr int per_thread = 2'000;
  rt::notify n;
  std::atomic<int> published{0};
  std::atomic<int> taken{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        published.fetch_add(1, std::memory_order_release);
        n.notify_one();
        // Bound the lead of the producers over the consumer (otherwise permits coalesce
        // and the test would prove nothing about lost wake-ups).
        while (published.load(std::memory_order_acquire) - taken.load(std::memory_order_acquire) >
               threads) {
          std::this_thread::yield();
        }
      }
    });
  }
  rt::block_on([&]() -> rt::task<> {
    while (taken.load(std::memory_order_relaxed) < threads * per_thread) {
      auto wait = n.notified();
      const int p = published.load(std::memory_order_acquire);
      if (p > taken.load(std::memory_order_relaxed)) {
        taken.store(p, std::memory_order_release);
        continue;
      }
      co_await wait;  // a lost wake-up hangs here
    }
  }());
  for (auto& t : pool) t.join();
  EXPECT_EQ(taken.load(), threads * per_thread);
}

}  // namespace
