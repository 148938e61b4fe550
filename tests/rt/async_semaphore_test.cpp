// SPDX-License-Identifier: Apache-2.0
// rt::async_semaphore on the local executor: permits are counted (compared with a reference
// count over a random schedule of acquires and releases), waiters are served strictly FIFO
// (a large request holds up smaller ones behind it; try_acquire never overtakes), stopping
// or aborting the front waiter lets the next one in, an aborted waiter's granted permits go
// to the next waiter, one release wakes more waiters than a wake batch holds, forget() drops
// permits; and tasks on several threads never exceed the permit count (label concurrency).
#include "ferrite/rt/async_semaphore.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

namespace {

namespace rt = ferrite::rt;

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

TEST(AsyncSemaphore, PermitsAreCountedAndGivenBack) {
  rt::async_semaphore sem(5);
  rt::block_on([&]() -> rt::task<> {
    rt::async_semaphore::permit a = co_await sem.acquire(2);
    EXPECT_EQ(a.count(), 2U);
    EXPECT_EQ(sem.available_permits(), 3U);
    {
      rt::async_semaphore::permit b = co_await sem.acquire(3);
      EXPECT_EQ(sem.available_permits(), 0U);
      EXPECT_FALSE(sem.try_acquire().has_value());
    }
    EXPECT_EQ(sem.available_permits(), 3U);
    rt::async_semaphore::permit moved = std::move(a);
    EXPECT_EQ(a.count(), 0U);  // NOLINT(bugprone-use-after-move): moved-from is empty
    moved.release();
    EXPECT_EQ(sem.available_permits(), 5U);
    sem.release(2);  // grows the semaphore
    EXPECT_EQ(sem.available_permits(), 7U);
    std::optional<rt::async_semaphore::permit> f = sem.try_acquire(4);
    EXPECT_TRUE(f.has_value());
    if (f) f->forget();
    EXPECT_EQ(sem.available_permits(), 3U) << "forgotten permits are gone";
  }());
}

// A random sequence of try_acquire(n) / release of a held permit, against a plain counter.
TEST(AsyncSemaphore, TryAcquireMatchesAReferenceCount) {
  std::mt19937 rng(1234);
  rt::async_semaphore sem(10);
  std::size_t reference = 10;
  std::deque<rt::async_semaphore::permit> held;
  for (int step = 0; step < 10'000; ++step) {
    if (held.empty() || rng() % 2 == 0) {
      const std::size_t n = rng() % 4 + 1;
      std::optional<rt::async_semaphore::permit> p = sem.try_acquire(n);
      ASSERT_EQ(p.has_value(), reference >= n);
      if (p) {
        reference -= n;
        held.push_back(std::move(*p));
      }
    } else {
      reference += held.front().count();
      held.pop_front();
    }
    ASSERT_EQ(sem.available_permits(), reference);
  }
}

TEST(AsyncSemaphore, WaitersAreServedStrictlyFifo) {
  rt::async_semaphore sem(0);
  std::string order;
  auto waiter = [&](char name, std::size_t n) -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire(n);
    order += name;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> big = rt::spawn(waiter('B', 3));
    rt::join_handle<void> small = rt::spawn(waiter('s', 1));
    co_await settle();
    sem.release(2);  // enough for `small`, not for `big` in front of it
    co_await settle();
    EXPECT_EQ(order, "") << "the small request overtook the big one";
    EXPECT_FALSE(sem.try_acquire(1).has_value()) << "try_acquire overtook the waiters";
    sem.release(1);  // big gets 3, finishes and returns them; small gets 1
    co_await big;
    co_await small;
  }());
  EXPECT_EQ(order, "Bs");
  EXPECT_EQ(sem.available_permits(), 3U);
}

