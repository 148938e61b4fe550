// SPDX-License-Identifier: Apache-2.0
// Tests of counting_resource: exact counts and bytes through pmr containers and direct calls,
// the peak and reset_peak, histogram buckets at the power-of-two edges, forwarding to the
// upstream (two chained resources agree), failed upstream allocations, identity equality,
// the fragmentation figure, the published metrics, and a 4-thread stress whose totals must be
// exact (the test binary carries the `concurrency` label for the tsan preset).
#include "ferrite/mem/counting_resource.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "ferrite/core/metrics.hpp"
#include "ferrite/mem/arena.hpp"
#include "ferrite/mem/object_pool.hpp"

namespace {

using ferrite::mem::counting_resource;
using ferrite::mem::counting_stats;
using ferrite::mem::size_buckets;

std::uint64_t histogram_total(const counting_stats& s) {
  return std::accumulate(s.size_histogram.begin(), s.size_histogram.end(), std::uint64_t{0});
}

TEST(CountingResource, StartsAtZero) {
  counting_resource r;
  const counting_stats s = r.stats();
  EXPECT_EQ(s.allocations, 0U);
  EXPECT_EQ(s.deallocations, 0U);
  EXPECT_EQ(s.bytes_allocated, 0U);
  EXPECT_EQ(s.live_bytes, 0U);
  EXPECT_EQ(s.peak_live_bytes, 0U);
  EXPECT_EQ(histogram_total(s), 0U);
  EXPECT_EQ(r.upstream(), std::pmr::new_delete_resource());
  EXPECT_EQ(r.fragmentation(0), 0.0);
}

TEST(CountingResource, DirectCallsAreCountedExactly) {
  counting_resource r;
  void* a = r.allocate(100);
  void* b = r.allocate(28, 4);
  void* c = r.allocate(1000, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c) % 64, 0U);
  EXPECT_EQ(r.allocations(), 3U);
  EXPECT_EQ(r.live_bytes(), 1128U);
  EXPECT_EQ(r.peak_live_bytes(), 1128U);
  r.deallocate(c, 1000, 64);
  EXPECT_EQ(r.live_bytes(), 128U);
  EXPECT_EQ(r.peak_live_bytes(), 1128U);
  void* d = r.allocate(50);
  EXPECT_EQ(r.peak_live_bytes(), 1128U);  // 178 < 1128
  r.deallocate(a, 100);
  r.deallocate(b, 28, 4);
  r.deallocate(d, 50);
  const counting_stats s = r.stats();
  EXPECT_EQ(s.allocations, 4U);
  EXPECT_EQ(s.deallocations, 4U);
  EXPECT_EQ(s.live_allocations(), 0U);
  EXPECT_EQ(s.bytes_allocated, 1178U);
  EXPECT_EQ(s.bytes_deallocated, 1178U);
  EXPECT_EQ(s.live_bytes, 0U);
  EXPECT_EQ(s.peak_live_bytes, 1128U);
  EXPECT_EQ(histogram_total(s), 4U);
}

TEST(CountingResource, PmrContainersAreCountedExactly) {
  counting_resource r;
  {
    std::pmr::vector<std::uint32_t> v(&r);
    v.reserve(10);  // exactly one request of 40 bytes
    EXPECT_EQ(r.allocations(), 1U);
    EXPECT_EQ(r.live_bytes(), 40U);
    for (std::uint32_t i = 0; i < 10; ++i) v.push_back(i);
    EXPECT_EQ(r.allocations(), 1U);  // within capacity
    v.reserve(100);                  // a new buffer of 400 bytes, then the old one freed
    EXPECT_EQ(r.allocations(), 2U);
    EXPECT_EQ(r.deallocations(), 1U);
    EXPECT_EQ(r.live_bytes(), 400U);
    EXPECT_EQ(r.peak_live_bytes(), 440U);  // both buffers live during the move

    const std::pmr::string small("short", &r);  // fits the small-string buffer: no allocation
    EXPECT_EQ(small.size(), 5U);
    EXPECT_EQ(r.allocations(), 2U);
    std::pmr::string s(&r);
    s.reserve(100);
    EXPECT_EQ(r.allocations(), 3U);
#ifdef __GLIBCXX__
    EXPECT_EQ(r.live_bytes(), 400U + 101U);  // libstdc++: capacity + 1 for the terminator
#endif
  }
  const counting_stats s = r.stats();
  EXPECT_EQ(s.allocations, 3U);
  EXPECT_EQ(s.deallocations, 3U);
  EXPECT_EQ(s.live_bytes, 0U);
  EXPECT_EQ(s.bytes_allocated, s.bytes_deallocated);
}

