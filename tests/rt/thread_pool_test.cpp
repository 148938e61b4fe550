// SPDX-License-Identifier: Apache-2.0
// thread_pool: spawning from inside and outside, joins across executors, stealing, the
// cooperative budget, abort and shutdown, and stress tests with invariants (every task runs
// exactly once, never polled twice at once, no frame outlives the pool).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ferrite/rt.hpp"

namespace rt = ferrite::rt;

namespace {

/// A one-shot event a plain thread (or a task) fires; tasks await it.
class event {
 public:
  void fire() {
    rt::waker w;
    {
      std::lock_guard guard(lock_);
      set_ = true;
      w = std::move(waiter_);
    }
    std::move(w).wake();
  }
  auto wait() {
    struct awaiter {
      event& e;
      bool await_ready() {
        std::lock_guard guard(e.lock_);
        return e.set_;
      }
      bool await_suspend(std::coroutine_handle<> self) {
        std::lock_guard guard(e.lock_);
        if (e.set_) return false;
        rt::detail::suspend_until(self, &is_set, &e);  // a stale wake does not resume it
        e.waiter_ = rt::current_waker();
        return true;
      }
      void await_resume() const noexcept {}
      static bool is_set(const void* ev) noexcept {
        auto* const self = static_cast<event*>(const_cast<void*>(ev));
        std::lock_guard guard(self->lock_);
        return self->set_;
      }
    };
    return awaiter{*this};
  }

 private:
  std::mutex lock_;
  bool set_ = false;
  rt::waker waiter_;
};

/// Counts live instances across threads (frames of pool tasks die on any worker).
struct live_local {
  static inline std::atomic<int> alive{0};
  live_local() { alive.fetch_add(1, std::memory_order_relaxed); }
  live_local(const live_local&) = delete;
  live_local& operator=(const live_local&) = delete;
  ~live_local() { alive.fetch_sub(1, std::memory_order_relaxed); }
};

rt::task<int> value_of(int v) { co_return v; }

rt::task<std::thread::id> where() { co_return std::this_thread::get_id(); }

}  // namespace

TEST(ThreadPool, BlockOnRunsTheTaskOnAWorker) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  EXPECT_EQ(pool.workers(), 2U);
  EXPECT_EQ(pool.block_on(value_of(7)), 7);
  EXPECT_NE(pool.block_on(where()), std::this_thread::get_id());
  EXPECT_EQ(rt::block_on(value_of(9), pool), 9);
}

TEST(ThreadPool, DefaultsToOneWorkerPerHardwareThread) {
  rt::thread_pool pool;
  EXPECT_EQ(pool.workers(), std::max(1U, std::thread::hardware_concurrency()));
}

TEST(ThreadPool, SpawnInsideAWorkerStaysOnThePool) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  const int total = pool.block_on([]() -> rt::task<int> {
    EXPECT_NE(rt::thread_pool::current(), nullptr);
    EXPECT_EQ(rt::local_executor::current(), nullptr);
    std::vector<rt::join_handle<int>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(rt::spawn(value_of(i)));
    int sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  }());
  EXPECT_EQ(total, 4950);
  EXPECT_EQ(rt::thread_pool::current(), nullptr);
}

TEST(ThreadPool, ExceptionsReachTheJoiner) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  auto fails = []() -> rt::task<int> {
    throw std::runtime_error("boom");
    co_return 0;
  };
  EXPECT_THROW(pool.block_on(fails()), std::runtime_error);
  const bool caught = pool.block_on([](auto f) -> rt::task<bool> {
    rt::join_handle<int> h = rt::spawn(f());
    try {
      co_await h;
    } catch (const std::runtime_error&) {
      co_return true;
    }
    co_return false;
  }(fails));
  EXPECT_TRUE(caught);
}

TEST(ThreadPool, APoolTaskIsJoinedFromALocalExecutor) {
  rt::thread_pool pool(rt::pool_options{.workers = 1});
  rt::join_handle<std::thread::id> h = pool.spawn(where());
  const std::thread::id worker =
      rt::block_on([](rt::join_handle<std::thread::id>& handle) -> rt::task<std::thread::id> {
        co_return co_await handle;
      }(h));
  EXPECT_NE(worker, std::this_thread::get_id());
}

TEST(ThreadPool, AWakeFromAPlainThreadResumesTheTask) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  event e;
  rt::join_handle<int> h = pool.spawn([](event& ev) -> rt::task<int> {
    co_await ev.wait();
    co_return 5;
  }(e));
  std::thread firer([&] { e.fire(); });
  EXPECT_EQ(rt::block_on([](rt::join_handle<int>& j) -> rt::task<int> { co_return co_await j; }(h)),
            5);
  firer.join();
}

