// SPDX-License-Identifier: Apache-2.0
// Broken zoo: two threads take two mutexes in opposite orders: each can hold one and wait
// for the other forever. One global lock order fixes it.
#include <gtest/gtest.h>

#include <mutex>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

void run(bool same_order) {
  ferrite::check::mutex a;
  ferrite::check::mutex b;
  ferrite::thread t([&] {
    std::lock_guard first(same_order ? a : b);
    std::lock_guard second(same_order ? b : a);
  });
  {
    std::lock_guard first(a);
    std::lock_guard second(b);
  }
  t.join();
}

TEST(BrokenLockOrder, OppositeOrdersDeadlock) {
  expect_failure(failure_kind::deadlock, [] { run(false); });
}

TEST(FixedLockOrder, OneOrder) {
  expect_pass([] { run(true); });
}

}  // namespace
