// SPDX-License-Identifier: Apache-2.0
// Tests of mpsc_queue<T> (a list of blocks of slots) and intrusive_mpsc_queue<Node, &Node::next>:
// FIFO and the empty state on one thread across block boundaries for block sizes 1, 2, 3 and 32;
// every pop form (try_pop into a T& and as std::optional, try_pop_state, try_pop_settled in
// both forms, the deprecated pop) and the always-true try_push/try_emplace; move-only elements;
// throwing constructors at every offset of a block (the slot is skipped, the queue is
// unchanged, nothing leaks) and a throwing move (the element stays); destruction of the
// elements left and of every block; block recycling (steady traffic stops allocating); then
// stress runs with 4 and 8 producers (oversubscribed on small machines) where every item
// arrives exactly once and in order per producer, through try_pop_state and through
// try_pop_settled, with tiny blocks (install races, the `prev` walk), counted elements and
// throwing constructors; and intrusive runs.
#include "ferrite/sync/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "queue_test_support.hpp"

namespace {

using ferrite::sync::intrusive_mpsc_queue;
using ferrite::sync::mpsc_pop_result;
using ferrite::sync::mpsc_queue;

using ferrite_test::counted;
using ferrite_test::throwing_move;

#if FERRITE_TSAN
constexpr std::uint32_t stress_scale = 4;  // TSan runs much slower: keep each test short
#else
constexpr std::uint32_t stress_scale = 16;
#endif

// std::allocator that counts live allocations and allocation calls (shared by rebound copies).
struct alloc_counters {
  std::atomic<std::int64_t> live{0};
  std::atomic<std::int64_t> calls{0};
};

template <class T>
struct counting_allocator {
  using value_type = T;
  alloc_counters* counters;

  explicit counting_allocator(alloc_counters* c) noexcept : counters(c) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : counters(o.counters) {}  // NOLINT

  T* allocate(std::size_t n) {
    counters->live.fetch_add(static_cast<std::int64_t>(n));
    counters->calls.fetch_add(1);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    counters->live.fetch_sub(static_cast<std::int64_t>(n));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const counting_allocator<U>& o) const noexcept {
    return counters == o.counters;
  }
};

template <class T, std::size_t B>
using counted_blocks_queue = mpsc_queue<T, counting_allocator<T>, B>;

// A counted value whose constructor throws when asked to.
struct throwing_value : counted {
  throwing_value(std::uint64_t v, bool fail)
      : counted(fail ? throw std::runtime_error("ctor") : v) {}
};

// ---- one thread --------------------------------------------------------------------------

template <class B>
class MpscQueueBlocks : public ::testing::Test {};
using block_sizes =
    ::testing::Types<std::integral_constant<std::size_t, 1>, std::integral_constant<std::size_t, 2>,
                     std::integral_constant<std::size_t, 3>,
                     std::integral_constant<std::size_t, 32>>;
TYPED_TEST_SUITE(MpscQueueBlocks, block_sizes);

// Bursts of every length from 1 to 70, draining part of each, so that the consumer and the
// producer cross block boundaries at every offset; blocks are recycled through the spare.
TYPED_TEST(MpscQueueBlocks, FifoAcrossBlockBoundaries) {
  alloc_counters blocks;
  {
    counted_blocks_queue<std::uint64_t, TypeParam::value> q{
        counting_allocator<std::uint64_t>(&blocks)};
    EXPECT_TRUE(q.empty());
    std::uint64_t out = 0;
    EXPECT_EQ(q.try_pop_state(out), mpsc_pop_result::empty);
    std::uint64_t next_push = 0;
    std::uint64_t next_pop = 0;
    for (std::uint64_t burst = 1; burst <= 70; ++burst) {
      for (std::uint64_t i = 0; i < burst; ++i) q.push(next_push++);
      EXPECT_FALSE(q.empty());
      for (std::uint64_t i = 0; i < burst / 2 + 1 && next_pop < next_push; ++i) {
        ASSERT_EQ(q.try_pop_state(out), mpsc_pop_result::item);
        EXPECT_EQ(out, next_pop++);
      }
    }
    while (q.try_pop(out)) EXPECT_EQ(out, next_pop++);
    EXPECT_EQ(next_pop, next_push);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.try_pop_state(out), mpsc_pop_result::empty);
    EXPECT_FALSE(q.try_pop_settled(out));
    // Nothing queued: the consumer's block, at most one prepared block and the spare.
    EXPECT_LE(blocks.live.load(), 3);
  }
  EXPECT_EQ(blocks.live.load(), 0);
}

