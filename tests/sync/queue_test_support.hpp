// SPDX-License-Identifier: Apache-2.0
// Shared by the queue tests: an element type that counts live instances across threads, one
// whose constructor throws on request, one whose move throws on request, the check that both
// try_pop forms take the front in turn, and the pop-after-push ping-pong.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <thread>

namespace ferrite_test {

// Counts live instances (copies and moves included); atomic because producers and consumers
// construct and destroy them on different threads.
struct counted {
  static inline std::atomic<std::int64_t> live{0};

  explicit counted(std::uint64_t v) noexcept : value(v) { live.fetch_add(1); }
  counted(const counted& o) noexcept : value(o.value) { live.fetch_add(1); }
  counted(counted&& o) noexcept : value(o.value) { live.fetch_add(1); }
  counted& operator=(const counted&) noexcept = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { live.fetch_sub(1); }

  std::uint64_t value;
};

// Nothrow to copy and move, but its constructor from bool throws when asked to.
struct may_throw {
  explicit may_throw(bool fail) {
    if (fail) throw std::runtime_error("ctor failed");
  }
  int word = 7;
};

// Throws from its move constructor and move assignment when `fail` is set: a queue's
// try_pop() must then leave the element at the front (and try_pop(T&) likewise).
struct throwing_move {
  static inline bool fail = false;
  explicit throwing_move(int v) : value(v) {}
  throwing_move(const throwing_move&) = delete;
  throwing_move(throwing_move&& o) : value(o.value) {
    if (fail) throw std::runtime_error("move failed");
  }
  throwing_move& operator=(const throwing_move&) = delete;
  throwing_move& operator=(throwing_move&& o) {
    if (fail) throw std::runtime_error("move failed");
    value = o.value;
    return *this;
  }
  ~throwing_move() = default;
  int value;
};

// On an empty queue `q` of int with room for 4: both try_pop forms report empty, then take
// pushes 1..4 in turn (optional, T&, optional, T&), and a failed try_pop(T&) leaves `out`
// alone. The one shape every queue shares, checked the same way for each.
template <class Queue>
void expect_both_try_pop_forms_take_the_front(Queue& q) {
  int out = -1;
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_FALSE(q.try_pop(out));
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(q.try_push(i));
  EXPECT_EQ(q.try_pop(), 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 2);
  EXPECT_EQ(q.try_pop(), 3);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, 4);
  EXPECT_EQ(q.try_pop(), std::nullopt);
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 4) << "a failed try_pop must leave `out` alone";
}

// Ping-pong between this thread (producer) and one consumer, `rounds` times: the producer
// pushes i and raises a flag (release); the consumer acquires it, and then
// `pop_at_once(q, out)` must return true with out == i (a pop that happens after a push must
// see it), and lowers the flag. Returns how many pops missed; the caller expects 0.
template <class Queue, class PopAtOnce>
std::uint64_t pop_after_push_misses(Queue& q, std::uint64_t rounds, PopAtOnce pop_at_once) {
  std::atomic<std::uint64_t> pushed{0};
  std::atomic<std::uint64_t> popped{0};
  std::uint64_t misses = 0;  // written by the consumer only, read after join
  std::thread consumer([&] {
    std::uint64_t out = 0;
    for (std::uint64_t i = 1; i <= rounds; ++i) {
      while (pushed.load(std::memory_order_acquire) < i) std::this_thread::yield();
      if (!pop_at_once(q, out) || out != i) ++misses;
      popped.store(i, std::memory_order_release);
    }
  });
  for (std::uint64_t i = 1; i <= rounds; ++i) {
    q.push(i);
    pushed.store(i, std::memory_order_release);
    while (popped.load(std::memory_order_acquire) < i) std::this_thread::yield();
  }
  consumer.join();
  return misses;
}

}  // namespace ferrite_test
