// SPDX-License-Identifier: Apache-2.0
// Tests of mpmc_queue<T>, in both slot layouts: capacity rounding (0, 1, 2, non-powers of
// two), FIFO and full/empty edges on one thread across many laps, move-only elements, a
// throwing constructor that must not claim a position, destruction of the elements left; then
// oversubscribed stress runs (4-8 threads on any number of cores) with try_ and blocking
// operations, mixed, at capacities 1, 2 and 64: every item delivered exactly once (a
// per-item counter) and in order per producer as seen by each consumer; and runs where every
// consumer (or producer) is asleep in atomic::wait, as sleepers_approx() shows, before the
// other side starts.
#include "ferrite/sync/mpmc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

using ferrite::sync::mpmc_layout;
using ferrite::sync::mpmc_options;
using ferrite::sync::mpmc_queue;

using ferrite_test::counted;
using ferrite_test::may_throw;

template <class L>
class MpmcQueue : public ::testing::Test {};
struct compact {
  static constexpr mpmc_options value{};
};
struct padded {
  static constexpr mpmc_options value{.layout = mpmc_layout::padded};
};
using layouts = ::testing::Types<compact, padded>;
TYPED_TEST_SUITE(MpmcQueue, layouts);

template <class T, class L>
using queue = mpmc_queue<T, L::value>;

TYPED_TEST(MpmcQueue, CapacityRoundsUpToAPowerOfTwo) {
  EXPECT_EQ((queue<int, TypeParam>(0).capacity()), 1U);
  EXPECT_EQ((queue<int, TypeParam>(1).capacity()), 1U);
  EXPECT_EQ((queue<int, TypeParam>(2).capacity()), 2U);
  EXPECT_EQ((queue<int, TypeParam>(3).capacity()), 4U);
  EXPECT_EQ((queue<int, TypeParam>(100).capacity()), 128U);
  EXPECT_THROW((queue<int, TypeParam>(~std::size_t{0})), std::length_error);
}

TYPED_TEST(MpmcQueue, FifoFullEmptyAcrossManyLaps) {
  for (std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
    queue<std::uint64_t, TypeParam> q(cap);
    const std::size_t real = q.capacity();
    std::uint64_t next_push = 0;
    std::uint64_t next_pop = 0;
    for (int lap = 0; lap < 500; ++lap) {
      while (q.try_push(next_push)) ++next_push;
      EXPECT_EQ(q.size_approx(), real);
      std::uint64_t out = 0;
      while (q.try_pop(out)) EXPECT_EQ(out, next_pop++);
      EXPECT_TRUE(q.empty());
    }
    EXPECT_EQ(next_push, 500U * real);
    EXPECT_EQ(next_pop, next_push);
  }
}

TYPED_TEST(MpmcQueue, BlockingPushPopOnOneThread) {
  queue<int, TypeParam> q(2);
  q.push(1);
  q.push(2);
  EXPECT_FALSE(q.try_push(3));
  EXPECT_EQ(q.pop(), 1);
  q.emplace(3);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
  int out = 0;
  EXPECT_FALSE(q.try_pop(out));
}

TYPED_TEST(MpmcQueue, BothTryPopFormsTakeTheFront) {
  queue<int, TypeParam> q(4);
  ferrite_test::expect_both_try_pop_forms_take_the_front(q);
  // Across laps: the optional form hands the slot on to the producer a lap later too.
  for (int lap = 0; lap < 10; ++lap) {
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_push(lap * 4 + i));
    EXPECT_FALSE(q.try_push(-1));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(q.try_pop(), lap * 4 + i);
  }
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(MpmcQueue, MoveOnlyElements) {
  queue<std::unique_ptr<int>, TypeParam> q(1);
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  EXPECT_TRUE(q.try_push(std::move(a)));
  EXPECT_EQ(a, nullptr);
  EXPECT_FALSE(q.try_push(std::move(b)));
  ASSERT_NE(b, nullptr) << "a failed push must not move from its argument";
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 1);
  q.push(std::move(b));
  EXPECT_EQ(*q.pop(), 2);
  EXPECT_TRUE(q.try_push(std::make_unique<int>(3)));
  std::optional<std::unique_ptr<int>> taken = q.try_pop();
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(**taken, 3);
}

