// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::seqlock under ferrite::check: a reader never accepts a torn or
// out-of-order value while the single writer stores (the payload is two words that every
// stored value keeps equal).
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/seqlock.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)

/// Two payload words that every stored value keeps equal: a torn copy shows as a != b.
struct pair {
  std::uint64_t a;
  std::uint64_t b;
};

/// The writer stores {1,1} then {2,2}; a reader's successful try_loads are whole values and
/// never go back in time.
TEST(SeqlockModel, TryLoadIsNeverTornAndMonotonic) {
  expect_pass([] {
    ferrite::sync::seqlock<pair> lock(pair{0, 0});
    ferrite::thread writer([&] {
      lock.store(pair{1, 1});
      lock.store(pair{2, 2});
    });
    std::uint64_t last = 0;
    for (int i = 0; i < 2; ++i) {
      if (const std::optional<pair> v = lock.try_load()) {
        FERRITE_ASSERT(v->a == v->b, "torn read accepted");
        FERRITE_ASSERT(v->a >= last, "a later load returned an older value");
        last = v->a;
      }
    }
    writer.join();
    const std::optional<pair> end = lock.try_load();
    FERRITE_ASSERT(end.has_value() && end->a == 2 && end->b == 2);
  });
}

/// Two readers against one store: each sees the old or the new value, whole.
TEST(SeqlockModel, TwoReadersOneStore) {
  expect_pass([] {
    ferrite::sync::seqlock<pair> lock(pair{0, 0});
    auto reader = [&] {
      if (const std::optional<pair> v = lock.try_load()) {
        FERRITE_ASSERT(v->a == v->b, "torn read accepted");
        FERRITE_ASSERT(v->a <= 1);
      }
    };
    ferrite::thread r1(reader);
    ferrite::thread r2(reader);
    lock.store(pair{1, 1});
    r1.join();
    r2.join();
  });
}

/// The blocking load() retries across an in-progress store (backoff) and returns a whole
/// value; update() (read-modify-store by the writer) keeps the invariant too.
TEST(SeqlockModel, BlockingLoadAndUpdate) {
  expect_pass([] {
    ferrite::sync::seqlock<pair> lock(pair{0, 0});
    ferrite::thread writer([&] {
      lock.update([](pair& p) {
        ++p.a;
        ++p.b;
      });
    });
    const pair v = lock.load();
    FERRITE_ASSERT(v.a == v.b, "torn read accepted");
    FERRITE_ASSERT(v.a <= 1);
    writer.join();
    const pair end = lock.load();
    FERRITE_ASSERT(end.a == 1 && end.b == 1, "update lost");
  });
}

}  // namespace