TEST(MpscQueue, FifoAndEmpty) {
  mpsc_queue<int> q;
  int out = -1;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.try_pop_state(out), mpsc_pop_result::empty);
  EXPECT_FALSE(q.try_pop_settled(out));
  for (int i = 0; i < 100; ++i) q.push(i);
  EXPECT_FALSE(q.empty());
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(q.try_pop_state(out), mpsc_pop_result::item);
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_TRUE(q.empty());
  q.emplace(5);
  ASSERT_TRUE(q.try_pop_settled(out));
  EXPECT_EQ(out, 5);
  static_assert(mpsc_queue<int>::block_size == 128, "about 2 KiB of 16-byte slots");
  static_assert(mpsc_queue<std::uint64_t>::block_size == 128);
  static_assert(mpsc_queue<char[200]>::block_size == 32, "at least 32 slots");
}

// Every pop form takes the front in turn, across a block boundary (blocks of 2); the
// std::optional forms report empty as std::nullopt.
TEST(MpscQueue, EveryPopFormTakesTheFront) {
  mpsc_queue<int, std::allocator<int>, 2> q;
  int out = -1;
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_EQ(q.try_pop_settled(), std::nullopt);
  for (int i = 1; i <= 6; ++i) q.push(i);
  EXPECT_EQ(q.try_pop(), 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 2);
  EXPECT_EQ(q.try_pop_settled(), 3);
  ASSERT_TRUE(q.try_pop_settled(out));
  EXPECT_EQ(out, 4);
  ASSERT_EQ(q.try_pop_state(out), mpsc_pop_result::item);
  EXPECT_EQ(out, 5);
  EXPECT_EQ(q.try_pop(), 6);
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_EQ(q.try_pop_settled(), std::nullopt);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 5) << "a failed pop must leave `out` alone";
  EXPECT_TRUE(q.empty());
}

// try_push and try_emplace have a bounded queue's shape; an unbounded one always succeeds.
TEST(MpscQueue, TryPushAlwaysSucceeds) {
  mpsc_queue<std::unique_ptr<int>, std::allocator<std::unique_ptr<int>>, 2> q;
  auto a = std::make_unique<int>(1);
  EXPECT_TRUE(q.try_push(std::move(a)));
  EXPECT_EQ(a, nullptr);
  EXPECT_TRUE(q.try_emplace(new int(2)));
  for (int i = 3; i <= 10; ++i) EXPECT_TRUE(q.try_push(std::make_unique<int>(i)));
  mpsc_queue<int> copies;
  const int v = 7;
  EXPECT_TRUE(copies.try_push(v));
  EXPECT_EQ(copies.try_pop(), 7);
  for (int i = 1; i <= 10; ++i) {
    std::optional<std::unique_ptr<int>> p = q.try_pop();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(**p, i);
  }
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

// pop(T&) is try_pop_settled(T&)'s old name, kept (deprecated) so that existing code compiles.
TEST(MpscQueue, DeprecatedPopStillWaitsOutPushes) {
  mpsc_queue<int> q;
  int out = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EXPECT_FALSE(q.pop(out));
  q.push(3);
  ASSERT_TRUE(q.pop(out));
#pragma GCC diagnostic pop
  EXPECT_EQ(out, 3);
}

TEST(MpscQueue, ThrowingMoveLeavesTheElementAtTheFront) {
  mpsc_queue<throwing_move> q;
  q.emplace(1);
  q.emplace(2);
  throwing_move out(0);
  throwing_move::fail = true;
  EXPECT_THROW((void)q.try_pop(), std::runtime_error);
  EXPECT_THROW((void)q.try_pop(out), std::runtime_error);
  EXPECT_THROW((void)q.try_pop_settled(), std::runtime_error);
  EXPECT_THROW((void)q.try_pop_state(out), std::runtime_error);
  throwing_move::fail = false;
  std::optional<throwing_move> first = q.try_pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->value, 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out.value, 2);
  EXPECT_TRUE(q.empty());
}

