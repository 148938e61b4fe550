// SPDX-License-Identifier: Apache-2.0
// spawn_blocking: results and exceptions through the join handle, from a local executor, a
// pool and a plain thread; calls run on the blocking pool's own threads, many at once, and
// never more than its bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ferrite/rt.hpp"

namespace rt = ferrite::rt;

TEST(SpawnBlocking, GivesTheResultOnAnotherThread) {
  const std::thread::id caller = std::this_thread::get_id();
  const std::thread::id ran_on = rt::block_on([]() -> rt::task<std::thread::id> {
    co_return co_await rt::spawn_blocking([] { return std::this_thread::get_id(); });
  }());
  EXPECT_NE(ran_on, caller);
  int out = 0;
  rt::block_on([](int& o) -> rt::task<> { co_await rt::spawn_blocking([&o] { o = 3; }); }(out));
  EXPECT_EQ(out, 3);
}

TEST(SpawnBlocking, RethrowsTheCallsException) {
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  EXPECT_THROW(pool.block_on([]() -> rt::task<int> {
    co_return co_await rt::spawn_blocking([]() -> int { throw std::runtime_error("io"); });
  }()),
               std::runtime_error);
}

TEST(SpawnBlocking, ManyCallsRunAtOnceUpToTheBound) {
  // The first `bound` calls wait for each other on a latch: they can only all finish if they
  // run at the same time; the calls beyond the bound queue and run after.
  constexpr std::size_t bound = rt::blocking_pool_max_threads;
  std::latch all_started(static_cast<std::ptrdiff_t>(bound));
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  const int done = rt::block_on([&]() -> rt::task<int> {
    std::vector<rt::join_handle<int>> hs;
    for (std::size_t i = 0; i < bound + 16; ++i) {
      hs.push_back(rt::spawn_blocking([&, i] {
        const int now = running.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (i < bound) all_started.arrive_and_wait();
        running.fetch_sub(1);
        return 1;
      }));
    }
    int n = 0;
    for (auto& h : hs) n += co_await h;
    co_return n;
  }());
  EXPECT_EQ(done, static_cast<int>(bound + 16));
  EXPECT_LE(most.load(), static_cast<int>(bound));
  EXPECT_GE(most.load(), static_cast<int>(bound));
}

TEST(SpawnBlocking, IsJoinedFromAPlainThreadThroughAPool) {
  rt::thread_pool pool(rt::pool_options{.workers = 1});
  rt::join_handle<int> h = rt::spawn_blocking([] { return 11; });
  EXPECT_EQ(
      pool.block_on([](rt::join_handle<int>& j) -> rt::task<int> { co_return co_await j; }(h)), 11);
}
