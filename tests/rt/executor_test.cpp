// SPDX-License-Identifier: Apache-2.0
// rt::local_executor: spawn and join (results, exceptions, FIFO order), yield_now
// interleaving, detach, abort (the frame is destroyed, the handle reports rt::cancelled),
// wakes from other threads (every wake delivered, none lost, under TSan), wakes of finished
// tasks, coalesced wakes, an executor destroyed with live tasks, and spawn+join in steady
// state without operator new (this binary counts every global operator new).
#include "ferrite/rt/executor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;
using ferrite_test::frame_local;

rt::task<int> value_of(int v) { co_return v; }

TEST(LocalExecutor, SpawnedTasksRunInOrderAndJoin) {
  std::vector<int> order;
  auto child = [&](int id) -> rt::task<int> {
    order.push_back(id);
    co_return id * 10;
  };
  const int total = rt::block_on([&]() -> rt::task<int> {
    rt::join_handle<int> a = rt::spawn(child(1));
    rt::join_handle<int> b = rt::spawn(child(2));
    rt::join_handle<int> c = rt::spawn(child(3));
    EXPECT_TRUE(order.empty()) << "spawned tasks run when the spawner suspends";
    co_return co_await c + co_await a + co_await b;
  }());
  EXPECT_EQ(total, 60);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(LocalExecutor, YieldNowInterleavesReadyTasks) {
  std::string trace;
  auto worker = [&](char name) -> rt::task<> {
    for (int i = 0; i < 3; ++i) {
      trace += name;
      co_await rt::yield_now();
    }
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(worker('a'));
    rt::join_handle<void> b = rt::spawn(worker('b'));
    co_await a;
    co_await b;
  }());
  EXPECT_EQ(trace, "ababab");
}

struct boom : std::runtime_error {
  boom() : std::runtime_error("boom") {}
};

TEST(LocalExecutor, JoinRethrowsTheTasksException) {
  auto thrower = []() -> rt::task<int> {
    co_await rt::yield_now();
    throw boom();
  };
  const std::string seen = rt::block_on([&]() -> rt::task<std::string> {
    rt::join_handle<int> h = rt::spawn(thrower());
    try {
      co_await h;
    } catch (const boom& e) {
      co_return e.what();
    }
    co_return "no exception";
  }());
  EXPECT_EQ(seen, "boom");
}

TEST(LocalExecutor, DetachedTasksRunToTheirEnd) {
  int done = 0;
  auto work = [&]() -> rt::task<> {
    co_await rt::yield_now();
    ++done;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::spawn(work()).detach();
    {
      rt::join_handle<void> dropped = rt::spawn(work());
    }  // a dropped handle detaches
    for (int i = 0; i < 3; ++i) co_await rt::yield_now();
  }());
  EXPECT_EQ(done, 2);
}

TEST(LocalExecutor, AbortDestroysTheFrameAndJoinReportsCancelled) {
  frame_local::alive = 0;
  int steps = 0;
  auto forever = [&]() -> rt::task<int> {
    frame_local keep;
    for (;;) {
      ++steps;
      co_await rt::yield_now();
    }
  };
  const bool cancelled = rt::block_on([&]() -> rt::task<bool> {
    rt::join_handle<int> h = rt::spawn(forever());
    co_await rt::yield_now();
    co_await rt::yield_now();
    EXPECT_FALSE(h.is_finished());
    h.abort();
    co_await rt::yield_now();
    EXPECT_TRUE(h.is_finished());
    EXPECT_EQ(frame_local::alive, 0) << "the aborted task's frame was destroyed";
    try {
      co_await h;
    } catch (const rt::cancelled&) {
      co_return true;
    }
    co_return false;
  }());
  EXPECT_TRUE(cancelled);
  EXPECT_GE(steps, 2);
  EXPECT_EQ(frame_local::alive, 0);
}

// A task aborted while it awaits another's handle, with its own handle dropped, is freed at
// once; the awaited task, finishing later, must not reach it (ASan reports the use after free
// if the joiner's registration outlives the awaiter).
TEST(LocalExecutor, AJoinerAbortedWhileWaitingIsNotWokenLater) {
  int finished_children = 0;
  auto slow_child = [&]() -> rt::task<int> {
    for (int i = 0; i < 5; ++i) co_await rt::yield_now();
    ++finished_children;
    co_return 7;
  };
  auto joiner = [&](rt::join_handle<int> child) -> rt::task<int> {
    co_return co_await child;  // suspended here when it is aborted
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<int> child = rt::spawn(slow_child());
    // The child's handle moves into the joiner's frame; keep a second way to see it finish.
    rt::join_handle<int> j = rt::spawn(joiner(std::move(child)));
    co_await rt::yield_now();  // the joiner runs and waits for the child
    j.abort();
    j.detach();  // the joiner's last references: its frame and header go at its next poll
    for (int i = 0; i < 10; ++i) co_await rt::yield_now();  // the child finishes meanwhile
  }());
  EXPECT_EQ(finished_children, 1);
}

// A one-value mailbox an outside thread fills: the awaiting task stores current_waker() and
// suspends; the filler wakes it.
struct mailbox {
  std::mutex m;
  rt::waker w;
  bool full = false;
  int value = 0;

  void fill(int v) {
    rt::waker to_wake;
    {
      std::scoped_lock lock(m);
      value = v;
      full = true;
      to_wake = std::move(w);
    }
    std::move(to_wake).wake();
  }

