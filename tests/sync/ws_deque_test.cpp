// SPDX-License-Identifier: Apache-2.0
// Tests of ws_deque<T>: on one thread, LIFO pops and FIFO steals, both ends mixed, growth from
// capacity 1 with the top away from position 0, capacity rounding, inline storage of one- and
// multi-word trivially copyable values (including an odd size), boxed storage of move-only and
// counted elements, and the destructor freeing the elements left. Then oversubscribed stress
// runs (1 owner + 3 or 7 thieves on any number of cores): the owner pushes in random bursts
// (some large enough to grow the ring while thieves read the old one) and pops, thieves steal
// until every item is taken; every item must be taken exactly once (a per-item counter), each
// thief must see increasing items (FIFO steals), multi-word values must never be torn, and
// boxed counted elements must all be destroyed.
#include "ferrite/sync/ws_deque.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "queue_test_support.hpp"

namespace {

using ferrite::sync::steal_result;
using ferrite::sync::steal_status;
using ferrite::sync::ws_deque;
using ferrite_test::counted;

#if FERRITE_TSAN
// TSan runs about 10x slower: keep each test short.
constexpr std::uint64_t stress_scale = 4;
#else
constexpr std::uint64_t stress_scale = 32;
#endif

/// Three words tied together, to catch a torn (mixed) copy.
struct triple {
  std::uint64_t a;
  std::uint64_t b;
  std::uint64_t c;
  static triple of(std::uint64_t v) { return {v, v * 0x9E3779B97F4A7C15ULL, ~v}; }
  [[nodiscard]] bool intact() const { return b == a * 0x9E3779B97F4A7C15ULL && c == ~a; }
};
/// 12 bytes: a slot of two words, half of the second unused.
struct odd12 {
  std::uint32_t x;
  std::uint32_t y;
  std::uint32_t z;
};

/// The value of `o`; throws (failing the test) when it is empty.
template <class T>
T must(std::optional<T> o) {
  if (!o.has_value()) throw std::runtime_error("expected a value, got nullopt");
  return std::move(*o);
}

static_assert(!ws_deque<std::uint64_t>::boxed);
static_assert(!ws_deque<triple>::boxed);
static_assert(!ws_deque<odd12>::boxed);
static_assert(ws_deque<std::unique_ptr<int>>::boxed);
static_assert(ws_deque<counted>::boxed);

TEST(WsDeque, OwnerPopsNewestFirst) {
  ws_deque<int> d;
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(d.pop(), std::nullopt);
  for (int i = 0; i < 100; ++i) d.push(i);
  EXPECT_EQ(d.size_approx(), 100U);
  for (int i = 99; i >= 0; --i) EXPECT_EQ(d.pop(), i);
  EXPECT_EQ(d.pop(), std::nullopt);
  EXPECT_TRUE(d.empty());
}

TEST(WsDeque, ThievesStealOldestFirst) {
  ws_deque<int> d;
  EXPECT_TRUE(d.steal().is_empty());
  for (int i = 0; i < 100; ++i) d.push(i);
  for (int i = 0; i < 100; ++i) {
    steal_result<int> r = d.steal();
    ASSERT_TRUE(r.is_success());
    EXPECT_EQ(r.status(), steal_status::success);
    EXPECT_EQ(r.value(), i);
  }
  steal_result<int> r = d.steal();
  EXPECT_TRUE(r.is_empty());
  EXPECT_FALSE(r.is_success());
  EXPECT_FALSE(r.is_retry());
  EXPECT_EQ(d.pop(), std::nullopt);
}

TEST(WsDeque, BothEndsMixed) {
  ws_deque<int> d(2);
  for (int i = 1; i <= 5; ++i) d.push(i);
  EXPECT_EQ(d.steal().value(), 1);
  EXPECT_EQ(d.pop(), 5);
  EXPECT_EQ(d.steal().value(), 2);
  EXPECT_EQ(d.pop(), 4);
  d.push(6);
  EXPECT_EQ(d.steal().value(), 3);
  EXPECT_EQ(d.pop(), 6);
  EXPECT_EQ(d.pop(), std::nullopt);
  EXPECT_TRUE(d.steal().is_empty());
  d.push(7);  // usable after emptying from both ends
  EXPECT_EQ(d.steal().value(), 7);
}

TEST(WsDeque, CapacityRoundsUpAndGrows) {
  EXPECT_EQ(ws_deque<int>(0).capacity(), 1U);
  EXPECT_EQ(ws_deque<int>(1).capacity(), 1U);
  EXPECT_EQ(ws_deque<int>(3).capacity(), 4U);
  EXPECT_EQ(ws_deque<int>().capacity(), 64U);
  EXPECT_THROW(ws_deque<int>(std::size_t{1} << 41U), std::length_error);
  EXPECT_THROW(ws_deque<int>(~std::size_t{0}), std::length_error);

  // Growth with the live range away from position 0 and wrapped around the ring.
  ws_deque<std::uint64_t> d(1);
  std::uint64_t pushed = 0;
  std::uint64_t stolen = 0;
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 37; ++i) d.push(pushed++);
    for (int i = 0; i < 29; ++i) ASSERT_EQ(d.steal().value(), stolen++);
  }
  EXPECT_GE(d.capacity(), pushed - stolen);
  EXPECT_EQ(d.size_approx(), pushed - stolen);
  for (std::uint64_t v = pushed; v-- > stolen + 10;) ASSERT_EQ(d.pop(), v);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(d.steal().value(), stolen++);
  EXPECT_TRUE(d.empty());
}

