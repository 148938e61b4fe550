// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::mpsc_queue and sync::intrusive_mpsc_queue under ferrite::check: two
// producers, one consumer; every element is popped exactly once, FIFO per producer; pop()
// waits out the inconsistent window (a producer between its exchange and its link) and
// returns false only when nothing is left; nodes are freed exactly once (the checker reports
// leaks, double frees and use after free of a node).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/mpsc_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::mpsc_pop_result;

/// The consumer's view: values are producer * 10 + sequence number (1, 2, ...). Checks that
/// each value comes once and that each producer's values come in order. Bookkeeping only
/// (model threads run one at a time on one OS thread).
struct fifo_check {
  std::array<int, 4> next_seq{1, 1, 1, 1};  // per producer: the sequence number expected next
  int total = 0;
  void take(int v) {
    const int producer = v / 10;
    const int seq = v % 10;
    FERRITE_ASSERT(producer >= 1 && producer <= 3, "a value nobody pushed");
    FERRITE_ASSERT(seq == next_seq.at(static_cast<std::size_t>(producer)),
                   "duplicated, lost or reordered element of one producer");
    ++next_seq.at(static_cast<std::size_t>(producer));
    ++total;
  }
};

/// Producer 1 pushes 11, 12; producer 2 pushes 21. The consumer try_pops twice while they
/// run (try_pop may report empty in the inconsistent window), then pops the rest.
TEST(mpsc_queue_model, two_producers_try_pop_then_drain) {
  expect_pass([] {
    ferrite::sync::mpsc_queue<int> q;
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(11);
      q.push(12);
    });
    ferrite::thread p2([&] { q.push(21); });
    for (int i = 0; i < 2; ++i) {
      int v = 0;
      if (q.try_pop(v)) check.take(v);
    }
    p1.join();
    p2.join();
    int v = 0;
    while (q.pop(v)) check.take(v);
    FERRITE_ASSERT(check.total == 3, "an element was lost");
    FERRITE_ASSERT(q.empty());
  });
}

/// pop() concurrent with the producers: it spins over the inconsistent window instead of
/// reporting it, and returns false only when the queue is empty (tail_ is the stub). The
/// consumer pops until it has seen both elements.
TEST(mpsc_queue_model, blocking_pop_rides_out_inconsistent_state) {
  expect_pass([] {
    ferrite::sync::mpsc_queue<int> q;
    fifo_check check;
    ferrite::thread p1([&] { q.push(11); });
    ferrite::thread p2([&] { q.push(21); });
    while (check.total < 2) {
      int v = 0;
      if (q.pop(v)) {
        check.take(v);
      } else {
        ferrite::yield_now();  // empty: wait for the producers
      }
    }
    p1.join();
    p2.join();
    int v = 0;
    FERRITE_ASSERT(!q.pop(v), "an element appeared from nowhere");
  });
}

/// try_pop_state distinguishes empty from inconsistent: `empty` is reported only when every
/// push that happened before the call has been popped; here the producer's push happens
/// before the flag the consumer acquires, so after seeing the flag it never sees `empty`
/// until it has popped the element.
TEST(mpsc_queue_model, empty_only_when_nothing_pushed_is_left) {
  expect_pass([] {
    ferrite::sync::mpsc_queue<int> q;
    ferrite::atomic<bool> pushed{false};
    ferrite::thread producer([&] {
      q.push(11);
      pushed.store(true, std::memory_order_release);
    });
    if (pushed.load(std::memory_order_acquire)) {
      int v = 0;
      FERRITE_ASSERT(q.try_pop_state(v) == mpsc_pop_result::item && v == 11,
                     "a completed push was not visible");
    }
    producer.join();
  });
}

/// Elements owning heap memory, some left in the queue: ~mpsc_queue destroys them and frees
/// every node once.
TEST(mpsc_queue_model, owned_elements_destroyed_once) {
  expect_pass([] {
    ferrite::sync::mpsc_queue<std::unique_ptr<int>> q;
    ferrite::thread p1([&] { q.push(std::make_unique<int>(1)); });
    ferrite::thread p2([&] { q.push(std::make_unique<int>(2)); });
    std::unique_ptr<int> out;
    if (q.try_pop(out)) FERRITE_ASSERT(out != nullptr && (*out == 1 || *out == 2));
    p1.join();
    p2.join();
  });
}

// ---- intrusive_mpsc_queue -----------------------------------------------------------------

struct task {
  explicit task(int v) : value(v) {}
  int value;
  ferrite::atomic<task*> next{nullptr};
};
using task_queue = ferrite::sync::intrusive_mpsc_queue<task, &task::next>;

/// Two producers push caller-owned nodes; the consumer pops with try_pop while they run
/// (including the detach of the last node by CAS, racing a producer's exchange) and drains
/// with pop(). The nodes live in the closure, so a node handed out twice, or reached after
/// the consumer detached it, shows up as a duplicate value.
TEST(intrusive_mpsc_queue_model, two_producers_detach_race) {
  expect_pass([] {
    task a(11);
    task b(12);
    task c(21);
    task_queue q;
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(&a);
      q.push(&b);
    });
    ferrite::thread p2([&] { q.push(&c); });
    for (int i = 0; i < 2; ++i)
      if (task* t = q.try_pop()) check.take(t->value);
    p1.join();
    p2.join();
    while (task* t = q.pop()) check.take(t->value);
    FERRITE_ASSERT(check.total == 3, "a node was lost");
    FERRITE_ASSERT(q.empty());
  });
}

/// The queue empties and refills: the consumer detaches the only node (tail_ back to null)
/// while a producer pushes into what it may see as an empty queue (it then publishes head_).
TEST(intrusive_mpsc_queue_model, empty_refill) {
  expect_pass([] {
    task a(11);
    task b(12);
    task_queue q;
    fifo_check check;
    q.push(&a);
    ferrite::thread producer([&] { q.push(&b); });
    for (int i = 0; i < 2; ++i)
      if (task* t = q.try_pop()) check.take(t->value);
    producer.join();
    while (task* t = q.pop()) check.take(t->value);
    FERRITE_ASSERT(check.total == 2, "a node was lost");
  });
}

}  // namespace
