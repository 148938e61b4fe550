// SPDX-License-Identifier: Apache-2.0
// core/atomic.hpp in a normal build: the names are the standard types at no cost, and a
// release/acquire message-passing stress test through ferrite::atomic and ferrite::cell
// (run under TSan, which reports a race if the cell accesses were not ordered).
#include "ferrite/core/atomic.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace {

TEST(Atomic, NormalBuildUsesTheStandardTypes) {
  static_assert(std::is_same_v<ferrite::atomic<int>, std::atomic<int>>);
  static_assert(std::is_same_v<ferrite::thread, std::thread>);
  static_assert(sizeof(ferrite::cell<std::uint64_t>) == sizeof(std::uint64_t));
  static_assert(alignof(ferrite::cell<std::uint64_t>) == alignof(std::uint64_t));
  static_assert(!std::is_copy_constructible_v<ferrite::cell<int>>);
}

TEST(Cell, AccessorsReachTheValue) {
  ferrite::cell<int> c{7};
  EXPECT_EQ(c.with([](const int* p) { return *p; }), 7);
  c.with_mut([](int* p) { *p = 9; });
  EXPECT_EQ(c.get_mut(), 9);
  ferrite::cell<std::vector<int>> v{std::in_place, 3U, 5};
  EXPECT_EQ(v.with([](const std::vector<int>* p) { return p->size(); }), 3U);
}

// One writer fills a payload cell then publishes a sequence number with release; the
// reader acquires it and must see the matching payload. Repeated over many rounds with a
// handshake in both directions; a wrong ordering shows up as a mismatch or a TSan race.
TEST(Atomic, MessagePassingStress) {
  constexpr std::uint64_t rounds = 20000;
  ferrite::cell<std::uint64_t> payload{0};
  ferrite::atomic<std::uint64_t> published{0};
  ferrite::atomic<std::uint64_t> consumed{0};
  std::uint64_t mismatches = 0;

  ferrite::thread reader([&] {
    for (std::uint64_t r = 1; r <= rounds; ++r) {
      while (published.load(std::memory_order_acquire) != r) ferrite::spin_hint();
      const std::uint64_t v = payload.with([](const std::uint64_t* p) { return *p; });
      if (v != r * 3) ++mismatches;
      consumed.store(r, std::memory_order_release);
    }
  });
  for (std::uint64_t r = 1; r <= rounds; ++r) {
    while (consumed.load(std::memory_order_acquire) != r - 1) ferrite::yield_now();
    payload.with_mut([r](std::uint64_t* p) { *p = r * 3; });
    published.store(r, std::memory_order_release);
  }
  reader.join();
  EXPECT_EQ(mismatches, 0U);
  EXPECT_EQ(consumed.load(std::memory_order_relaxed), rounds);
}

TEST(Atomic, FencesPairAcrossThreads) {
  // Relaxed flag + release/acquire fences: the fence-fence synchronization pattern.
  constexpr int rounds = 5000;
  for (int i = 0; i < rounds; i += 1000) {
    ferrite::cell<int> data{0};
    ferrite::atomic<bool> flag{false};
    ferrite::thread writer([&] {
      data.with_mut([](int* p) { *p = 42; });
      ferrite::fence(std::memory_order_release);
      flag.store(true, std::memory_order_relaxed);
    });
    while (!flag.load(std::memory_order_relaxed)) ferrite::spin_hint();
    ferrite::fence(std::memory_order_acquire);
    EXPECT_EQ(data.with([](const int* p) { return *p; }), 42);
    writer.join();
  }
}

}  // namespace
