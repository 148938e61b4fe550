// SPDX-License-Identifier: Apache-2.0
// treiber_stack under both reclaimers (typed tests): LIFO order and emptiness on one thread,
// move-only elements, the destructor freeing what is left (counted), and a stress run where
// threads push tagged items and pop concurrently and every item must come out exactly once.
#include "ferrite/sync/treiber_stack.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferrite/core/atomic.hpp"

namespace {

using ferrite::atomic;
using ferrite::sync::epoch_reclaim;
using ferrite::sync::hazard_reclaim;
using ferrite::sync::treiber_stack;

#if FERRITE_TSAN
// TSan runs about 10x slower: keep each test well under 10 s.
constexpr int stress_scale = 12;
#else
constexpr int stress_scale = 40;
#endif

static_assert(ferrite::sync::reclaimer<hazard_reclaim>);
static_assert(ferrite::sync::reclaimer<epoch_reclaim>);
static_assert(!ferrite::sync::reclaimer<int>);

/// Counts live (not moved-from) instances.
struct counted {
  static inline atomic<int> live{0};
  explicit counted(int v) : value(v) { live.fetch_add(1, std::memory_order_relaxed); }
  // A move transfers liveness: the source stops counting, so the total is unchanged.
  counted(counted&& o) noexcept : value(std::exchange(o.value, -1)) {}
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  ~counted() {
    if (value != -1) live.fetch_sub(1, std::memory_order_relaxed);
  }
  int value;
};

template <class Reclaim>
class TreiberStack : public ::testing::Test {
 protected:
  /// Makes popped nodes' reclamation visible to counts (runs the reclaimer's pending work).
  static void drain_reclaimer() {
    if constexpr (std::is_same_v<Reclaim, hazard_reclaim>) {
      ferrite::sync::hazard_pointer_default_domain().cleanup();
    } else {
      for (int i = 0; i < 8; ++i) ferrite::sync::epoch::pin().flush();
    }
  }
};
using reclaimers = ::testing::Types<hazard_reclaim, epoch_reclaim>;
class reclaim_names {
 public:
  template <class T>
  static std::string GetName(int /*index*/) {
    return std::is_same_v<T, hazard_reclaim> ? "hazard" : "epoch";
  }
};
TYPED_TEST_SUITE(TreiberStack, reclaimers, reclaim_names);

TYPED_TEST(TreiberStack, LifoOnOneThread) {
  treiber_stack<int, TypeParam> s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.try_pop(), std::nullopt);
  for (int i = 0; i < 100; ++i) s.push(i);
  EXPECT_FALSE(s.empty());
  for (int i = 99; i >= 0; --i) EXPECT_EQ(s.try_pop(), i);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.try_pop(), std::nullopt);
}

// The family's try_ shape: try_push (copy and move) and try_emplace return true (the stack
// is unbounded), try_pop(T&) moves into `out` or returns false and leaves it untouched.
TYPED_TEST(TreiberStack, TryFunctionsHaveTheFamilyShape) {
  treiber_stack<std::string, TypeParam> s;
  static_assert(std::is_same_v<decltype(s.try_push(std::declval<const std::string&>())), bool>);
  static_assert(std::is_same_v<decltype(s.try_push(std::string())), bool>);
  static_assert(std::is_same_v<decltype(s.try_emplace(3U, 'c')), bool>);
  static_assert(std::is_same_v<decltype(s.try_pop(std::declval<std::string&>())), bool>);
  static_assert(std::is_same_v<decltype(s.try_pop()), std::optional<std::string>>);
  const std::string copied = "copied";
  EXPECT_TRUE(s.try_push(copied));
  std::string moved = "moved, and long enough to own a heap buffer";
  EXPECT_TRUE(s.try_push(std::move(moved)));
  EXPECT_TRUE(s.try_emplace(3U, 'c'));
  std::string out = "untouched";
  EXPECT_TRUE(s.try_pop(out));
  EXPECT_EQ(out, "ccc");
  EXPECT_EQ(s.try_pop(), "moved, and long enough to own a heap buffer");
  EXPECT_TRUE(s.try_pop(out));
  EXPECT_EQ(out, "copied");
  EXPECT_EQ(copied, "copied");  // try_push(const T&) copies
  out = "untouched";
  EXPECT_FALSE(s.try_pop(out));
  EXPECT_EQ(out, "untouched");
  EXPECT_TRUE(s.empty());
  TestFixture::drain_reclaimer();
}

