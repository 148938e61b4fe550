// SPDX-License-Identifier: Apache-2.0
// Tests of spsc_queue<T>: capacity rounding (0, 1, 2, non-powers of two), FIFO order and the
// full/empty edges on one thread, both try_pop forms, front()/pop_front() (and the deprecated
// pop()), move-only elements, a throwing constructor or move leaving the queue unchanged,
// destruction of the elements left in the queue, and two-thread
// stress runs (every item delivered exactly once and in order, at capacities 1, 2 and 1024)
// that ThreadSanitizer checks for races on the slots.
#include "ferrite/sync/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "queue_test_support.hpp"

namespace {

using ferrite::sync::spsc_queue;

using ferrite_test::counted;
using ferrite_test::may_throw;
using ferrite_test::throwing_move;

TEST(SpscQueue, CapacityRoundsUpToAPowerOfTwo) {
  EXPECT_EQ(spsc_queue<int>(0).capacity(), 1U);
  EXPECT_EQ(spsc_queue<int>(1).capacity(), 1U);
  EXPECT_EQ(spsc_queue<int>(2).capacity(), 2U);
  EXPECT_EQ(spsc_queue<int>(3).capacity(), 4U);
  EXPECT_EQ(spsc_queue<int>(1000).capacity(), 1024U);
  EXPECT_EQ(spsc_queue<int>(1024).capacity(), 1024U);
  EXPECT_THROW(spsc_queue<int>(~std::size_t{0}), std::length_error);
}

TEST(SpscQueue, FifoUntilFullThenEmpty) {
  spsc_queue<int> q(5);  // 8 slots
  ASSERT_EQ(q.capacity(), 8U);
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(q.try_push(i)) << i;
  EXPECT_FALSE(q.try_push(99));
  EXPECT_EQ(q.size_approx(), 8U);
  for (int i = 0; i < 8; ++i) {
    int out = -1;
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, i);
  }
  int out = -1;
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, -1);
  EXPECT_TRUE(q.empty());
}

// Capacities 1 and 2 wrap the ring on nearly every operation.
TEST(SpscQueue, TinyCapacitiesWrapManyTimes) {
  for (std::size_t cap : {std::size_t{1}, std::size_t{2}}) {
    spsc_queue<std::uint64_t> q(cap);
    std::uint64_t next_push = 0;
    std::uint64_t next_pop = 0;
    for (int round = 0; round < 1000; ++round) {
      while (q.try_push(next_push)) ++next_push;
      EXPECT_EQ(q.size_approx(), cap);
      std::uint64_t out = 0;
      while (q.try_pop(out)) EXPECT_EQ(out, next_pop++);
    }
    EXPECT_EQ(next_push, next_pop);
    EXPECT_EQ(next_push, 1000U * cap);
  }
}

TEST(SpscQueue, BothTryPopFormsTakeTheFront) {
  spsc_queue<int> q(4);
  ferrite_test::expect_both_try_pop_forms_take_the_front(q);
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, FrontAndPopFront) {
  spsc_queue<std::vector<int>> q(4);
  EXPECT_EQ(q.front(), nullptr);
  ASSERT_TRUE(q.try_emplace(3U, 7));  // vector(3, 7)
  ASSERT_TRUE(q.try_emplace(std::vector<int>{1, 2}));
  std::vector<int>* f = q.front();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(*f, (std::vector<int>{7, 7, 7}));
  EXPECT_EQ(q.front(), f);  // stable until pop_front
  q.pop_front();
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), (std::vector<int>{1, 2}));
  q.pop_front();
  EXPECT_EQ(q.front(), nullptr);
}

// pop() is pop_front()'s old name, kept (deprecated) so that existing code compiles.
TEST(SpscQueue, DeprecatedPopStillDropsTheFront) {
  spsc_queue<int> q(2);
  ASSERT_TRUE(q.try_push(1));
  ASSERT_TRUE(q.try_push(2));
  ASSERT_NE(q.front(), nullptr);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  q.pop();
#pragma GCC diagnostic pop
  ASSERT_NE(q.front(), nullptr);
  EXPECT_EQ(*q.front(), 2);
}