TEST(CountingResource, HistogramBucketsAtTheEdges) {
  counting_resource r;
  constexpr std::array<std::size_t, 6> sizes{1, 2, 3, 4, 4096, 4097};
  std::vector<void*> ptrs;
  ptrs.reserve(sizes.size());
  for (const std::size_t n : sizes) ptrs.push_back(r.allocate(n, 1));
  void* zero = r.allocate(0, 1);
  const counting_stats s = r.stats();
  // Bucket k holds the sizes of bit width k.
  std::array<std::uint64_t, size_buckets> expected{};
  expected[0] = 1;   // 0
  expected[1] = 1;   // 1
  expected[2] = 2;   // 2, 3
  expected[3] = 1;   // 4
  expected[13] = 2;  // 4096, 4097
  EXPECT_EQ(s.size_histogram, expected);
  EXPECT_EQ(histogram_total(s), s.allocations);
  for (std::size_t i = 0; i < sizes.size(); ++i) r.deallocate(ptrs[i], sizes[i], 1);
  r.deallocate(zero, 0, 1);
  EXPECT_EQ(r.stats().size_histogram, expected);  // deallocations do not touch it
}

TEST(CountingResource, UpstreamReceivesTheSameCalls) {
  counting_resource inner;
  counting_resource outer(&inner);
  EXPECT_EQ(outer.upstream(), &inner);
  {
    std::pmr::vector<std::pmr::string> v(&outer);
    for (int i = 0; i < 50; ++i) v.emplace_back(std::string(static_cast<std::size_t>(i), 'x'));
    void* p = outer.allocate(4097, 128);
    const counting_stats mid_o = outer.stats();
    const counting_stats mid_i = inner.stats();
    EXPECT_EQ(mid_o.allocations, mid_i.allocations);
    EXPECT_EQ(mid_o.live_bytes, mid_i.live_bytes);
    EXPECT_EQ(mid_o.size_histogram, mid_i.size_histogram);
    outer.deallocate(p, 4097, 128);
  }
  const counting_stats o = outer.stats();
  const counting_stats i = inner.stats();
  EXPECT_GT(o.allocations, 10U);
  EXPECT_EQ(o.allocations, i.allocations);
  EXPECT_EQ(o.deallocations, i.deallocations);
  EXPECT_EQ(o.bytes_allocated, i.bytes_allocated);
  EXPECT_EQ(o.bytes_deallocated, i.bytes_deallocated);
  EXPECT_EQ(o.peak_live_bytes, i.peak_live_bytes);
  EXPECT_EQ(o.size_histogram, i.size_histogram);
  EXPECT_EQ(i.live_bytes, 0U);
}

class failing_resource final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t /*bytes*/, std::size_t /*alignment*/) override {
    throw std::bad_alloc();
  }
  void do_deallocate(void* /*p*/, std::size_t /*bytes*/, std::size_t /*alignment*/) override {}
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

TEST(CountingResource, FailedAllocationIsNotCounted) {
  failing_resource upstream;
  counting_resource r(&upstream);
  EXPECT_THROW((void)r.allocate(64), std::bad_alloc);
  const counting_stats s = r.stats();
  EXPECT_EQ(s.allocations, 0U);
  EXPECT_EQ(s.bytes_allocated, 0U);
  EXPECT_EQ(histogram_total(s), 0U);
}

TEST(CountingResource, EqualityIsIdentity) {
  counting_resource a;
  counting_resource b;
  EXPECT_TRUE(a.is_equal(a));
  EXPECT_FALSE(a.is_equal(b));
  EXPECT_FALSE(a.is_equal(*std::pmr::new_delete_resource()));
  EXPECT_TRUE(std::pmr::polymorphic_allocator<int>(&a) == std::pmr::polymorphic_allocator<int>(&a));
  EXPECT_FALSE(std::pmr::polymorphic_allocator<int>(&a) ==
               std::pmr::polymorphic_allocator<int>(&b));
  static_assert(!std::is_copy_constructible_v<counting_resource>);
  static_assert(!std::is_move_constructible_v<counting_resource>);
}

