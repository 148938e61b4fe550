// SPDX-License-Identifier: Apache-2.0
// Broken zoo: double-checked initialization whose fast path loads the pointer relaxed. A
// thread can take the fast path and read the object's fields without happens-before to
// their initialization: a data race. An acquire load on the fast path fixes it.
#include <gtest/gtest.h>

#include <mutex>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

struct config {
  ferrite::cell<int> port{8080};
};

struct lazy {
  ferrite::atomic<config*> instance{nullptr};
  ferrite::check::mutex m;
  std::memory_order fast;

  config& get() {
    config* c = instance.load(fast);
    if (c == nullptr) {
      std::lock_guard lock(m);
      c = instance.load(std::memory_order_relaxed);
      if (c == nullptr) {
        c = new config;
        instance.store(c, std::memory_order_release);
      }
    }
    return *c;
  }
};

void run(std::memory_order fast) {
  lazy l;
  l.fast = fast;
  auto use = [&] { FERRITE_ASSERT(l.get().port.with([](const int* p) { return *p; }) == 8080); };
  ferrite::thread t(use);
  use();
  t.join();
  delete l.instance.load(std::memory_order_relaxed);
}

TEST(BrokenDoubleCheckedInit, RelaxedFastPathRaces) {
  expect_failure(failure_kind::data_race, [] { run(std::memory_order_relaxed); });
}

TEST(FixedDoubleCheckedInit, AcquireFastPath) {
  expect_pass([] { run(std::memory_order_acquire); });
}

}  // namespace
