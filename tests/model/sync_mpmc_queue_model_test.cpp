// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::mpmc_queue under ferrite::check: try_push/try_pop with two producers
// and two consumers at capacities 1 and 2 (every element pushed is popped exactly once, FIFO
// per producer, slot cells never raced), and the blocking push/pop, including the sleeper
// protocol (sleepers count, asymmetric fence pair, atomic wait/notify on the turn word): a
// lost wake-up would be a reported deadlock.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/mpmc_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::mpmc_options;
using ferrite::sync::mpmc_queue;

/// Exactly-once accounting of values 1..7. Bookkeeping only: model threads run one at a time
/// on one OS thread, so plain memory needs no synchronization.
struct ledger {
  std::array<int, 8> pushed{};
  std::array<int, 8> popped{};
  void push(int v) { ++pushed.at(static_cast<std::size_t>(v)); }
  void pop(int v) {
    FERRITE_ASSERT(v > 0 && v < 8, "a value that was never pushed");
    FERRITE_ASSERT(popped.at(static_cast<std::size_t>(v))++ == 0, "an element popped twice");
  }
  void expect_balanced() const {
    for (std::size_t v = 0; v < pushed.size(); ++v)
      FERRITE_ASSERT(pushed.at(v) == popped.at(v), "an element was lost (or invented)");
  }
};

/// Two producers (one element each), a consumer thread and the main thread try_pop once
/// each while they run (the thread with try_pop(T&), the main thread with the std::optional
/// form); then the main thread drains. Everything pushed comes out once.
template <class Queue>
void two_by_two(std::size_t capacity) {
  Queue q(capacity);
  ledger l;
  auto producer = [&](int v) {
    if (q.try_push(v)) l.push(v);
  };
  auto consume = [&] {
    int v = 0;
    if (q.try_pop(v)) l.pop(v);
  };
  auto consume_optional = [&] {
    if (std::optional<int> v = q.try_pop()) l.pop(*v);
  };
  ferrite::thread p1([&] { producer(1); });
  ferrite::thread p2([&] { producer(2); });
  ferrite::thread c(consume);
  consume_optional();
  p1.join();
  p2.join();
  c.join();
  int v = 0;
  while (q.try_pop(v)) l.pop(v);
  l.expect_balanced();
  FERRITE_ASSERT(q.empty());
}

TEST(MpmcQueueModel, TryOpsTwoProducersTwoConsumersCapacity1) {
  expect_pass([] { two_by_two<mpmc_queue<int>>(1); });
}

TEST(MpmcQueueModel, TryOpsTwoProducersTwoConsumersCapacity2) {
  expect_pass([] { two_by_two<mpmc_queue<int>>(2); });
}

TEST(MpmcQueueModel, TryOpsNonBlockingPaddedCapacity2) {
  // Exactly Vyukov's hand-off (no fence, no sleeper count), in the padded layout.
  using queue = mpmc_queue<int, mpmc_options{.layout = ferrite::sync::mpmc_layout::padded,
                                             .blocking = false}>;
  expect_pass([] { two_by_two<queue>(2); });
}

/// FIFO per producer: one producer try_pushes 1, 2, 3 into a ring of 2 (the third push
/// reuses slot 0 a lap later, racing the consumer that empties it); the consumer sees a
/// subsequence of the successful pushes, in order.
TEST(MpmcQueueModel, TryOpsFifoPerProducerLap) {
  expect_pass([] {
    mpmc_queue<int> q(2);
    std::array<int, 4> pushed{};
    std::size_t n_pushed = 0;
    ferrite::thread producer([&] {
      for (int v = 1; v <= 3; ++v)
        if (q.try_push(v)) pushed.at(n_pushed++) = v;
    });
    std::array<int, 4> popped{};
    std::size_t n_popped = 0;
    for (int i = 0; i < 2; ++i) {
      int v = 0;
      if (q.try_pop(v)) popped.at(n_popped++) = v;
    }
    producer.join();
    int v = 0;
    while (q.try_pop(v)) popped.at(n_popped++) = v;
    FERRITE_ASSERT(n_popped == n_pushed, "an element was lost or duplicated");
    for (std::size_t i = 0; i < n_popped; ++i)
      FERRITE_ASSERT(popped.at(i) == pushed.at(i), "FIFO order broken");
  });
}

/// Move-only elements owning heap memory: the ones left in the queue are destroyed by
/// ~mpmc_queue exactly once (else a leak or double free is reported).
TEST(MpmcQueueModel, OwnedElementsDestroyedOnce) {
  expect_pass([] {
    mpmc_queue<std::unique_ptr<int>> q(2);
    ferrite::thread p([&] { static_cast<void>(q.try_push(std::make_unique<int>(1))); });
    static_cast<void>(q.try_push(std::make_unique<int>(2)));
    std::unique_ptr<int> out;
    if (q.try_pop(out)) FERRITE_ASSERT(out != nullptr && (*out == 1 || *out == 2));
    p.join();
  });
}

