// SPDX-License-Identifier: Apache-2.0
// The worker run queue: FIFO for its owner, steal-half, take_half when full; and a stress test
// of an owner pushing and popping against two thieves, where every entry must come out
// exactly once. The interleavings are explored by tests/model/run_queue_model_test.cpp.
#include "ferrite/rt/detail/run_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using queue = ferrite::rt::detail::run_queue<int*, 8>;

}  // namespace

TEST(RunQueue, OwnerPopsInFifoOrderAndFullIsReported) {
  std::array<int, 9> items{};
  queue q;
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(q.push(&items[static_cast<std::size_t>(i)]));
  EXPECT_FALSE(q.push(&items[8]));
  EXPECT_EQ(q.size_approx(), 8U);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(q.pop(), &items[static_cast<std::size_t>(i)]);
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(RunQueue, StealTakesTheOlderHalfRoundedUp) {
  std::array<int, 5> items{};
  queue victim;
  queue thief;
  for (auto& i : items) ASSERT_TRUE(victim.push(&i));
  // 5 entries: 3 stolen, the newest of them returned, the other two pushed onto the thief.
  EXPECT_EQ(victim.steal_into(thief), &items[2]);
  EXPECT_EQ(thief.pop(), &items[0]);
  EXPECT_EQ(thief.pop(), &items[1]);
  EXPECT_EQ(thief.pop(), nullptr);
  EXPECT_EQ(victim.pop(), &items[3]);
  EXPECT_EQ(victim.pop(), &items[4]);
  EXPECT_EQ(victim.steal_into(thief), nullptr);
}

TEST(RunQueue, TakeHalfEmptiesTheOlderHalfOfAFullQueue) {
  std::array<int, 8> items{};
  queue q;
  std::array<int*, 4> out{};
  EXPECT_EQ(q.take_half(out), 0U);  // not full
  for (auto& i : items) ASSERT_TRUE(q.push(&i));
  EXPECT_EQ(q.take_half(out), 4U);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(out[i], &items[i]);
  EXPECT_EQ(q.pop(), &items[4]);
}

TEST(RunQueueStress, EveryEntryComesOutExactlyOnce) {
  constexpr int total = 200000;
  std::vector<int> items(total);
  std::vector<std::atomic<int>> seen(total);
  ferrite::rt::detail::run_queue<int*, 256> owner_q;
  std::array<ferrite::rt::detail::run_queue<int*, 256>, 2> thief_q;
  std::atomic<bool> done{false};
  auto take = [&](int* p) { seen[static_cast<std::size_t>(p - items.data())].fetch_add(1); };
  std::vector<std::thread> thieves;
  for (auto& mine : thief_q) {
    thieves.emplace_back([&] {
      while (!done.load(std::memory_order_acquire) || !owner_q.empty_approx()) {
        if (int* p = owner_q.steal_into(mine)) {
          take(p);
          while (int* q = mine.pop()) take(q);
        }
      }
    });
  }
  for (int i = 0; i < total; ++i) {
    while (!owner_q.push(&items[static_cast<std::size_t>(i)])) {
      if (int* p = owner_q.pop()) take(p);
    }
    if (i % 3 == 0) {
      if (int* p = owner_q.pop()) take(p);
    }
  }
  while (int* p = owner_q.pop()) take(p);
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) t.join();
  for (int i = 0; i < total; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1) << i;
}