TEST(ThreadPool, AStaleWakeDoesNotEndTheCurrentAwait) {
  // The task keeps the waker of its first suspension and wakes itself with it while it awaits
  // a join handle of a task that is not done: the join must not resume before the end.
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  event first;
  event release;
  std::thread firer([&] { first.fire(); });
  const int v = pool.block_on([](event& f, event& r) -> rt::task<int> {
    co_await f.wait();
    const rt::waker stale = rt::current_waker();
    rt::join_handle<int> h = rt::spawn([](event& ev) -> rt::task<int> {
      co_await ev.wait();
      co_return 8;
    }(r));
    std::thread waker([&] {
      for (int i = 0; i < 1000; ++i) stale.wake_by_ref();
      r.fire();
    });
    const int got = co_await h;  // resumed early, await_resume would assert
    waker.join();
    co_return got;
  }(first, release));
  firer.join();
  EXPECT_EQ(v, 8);
}

TEST(LocalExecutor, AStaleWakeDoesNotEndTheCurrentAwait) {
  event release;
  const int v = rt::block_on([](event& r) -> rt::task<int> {
    const rt::waker stale = rt::current_waker();
    rt::join_handle<int> h = rt::spawn([](event& ev) -> rt::task<int> {
      co_await ev.wait();
      co_return 9;
    }(r));
    std::thread waker([&] {
      for (int i = 0; i < 1000; ++i) stale.wake_by_ref();
      r.fire();
    });
    const int got = co_await h;
    waker.join();
    co_return got;
  }(release));
  EXPECT_EQ(v, 9);
}

TEST(ThreadPool, AnIdleWorkerStealsFromABusyOne) {
  // The spawner spins until the spawned task has run: only another worker can run it, by
  // stealing it from the spawner's queue (a lost steal or wake-up hangs the test).
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  pool.block_on([]() -> rt::task<> {
    std::atomic<bool> ran{false};
    rt::join_handle<void> h = rt::spawn([](std::atomic<bool>& flag) -> rt::task<> {
      flag.store(true, std::memory_order_release);
      co_return;
    }(ran));
    while (!ran.load(std::memory_order_acquire)) std::this_thread::yield();
    co_await h;
  }());
  std::uint64_t steals = 0;
  std::uint64_t injected = 0;
  for (const rt::worker_stats& s : pool.stats()) {
    steals += s.steals;
    injected += s.injected;
  }
#if FERRITE_METRICS
  EXPECT_GE(steals, 1U);
  EXPECT_GE(injected, 1U);  // block_on's task came through the injection queue
#endif
}

TEST(ThreadPool, ABusyTaskYieldsWhenItSpendsItsBudget) {
  rt::thread_pool pool(rt::pool_options{.workers = 1});
  // One worker, and a task that awaits an always-ready handle in a loop until another task
  // of the same worker has run: without the budget it would never suspend and never end.
  // It ends within one budget's worth of awaits.
  const int awaits = pool.block_on([]() -> rt::task<int> {
    rt::join_handle<int> done = rt::spawn(value_of(1));
    while (!done.is_finished()) co_await rt::yield_now();  // let it finish
    std::atomic<bool> other_ran{false};
    rt::join_handle<void> other = rt::spawn([](std::atomic<bool>& f) -> rt::task<> {
      f.store(true, std::memory_order_relaxed);
      co_return;
    }(other_ran));
    int n = 0;
    while (!other_ran.load(std::memory_order_relaxed)) {
      co_await done;  // always ready: only the budget makes it suspend
      ++n;
    }
    co_await other;
    co_return n;
  }());
  EXPECT_LE(awaits, static_cast<int>(rt::detail::coop_budget_per_poll) + 1);
#if FERRITE_METRICS
  EXPECT_GE(pool.stats()[0].budget_yields, 1U);
#endif
}

TEST(ThreadPool, AbortCancelsASuspendedTaskAndFreesItsFrame) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  event never;
  rt::join_handle<int> h = pool.spawn([](event& e) -> rt::task<int> {
    live_local alive;
    co_await e.wait();
    co_return 1;
  }(never));
  while (live_local::alive.load() == 0) std::this_thread::yield();  // it reached the wait
  h.abort();
  const bool cancelled = rt::block_on([](rt::join_handle<int>& j) -> rt::task<bool> {
    try {
      co_await j;
    } catch (const rt::cancelled&) {
      co_return true;
    }
    co_return false;
  }(h));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(live_local::alive.load(), 0);
}

