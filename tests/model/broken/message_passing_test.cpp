// SPDX-License-Identifier: Apache-2.0
// Broken zoo: message passing with a relaxed flag. The reader may see the flag and still
// read the old payload (or race on it); release/acquire fixes it.
#include <gtest/gtest.h>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

void atomic_payload(std::memory_order publish, std::memory_order observe) {
  ferrite::atomic<int> data{0};
  ferrite::atomic<bool> ready{false};
  ferrite::thread writer([&] {
    data.store(42, std::memory_order_relaxed);
    ready.store(true, publish);
  });
  if (ready.load(observe)) FERRITE_ASSERT(data.load(std::memory_order_relaxed) == 42);
  writer.join();
}

void cell_payload(std::memory_order publish, std::memory_order observe) {
  ferrite::cell<int> data(0);
  ferrite::atomic<bool> ready{false};
  ferrite::thread writer([&] {
    data.with_mut([](int* p) { *p = 42; });
    ready.store(true, publish);
  });
  if (ready.load(observe)) FERRITE_ASSERT(data.with([](const int* p) { return *p; }) == 42);
  writer.join();
}

TEST(BrokenMessagePassing, RelaxedFlagReadsStalePayload) {
  expect_failure(failure_kind::assertion,
                 [] { atomic_payload(std::memory_order_relaxed, std::memory_order_relaxed); });
}

TEST(BrokenMessagePassing, RelaxedFlagRacesOnPlainPayload) {
  expect_failure(failure_kind::data_race,
                 [] { cell_payload(std::memory_order_relaxed, std::memory_order_relaxed); });
}

TEST(BrokenMessagePassing, AcquireWithoutReleaseStillRaces) {
  expect_failure(failure_kind::data_race,
                 [] { cell_payload(std::memory_order_relaxed, std::memory_order_acquire); });
}

TEST(FixedMessagePassing, ReleaseAcquire) {
  expect_pass([] { atomic_payload(std::memory_order_release, std::memory_order_acquire); });
  expect_pass([] { cell_payload(std::memory_order_release, std::memory_order_acquire); });
}

TEST(FixedMessagePassing, RelaxedWithFences) {
  expect_pass([] {
    ferrite::cell<int> data(0);
    ferrite::atomic<bool> ready{false};
    ferrite::thread writer([&] {
      data.with_mut([](int* p) { *p = 42; });
      ferrite::fence(std::memory_order_release);
      ready.store(true, std::memory_order_relaxed);
    });
    if (ready.load(std::memory_order_relaxed)) {
      ferrite::fence(std::memory_order_acquire);
      FERRITE_ASSERT(data.with([](const int* p) { return *p; }) == 42);
    }
    writer.join();
  });
}

}  // namespace
