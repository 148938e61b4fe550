// SPDX-License-Identifier: Apache-2.0
// Broken zoo: an SPSC ring that publishes the tail with a relaxed store. The consumer reads
// a slot the producer's write is not ordered before: a data race on the slot.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

template <std::size_t N>
struct toy_ring {
  std::array<ferrite::cell<int>, N> slots{};
  ferrite::atomic<std::size_t> head{0};
  ferrite::atomic<std::size_t> tail{0};
  std::memory_order publish;
  std::memory_order observe;

  bool try_push(int v) {
    const std::size_t t = tail.load(std::memory_order_relaxed);
    if (t - head.load(observe) == N) return false;
    slots[t % N].with_mut([v](int* p) { *p = v; });
    tail.store(t + 1, publish);
    return true;
  }
  bool try_pop(int& v) {
    const std::size_t h = head.load(std::memory_order_relaxed);
    if (h == tail.load(observe)) return false;
    v = slots[h % N].with([](const int* p) { return *p; });
    head.store(h + 1, publish);
    return true;
  }
};

void run(std::memory_order publish, std::memory_order observe) {
  toy_ring<2> q;
  q.publish = publish;
  q.observe = observe;
  ferrite::thread producer([&] {
    for (int i = 1; i <= 3; ++i)
      while (!q.try_push(i)) ferrite::spin_hint();
  });
  int expect = 1;
  while (expect <= 3) {
    int v = 0;
    if (q.try_pop(v)) {
      FERRITE_ASSERT(v == expect, "out of order or lost");
      ++expect;
    } else {
      ferrite::spin_hint();
    }
  }
  producer.join();
}

TEST(BrokenSpscRing, RelaxedPublishRacesOnTheSlot) {
  expect_failure(failure_kind::data_race,
                 [] { run(std::memory_order_relaxed, std::memory_order_relaxed); });
}

TEST(FixedSpscRing, ReleaseAcquire) {
  expect_pass([] { run(std::memory_order_release, std::memory_order_acquire); });
}

}  // namespace