TEST(MpscQueue, MoveOnlyElements) {
  mpsc_queue<std::unique_ptr<int>> q;
  q.push(std::make_unique<int>(1));
  q.emplace(new int(2));
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 2);
  EXPECT_FALSE(q.try_pop(out));
  q.push(std::make_unique<int>(3));  // left in the queue: the destructor frees it (ASan)
}

// Blocks of 4; every third emplace throws, so throws land on the preparer's slot 0, the
// installer's last slot and the slots between. The failed ones never come out, the others come
// out in order, and every element and block is freed.
TEST(MpscQueue, ThrowingConstructorSkipsTheSlotAtEveryOffset) {
  alloc_counters blocks;
  counted::live = 0;
  {
    counted_blocks_queue<throwing_value, 4> q{counting_allocator<throwing_value>(&blocks)};
    std::uint64_t thrown = 0;
    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 0; i < 40; ++i) {
      const bool fail = i % 3 == 1;
      try {
        q.emplace(i, fail);
        expected.push_back(i);
      } catch (const std::runtime_error&) {
        ++thrown;
      }
      EXPECT_FALSE(q.empty());  // claimed slots (skipped or not) are not popped yet
    }
    EXPECT_EQ(thrown, 13U);
    EXPECT_EQ(counted::live.load(), static_cast<std::int64_t>(expected.size()));
    throwing_value out(0, false);
    for (std::uint64_t v : expected) {
      ASSERT_EQ(q.try_pop_state(out), mpsc_pop_result::item);
      EXPECT_EQ(out.value, v);
    }
    EXPECT_EQ(q.try_pop_state(out), mpsc_pop_result::empty);
    EXPECT_TRUE(q.empty());
    // A throw leaves the queue usable, also when the last push threw.
    EXPECT_THROW(q.emplace(100, true), std::runtime_error);
    EXPECT_FALSE(q.try_pop(out));
    q.emplace(101, false);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value, 101U);
  }
  EXPECT_EQ(counted::live.load(), 0);
  EXPECT_EQ(blocks.live.load(), 0);
}

TEST(MpscQueue, DestructorDestroysTheElementsLeftAndFreesEveryBlock) {
  alloc_counters blocks;
  counted::live = 0;
  {
    counted_blocks_queue<counted, 32> q{counting_allocator<counted>(&blocks)};
    for (std::uint64_t i = 0; i < 100; ++i) q.emplace(i);
    EXPECT_EQ(blocks.live.load(), 5);  // 4 blocks hold 100 elements, and one is prepared
    counted out(0);
    for (std::uint64_t i = 0; i < 40; ++i) {
      ASSERT_TRUE(q.try_pop(out));
      EXPECT_EQ(out.value, i);
    }
    EXPECT_EQ(counted::live.load(), 61);  // 60 queued + out
  }
  EXPECT_EQ(counted::live.load(), 0);
  EXPECT_EQ(blocks.live.load(), 0);
}

// Recycling off (the default): steady one-in-one-out traffic reuses the one spare block and
// allocates nothing; bursts larger than a block allocate, but an idle queue keeps at most 3.
TEST(MpscQueue, RecyclingOffKeepsOneSpare) {
  alloc_counters blocks;
  counted_blocks_queue<std::uint64_t, 32> q{counting_allocator<std::uint64_t>(&blocks)};
  std::uint64_t out = 0;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    q.push(i);
    ASSERT_TRUE(q.try_pop(out));
    ASSERT_EQ(out, i);
  }
  EXPECT_LE(blocks.calls.load(), 3) << "steady traffic should cycle through the spare";
  for (std::uint64_t round = 0; round < 100; ++round) {
    for (std::uint64_t i = 0; i < 1000; ++i) q.push(i);
    for (std::uint64_t i = 0; i < 1000; ++i) {
      ASSERT_TRUE(q.try_pop(out));
      ASSERT_EQ(out, i);
    }
    ASSERT_LE(blocks.live.load(), 3) << "idle: the consumer's block, one linked ahead, a spare";
  }
}

