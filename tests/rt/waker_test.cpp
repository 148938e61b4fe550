// SPDX-License-Identifier: Apache-2.0
// rt::waker over a counting event source: copies clone, moves do not, destruction drops,
// wake() consumes the reference, wake_by_ref() keeps it, an empty waker does nothing; and
// many threads copying, waking and dropping one waker leave every count balanced.
#include "ferrite/rt/waker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

namespace {

using ferrite::rt::waker;
using ferrite::rt::waker_vtable;

// A wakeable thing that counts references and wakes (atomic: the stress test shares it).
struct source {
  std::atomic<std::int64_t> refs{0};
  std::atomic<std::int64_t> wakes{0};
};

source* as_source(const void* data) { return static_cast<source*>(const_cast<void*>(data)); }

constexpr waker_vtable counting_vtable{
    [](const void* d) noexcept -> const void* {
      as_source(d)->refs.fetch_add(1, std::memory_order_relaxed);
      return d;
    },
    [](const void* d) noexcept {
      as_source(d)->wakes.fetch_add(1, std::memory_order_relaxed);
      as_source(d)->refs.fetch_sub(1, std::memory_order_relaxed);
    },
    [](const void* d) noexcept { as_source(d)->wakes.fetch_add(1, std::memory_order_relaxed); },
    [](const void* d) noexcept { as_source(d)->refs.fetch_sub(1, std::memory_order_relaxed); },
};

waker make(source& s) {
  s.refs.fetch_add(1, std::memory_order_relaxed);
  return waker(&s, &counting_vtable);
}

TEST(Waker, IsTwoWordsAndStartsEmpty) {
  static_assert(sizeof(waker) == 16);
  waker w;
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(static_cast<bool>(w));
  w.wake_by_ref();  // nothing to wake: no crash, no effect
  std::move(w).wake();
  w.reset();
}

TEST(Waker, CopiesCloneMovesTransferDestructionDrops) {
  source s;
  {
    waker a = make(s);
    EXPECT_EQ(s.refs.load(), 1);
    waker b = a;  // clone
    EXPECT_EQ(s.refs.load(), 2);
    EXPECT_TRUE(a.will_wake(b));
    waker c = std::move(b);  // no clone: the reference moves
    EXPECT_EQ(s.refs.load(), 2);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    c = a;                   // copy-assign: drops c's reference, clones a's
    EXPECT_EQ(s.refs.load(), 2);
    waker& alias = c;
    c = std::move(alias);  // self-move keeps the reference
    EXPECT_FALSE(c.empty());
    EXPECT_EQ(s.refs.load(), 2);
  }
  EXPECT_EQ(s.refs.load(), 0) << "every reference dropped once";
  EXPECT_EQ(s.wakes.load(), 0);
}

TEST(Waker, WakeConsumesWakeByRefKeeps) {
  source s;
  waker w = make(s);
  w.wake_by_ref();
  w.wake_by_ref();
  EXPECT_EQ(s.wakes.load(), 2);
  EXPECT_EQ(s.refs.load(), 1);
  std::move(w).wake();
  EXPECT_EQ(s.wakes.load(), 3);
  EXPECT_EQ(s.refs.load(), 0) << "wake() released the reference";
  EXPECT_TRUE(w.empty());  // NOLINT(bugprone-use-after-move): wake() empties it by contract
}

TEST(Waker, ThreadsShareOneWakerWithBalancedCounts) {
  source s;
  const waker root = make(s);
  constexpr int threads = 4;
  constexpr int rounds = 20'000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&root] {
      for (int i = 0; i < rounds; ++i) {
        waker copy = root;  // clone on this thread
        if (i % 2 == 0) {
          copy.wake_by_ref();
        } else {
          std::move(copy).wake();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  EXPECT_EQ(s.wakes.load(), threads * rounds);
  EXPECT_EQ(s.refs.load(), 1) << "only the root's reference is left";
}

}  // namespace
