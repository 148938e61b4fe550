// SPDX-License-Identifier: Apache-2.0
// Broken zoo: store buffering (Dekker). With release stores and acquire loads both threads
// may read 0; only seq_cst (operations, or fences) forbids it. The checker models seq_cst as
// a single total order, so the fixed versions pass and the acq_rel version fails.
#include <gtest/gtest.h>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

void dekker(std::memory_order store, std::memory_order load, bool fences) {
  ferrite::atomic<int> x{0};
  ferrite::atomic<int> y{0};
  int r1 = -1;
  int r2 = -1;
  ferrite::thread t([&] {
    y.store(1, store);
    if (fences) ferrite::fence(std::memory_order_seq_cst);
    r2 = x.load(load);
  });
  x.store(1, store);
  if (fences) ferrite::fence(std::memory_order_seq_cst);
  r1 = y.load(load);
  t.join();
  FERRITE_ASSERT(r1 == 1 || r2 == 1, "both threads missed the other's store");
}

TEST(BrokenStoreBuffering, ReleaseAcquireAllowsBothZero) {
  expect_failure(failure_kind::assertion,
                 [] { dekker(std::memory_order_release, std::memory_order_acquire, false); });
}

TEST(BrokenStoreBuffering, AcqRelFencesDoNotHelp) {
  expect_failure(failure_kind::assertion, [] {
    ferrite::atomic<int> x{0};
    ferrite::atomic<int> y{0};
    int r1 = -1;
    int r2 = -1;
    ferrite::thread t([&] {
      y.store(1, std::memory_order_relaxed);
      ferrite::fence(std::memory_order_acq_rel);
      r2 = x.load(std::memory_order_relaxed);
    });
    x.store(1, std::memory_order_relaxed);
    ferrite::fence(std::memory_order_acq_rel);
    r1 = y.load(std::memory_order_relaxed);
    t.join();
    FERRITE_ASSERT(r1 == 1 || r2 == 1);
  });
}

TEST(FixedStoreBuffering, SeqCstOperations) {
  expect_pass([] { dekker(std::memory_order_seq_cst, std::memory_order_seq_cst, false); },
              fixed_options(-1));
}

TEST(FixedStoreBuffering, RelaxedOperationsWithSeqCstFences) {
  expect_pass([] { dekker(std::memory_order_relaxed, std::memory_order_relaxed, true); },
              fixed_options(-1));
}

}  // namespace