// Recycling on: every used block is kept, so after the first burst of each size nothing is
// allocated again.
TEST(MpscQueue, RecyclingOnKeepsEveryBlock) {
  alloc_counters blocks;
  counted_blocks_queue<std::uint64_t, 32> q{ferrite::sync::mpsc_recycling::on,
                                            counting_allocator<std::uint64_t>(&blocks)};
  std::uint64_t out = 0;
  auto burst = [&](std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) q.push(i);
    for (std::uint64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(q.try_pop(out));
      ASSERT_EQ(out, i);
    }
  };
  burst(1000);  // 32 blocks of 32
  const std::int64_t warm = blocks.calls.load();
  EXPECT_GE(warm, 32);
  for (int round = 0; round < 100; ++round) burst(round % 2 == 0 ? 1000 : 40);
  EXPECT_EQ(blocks.calls.load(), warm) << "a warm recycling queue should not allocate";
  EXPECT_EQ(blocks.live.load(), warm) << "and it keeps every block";
}

// ---- threads -----------------------------------------------------------------------------

struct item {
  std::uint32_t producer;
  std::uint32_t seq;
};

// Checks per-producer FIFO and exactly-once delivery on the consumer side.
struct order_check {
  explicit order_check(std::uint32_t producers) : next(producers, 0) {}
  void take(const item& it) {
    if (it.producer >= next.size() || it.seq != next[it.producer]) {
      ++errors;
    } else {
      ++next[it.producer];
    }
  }
  std::vector<std::uint32_t> next;
  std::uint64_t errors = 0;
};