TEST(SpscQueue, MoveOnlyElements) {
  spsc_queue<std::unique_ptr<int>> q(1);
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  EXPECT_TRUE(q.try_push(std::move(a)));
  EXPECT_EQ(a, nullptr);
  EXPECT_FALSE(q.try_push(std::move(b)));
  ASSERT_NE(b, nullptr) << "a failed push must not move from its argument";
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 1);
  EXPECT_TRUE(q.try_push(std::move(b)));
  std::optional<std::unique_ptr<int>> taken = q.try_pop();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(**taken, 2);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(SpscQueue, ThrowingMoveLeavesTheElementAtTheFront) {
  spsc_queue<throwing_move> q(2);
  ASSERT_TRUE(q.try_emplace(1));
  throwing_move out(0);
  throwing_move::fail = true;
  EXPECT_THROW((void)q.try_pop(), std::runtime_error);
  EXPECT_THROW((void)q.try_pop(out), std::runtime_error);
  throwing_move::fail = false;
  EXPECT_EQ(q.size_approx(), 1U);
  std::optional<throwing_move> taken = q.try_pop();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->value, 1);
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, ThrowingConstructorLeavesTheQueueUnchanged) {
  spsc_queue<may_throw> q(2);
  ASSERT_TRUE(q.try_emplace(false));
  EXPECT_THROW((void)q.try_emplace(true), std::runtime_error);
  EXPECT_EQ(q.size_approx(), 1U);
  ASSERT_TRUE(q.try_emplace(false));
  EXPECT_FALSE(q.try_emplace(false));
  ASSERT_NE(q.front(), nullptr);
  q.pop_front();
  ASSERT_NE(q.front(), nullptr);
  q.pop_front();
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, DestructorDestroysTheElementsLeft) {
  counted::live = 0;
  {
    spsc_queue<counted> q(4);
    for (std::uint64_t i = 0; i < 6; ++i) {  // wrap the ring once
      ASSERT_TRUE(q.try_emplace(i));
      if (i % 2 == 1) {
        ASSERT_NE(q.front(), nullptr);
        q.pop_front();
      }
    }
    EXPECT_EQ(counted::live.load(), 3);
  }
  EXPECT_EQ(counted::live.load(), 0);
}

// One producer pushes 0..n-1, one consumer checks it receives exactly that sequence. Any
// missing, duplicated or reordered item fails; a slot accessed without the protocol's
// ordering is a TSan report.
void stress_in_order(std::size_t capacity, std::uint64_t n) {
  spsc_queue<std::uint64_t> q(capacity);
  std::uint64_t bad = 0;
  std::thread consumer([&] {
    std::uint64_t expected = 0;
    while (expected < n) {
      std::uint64_t v = 0;
      if (q.try_pop(v)) {
        if (v != expected) ++bad;
        expected = v + 1;
      } else {
        std::this_thread::yield();
      }
    }
  });
  for (std::uint64_t i = 0; i < n; ++i) {
    while (!q.try_push(i)) std::this_thread::yield();
  }
  consumer.join();
  EXPECT_EQ(bad, 0U);
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueueStress, InOrderCapacity1) { stress_in_order(1, 20'000); }
TEST(SpscQueueStress, InOrderCapacity2) { stress_in_order(2, 40'000); }
TEST(SpscQueueStress, InOrderCapacity1024) { stress_in_order(1024, 300'000); }

// Move-only heap elements through front()/pop_front(): each pointer is delivered once, in
// order; ASan catches a double delete or a leak, TSan a race on the pointee.
TEST(SpscQueueStress, MoveOnlyThroughFrontAndPopFront) {
  constexpr std::uint64_t n = 50'000;
  spsc_queue<std::unique_ptr<std::uint64_t>> q(16);
  std::uint64_t bad = 0;
  std::thread consumer([&] {
    for (std::uint64_t expected = 0; expected < n;) {
      std::unique_ptr<std::uint64_t>* f = q.front();
      if (f == nullptr) {
        std::this_thread::yield();
        continue;
      }
      if (**f != expected) ++bad;
      ++expected;
      q.pop_front();
    }
  });
  for (std::uint64_t i = 0; i < n; ++i) {
    auto p = std::make_unique<std::uint64_t>(i);
    while (!q.try_push(std::move(p))) std::this_thread::yield();
  }
  consumer.join();
  EXPECT_EQ(bad, 0U);
}

// The consumer stops early; the queue's destructor must destroy exactly what is left.
TEST(SpscQueueStress, DestructionWithItemsLeftAfterConcurrentUse) {
  counted::live = 0;
  {
    spsc_queue<counted> q(64);
    std::thread consumer([&] {
      counted out(0);
      for (int popped = 0; popped < 5'000;) {
        if (q.try_pop(out)) {
          ++popped;
        } else {
          std::this_thread::yield();
        }
      }
    });
    std::uint64_t pushed = 0;
    while (pushed < 5'000 + 40) {
      if (q.try_emplace(pushed)) {
        ++pushed;
      } else {
        std::this_thread::yield();
      }
    }
    consumer.join();
    EXPECT_EQ(q.size_approx(), 40U);
    EXPECT_EQ(counted::live.load(), 40);
  }
  EXPECT_EQ(counted::live.load(), 0);
}

}  // namespace