TYPED_TEST(MpmcQueue, ThrowingConstructorDoesNotClaimAPosition) {
  queue<may_throw, TypeParam> q(2);
  ASSERT_TRUE(q.try_emplace(false));
  EXPECT_THROW((void)q.try_emplace(true), std::runtime_error);
  EXPECT_THROW(q.emplace(true), std::runtime_error);
  EXPECT_EQ(q.size_approx(), 1U);
  q.emplace(false);
  EXPECT_EQ(q.pop().word, 7);
  EXPECT_EQ(q.pop().word, 7);
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(MpmcQueue, DestructorDestroysTheElementsLeft) {
  counted::live = 0;
  {
    queue<counted, TypeParam> q(4);
    for (std::uint64_t i = 0; i < 7; ++i) {  // wrap once
      q.emplace(i);
      if (i % 2 == 0) (void)q.pop();
    }
    EXPECT_EQ(counted::live.load(), 3);
  }
  EXPECT_EQ(counted::live.load(), 0);
}

// ---- concurrent stress -------------------------------------------------------------------

enum class mode { try_ops, blocking, try_push_blocking_pop, blocking_push_try_pop };

struct item {
  std::uint32_t producer;
  std::uint32_t seq;
};

// `producers` threads each push `per_producer` items (producer id, seq); `consumers` threads
// pop exactly producers * per_producer / consumers items each. Checks: each item popped
// exactly once (a counter per item), and per consumer, seq strictly increases per producer.
template <mpmc_options L>
void stress(std::size_t capacity, std::uint32_t producers, std::uint32_t consumers,
            std::uint32_t per_producer, mode m) {
  ASSERT_EQ((producers * per_producer) % consumers, 0U);
  mpmc_queue<item, L> q(capacity);
  std::vector<std::atomic<std::uint8_t>> seen(std::size_t{producers} * per_producer);
  std::atomic<std::uint64_t> order_errors{0};
  const bool blocking_push = m == mode::blocking || m == mode::blocking_push_try_pop;
  const bool blocking_pop = m == mode::blocking || m == mode::try_push_blocking_pop;

  auto pop_one = [&] {
    if constexpr (L.blocking) {
      if (blocking_pop) return q.pop();
    }
    item it{};
    while (!q.try_pop(it)) std::this_thread::yield();
    return it;
  };
  auto push_one = [&](item it) {
    if constexpr (L.blocking) {
      if (blocking_push) return q.push(it);
    }
    while (!q.try_push(it)) std::this_thread::yield();
  };

  std::vector<std::thread> threads;
  for (std::uint32_t c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(producers, -1);
      const std::uint32_t quota = producers * per_producer / consumers;
      for (std::uint32_t k = 0; k < quota; ++k) {
        const item it = pop_one();
        if (static_cast<std::int64_t>(it.seq) <= last[it.producer]) order_errors.fetch_add(1);
        last[it.producer] = it.seq;
        seen[std::size_t{it.producer} * per_producer + it.seq].fetch_add(1);
      }
    });
  }
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint32_t s = 0; s < per_producer; ++s) {
        push_one(item{p, s});
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(order_errors.load(), 0U);
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1 ? 1U : 0U;
  EXPECT_EQ(wrong, 0U) << "items not popped exactly once";
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(MpmcQueue, StressTryOps4x4) {
  for (std::size_t cap : {1U, 2U, 64U}) {
    stress<TypeParam::value>(cap, 4, 4, 5'000, mode::try_ops);
  }
}

TYPED_TEST(MpmcQueue, StressBlocking4x4SmallCapacities) {
  for (std::size_t cap : {1U, 2U}) stress<TypeParam::value>(cap, 4, 4, 5'000, mode::blocking);
}

TYPED_TEST(MpmcQueue, StressBlockingUnevenThreadCounts) {
  stress<TypeParam::value>(2, 6, 2, 3'000, mode::blocking);
  stress<TypeParam::value>(2, 2, 6, 6'000, mode::blocking);
}

TYPED_TEST(MpmcQueue, StressMixedTryAndBlocking) {
  stress<TypeParam::value>(2, 4, 4, 4'000, mode::try_push_blocking_pop);
  stress<TypeParam::value>(2, 4, 4, 4'000, mode::blocking_push_try_pop);
}

template <class Q>
concept has_blocking_ops = requires(Q& q) {
  q.push(1);
  q.pop();
};

// The non-blocking flavour: try_ operations only (push/pop do not exist), same guarantees.
TEST(MpmcQueueNonBlocking, StressTryOps) {
  constexpr mpmc_options non_blocking{.blocking = false};
  static_assert(!has_blocking_ops<mpmc_queue<int, non_blocking>>);
  static_assert(has_blocking_ops<mpmc_queue<int>>);
  for (std::size_t cap : {1U, 2U, 64U}) stress<non_blocking>(cap, 4, 4, 5'000, mode::try_ops);
  mpmc_queue<std::unique_ptr<int>, non_blocking> q(2);
  EXPECT_TRUE(q.try_push(std::make_unique<int>(3)));
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 3);
}

// Spins (yielding) until `done()` or until a deadline long past any healthy run, so that a
// broken sleeper protocol fails the test instead of hanging it; false on the deadline.
template <class Done>
bool wait_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TYPED_TEST(MpmcQueue, SleepersApproxCountsWaitersAsleep) {
  queue<int, TypeParam> q(2);
  EXPECT_EQ(q.sleepers_approx(), 0U);
  std::thread consumer([&] { EXPECT_EQ(q.pop(), 5); });
  EXPECT_TRUE(wait_until([&] { return q.sleepers_approx() == 1; }));
  q.push(5);
  consumer.join();
  EXPECT_EQ(q.sleepers_approx(), 0U);
}

// Every consumer is asleep in atomic::wait (sleepers_approx() counts all of them) before the
// producer starts, so each element is handed to a sleeper; a lost wake-up hangs a consumer,
// and ctest's timeout reports it.
TYPED_TEST(MpmcQueue, SleepingConsumersAreWoken) {
  queue<std::uint64_t, TypeParam> q(1);
  constexpr int consumers = 6;
  constexpr std::uint64_t per_consumer = 200;
  std::atomic<std::uint64_t> sum{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      for (std::uint64_t k = 0; k < per_consumer; ++k) sum.fetch_add(q.pop());
    });
  }
  const bool all_asleep = wait_until([&] { return q.sleepers_approx() == consumers; });
  EXPECT_TRUE(all_asleep) << "the consumers never went to sleep";
  constexpr std::uint64_t n = consumers * per_consumer;
  std::thread producer([&] {
    for (std::uint64_t i = 1; i <= n; ++i) q.push(i);
  });
  producer.join();
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
  EXPECT_EQ(q.sleepers_approx(), 0U);
}

// The same with the roles reversed: producers block on a full queue and sleep (all six of
// them: two fill the ring, and their next pushes wait too) before the consumer starts.
TYPED_TEST(MpmcQueue, SleepingProducersAreWoken) {
  counted::live = 0;
  {
    queue<counted, TypeParam> q(2);
    constexpr int producers = 6;
    constexpr std::uint64_t per_producer = 200;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&] {
        for (std::uint64_t k = 0; k < per_producer; ++k) q.emplace(k);
      });
    }
    const bool all_asleep = wait_until([&] { return q.sleepers_approx() == producers; });
    EXPECT_TRUE(all_asleep) << "the producers never went to sleep";
    for (std::uint64_t k = 0; k < producers * per_producer - 2; ++k) (void)q.pop();
    for (auto& t : threads) t.join();
    EXPECT_EQ(q.size_approx(), 2U);
  }
  EXPECT_EQ(counted::live.load(), 0) << "the two elements left must be destroyed";
}

}  // namespace