// `producers` threads push (producer, seq) after a common start; the consumer checks
// exactly-once and per-producer order.
template <std::size_t B>
void mpsc_stress(std::uint32_t producers, bool use_settled, std::uint32_t per_producer) {
  mpsc_queue<item, std::allocator<item>, B> q;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&q, &go, p, per_producer] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uint32_t s = 0; s < per_producer; ++s) q.push(item{p, s});
    });
  }
  go.store(true, std::memory_order_release);
  order_check check(producers);
  std::uint64_t inconsistent = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * per_producer;) {
    item it{};
    bool ok = false;
    if (use_settled) {
      ok = q.try_pop_settled(it);
    } else {
      const mpsc_pop_result r = q.try_pop_state(it);
      ok = r == mpsc_pop_result::item;
      inconsistent += r == mpsc_pop_result::inconsistent ? 1U : 0U;
    }
    if (!ok) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    check.take(it);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(check.errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(check.next[p], per_producer);
  EXPECT_TRUE(q.empty());
  item extra{};
  EXPECT_FALSE(q.try_pop(extra)) << "an item nobody pushed";
  ::testing::Test::RecordProperty("inconsistent_observed", static_cast<int>(inconsistent));
}

TEST(MpscQueueStress, FourProducersTryPop) {
  mpsc_stress<mpsc_queue<item>::block_size>(4, false, 4'000 * stress_scale);  // the default blocks
}
TEST(MpscQueueStress, FourProducersTryPopBlocksOf32) {
  mpsc_stress<32>(4, false, 4'000 * stress_scale);
}
TEST(MpscQueueStress, EightProducersTryPopSettled) {
  mpsc_stress<32>(8, true, 2'000 * stress_scale);
}
// Tiny blocks: a boundary every other push, so overshoots, late preparers, installs racing
// preparations and producers walking back along `prev` after a preemption all happen often.
TEST(MpscQueueStress, FourProducersBlocksOfTwo) { mpsc_stress<2>(4, false, 2'000 * stress_scale); }
TEST(MpscQueueStress, EightProducersBlocksOfOne) { mpsc_stress<1>(8, true, 1'000 * stress_scale); }
TEST(MpscQueueStress, EightProducersBlocksOfThree) {
  mpsc_stress<3>(8, false, 1'000 * stress_scale);
}

// Counted elements, some of whose constructors throw, from 4 producers into blocks of 4: the
// consumer sees exactly the ones that did not throw, in order per producer, and every
// constructed element is destroyed once (live count back to 0).
TEST(MpscQueueStress, ThrowingConstructorsUnderContention) {
  constexpr std::uint32_t producers = 4;
  const std::uint32_t per_producer = 2'000 * stress_scale;
  auto fails = [](std::uint32_t p, std::uint32_t s) { return (s + p) % 5 == 0; };
  counted::live = 0;
  std::atomic<std::uint64_t> thrown{0};
  {
    mpsc_queue<throwing_value, std::allocator<throwing_value>, 4> q;
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (std::uint32_t s = 0; s < per_producer; ++s) {
          try {
            q.emplace(std::uint64_t{p} << 32 | s, fails(p, s));
          } catch (const std::runtime_error&) {
            thrown.fetch_add(1);
          }
        }
      });
    }
    go.store(true, std::memory_order_release);
    std::vector<std::uint32_t> next(producers, 0);
    auto skip_failed = [&](std::uint32_t p) {
      while (next[p] < per_producer && fails(p, next[p])) ++next[p];
    };
    for (std::uint32_t p = 0; p < producers; ++p) skip_failed(p);
    std::uint64_t errors = 0;
    std::uint64_t expected_items = 0;
    for (std::uint32_t p = 0; p < producers; ++p) {
      for (std::uint32_t s = 0; s < per_producer; ++s) expected_items += fails(p, s) ? 0U : 1U;
    }
    throwing_value out(0, false);
    for (std::uint64_t got = 0; got < expected_items;) {
      if (!q.try_pop_settled(out)) {
        std::this_thread::yield();
        continue;
      }
      ++got;
      const auto p = static_cast<std::uint32_t>(out.value >> 32);
      const auto s = static_cast<std::uint32_t>(out.value);
      if (p >= producers || s != next[p]) {
        ++errors;
        continue;
      }
      ++next[p];
      skip_failed(p);
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors, 0U);
    for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
    EXPECT_FALSE(q.try_pop(out)) << "a skipped slot came out";
    EXPECT_EQ(thrown.load(), std::uint64_t{producers} * per_producer - expected_items);
    EXPECT_EQ(counted::live.load(), 1);  // `out`
  }
  EXPECT_EQ(counted::live.load(), 0);
}

// Leftovers under concurrency: the consumer stops before the producers finish, so the queue
// is destroyed holding elements across many blocks (and maybe a prepared one).
TEST(MpscQueueStress, DestructionWithItemsLeftAfterConcurrentUse) {
  alloc_counters blocks;
  counted::live = 0;
  {
    counted_blocks_queue<counted, 8> q{counting_allocator<counted>(&blocks)};
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&q] {
        for (std::uint64_t i = 0; i < 5'000; ++i) q.emplace(i);
      });
    }
    counted out(0);
    for (int popped = 0; popped < 10'000;) popped += q.try_pop_settled(out) ? 1 : 0;
    for (auto& t : producers) t.join();
    EXPECT_EQ(counted::live.load(), 10'001);
  }
  EXPECT_EQ(counted::live.load(), 0);
  EXPECT_EQ(blocks.live.load(), 0);
}

// A push that happens before a pop is seen by it: try_pop never reports empty (or
// inconsistent) for an element whose push completed before the consumer looked, across many
// block boundaries (blocks of 2).
TEST(MpscQueueStress, PopAfterPushIsNeverEmpty) {
  mpsc_queue<std::uint64_t, std::allocator<std::uint64_t>, 2> q;
  const std::uint64_t misses = ferrite_test::pop_after_push_misses(
      q, std::uint64_t{1'000} * stress_scale, [](auto& queue, std::uint64_t& out) {
        return queue.try_pop_state(out) == mpsc_pop_result::item;
      });
  EXPECT_EQ(misses, 0U);
  EXPECT_TRUE(q.empty());
}

// ---- intrusive ---------------------------------------------------------------------------

// Not default-constructible, like an executor's task: the queue needs no stub Node.
struct task {
  task(std::uint32_t p, std::uint32_t s) : producer(p), seq(s) {}
  ferrite::atomic<task*> next{nullptr};
  std::uint32_t producer;
  std::uint32_t seq;
};
using task_queue = intrusive_mpsc_queue<task, &task::next>;

TEST(IntrusiveMpscQueue, FifoEmptyAndReuse) {
  task_queue q;
  mpsc_pop_result state{};
  EXPECT_EQ(q.try_pop_state(state), nullptr);
  EXPECT_EQ(state, mpsc_pop_result::empty);
  task a(0, 0);
  task b(0, 1);
  task c(0, 2);
  q.push(&a);
  EXPECT_EQ(q.try_pop(), &a);  // the single-node path (detach with the CAS)
  EXPECT_TRUE(q.empty());
  q.push(&a);
  q.push(&b);
  q.push(&c);
  EXPECT_EQ(q.try_pop_settled(), &a);
  q.push(&a);  // re-push a popped node at once
  EXPECT_EQ(q.try_pop_settled(), &b);
  EXPECT_EQ(q.try_pop(), &c);
  EXPECT_EQ(q.try_pop_settled(), &a);
  EXPECT_EQ(q.try_pop_settled(), nullptr);
  EXPECT_EQ(q.try_pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

// pop() is try_pop_settled()'s old name, kept (deprecated) so that existing code compiles.
TEST(IntrusiveMpscQueue, DeprecatedPopStillWaitsOutPushes) {
  task_queue q;
  task a(0, 0);
  q.push(&a);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EXPECT_EQ(q.pop(), &a);
  EXPECT_EQ(q.pop(), nullptr);
#pragma GCC diagnostic pop
}

// 4 producers push their own nodes; the consumer checks order and re-pushes nothing.
TEST(IntrusiveMpscQueueStress, FourProducers) {
  constexpr std::uint32_t producers = 4;
  constexpr std::uint32_t per_producer = 50'000;
  std::vector<std::deque<task>> nodes(producers);  // deque: task is not movable
  for (std::uint32_t p = 0; p < producers; ++p) {
    for (std::uint32_t s = 0; s < per_producer; ++s) nodes[p].emplace_back(p, s);
  }
  task_queue q;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (task& t : nodes[p]) q.push(&t);
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * per_producer;) {
    task* t = q.try_pop_settled();
    if (t == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    if (t->seq != next[t->producer]) ++errors;
    next[t->producer] = t->seq + 1;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
  EXPECT_TRUE(q.empty());
}

// Nodes circulate: producers take nodes back from a per-producer return queue (the consumer
// pushes each popped node to its producer's return queue), so every node is pushed many
// times and the queue often drains to one node (the CAS detach path).
TEST(IntrusiveMpscQueueStress, NodesCirculate) {
  constexpr std::uint32_t producers = 4;
  constexpr std::uint32_t nodes_each = 4;
  constexpr std::uint32_t rounds = 10'000;
  std::vector<std::deque<task>> nodes(producers);  // deque: task is not movable
  std::vector<std::unique_ptr<task_queue>> returns;
  for (std::uint32_t p = 0; p < producers; ++p) {
    returns.push_back(std::make_unique<task_queue>());
    for (std::uint32_t i = 0; i < nodes_each; ++i) {
      nodes[p].emplace_back(p, 0);
      returns[p]->push(&nodes[p].back());
    }
  }
  task_queue q;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      // Each producer is the only consumer of its return queue.
      for (std::uint32_t r = 0; r < rounds; ++r) {
        task* t = nullptr;
        while ((t = returns[p]->try_pop_settled()) == nullptr) std::this_thread::yield();
        t->seq = r;
        q.push(t);
      }
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * rounds;) {
    task* t = q.try_pop_settled();
    if (t == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    if (t->seq != next[t->producer]) ++errors;
    next[t->producer] = t->seq + 1;
    returns[t->producer]->push(t);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) {
    while (returns[p]->try_pop_settled() != nullptr) {
    }
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
