// SPDX-License-Identifier: Apache-2.0
// Proves that core's concurrency goes through the check indirection: compiled with
// FERRITE_CHECK=1 against the counting stub in tests/core/check_stub, every operation that
// ferrite code performs must show up in the stub's counters.
#define FERRITE_CHECK 1
#include <gtest/gtest.h>

#include <type_traits>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/metrics.hpp"

namespace {

using ferrite::check::counts;

TEST(CheckIndirection, NamesResolveToTheChecker) {
  static_assert(std::is_same_v<ferrite::atomic<int>, ferrite::check::atomic<int>>);
  static_assert(std::is_same_v<ferrite::cell<int>, ferrite::check::cell<int>>);
  static_assert(FERRITE_METRICS == 0, "check builds compile metrics away by default");
}

TEST(CheckIndirection, AtomicFenceAndCellAreObserved) {
  counts = {};
  ferrite::atomic<int> a{0};
  a.store(1, std::memory_order_release);
  EXPECT_EQ(a.load(std::memory_order_acquire), 1);
  ferrite::fence(std::memory_order_seq_cst);
  ferrite::cell<int> c{41};
  c.with_mut([](int* p) { ++*p; });
  EXPECT_EQ(c.with([](const int* p) { return *p; }), 42);
  EXPECT_EQ(counts.atomic_ops, 2U);
  EXPECT_EQ(counts.fences, 1U);
  EXPECT_EQ(counts.cell_writes, 1U);
  EXPECT_EQ(counts.cell_reads, 1U);
}

TEST(CheckIndirection, BackoffSpinsAndYieldsThroughTheChecker) {
  counts = {};
  ferrite::backoff b;
  b.spin();  // step 0: 2^0 hints
  b.spin();  // step 1: 2^1 hints
  EXPECT_EQ(counts.spin_hints, 3U);
  EXPECT_EQ(counts.yields, 0U);
  while (!b.is_completed()) b.snooze();
  EXPECT_GT(counts.yields, 0U) << "snooze() must yield through ferrite::yield_now";
}

}  // namespace