TEST(CountingResource, ResetPeakMeasuresOnePhase) {
  counting_resource r;
  void* big = r.allocate(10000);
  r.deallocate(big, 10000);
  void* small = r.allocate(100);
  EXPECT_EQ(r.peak_live_bytes(), 10000U);
  r.reset_peak();
  EXPECT_EQ(r.peak_live_bytes(), 100U);
  void* more = r.allocate(300);
  EXPECT_EQ(r.peak_live_bytes(), 400U);
  r.deallocate(more, 300);
  r.deallocate(small, 100);
  EXPECT_EQ(r.peak_live_bytes(), 400U);
}

TEST(CountingResource, FragmentationOfAnArenaLikeClient) {
  counting_resource r;
  // An arena takes a 4 KiB chunk and has handed out 1 KiB of it: 75% is not in use.
  void* chunk = r.allocate(4096, 64);
  EXPECT_EQ(r.reserved_bytes(), 4096U);
  EXPECT_DOUBLE_EQ(r.fragmentation(1024), 0.75);
  EXPECT_DOUBLE_EQ(r.stats().fragmentation(1024), 0.75);
  EXPECT_DOUBLE_EQ(r.fragmentation(4096), 0.0);
  EXPECT_DOUBLE_EQ(r.fragmentation(5000), 0.0);  // clamped: more used than reserved
  EXPECT_DOUBLE_EQ(r.fragmentation(0), 1.0);
  // A second chunk, 3 KiB of it used: (1024 + 3072) / 8192 used.
  void* chunk2 = r.allocate(4096, 64);
  EXPECT_DOUBLE_EQ(r.fragmentation(1024 + 3072), 0.5);
  r.deallocate(chunk2, 4096, 64);
  r.deallocate(chunk, 4096, 64);
  EXPECT_DOUBLE_EQ(r.fragmentation(0), 0.0);  // nothing reserved
}

TEST(CountingResource, FragmentationOfAnObjectPool) {
  struct payload {
    std::uint64_t words[4];
  };
  counting_resource r;
  {
    ferrite::mem::object_pool<payload> pool({.first_chunk_slots = 64, .max_chunk_slots = 64}, &r);
    std::vector<payload*> objs;
    objs.reserve(16);
    for (int i = 0; i < 16; ++i) objs.push_back(pool.create());
    EXPECT_EQ(r.allocations(), 1U);  // one chunk
    const std::uint64_t used = pool.size() * sizeof(payload);
    const std::uint64_t reserved = r.reserved_bytes();
    EXPECT_GE(reserved, 64 * sizeof(payload));  // slots plus the chunk header
    EXPECT_DOUBLE_EQ(r.fragmentation(used),
                     1.0 - static_cast<double>(used) / static_cast<double>(reserved));
    EXPECT_GE(r.fragmentation(used), 0.75);
    for (payload* p : objs) pool.destroy(p);
  }
  EXPECT_EQ(r.live_bytes(), 0U);
}

// The real client: an arena reports its used bytes; the resource knows what it reserved.
TEST(CountingResource, FragmentationOfAnArena) {
  counting_resource r;
  {
    ferrite::mem::arena a({.first_chunk_size = 4096, .max_chunk_size = 4096, .upstream = &r});
    for (int i = 0; i < 100; ++i) (void)a.allocate(100, 8);
    const ferrite::mem::arena_stats st = a.stats();
    EXPECT_EQ(r.reserved_bytes(), st.bytes_reserved);
    EXPECT_GT(r.fragmentation(st.bytes_used), 0.0);
    EXPECT_DOUBLE_EQ(r.fragmentation(st.bytes_used),
                     static_cast<double>(st.waste) / static_cast<double>(st.bytes_reserved));
  }
  EXPECT_EQ(r.live_bytes(), 0U);
}

