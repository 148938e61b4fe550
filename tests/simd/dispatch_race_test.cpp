// SPDX-License-Identifier: Apache-2.0
// The dispatch resolves on first use, and the first uses may be concurrent: here they are,
// from four threads released together in a fresh process (this binary calls no kernel
// before). Each sees correct results and the same table; under TSan (label concurrency) the
// active-table pointer's relaxed accesses and the function-local statics behind the choice
// must report no race.
//
// ORDERING (this test's own flags):
//   (1) release-store of `go` in the test; pairs with the acquire-loads (2) of the workers,
//       which then start together (the order only matters for the start, not for results).
//   (2) acquire-load of `go` by each worker; pairs with (1).
//   (3) relaxed fetch_add of `passed`; read after the joins, which order it.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/simd/crc32c.hpp"
#include "ferrite/simd/detail/kernel_table.hpp"
#include "ferrite/simd/find.hpp"
#include "ferrite/simd/target.hpp"

namespace {

namespace simd = ferrite::simd;

TEST(SimdDispatch, FirstCallsFromManyThreads) {
  constexpr int thread_count = 4;
  ferrite::atomic<bool> go{false};
  ferrite::atomic<int> passed{0};
  std::vector<const simd::detail::kernel_table*> seen(thread_count, nullptr);
  std::vector<ferrite::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      // ORDERING: (2) acquire; pairs with (1).
      while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
      const bool ok = simd::crc32c("123456789") == 0xE3069283U &&
                      simd::find_crlf(std::string_view("GET key\r\n")) == 7 &&
                      simd::count_byte(std::string_view("a.b.c"), '.') == 2;
      seen[static_cast<std::size_t>(t)] = &simd::detail::active_kernels();
      // ORDERING: (3) relaxed; the joins below order it before the read.
      if (ok) passed.fetch_add(1, std::memory_order_relaxed);
    });
  }
  // ORDERING: (1) release; pairs with (2).
  go.store(true, std::memory_order_release);
  for (ferrite::thread& th : threads) th.join();
  EXPECT_EQ(passed.load(std::memory_order_relaxed), thread_count);
  for (const auto* table : seen) {
    EXPECT_EQ(table, simd::detail::kernels_for(simd::selected_target()));
  }
}

}  // namespace