TEST(ThreadPool, ShutdownCancelsPendingTasksAndRejectsNewOnes) {
  std::vector<rt::join_handle<int>> handles;
  event never;
  {
    rt::thread_pool pool(rt::pool_options{.workers = 2});
    for (int i = 0; i < 50; ++i) {
      handles.push_back(pool.spawn([](event& e) -> rt::task<int> {
        live_local alive;
        co_await e.wait();
        co_return 1;
      }(never)));
    }
    pool.shutdown();
    EXPECT_EQ(live_local::alive.load(), 0);
    rt::join_handle<int> late = pool.spawn(value_of(3));
    EXPECT_TRUE(late.is_finished());
    handles.push_back(std::move(late));
  }
  for (auto& h : handles) {
    EXPECT_TRUE(h.is_finished());
    const bool cancelled = rt::block_on([](rt::join_handle<int>& j) -> rt::task<bool> {
      try {
        co_await j;
      } catch (const rt::cancelled&) {
        co_return true;
      }
      co_return false;
    }(h));
    EXPECT_TRUE(cancelled);
  }
}

TEST(ThreadPool, DumpStateMachineCountsTransitions) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  pool.block_on([]() -> rt::task<> {
    for (int i = 0; i < 10; ++i) co_await rt::spawn(value_of(i));
  }());
  std::ostringstream out;
  pool.dump_state_machine(out);
  const std::string text = out.str();
  EXPECT_NE(text.find("stateDiagram-v2"), std::string::npos);
#if FERRITE_METRICS
  EXPECT_NE(text.find("spawn (11)"), std::string::npos) << text;
  EXPECT_NE(text.find("return or throw (11)"), std::string::npos) << text;
#endif
}

// ---- stress ------------------------------------------------------------------------------

TEST(ThreadPoolStress, SpawnStormFromManyThreadsRunsEveryTaskOnce) {
  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  std::vector<std::atomic<int>> runs(threads * per_thread);
  {
    rt::thread_pool pool(rt::pool_options{.workers = 2});
    std::vector<std::thread> spawners;
    for (int t = 0; t < threads; ++t) {
      spawners.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          pool.spawn([](std::atomic<int>& slot) -> rt::task<> {
                slot.fetch_add(1, std::memory_order_relaxed);
                co_return;
              }(runs[static_cast<std::size_t>(t * per_thread + i)]))
              .detach();
        }
      });
    }
    for (auto& s : spawners) s.join();
    // Everything spawned before this task is queued ahead of it or is stolen; wait for all.
    pool.block_on([](std::vector<std::atomic<int>>& r) -> rt::task<> {
      for (auto& slot : r) {
        while (slot.load(std::memory_order_relaxed) == 0) co_await rt::yield_now();
      }
    }(runs));
  }
  for (std::size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "task " << i;
}

TEST(ThreadPoolStress, ChainedSpawnsEachRunOnce) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  std::atomic<int> ran{0};
  struct chain {
    static rt::task<> link(std::atomic<int>& counter, int left) {
      counter.fetch_add(1, std::memory_order_relaxed);
      if (left > 0) co_await rt::spawn(link(counter, left - 1));
    }
  };
  pool.block_on(chain::link(ran, 10000));
  EXPECT_EQ(ran.load(), 10001);
}

TEST(ThreadPoolStress, WakesRacingPollsNeverPollATaskTwiceAtOnce) {
  // Each task suspends repeatedly on a flag that a plain thread sets and wakes, many times
  // over and from two threads at once; a task polled by two workers at once would see its
  // in-poll marker already set.
  constexpr int tasks = 64;
  constexpr int rounds = 200;
  struct shared_state {
    std::atomic<bool> in_poll{false};
    std::atomic<int> steps{0};
    std::mutex lock;
    rt::waker w;
  };
  std::vector<shared_state> states(tasks);
  std::atomic<bool> stop{false};
  {
    rt::thread_pool pool(rt::pool_options{.workers = 2});
    std::vector<rt::join_handle<bool>> hs;
    for (auto& st : states) {
      hs.push_back(pool.spawn([](shared_state& s) -> rt::task<bool> {
        bool ok = true;
        for (int r = 0; r < rounds; ++r) {
          ok &= !s.in_poll.exchange(true, std::memory_order_acq_rel);
          s.steps.fetch_add(1, std::memory_order_relaxed);
          {
            std::lock_guard guard(s.lock);
            s.w = rt::current_waker();
          }
          s.in_poll.store(false, std::memory_order_release);
          co_await rt::yield_now();  // also suspends; woken by the yield or the wakers
        }
        co_return ok;
      }(st)));
    }
    auto waker_thread = [&] {
      while (!stop.load(std::memory_order_relaxed)) {
        for (auto& st : states) {
          rt::waker w;
          {
            std::lock_guard guard(st.lock);
            w = st.w;
          }
          w.wake_by_ref();
        }
      }
    };
    std::thread a(waker_thread);
    std::thread b(waker_thread);
    for (auto& h : hs) {
      EXPECT_TRUE(rt::block_on(
          [](rt::join_handle<bool>& j) -> rt::task<bool> { co_return co_await j; }(h)));
    }
    stop.store(true);
    a.join();
    b.join();
  }
  for (auto& st : states) EXPECT_EQ(st.steps.load(), rounds);
}