TEST(AsyncSemaphore, StoppingTheFrontWaiterLetsTheNextOneIn) {
  rt::async_semaphore sem(2);
  std::stop_source stop;
  bool big_stopped = false;
  bool small_done = false;
  // Named: a coroutine lambda reads its captures through the closure, which must outlive it.
  auto big_waiter = [&]() -> rt::task<> {
    auto p = co_await sem.acquire(3, stop.get_token());
    big_stopped = !p.has_value();
  };
  auto small_waiter = [&]() -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire(1);
    small_done = true;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> big = rt::spawn(big_waiter());
    rt::join_handle<void> small = rt::spawn(small_waiter());
    co_await settle();
    EXPECT_EQ(sem.waiters_approx(), 2U);
    stop.request_stop();  // the front leaves: the 2 free permits now fit the next waiter
    co_await big;
    co_await settle();
    EXPECT_TRUE(small.is_finished()) << "the waiter behind the stopped one was not granted";
    if (!small.is_finished()) small.abort();
    co_await settle();
  }());
  EXPECT_TRUE(big_stopped);
  EXPECT_TRUE(small_done);
  EXPECT_EQ(sem.available_permits(), 2U);
  EXPECT_EQ(sem.waiters_approx(), 0U);
}

TEST(AsyncSemaphore, AbortingTheFrontWaiterLetsTheNextOneIn) {
  rt::async_semaphore sem(1);
  bool small_done = false;
  auto big_waiter = [&]() -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire(2);
  };
  auto small_waiter = [&]() -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire(1);
    small_done = true;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> big = rt::spawn(big_waiter());
    rt::join_handle<void> small = rt::spawn(small_waiter());
    co_await settle();
    big.abort();
    co_await settle();
    EXPECT_TRUE(small_done);
    if (!small.is_finished()) small.abort();
    co_await settle();
  }());
  EXPECT_EQ(sem.available_permits(), 1U);
  EXPECT_EQ(sem.waiters_approx(), 0U);
}

TEST(AsyncSemaphore, PermitsGrantedToAnAbortedWaiterGoToTheNext) {
  rt::async_semaphore sem(0);
  std::string order;
  auto waiter = [&](char name) -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire(2);
    order += name;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(waiter('a'));
    rt::join_handle<void> b = rt::spawn(waiter('b'));
    co_await settle();
    sem.release(2);  // granted to a, which has not run
    a.abort();
    co_await settle();
    EXPECT_TRUE(b.is_finished()) << "a's permits died with it";
    if (!b.is_finished()) b.abort();
    co_await settle();
  }());
  EXPECT_EQ(order, "b");
  EXPECT_EQ(sem.available_permits(), 2U);
}

// 20 waiters, more than one wake_batch (8): one release must reach all of them.
TEST(AsyncSemaphore, OneReleaseWakesMoreWaitersThanABatchHolds) {
  constexpr int waiters = 20;
  rt::async_semaphore sem(0);
  int done = 0;
  auto waiter = [&]() -> rt::task<> {
    rt::async_semaphore::permit p = co_await sem.acquire();
    p.forget();
    ++done;
  };
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int i = 0; i < waiters; ++i) hs.push_back(rt::spawn(waiter()));
    co_await settle();
    EXPECT_EQ(sem.waiters_approx(), std::size_t{waiters});
    sem.release(waiters);
    EXPECT_EQ(sem.waiters_approx(), 0U) << "every waiter granted at the release";
    for (auto& h : hs) co_await h;
  }());
  EXPECT_EQ(done, waiters);
  EXPECT_EQ(sem.available_permits(), 0U);
}

// Tasks of executors on three threads hold permits across a yield; the number inside never
// exceeds the permits.
TEST(AsyncSemaphore, TasksOnSeveralThreadsNeverExceedThePermits) {
  constexpr std::size_t permits = 3;
  rt::async_semaphore sem(permits);
  std::atomic<std::size_t> inside{0};
  std::atomic<std::size_t> most{0};
  std::atomic<int> entries{0};
  auto worker = [&]() -> rt::task<> {
    for (int i = 0; i < 300; ++i) {
      const std::size_t n = static_cast<std::size_t>(i % 2) + 1;
      rt::async_semaphore::permit p = co_await sem.acquire(n);
      const std::size_t now = inside.fetch_add(n) + n;
      std::size_t seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      co_await rt::yield_now();
      inside.fetch_sub(n);
      entries.fetch_add(1);
    }
  };
  auto run_thread = [&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(worker());
    rt::join_handle<void> b = rt::spawn(worker());
    co_await a;
    co_await b;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < 3; ++t) pool.emplace_back([&] { rt::block_on(run_thread()); });
  for (auto& t : pool) t.join();
  EXPECT_EQ(entries.load(), 3 * 2 * 300);
  EXPECT_LE(most.load(), permits);
  EXPECT_EQ(sem.available_permits(), permits);
}

}  // namespace
