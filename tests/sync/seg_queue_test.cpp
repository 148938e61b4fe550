// SPDX-License-Identifier: Apache-2.0
// Tests of seg_queue<T>: FIFO order and size_approx on one thread across many block boundaries
// (31 slots a block), both try_pop forms and the always-true try_push/try_emplace, move-only
// elements through both try_pop forms, a throwing constructor
// that must not claim a position, destruction of the elements left (in a partly read first
// block and in later blocks); then oversubscribed stress runs (4-8 threads on any number of
// cores): every item delivered exactly once (a per-item counter) and in order per producer as
// seen by each consumer, consumers racing on a nearly empty queue across block boundaries, a
// ping-pong that checks a pop that happens after a push sees it, and counted elements left
// in the queue when the threads stop.
#include "ferrite/sync/seg_queue.hpp"

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

using ferrite::sync::seg_queue;
using ferrite_test::counted;
using ferrite_test::may_throw;

#if FERRITE_TSAN
constexpr std::uint32_t stress_scale = 4;  // TSan runs much slower: keep each test short
#else
constexpr std::uint32_t stress_scale = 32;
#endif

/// The value of `o`; throws (failing the test) when it is empty.
template <class T>
T must(std::optional<T> o) {
  if (!o.has_value()) throw std::runtime_error("expected a value, got nullopt");
  return std::move(*o);
}

constexpr std::size_t block_slots = seg_queue<int>::block_capacity;
static_assert(block_slots == 31);

TEST(SegQueue, FifoAndSizeAcrossBlockBoundaries) {
  seg_queue<std::uint64_t> q;
  EXPECT_TRUE(q.empty());
  std::uint64_t out = 0;
  EXPECT_FALSE(q.try_pop(out));
  std::uint64_t next_push = 0;
  std::uint64_t next_pop = 0;
  // Bursts of every length from 1 to 70 (more than two blocks), draining part of each, so
  // that the head and the tail cross block boundaries at every offset.
  for (std::uint64_t burst = 1; burst <= 70; ++burst) {
    for (std::uint64_t i = 0; i < burst; ++i) q.push(next_push++);
    EXPECT_EQ(q.size_approx(), next_push - next_pop);
    for (std::uint64_t i = 0; i < burst / 2 + 1 && next_pop < next_push; ++i) {
      ASSERT_TRUE(q.try_pop(out));
      EXPECT_EQ(out, next_pop++);
    }
    EXPECT_EQ(q.size_approx(), next_push - next_pop);
  }
  while (q.try_pop(out)) EXPECT_EQ(out, next_pop++);
  EXPECT_EQ(next_pop, next_push);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size_approx(), 0U);
  EXPECT_FALSE(q.try_pop(out));
}

TEST(SegQueue, SizeAtExactBlockMultiples) {
  for (std::size_t n :
       {block_slots - 1, block_slots, block_slots + 1, 2 * block_slots, 2 * block_slots + 1}) {
    seg_queue<int> q;
    for (std::size_t i = 0; i < n; ++i) q.emplace(static_cast<int>(i));
    EXPECT_EQ(q.size_approx(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(q.try_pop(), static_cast<int>(i));
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.try_pop(), std::nullopt);
    q.push(7);  // the queue stays usable at the boundary it stopped at
    EXPECT_EQ(q.try_pop(), 7);
  }
}

TEST(SegQueue, BothTryPopFormsTakeTheFront) {
  seg_queue<int> q;
  int out = -1;
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_FALSE(q.try_pop(out));
  for (int i = 1; i <= 40; ++i) q.push(i);  // across a block boundary
  for (int i = 1; i <= 40; i += 2) {
    EXPECT_EQ(q.try_pop(), i);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out, i + 1);
  }
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 40) << "a failed try_pop must leave `out` alone";
}