TEST(ThreadPoolStress, AbortRacingCompletionGivesAResultOrCancelledAndLeaksNothing) {
  constexpr int tasks = 2000;
  int results = 0;
  int cancels = 0;
  {
    rt::thread_pool pool(rt::pool_options{.workers = 2});
    std::vector<rt::join_handle<int>> hs;
    for (int i = 0; i < tasks; ++i) {
      hs.push_back(pool.spawn([](int v) -> rt::task<int> {
        live_local alive;
        co_await rt::yield_now();
        co_return v;
      }(i)));
    }
    std::thread aborter([&] {
      for (int i = 0; i < tasks; i += 2) hs[static_cast<std::size_t>(i)].abort();
    });
    aborter.join();
    for (int i = 0; i < tasks; ++i) {
      const int r = rt::block_on([](rt::join_handle<int>& j) -> rt::task<int> {
        try {
          co_return co_await j;
        } catch (const rt::cancelled&) {
          co_return -1;
        }
      }(hs[static_cast<std::size_t>(i)]));
      if (r == -1) {
        EXPECT_EQ(i % 2, 0) << "only aborted tasks are cancelled";
        ++cancels;
      } else {
        EXPECT_EQ(r, i);
        ++results;
      }
    }
  }
  EXPECT_EQ(results + cancels, tasks);
  EXPECT_GE(results, tasks / 2);
  EXPECT_EQ(live_local::alive.load(), 0);
}

TEST(ThreadPoolStress, DestroyingAPoolWithSuspendedTasksDestroysTheirFrames) {
  event never;
  for (int round = 0; round < 20; ++round) {
    rt::thread_pool pool(rt::pool_options{.workers = 2});
    for (int i = 0; i < 100; ++i) {
      pool.spawn([](event& e) -> rt::task<> {
            live_local alive;
            co_await e.wait();
          }(never))
          .detach();
    }
  }
  EXPECT_EQ(live_local::alive.load(), 0);
}

TEST(ThreadPool, AStaleWakeDoesNotEndAMutexOrChannelWait) {
  // A task waits for a mutex (then a channel value) while a plain thread wakes it, over and
  // over, with a waker it took earlier: it must resume only with the lock (the value).
  struct waiter_task {
    static rt::task<int> run(rt::async_mutex& mu, rt::receiver<int> r, std::atomic<bool>& done) {
      const rt::waker stale = rt::current_waker();
      std::thread noise([&stale, &done] {
        while (!done.load()) stale.wake_by_ref();
      });
      int v = -1;
      {
        auto g = co_await mu.lock();   // resumed early, it would not hold the lock
        auto got = co_await r.recv();  // resumed early, there would be no value
        v = got.value_or(-2);
      }
      done.store(true);
      noise.join();
      co_return v;
    }
  };
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  const int got = pool.block_on([](auto run) -> rt::task<int> {
    rt::async_mutex m;
    auto [tx, rx] = rt::channel<int>(1);
    std::atomic<bool> done{false};
    auto held = co_await m.lock();
    rt::join_handle<int> waiter = rt::spawn(run(m, rx, done));
    // The waits last a while, so the noise lands during them (the result does not depend on
    // the timing: it is checked either way).
    co_await rt::sleep_for(std::chrono::milliseconds(10));
    held.unlock();  // the waiter takes the lock
    co_await rt::sleep_for(std::chrono::milliseconds(10));
    co_await tx.send(31);
    co_return co_await waiter;
  }(&waiter_task::run));
  EXPECT_EQ(got, 31);
}
