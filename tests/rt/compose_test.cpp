// SPDX-License-Identifier: Apache-2.0
// when_all, when_any and timeout on the local executor and on the pool: results in order,
// fail-fast cancelling the siblings (their frames die, nothing outlives the call), the first
// finisher winning and the losers cancelled, biased against unbiased choice, and deadlines on
// the paused clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <tuple>
#include <variant>
#include <vector>

#include "ferrite/rt.hpp"

namespace rt = ferrite::rt;
using namespace std::chrono_literals;

namespace {

struct live_local {
  static inline std::atomic<int> alive{0};
  live_local() { alive.fetch_add(1); }
  live_local(const live_local&) = delete;
  live_local& operator=(const live_local&) = delete;
  ~live_local() { alive.fetch_sub(1); }
};

rt::task<int> value_of(int v) { co_return v; }
rt::task<> nothing() { co_return; }
rt::task<int> forever() {
  live_local alive;
  co_await rt::sleep_for(24h);
  co_return -1;
}
rt::task<int> fails() {
  co_await rt::yield_now();
  throw std::runtime_error("child failed");
}

/// Runs `make()` (a task) on a local executor and on a 2-worker pool.
template <class Make>
void on_both(Make make) {
  rt::block_on(make());
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  pool.block_on(make());
}

}  // namespace

TEST(WhenAll, GivesEveryResultInArgumentOrder) {
  on_both([]() -> rt::task<> {
    auto [a, b, c] = co_await rt::when_all(value_of(1), nothing(), value_of(3));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, std::monostate{});
    EXPECT_EQ(c, 3);
  });
}

TEST(WhenAll, AFailingChildCancelsItsSiblingsAndIsRethrown) {
  on_both([]() -> rt::task<> {
    bool caught = false;
    try {
      co_await rt::when_all(forever(), fails(), forever());
    } catch (const std::runtime_error& e) {
      caught = std::string_view(e.what()) == "child failed";
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(live_local::alive.load(), 0) << "a sibling outlived when_all";
  });
}

TEST(WhenAll, OverARangeGivesAVectorInOrder) {
  on_both([]() -> rt::task<> {
    std::vector<rt::task<int>> ts;
    for (int i = 0; i < 100; ++i) ts.push_back(value_of(i));
    const std::vector<int> out = co_await rt::when_all(std::move(ts));
    EXPECT_EQ(out.size(), 100U);
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], static_cast<int>(i));
  });
}

TEST(WhenAny, TheFirstToFinishWinsAndTheOthersAreCancelled) {
  on_both([]() -> rt::task<> {
    auto r = co_await rt::when_any(forever(), value_of(7), forever());
    EXPECT_EQ(r.index(), 1U);
    EXPECT_EQ(std::get<1>(r), 7);
    EXPECT_EQ(live_local::alive.load(), 0) << "a loser outlived when_any";
  });
}

TEST(WhenAny, TheWinnersExceptionIsRethrown) {
  on_both([]() -> rt::task<> {
    bool caught = false;
    try {
      co_await rt::when_any(forever(), fails());
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(live_local::alive.load(), 0);
  });
}

TEST(WhenAny, BiasedPrefersTheFirstArgumentAndUnbiasedDoesNot) {
  // On the local executor both children finish before the parent looks: biased always picks
  // the first, unbiased picks either (the chance of 200 identical picks is 2^-199).
  rt::block_on([]() -> rt::task<> {
    int second = 0;
    for (int i = 0; i < 200; ++i) {
      auto b = co_await rt::when_any(rt::biased, value_of(1), value_of(2));
      EXPECT_EQ(b.index(), 0U);
      auto u = co_await rt::when_any(value_of(1), value_of(2));
      second += u.index() == 1 ? 1 : 0;
    }
    EXPECT_GT(second, 0);
    EXPECT_LT(second, 200);
  }());
}

TEST(Timeout, GivesTheResultOrTimedOutOnThePausedClock) {
  rt::clock::pause();
  on_both([]() -> rt::task<> {
    const auto t0 = rt::clock::now();
    std::expected<int, rt::timed_out> late = co_await rt::timeout(1s, forever());
    EXPECT_FALSE(late.has_value());
    EXPECT_GE(rt::clock::now() - t0, 1s);
    EXPECT_EQ(live_local::alive.load(), 0);
    std::expected<int, rt::timed_out> fast = co_await rt::timeout(1h, value_of(5));
    EXPECT_EQ(fast.value_or(-1), 5);
  });
  rt::clock::resume();
}

TEST(TaskScope, JoinWaitsForEveryChildIncludingLateOnes) {
  on_both([]() -> rt::task<> {
    std::atomic<int> ran{0};
    rt::task_scope scope;
    auto child = [](std::atomic<int>& r) -> rt::task<> {
      co_await rt::yield_now();
      r.fetch_add(1);
    };
    for (int i = 0; i < 50; ++i) scope.spawn(child(ran));
    // A child that spawns more children into the same scope while join() waits.
    scope.spawn([](rt::task_scope& s, std::atomic<int>& r, auto make) -> rt::task<> {
      co_await rt::yield_now();
      for (int i = 0; i < 10; ++i) s.spawn(make(r));
    }(scope, ran, child));
    co_await scope.join();
    EXPECT_EQ(ran.load(), 60);
    EXPECT_EQ(scope.size(), 61U);
  });
}

TEST(TaskScope, TheFirstFailureCancelsTheSiblingsAndIsRethrown) {
  on_both([]() -> rt::task<> {
    rt::task_scope scope;
    for (int i = 0; i < 5; ++i) scope.spawn(forever());
    scope.spawn(fails());
    bool caught = false;
    try {
      co_await scope.join();
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(live_local::alive.load(), 0) << "a child outlived the scope's join";
  });
}

TEST(WhenAll, CancellingTheAwaitingTaskCancelsTheChildren) {
  on_both([]() -> rt::task<> {
    rt::join_handle<void> outer =
        rt::spawn([]() -> rt::task<> { co_await rt::when_all(forever(), forever()); }());
    while (live_local::alive.load() < 2) co_await rt::yield_now();  // both children sleep
    outer.abort();
    try {
      co_await outer;
    } catch (const rt::cancelled&) {
    }
    while (live_local::alive.load() != 0) co_await rt::yield_now();  // cancelled, not detached
    EXPECT_EQ(live_local::alive.load(), 0);
  });
}
