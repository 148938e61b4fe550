// SPDX-License-Identifier: Apache-2.0
// Tests of ferrite::mem::concurrent_bump: alignment of the returned address over a
// misaligned buffer, exhaustion and overflow (nullptr, never wrap), reset; and a stress test
// (label concurrency, run under TSan) where oversubscribed threads allocate until the
// buffer is exhausted, stamp every block, and the blocks are then checked disjoint and intact.
#include "ferrite/mem/concurrent_bump.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

namespace {

using ferrite::mem::concurrent_bump;

TEST(ConcurrentBump, AlignsTheAddressNotTheOffset) {
  alignas(4096) static std::byte storage[64 * 1024];
  concurrent_bump bump(std::span<std::byte>(storage).subspan(3));  // base misaligned by 3
  EXPECT_EQ(bump.capacity(), sizeof(storage) - 3);
  for (std::size_t align = 1; align <= 4096; align *= 2) {
    auto* p = static_cast<std::byte*>(bump.allocate(5, align));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0U) << align;
    EXPECT_GE(p, storage + 3);
    EXPECT_LE(p + 5, storage + sizeof(storage));
  }
  EXPECT_LE(bump.used(), bump.capacity());
}

TEST(ConcurrentBump, ExhaustionReturnsNullAndNeverWraps) {
  alignas(64) std::byte storage[1000];
  concurrent_bump bump(storage);
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  EXPECT_EQ(bump.allocate(max, 1), nullptr);
  EXPECT_EQ(bump.allocate(max - 100, 64), nullptr);
  EXPECT_EQ(bump.allocate(1001, 1), nullptr);
  EXPECT_EQ(bump.used(), 0U);
  void* a = bump.allocate(1000, 1);
  EXPECT_EQ(a, storage);
  EXPECT_EQ(bump.used(), 1000U);
  EXPECT_EQ(bump.remaining(), 0U);
  EXPECT_EQ(bump.allocate(1, 1), nullptr);
  EXPECT_EQ(bump.allocate(max, 1), nullptr);
  bump.reset();
  EXPECT_EQ(bump.used(), 0U);
  EXPECT_EQ(bump.allocate(10, 1), storage);
  // Padding counts: 10 used, 64-alignment pads to 64, then 1000 - 64 = 936 bytes are left.
  EXPECT_EQ(bump.allocate(937, 64), nullptr);
  EXPECT_EQ(bump.allocate(926, 64), storage + 64);
  EXPECT_EQ(bump.used(), 990U);
  EXPECT_EQ(bump.allocate(0, 8), storage + 992);  // size 0: a pointer, not unique
  EXPECT_EQ(bump.used(), 992U);
  EXPECT_EQ(bump.allocate(0, 64), nullptr);  // its padding alone (to 1024) does not fit
}

TEST(ConcurrentBumpDeathTest, BadAlignmentIsAContractViolation) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::byte storage[64];
  concurrent_bump bump(storage);
  EXPECT_DEATH((void)bump.allocate(8, 12), "power of two");
}

// The stress test: `threads` threads (oversubscribing the machine) race from a common start
// to allocate random sizes and alignments until the buffer cannot fit even one byte. Each
// block is stamped with a pattern unique to (thread, allocation); after the join no two
// blocks overlap and every stamp is intact.
//
// Oversubscribed threads run in time slices, and one of them could drain the buffer alone
// before the others are scheduled. So a thread may run at most window allocations ahead of
// the slowest unfinished thread: every thread allocates, and their allocations interleave.
// The progress counters are relaxed: they steer scheduling only and create no happens-before
// edge that could hide a race from TSan.
struct record {
  std::byte* p;
  std::size_t size;
  std::uint32_t id;
};

constexpr std::uint64_t window = 8;
constexpr std::uint64_t finished = std::numeric_limits<std::uint64_t>::max();

std::byte stamp(std::uint32_t id, std::size_t i) {
  return static_cast<std::byte>((id * 2654435761U + static_cast<std::uint32_t>(i) * 97U) >> 13);
}

struct shared_state {
  concurrent_bump* bump;
  unsigned threads;
  std::atomic<unsigned> ready{0};
  std::vector<std::atomic<std::uint64_t>> progress;
};

void allocate_until_exhausted(shared_state& s, unsigned t, std::uint64_t seed,
                              std::vector<record>& mine) {
  struct finish_guard {
    std::atomic<std::uint64_t>& p;
    ~finish_guard() { p.store(finished, std::memory_order_relaxed); }
  } guard{s.progress[t]};
  std::mt19937_64 rng(seed);
  s.ready.fetch_add(1, std::memory_order_relaxed);
  while (s.ready.load(std::memory_order_relaxed) < s.threads) std::this_thread::yield();
  for (std::uint32_t n = 0;; ++n) {
    for (unsigned u = 0; u < s.threads; ++u) {
      while (n >= window && s.progress[u].load(std::memory_order_relaxed) < n - window) {
        std::this_thread::yield();
      }
    }
    std::size_t size = 1 + rng() % 200;
    std::size_t align = std::size_t{1} << (rng() % 7);
    auto* p = static_cast<std::byte*>(s.bump->allocate(size, align));
    if (p == nullptr) {
      size = 1;
      align = 1;
      p = static_cast<std::byte*>(s.bump->allocate(1, 1));
      if (p == nullptr) return;  // exhausted
    }
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0U);
    const std::uint32_t id = (t << 24) | n;
    for (std::size_t i = 0; i < size; ++i) p[i] = stamp(id, i);
    mine.push_back({p, size, id});
    s.progress[t].store(n + 1, std::memory_order_relaxed);
  }
}

void run_stress(unsigned threads, std::size_t capacity, std::uint64_t seed) {
  std::vector<std::byte> storage(capacity + 1);
  concurrent_bump bump(std::span<std::byte>(storage).subspan(1));  // a misaligned base too
  for (unsigned round = 0; round < 3; ++round) {
    shared_state s{&bump, threads, {}, std::vector<std::atomic<std::uint64_t>>(threads)};
    std::vector<std::vector<record>> per_thread(threads);
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        allocate_until_exhausted(s, t, seed + std::uint64_t{t} * 1000 + round, per_thread[t]);
      });
    }
    for (auto& th : pool) th.join();

    std::vector<record> all;
    for (const auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end(), [](const record& a, const record& b) { return a.p < b.p; });
    std::size_t total = 0;
    for (std::size_t k = 0; k < all.size(); ++k) {
      const record& r = all[k];
      ASSERT_GE(r.p, storage.data() + 1);
      ASSERT_LE(r.p + r.size, storage.data() + storage.size());
      if (k > 0) {
        ASSERT_LE(all[k - 1].p + all[k - 1].size, r.p) << "overlapping blocks";
      }
      for (std::size_t i = 0; i < r.size; ++i) ASSERT_EQ(r.p[i], stamp(r.id, i));
      total += r.size;
    }
    EXPECT_LE(bump.used(), bump.capacity());
    EXPECT_LE(total, bump.used());
    EXPECT_EQ(bump.remaining(), 0U) << "exhausted: not even one byte fits";
    for (const auto& v : per_thread) EXPECT_FALSE(v.empty()) << "a thread got no block";
    bump.reset();  // quiescent: every thread has been joined
  }
}

TEST(ConcurrentBump, StressEightThreadsUntilExhaustion) { run_stress(8, 1 << 20, 1); }

TEST(ConcurrentBump, StressFourThreadsSmallBuffer) { run_stress(4, std::size_t{64} * 1024, 2); }

}  // namespace