// try_pop(T&) for a move-only T moves the element into `out` (the old value is destroyed).
TYPED_TEST(TreiberStack, TryPopIntoMovesMoveOnlyElements) {
  ASSERT_EQ(counted::live.load(std::memory_order_relaxed), 0);
  {
    treiber_stack<std::unique_ptr<counted>, TypeParam> s;
    EXPECT_TRUE(s.try_push(std::make_unique<counted>(1)));
    EXPECT_TRUE(s.try_emplace(new counted(2)));
    auto out = std::make_unique<counted>(9);
    EXPECT_TRUE(s.try_pop(out));
    EXPECT_EQ(out ? out->value : -1, 2);
    EXPECT_EQ(counted::live.load(std::memory_order_relaxed), 2);  // 9 was destroyed
    EXPECT_TRUE(s.try_pop(out));
    EXPECT_EQ(out ? out->value : -1, 1);
    EXPECT_FALSE(s.try_pop(out));
    EXPECT_EQ(out ? out->value : -1, 1);
  }
  EXPECT_EQ(counted::live.load(std::memory_order_relaxed), 0);
  TestFixture::drain_reclaimer();
}

TYPED_TEST(TreiberStack, MoveOnlyElements) {
  treiber_stack<std::unique_ptr<int>, TypeParam> s;
  s.push(std::make_unique<int>(1));
  s.emplace(new int(2));
  const auto top = s.try_pop();
  EXPECT_EQ(top.has_value() && *top ? **top : -1, 2);
  const auto next = s.try_pop();
  EXPECT_EQ(next.has_value() && *next ? **next : -1, 1);
}

TYPED_TEST(TreiberStack, DestructorFreesRemainingElements) {
  ASSERT_EQ(counted::live.load(std::memory_order_relaxed), 0);
  {
    treiber_stack<counted, TypeParam> s;
    for (int i = 0; i < 50; ++i) s.emplace(i);
    EXPECT_EQ(counted::live.load(std::memory_order_relaxed), 50);
    for (int i = 0; i < 20; ++i) {
      const auto v = s.try_pop();
      EXPECT_EQ(v.has_value() ? v->value : -1, 49 - i);
    }
    EXPECT_EQ(counted::live.load(std::memory_order_relaxed), 30);
  }
  EXPECT_EQ(counted::live.load(std::memory_order_relaxed), 0);
  TestFixture::drain_reclaimer();  // popped nodes (moved-from values) go to the reclaimer
}

// Each thread pushes items tagged with its id and pops as many times as it pushed; popped
// items are counted per item. After the join the rest is drained: every item exactly once.
TYPED_TEST(TreiberStack, ConcurrentPushPopDeliversEachItemOnce) {
  constexpr int thread_count = 6;  // oversubscribes 2 cores
  const int per_thread = 5000 * stress_scale;
  std::vector<atomic<std::uint8_t>> seen(static_cast<std::size_t>(thread_count * per_thread));
  atomic<std::uint64_t> duplicates{0};
  auto record = [&](std::uint32_t item) {
    if (seen[item].fetch_add(1, std::memory_order_relaxed) != 0) {
      duplicates.fetch_add(1, std::memory_order_relaxed);
    }
  };
  {
    treiber_stack<std::uint32_t, TypeParam> s;
    std::vector<ferrite::thread> threads;
    threads.reserve(thread_count);
    for (int t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          s.push(static_cast<std::uint32_t>(t * per_thread + i));
          if (auto v = s.try_pop()) record(*v);
        }
      });
    }
    for (auto& th : threads) th.join();
    while (auto v = s.try_pop()) record(*v);
    EXPECT_TRUE(s.empty());
  }
  EXPECT_EQ(duplicates.load(std::memory_order_relaxed), 0U);
  std::size_t missing = 0;
  for (auto& s : seen) missing += s.load(std::memory_order_relaxed) == 0 ? 1U : 0U;
  EXPECT_EQ(missing, 0U);
  TestFixture::drain_reclaimer();
}

// Pops race with pushes of the same few nodes' addresses being recycled by the allocator:
// the classic ABA setting (pop A, pop B, push A' at A's address). Values must stay intact.
TYPED_TEST(TreiberStack, ChurnOnASmallStackKeepsValuesIntact) {
  constexpr int thread_count = 4;
  const int ops = 10000 * stress_scale;
  treiber_stack<std::uint64_t, TypeParam> s;
  atomic<std::uint64_t> corrupt{0};
  std::vector<ferrite::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < ops; ++i) {
        const auto v = static_cast<std::uint64_t>(t) << 32 | static_cast<std::uint32_t>(i);
        s.push(v * 2 + 1);  // odd: a node holding garbage would likely be even or huge
        if (auto got = s.try_pop(); got && (*got % 2 == 0 || (*got >> 33) >= thread_count)) {
          corrupt.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(corrupt.load(std::memory_order_relaxed), 0U);
  TestFixture::drain_reclaimer();
}

}  // namespace