// try_push and try_emplace have a bounded queue's shape; an unbounded one always succeeds.
TEST(SegQueue, TryPushAlwaysSucceeds) {
  seg_queue<std::unique_ptr<int>> q;
  auto a = std::make_unique<int>(0);
  EXPECT_TRUE(q.try_push(std::move(a)));
  EXPECT_EQ(a, nullptr);
  for (int i = 1; i < 70; ++i) EXPECT_TRUE(q.try_emplace(new int(i)));
  seg_queue<int> copies;
  const int v = 7;
  EXPECT_TRUE(copies.try_push(v));
  EXPECT_EQ(copies.try_pop(), 7);
  for (int i = 0; i < 70; ++i) EXPECT_EQ(*must(q.try_pop()), i);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(SegQueue, MoveOnlyElements) {
  seg_queue<std::unique_ptr<int>> q;
  for (int i = 0; i < 100; ++i) q.push(std::make_unique<int>(i));
  std::unique_ptr<int> out;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(*out, i);
  }
  for (int i = 50; i < 100; ++i) {
    EXPECT_EQ(*must(q.try_pop()), i);
  }
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(SegQueue, ThrowingConstructorDoesNotClaimAPosition) {
  seg_queue<may_throw> q;
  q.emplace(false);
  EXPECT_THROW(q.emplace(true), std::runtime_error);
  EXPECT_EQ(q.size_approx(), 1U);
  q.emplace(false);
  ASSERT_TRUE(q.try_pop().has_value());
  ASSERT_TRUE(q.try_pop().has_value());
  EXPECT_FALSE(q.try_pop().has_value()) << "a failed emplace left a position behind";
}

TEST(SegQueue, DestructorDestroysTheElementsLeft) {
  for (std::uint64_t popped : {0U, 5U, 31U, 40U, 99U, 100U}) {
    counted::live = 0;
    {
      seg_queue<counted> q;
      for (std::uint64_t i = 0; i < 100; ++i) q.emplace(i);
      for (std::uint64_t i = 0; i < popped; ++i) {
        EXPECT_EQ(must(q.try_pop()).value, i);
      }
      EXPECT_EQ(counted::live.load(), static_cast<std::int64_t>(100 - popped));
    }
    EXPECT_EQ(counted::live.load(), 0) << "after popping " << popped;
  }
  {
    seg_queue<counted> never_used;
  }
  EXPECT_EQ(counted::live.load(), 0);
}

// ---- concurrent stress -------------------------------------------------------------------

/// Releases the threads of a stress run together (started one by one, the first could be done
/// before the last one runs).
class start_gate {
 public:
  void wait() const {
    while (!open_.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  void open() { open_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> open_{false};
};

struct item {
  std::uint32_t producer;
  std::uint32_t seq;
};

// `producers` threads push `per_producer` items (producer id, seq) each; `consumers` threads
// pop until all are consumed. Checks: each item popped exactly once, and per consumer, seq
// strictly increases per producer (FIFO per producer).
void stress(std::uint32_t producers, std::uint32_t consumers, std::uint32_t per_producer) {
  seg_queue<item> q;
  const std::size_t total = std::size_t{producers} * per_producer;
  std::vector<std::atomic<std::uint8_t>> seen(total);
  std::atomic<std::size_t> consumed{0};
  std::atomic<std::uint64_t> order_errors{0};
  start_gate gate;
  std::vector<std::thread> threads;
  threads.reserve(std::size_t{producers} + consumers);
  for (std::uint32_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      gate.wait();
      std::vector<std::int64_t> last(producers, -1);
      item it{};
      while (consumed.load(std::memory_order_relaxed) < total) {
        if (!q.try_pop(it)) {
          std::this_thread::yield();
          continue;
        }
        if (static_cast<std::int64_t>(it.seq) <= last[it.producer]) order_errors.fetch_add(1);
        last[it.producer] = it.seq;
        seen[std::size_t{it.producer} * per_producer + it.seq].fetch_add(1);
        consumed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      gate.wait();
      for (std::uint32_t s = 0; s < per_producer; ++s) q.push(item{p, s});
    });
  }
  gate.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(order_errors.load(), 0U) << "an item overtook an earlier one of its producer";
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1 ? 1U : 0U;
  EXPECT_EQ(wrong, 0U) << "items not popped exactly once";
  EXPECT_TRUE(q.empty());
  item it{};
  EXPECT_FALSE(q.try_pop(it));
}

TEST(SegQueueStress, FourProducersFourConsumers) { stress(4, 4, 5'000 * stress_scale); }

TEST(SegQueueStress, UnevenThreadCounts) {
  stress(6, 2, 2'000 * stress_scale);
  stress(2, 6, 6'000 * stress_scale);
  stress(1, 7, 8'000 * stress_scale);
  stress(7, 1, 1'000 * stress_scale);
}

// Producers push one item at a time and wait until it is gone, while 6 consumers hammer the
// nearly empty queue: pops race for single items, most find the queue empty, and the head
// crosses each block boundary with consumers waiting on it.
TEST(SegQueueStress, ConsumersRaceOnANearlyEmptyQueue) {
  seg_queue<std::uint32_t> q;
  constexpr std::uint32_t producers = 2;
  const std::uint32_t per_producer = 1'000 * stress_scale;
  std::vector<std::atomic<std::uint8_t>> seen(std::size_t{producers} * per_producer);
  std::atomic<std::uint32_t> consumed{0};
  std::vector<std::thread> threads;
  threads.reserve(6 + producers);
  for (int c = 0; c < 6; ++c) {
    threads.emplace_back([&] {
      while (consumed.load(std::memory_order_acquire) < producers * per_producer) {
        if (std::optional<std::uint32_t> v = q.try_pop()) {
          seen[*v].fetch_add(1);
          consumed.fetch_add(1, std::memory_order_acq_rel);
        } else {
          std::this_thread::yield();  // let the producers run on an oversubscribed machine
        }
      }
    });
  }
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint32_t s = 0; s < per_producer; ++s) {
        const std::uint32_t before = consumed.load(std::memory_order_acquire);
        q.push(p * per_producer + s);
        // Wait until some item was consumed after this push (ours or the other producer's).
        while (consumed.load(std::memory_order_acquire) == before) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1 ? 1U : 0U;
  EXPECT_EQ(wrong, 0U);
  EXPECT_TRUE(q.empty());
}

// A pop that happens after a push must not report empty: A pushes i and raises a flag
// (release); B acquires the flag and try_pop must succeed at once, with i. Exercises the head
// and tail loads' orderings at every offset of many blocks.
TEST(SegQueueStress, PopAfterPushIsNeverEmpty) {
  seg_queue<std::uint64_t> q;
  const std::uint64_t spurious_empty = ferrite_test::pop_after_push_misses(
      q, std::uint64_t{4'000} * stress_scale,
      [](auto& queue, std::uint64_t& out) { return queue.try_pop(out); });
  EXPECT_EQ(spurious_empty, 0U);
  EXPECT_TRUE(q.empty());
}

// Counted elements under contention: consumers stop after half the items, so the queue is
// destroyed holding the rest across several blocks; nothing leaks, nothing is destroyed twice.
TEST(SegQueueStress, ElementsLeftAfterConcurrentUseAreDestroyed) {
  counted::live = 0;
  {
    seg_queue<counted> q;
    const std::uint64_t per_producer = std::uint64_t{2'000} * stress_scale;
    std::atomic<std::uint64_t> consumed{0};
    const std::uint64_t quota = 2 * per_producer;  // half of 4 producers' items
    start_gate gate;
    std::vector<std::thread> threads;
    threads.reserve(7);
    for (int c = 0; c < 3; ++c) {
      threads.emplace_back([&] {
        gate.wait();
        counted out{0};
        while (consumed.load(std::memory_order_relaxed) < quota) {
          if (consumed.fetch_add(1, std::memory_order_relaxed) >= quota) break;
          while (!q.try_pop(out)) std::this_thread::yield();
        }
      });
    }
    for (int p = 0; p < 4; ++p) {
      threads.emplace_back([&] {
        gate.wait();
        for (std::uint64_t s = 0; s < per_producer; ++s) q.emplace(s);
      });
    }
    gate.open();
    for (auto& t : threads) t.join();
    EXPECT_EQ(q.size_approx(), 4 * per_producer - quota);
    EXPECT_EQ(counted::live.load(), static_cast<std::int64_t>(4 * per_producer - quota));
  }
  EXPECT_EQ(counted::live.load(), 0);
}

}  // namespace