TEST(WsDeque, MultiWordInlineValues) {
  ws_deque<triple> d(4);
  for (std::uint64_t i = 0; i < 50; ++i) d.push(triple::of(i));
  for (std::uint64_t i = 0; i < 25; ++i) {
    const triple t = d.steal().value();
    EXPECT_TRUE(t.intact());
    EXPECT_EQ(t.a, i);
  }
  for (std::uint64_t i = 50; i-- > 25;) {
    const triple t = must(d.pop());
    EXPECT_TRUE(t.intact());
    EXPECT_EQ(t.a, i);
  }
  ws_deque<odd12> o(1);
  for (std::uint32_t i = 0; i < 20; ++i) o.push(odd12{i, i + 1, i + 2});
  EXPECT_EQ(o.steal().value().z, 2U);
  const odd12 last = must(o.pop());
  EXPECT_EQ(last.x, 19U);
  EXPECT_EQ(last.y, 20U);
  EXPECT_EQ(last.z, 21U);
}

TEST(WsDeque, MoveOnlyElementsAreBoxed) {
  ws_deque<std::unique_ptr<int>> d(1);
  for (int i = 0; i < 10; ++i) d.push(std::make_unique<int>(i));
  std::unique_ptr<int> first = d.steal().value();
  EXPECT_EQ(*first, 0);
  EXPECT_EQ(*must(d.pop()), 9);
  d.emplace(new int(42));
  EXPECT_EQ(*must(d.pop()), 42);
}

