// SPDX-License-Identifier: Apache-2.0
// Shared by the queue tests: an element type that counts live instances across threads, one
// whose constructor throws on request, and the pop-after-push ping-pong.
#pragma once

#include <atomic>
#include <cstdint>
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
