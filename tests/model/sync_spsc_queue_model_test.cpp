// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::spsc_queue under ferrite::check: with capacities 1 and 2, every element
// the producer managed to push is popped exactly once, in push order, and the slot cells are
// never accessed by both sides at once (a data race would be reported). A move-only element
// with a heap allocation makes a lost or doubly destroyed element a reported leak or double
// free.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/spsc_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)

/// The values a producer pushed (or a consumer popped), in order. Bookkeeping only: model
/// threads run one at a time on one OS thread, so plain memory needs no synchronization.
struct log {
  std::array<int, 8> values{};
  std::size_t size = 0;
  void add(int v) {
    FERRITE_ASSERT(size < values.size());
    values[size++] = v;
  }
  bool operator==(const log& o) const {
    if (size != o.size) return false;
    for (std::size_t i = 0; i < size; ++i)
      if (values[i] != o.values[i]) return false;
    return true;
  }
};

/// The producer try_pushes 1..n, the consumer try_pops n times while it runs, then drains
/// after the join: the popped sequence is exactly the pushed one (FIFO, exactly once).
void push_pop(std::size_t capacity, int n) {
  ferrite::sync::spsc_queue<int> q(capacity);
  log pushed;
  log popped;
  ferrite::thread producer([&] {
    for (int v = 1; v <= n; ++v)
      if (q.try_push(v)) pushed.add(v);
  });
  for (int i = 0; i < n; ++i) {
    int v = 0;
    if (q.try_pop(v)) popped.add(v);
  }
  producer.join();
  int v = 0;
  while (q.try_pop(v)) popped.add(v);
  FERRITE_ASSERT(pushed.size >= capacity || pushed.size == static_cast<std::size_t>(n),
                 "try_push failed on a queue with room");
  FERRITE_ASSERT(popped == pushed, "elements lost, duplicated or reordered");
  FERRITE_ASSERT(q.empty());
}

TEST(SpscQueueModel, Capacity1ThreeElements) {
  expect_pass([] { push_pop(1, 3); });
}

TEST(SpscQueueModel, Capacity2ThreeElements) {
  expect_pass([] { push_pop(2, 3); });
}

/// Move-only elements owning heap memory, popped through both try_pop forms: each is destroyed
/// exactly once, by the consumer's pop or by the queue's destructor (elements left in the
/// queue), else leak / double free.
TEST(SpscQueueModel, OwnedElementsDestroyedOnce) {
  expect_pass([] {
    ferrite::sync::spsc_queue<std::unique_ptr<int>> q(2);
    ferrite::thread producer([&] {
      for (int v = 1; v <= 3; ++v) static_cast<void>(q.try_push(std::make_unique<int>(v)));
    });
    int last = 0;
    std::unique_ptr<int> p;
    if (q.try_pop(p)) {  // the T& form, then the std::optional one
      FERRITE_ASSERT(p != nullptr && *p > last, "elements reordered");
      last = *p;
    }
    if (std::optional<std::unique_ptr<int>> o = q.try_pop()) {
      FERRITE_ASSERT(*o != nullptr && **o > last, "elements reordered");
      last = **o;
    }
    producer.join();
    // Whatever is left is destroyed by ~spsc_queue.
  });
}

/// front()/pop_front() give the consumer in-place access; size_approx() from the producer
/// stays within [0, capacity].
TEST(SpscQueueModel, FrontPopFrontAndSize) {
  expect_pass([] {
    ferrite::sync::spsc_queue<int> q(2);
    ferrite::thread producer([&] {
      static_cast<void>(q.try_push(1));
      FERRITE_ASSERT(q.size_approx() <= 2);
      static_cast<void>(q.try_push(2));
    });
    int expected = 1;
    for (int i = 0; i < 2; ++i) {
      if (int* f = q.front()) {
        FERRITE_ASSERT(*f == expected, "front out of order");
        ++expected;
        q.pop_front();
      }
    }
    producer.join();
    while (int* f = q.front()) {
      FERRITE_ASSERT(*f == expected, "front out of order");
      ++expected;
      q.pop_front();
    }
    FERRITE_ASSERT(expected == 3, "an element was lost");
  });
}

}  // namespace