TEST(WsDeque, DestructorDestroysTheElementsLeft) {
  counted::live = 0;
  {
    ws_deque<counted> d(2);  // grows several times: old rings hold stale boxes, not owned ones
    for (std::uint64_t i = 0; i < 100; ++i) d.emplace(i);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(d.steal().is_success());
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(d.pop().has_value());
    EXPECT_EQ(counted::live.load(), 80);
  }
  EXPECT_EQ(counted::live.load(), 0);
  {
    ws_deque<counted> never_used;
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

/// How a stress run turns item numbers into elements and back.
template <class T>
struct codec;
template <>
struct codec<std::uint64_t> {
  static std::uint64_t make(std::uint64_t v) { return v; }
  static bool valid(std::uint64_t /*v*/) { return true; }
  static std::uint64_t id(std::uint64_t v) { return v; }
};
template <>
struct codec<triple> {
  static triple make(std::uint64_t v) { return triple::of(v); }
  static bool valid(const triple& t) { return t.intact(); }
  static std::uint64_t id(const triple& t) { return t.a; }
};
template <>
struct codec<counted> {
  static counted make(std::uint64_t v) { return counted(v); }
  static bool valid(const counted& /*c*/) { return true; }
  static std::uint64_t id(const counted& c) { return c.value; }
};

/// A small deterministic generator for burst sizes (the owner's schedule).
struct lcg {
  std::uint64_t state;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33U;
  }
};

struct stress_counts {
  std::vector<std::atomic<std::uint8_t>> seen;
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<std::uint64_t> order_errors{0};
  std::atomic<std::uint64_t> torn{0};
  explicit stress_counts(std::uint64_t items) : seen(items) {}
};

template <class T>
void record(stress_counts& c, const T& v) {
  if (!codec<T>::valid(v)) c.torn.fetch_add(1);
  c.seen[codec<T>::id(v)].fetch_add(1);
  c.consumed.fetch_add(1, std::memory_order_release);
}

/// The owner pushes `items` elements in bursts (mostly 1-16, sometimes 64-575 to grow the
/// ring) and pops a random part of each burst; with a `fixed` burst of n it instead pushes n,
/// pauses a varying time and pops n, racing the thieves for the last elements (the pop of a
/// nearly empty deque is where the owner and a thief can collide). `thieves` threads steal.
template <class T>
void owner_vs_thieves(std::uint32_t thieves, std::uint64_t items, std::uint64_t fixed = 0) {
  stress_counts counts(items);
  {
    ws_deque<T> d(1);
    start_gate gate;
    std::vector<std::thread> threads;
    threads.reserve(thieves);
    for (std::uint32_t k = 0; k < thieves; ++k) {
      threads.emplace_back([&] {
        gate.wait();
        std::optional<std::uint64_t> last;
        std::uint64_t empties = 0;
        while (counts.consumed.load(std::memory_order_acquire) < items) {
          steal_result<T> r = d.steal();
          if (r.is_success()) {
            const std::uint64_t id = codec<T>::id(r.value());
            if (last.has_value() && id <= *last) counts.order_errors.fetch_add(1);
            last = id;
            record(counts, r.value());
          } else if (r.is_empty() && ++empties % 64 == 0) {
            std::this_thread::yield();  // spin mostly (to race the owner), yield sometimes
          }
        }
      });
    }
    gate.open();
    lcg rng{thieves * 7919ULL + items};
    std::uint64_t next = 0;
    while (next < items) {
      const std::uint64_t r = rng.next();
      std::uint64_t burst = fixed != 0 ? fixed : 1 + r % 16;
      if (fixed == 0 && r % 64 == 0) burst = 64 + (r >> 8U) % 512;
      for (std::uint64_t i = 0; i < burst && next < items; ++i) d.push(codec<T>::make(next++));
      if (fixed != 0) {
        // A varying pause moves the owner's pop across the phases of the thieves' steals.
        for (std::uint64_t i = (r >> 20U) % 32; i != 0; --i) ferrite::spin_hint();
      }
      const std::uint64_t pops = fixed != 0 ? fixed : (r >> 4U) % (burst + 1);
      for (std::uint64_t i = 0; i < pops; ++i) {
        if (std::optional<T> v = d.pop(); v.has_value()) record(counts, *v);
      }
    }
    for (std::optional<T> v = d.pop(); v.has_value(); v = d.pop()) record(counts, *v);
    for (auto& t : threads) t.join();
    EXPECT_TRUE(d.empty());
    EXPECT_EQ(d.pop(), std::nullopt);
  }
  EXPECT_EQ(counts.consumed.load(), items);
  std::uint64_t wrong = 0;
  for (auto& s : counts.seen) wrong += s.load() != 1 ? 1U : 0U;
  EXPECT_EQ(wrong, 0U) << "items not taken exactly once";
  EXPECT_EQ(counts.order_errors.load(), 0U) << "a thief stole out of FIFO order";
  EXPECT_EQ(counts.torn.load(), 0U) << "a torn multi-word element was returned";
}

TEST(WsDequeStress, OwnerAndThreeThieves) {
  owner_vs_thieves<std::uint64_t>(3, 20'000 * stress_scale);
}

TEST(WsDequeStress, OwnerAndSevenThieves) {
  owner_vs_thieves<std::uint64_t>(7, 20'000 * stress_scale);
}

TEST(WsDequeStress, RaceForTheLastElements) {
  for (std::uint64_t n : {1U, 2U, 3U}) owner_vs_thieves<std::uint64_t>(3, 10'000 * stress_scale, n);
}

TEST(WsDequeStress, MultiWordElementsAreNeverTorn) {
  owner_vs_thieves<triple>(3, 20'000 * stress_scale);
  owner_vs_thieves<triple>(5, 5'000 * stress_scale, 1);
}

TEST(WsDequeStress, BoxedElementsAreAllDestroyed) {
  counted::live = 0;
  owner_vs_thieves<counted>(3, 10'000 * stress_scale);
  owner_vs_thieves<counted>(3, 5'000 * stress_scale, 2);
  EXPECT_EQ(counted::live.load(), 0);
}

// Thieves only: the owner fills the deque first (growing it from capacity 1), then 6 thieves
// drain it; a thief stops at its first "empty", which must come only after every item was
// taken, and the FIFO order holds per thief.
TEST(WsDequeStress, ThievesDrainAFullDeque) {
  const std::uint64_t items = 20'000 * stress_scale;
  ws_deque<std::uint64_t> d(1);
  for (std::uint64_t i = 0; i < items; ++i) d.push(i);
  stress_counts counts(items);
  start_gate gate;
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int k = 0; k < 6; ++k) {
    threads.emplace_back([&] {
      gate.wait();
      std::optional<std::uint64_t> last;
      for (;;) {
        steal_result<std::uint64_t> r = d.steal();
        if (r.is_empty()) break;
        if (!r.is_success()) continue;
        if (last.has_value() && r.value() <= *last) counts.order_errors.fetch_add(1);
        last = r.value();
        record(counts, r.value());
      }
    });
  }
  gate.open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(counts.consumed.load(), items) << "a thief saw empty with items left";
  std::uint64_t wrong = 0;
  for (auto& s : counts.seen) wrong += s.load() != 1 ? 1U : 0U;
  EXPECT_EQ(wrong, 0U);
  EXPECT_EQ(counts.order_errors.load(), 0U);
  EXPECT_TRUE(d.empty());
}

}  // namespace