  struct receive {
    mailbox& box;
    bool await_ready() {
      std::scoped_lock lock(box.m);
      return box.full;
    }
    bool await_suspend(std::coroutine_handle<> /*self*/) {
      std::scoped_lock lock(box.m);
      if (box.full) return false;  // filled since await_ready: do not suspend
      box.w = rt::current_waker();
      return true;
    }
    int await_resume() {
      std::scoped_lock lock(box.m);
      box.full = false;
      return box.value;
    }
  };
};

TEST(LocalExecutor, WakesFromAnotherThreadAreNeverLost) {
  constexpr int rounds = 2'000;
  mailbox to_task;
  mailbox to_thread_ack;  // the thread waits for the task's ack (spin on the flag)
  std::atomic<int> acked{0};
  std::thread filler([&] {
    for (int i = 1; i <= rounds; ++i) {
      to_task.fill(i);
      while (acked.load(std::memory_order_acquire) < i) std::this_thread::yield();
    }
  });
  const std::int64_t sum = rt::block_on([&]() -> rt::task<std::int64_t> {
    std::int64_t s = 0;
    for (int i = 1; i <= rounds; ++i) {
      const int v = co_await mailbox::receive{to_task};
      EXPECT_EQ(v, i) << "every value once, in order";
      s += v;
      acked.store(i, std::memory_order_release);
    }
    co_return s;
  }());
  filler.join();
  EXPECT_EQ(sum, std::int64_t{rounds} * (rounds + 1) / 2);
  static_cast<void>(to_thread_ack);
}

TEST(LocalExecutor, WakingAFinishedTaskIsHarmless) {
  rt::waker kept;
  // Named: a coroutine lambda reads its captures through the closure, which must outlive it.
  auto keep_waker = [&]() -> rt::task<> {
    kept = rt::current_waker();
    co_return;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(keep_waker());
    co_await h;
  }());
  ASSERT_FALSE(kept.empty());
  kept.wake_by_ref();  // the task finished and its executor is gone: nothing happens
  std::thread([w = kept] { w.wake_by_ref(); }).join();  // nor from another thread
  kept.reset();                                         // the last reference frees the task
}

TEST(LocalExecutor, WakesBeforeThePollAreCoalesced) {
  int polls = 0;
  rt::waker w;
  rt::block_on([&]() -> rt::task<> {
    auto sleeper = [&]() -> rt::task<> {
      struct park_once {
        rt::waker& slot;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> /*self*/) { slot = rt::current_waker(); }
        void await_resume() const noexcept {}
      };
      ++polls;
      co_await park_once{w};
      ++polls;
    };
    rt::join_handle<void> h = rt::spawn(sleeper());
    co_await rt::yield_now();  // the sleeper runs and parks
    EXPECT_EQ(polls, 1);
    w.wake_by_ref();
    w.wake_by_ref();
    w.wake_by_ref();  // three wakes, one queue entry
    co_await h;
  }());
  EXPECT_EQ(polls, 2) << "the sleeper was resumed once";
}

// Driving by hand: spawn from outside, then run_ready polls until nothing is ready (a task
// that spawns from inside is driven by the same call) and says how many polls it made.
TEST(LocalExecutor, RunReadyPollsUntilNothingIsReady) {
  rt::local_executor ex;
  int inner_ran = 0;
  auto inner = [&]() -> rt::task<> {
    ++inner_ran;
    co_return;
  };
  auto outer = [&]() -> rt::task<int> {
    rt::spawn(inner()).detach();  // rt::spawn works: run_ready drives this thread
    co_await rt::yield_now();
    co_return 5;
  };
  rt::join_handle<int> h = ex.spawn(outer());
  EXPECT_FALSE(h.is_finished());
  EXPECT_EQ(ex.run_ready(), 3U) << "outer, inner, outer again after its yield";
  EXPECT_TRUE(h.is_finished());
  EXPECT_EQ(inner_ran, 1);
  EXPECT_EQ(ex.run_ready(), 0U);
}

TEST(LocalExecutor, DestroyingTheExecutorDestroysUnfinishedTasks) {
  frame_local::alive = 0;
  rt::join_handle<int> orphan;
  {
    rt::local_executor ex;
    ex.block_on([&]() -> rt::task<> {
      orphan = rt::spawn([]() -> rt::task<int> {
        frame_local keep;
        for (;;) co_await rt::yield_now();
      }());
      co_await rt::yield_now();
      EXPECT_EQ(frame_local::alive, 1);
    }());
    EXPECT_FALSE(orphan.is_finished());
  }
  EXPECT_EQ(frame_local::alive, 0) << "the executor destroyed the unfinished frame";
  EXPECT_TRUE(orphan.is_finished());
}

TEST(LocalExecutor, SteadyStateSpawnAndJoinWithoutOperatorNew) {
  auto round = []() -> rt::task<int> {
    rt::join_handle<int> a = rt::spawn(value_of(1));
    rt::join_handle<int> b = rt::spawn(value_of(2));
    co_await rt::yield_now();
    co_return co_await a + co_await b;
  };
  rt::local_executor ex;
  for (int warm = 0; warm < 4; ++warm) ASSERT_EQ(ex.block_on(round()), 3);
  const std::uint64_t before = ferrite_test::heap_allocations();
  int total = 0;
  for (int i = 0; i < 10'000; ++i) total += ex.block_on(round());
  const std::uint64_t after = ferrite_test::heap_allocations();
  EXPECT_EQ(total, 30'000);
  if (!rt::frame_cache_enabled) {
    GTEST_SKIP() << "this build bypasses the frame cache; " << (after - before)
                 << " operator new calls";
  }
  EXPECT_EQ(after - before, 0U) << "spawn and join reached operator new in steady state";
}

}  // namespace