/// Blocking push/pop through a ring of 1: the second push waits for the pop of the first
/// (a full queue), and the pops wait for the pushes (an empty queue). Every wait ends (a
/// lost wake-up would leave a thread asleep: deadlock), in FIFO order.
TEST(MpmcQueueModel, BlockingPushPopCapacity1) {
  expect_pass([] {
    mpmc_queue<int> q(1);
    ferrite::thread producer([&] {
      q.push(1);
      q.push(2);
    });
    FERRITE_ASSERT(q.pop() == 1);
    FERRITE_ASSERT(q.pop() == 2);
    producer.join();
    FERRITE_ASSERT(q.empty());
  });
}

/// The main thread pushes 1 and 2 into a ring of 1 (the second push waits until the consumer
/// thread has emptied the slot) and then pops the element the thread left for it.
TEST(MpmcQueueModel, BlockingPushWaitsForPopCapacity1) {
  expect_pass([] {
    mpmc_queue<int> q(1);
    ledger l;
    ferrite::thread c([&] { l.pop(q.pop()); });
    for (int v = 1; v <= 2; ++v) {
      l.push(v);
      q.push(v);
    }
    l.pop(q.pop());
    c.join();
    l.expect_balanced();
  });
}

/// Two blocking consumers wait on an empty ring of 2 (tickets 0 and 1, one per slot) while
/// the main thread pushes two elements.
TEST(MpmcQueueModel, BlockingTwoWaitingConsumersCapacity2) {
  expect_pass([] {
    mpmc_queue<int> q(2);
    ledger l;
    ferrite::thread c1([&] { l.pop(q.pop()); });
    ferrite::thread c2([&] { l.pop(q.pop()); });
    for (int v = 1; v <= 2; ++v) {
      l.push(v);
      q.push(v);
    }
    c1.join();
    c2.join();
    l.expect_balanced();
  });
}

/// The sleeping path. The checker runs a spinning thread again only after another thread
/// made progress (a store), so a waiter's backoff (backoff::yield_limit + 1 snoozes before it
/// sleeps) runs out only while the rest of the program keeps moving. `run_clock` stands for
/// that passage of time: `ticks` relaxed stores to a private word, each followed by a yield;
/// the main thread joins it before it pushes. The explorations stay small because the clock's
/// stores conflict with nothing.
void run_clock(int ticks) {
  ferrite::atomic<int> tick{0};
  ferrite::thread clock([&] {
    for (int i = 1; i <= ticks; ++i) {
      tick.store(i, std::memory_order_relaxed);
      ferrite::yield_now();
    }
  });
  clock.join();
}

/// One consumer pops an empty ring while the clock runs, then the main thread pushes. With
/// 13 ticks and more, the consumer has counted itself in `sleepers` (V16), run the heavy fence
/// (V17), re-read the turn (V18) and is asleep in atomic::wait (V19) when the push's hand-off
/// (turn store (V11), light fence (V12), sleeper load (V13), notify_all (V14)) runs; with fewer, it
/// is on its way there and the two sides of the Dekker pair interleave. Either way it must be
/// woken, or the execution ends in a deadlock.
TEST(MpmcQueueModel, BlockingPopSleepsAndIsWoken) {
  for (int ticks = 8; ticks <= 13; ++ticks) {
    SCOPED_TRACE(ticks);
    expect_pass([ticks] {
      mpmc_queue<int> q(1);
      ferrite::thread consumer([&] { FERRITE_ASSERT(q.pop() == 7); });
      run_clock(ticks);
      q.push(7);
      consumer.join();
    });
  }
}

/// Two consumers asleep on the same turn word of a ring of 1 (tickets 0 and 1, a lap apart):
/// the first push's notify_all wakes both, the consumer of ticket 1 goes back to sleep, and
/// the second push (which waits for the first consumer to empty the slot) wakes it again.
TEST(MpmcQueueModel, BlockingTwoSleepersOnOneTurnWord) {
  expect_pass([] {
    mpmc_queue<int> q(1);
    ledger l;
    ferrite::thread c1([&] { l.pop(q.pop()); });
    ferrite::thread c2([&] { l.pop(q.pop()); });
    run_clock(14);  // both consumers are asleep when it stops
    for (int v = 1; v <= 2; ++v) {
      l.push(v);
      q.push(v);
    }
    c1.join();
    c2.join();
    l.expect_balanced();
  });
}

}  // namespace