TEST(CountingResource, PublishesMetricsUnderItsPrefix) {
  namespace fm = ferrite::metrics;
  {
    counting_resource r("test.counting_resource.publish");
    void* a = r.allocate(3);
    void* b = r.allocate(4096);
    void* c = r.allocate(100);
    r.deallocate(b, 4096);
    const fm::snapshot snap = fm::take_snapshot("test.counting_resource.publish.");
#if FERRITE_METRICS
    ASSERT_EQ(snap.size(), 5U);
    const fm::entry* allocs = snap.find("test.counting_resource.publish.allocations");
    const fm::entry* deallocs = snap.find("test.counting_resource.publish.deallocations");
    const fm::entry* bytes = snap.find("test.counting_resource.publish.bytes");
    const fm::entry* live = snap.find("test.counting_resource.publish.live_bytes");
    const fm::entry* size = snap.find("test.counting_resource.publish.size");
    ASSERT_TRUE(allocs && deallocs && bytes && live && size);
    EXPECT_EQ(allocs->kind, fm::metric_kind::counter);
    EXPECT_EQ(allocs->total, 3U);
    EXPECT_EQ(deallocs->total, 1U);
    EXPECT_EQ(bytes->total, 4199U);
    EXPECT_EQ(live->kind, fm::metric_kind::gauge);
    EXPECT_EQ(live->level, 103);
    EXPECT_EQ(size->kind, fm::metric_kind::histogram);
    EXPECT_EQ(size->total, 3U);
    EXPECT_EQ(size->sum, 4199U);
    EXPECT_EQ(size->buckets[2], 1U);   // 3
    EXPECT_EQ(size->buckets[7], 1U);   // 100
    EXPECT_EQ(size->buckets[13], 1U);  // 4096
    EXPECT_NE(snap.to_text().find("test_counting_resource_publish_live_bytes 103"),
              std::string::npos);
#else
    EXPECT_TRUE(snap.empty());
#endif
    r.deallocate(a, 3);
    r.deallocate(c, 100);
  }
  // Destroyed with the resource: the name can be used again.
  EXPECT_TRUE(fm::take_snapshot("test.counting_resource.publish.").empty());
  counting_resource again("test.counting_resource.publish");
  (void)again;
}

TEST(CountingResource, NoPrefixPublishesNothing) {
  namespace fm = ferrite::metrics;
  const std::size_t before = fm::take_snapshot().size();
  counting_resource r;
  r.deallocate(r.allocate(8), 8);
  EXPECT_EQ(fm::take_snapshot().size(), before);
}

// Four threads allocate and free through one resource (and its metrics); once joined, every
// total is exact and the peak lies between the largest single-thread working set and the
// sum of all of them.
TEST(CountingResourceConcurrency, FourThreadsExactTotals) {
  constexpr int thread_count = 4;
  constexpr int rounds = 20000;
  constexpr std::size_t window = 8;  // blocks each thread holds at once, at most
  counting_resource r("test.counting_resource.stress");
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&r, t] {
      std::array<std::pair<void*, std::size_t>, window> held{};
      for (int i = 0; i < rounds; ++i) {
        auto& [p, n] = held[static_cast<std::size_t>(i) % window];
        if (p != nullptr) r.deallocate(p, n, 16);
        n = static_cast<std::size_t>((i * 7 + t) % 512) + 1;  // 1..512 bytes
        p = r.allocate(n, 16);
      }
      for (auto& [p, n] : held) r.deallocate(p, n, 16);
    });
  }
  for (auto& th : threads) th.join();

  std::uint64_t bytes = 0;
  std::array<std::uint64_t, size_buckets> hist{};
  for (int t = 0; t < thread_count; ++t) {
    for (int i = 0; i < rounds; ++i) {
      const std::uint64_t n = static_cast<std::uint64_t>((i * 7 + t) % 512) + 1;
      bytes += n;
      ++hist[ferrite::metrics::bucket_of(n)];
    }
  }
  const counting_stats s = r.stats();
  constexpr std::uint64_t total = std::uint64_t{thread_count} * rounds;
  EXPECT_EQ(s.allocations, total);
  EXPECT_EQ(s.deallocations, total);
  EXPECT_EQ(s.bytes_allocated, bytes);
  EXPECT_EQ(s.bytes_deallocated, bytes);
  EXPECT_EQ(s.live_bytes, 0U);
  EXPECT_EQ(s.size_histogram, hist);
  EXPECT_GE(s.peak_live_bytes, 512U);
  EXPECT_LE(s.peak_live_bytes, std::uint64_t{thread_count} * window * 512);
#if FERRITE_METRICS
  const auto snap = ferrite::metrics::take_snapshot("test.counting_resource.stress.");
  ASSERT_NE(snap.find("test.counting_resource.stress.allocations"), nullptr);
  EXPECT_EQ(snap.find("test.counting_resource.stress.allocations")->total, total);
  EXPECT_EQ(snap.find("test.counting_resource.stress.bytes")->total, bytes);
  EXPECT_EQ(snap.find("test.counting_resource.stress.live_bytes")->level, 0);
  EXPECT_EQ(snap.find("test.counting_resource.stress.size")->total, total);
#endif
}

}  // namespace
