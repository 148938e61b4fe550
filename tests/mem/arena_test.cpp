// SPDX-License-Identifier: Apache-2.0
// Tests of ferrite::mem::arena: alignment and non-overlap of every allocation, destructor
// order on reset/rewind/destruction, make_array counts and exception safety, stats and
// growth policy, overflow, the user buffer, reset's kept chunk, the pmr adapter, and the
// exact traffic to the upstream resource; plus a randomized checkpoint/rewind property test.
#include "ferrite/mem/arena.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory_resource>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferrite/core/metrics.hpp"

namespace {

using ferrite::mem::arena;
using ferrite::mem::arena_stats;

// ---- helpers ------------------------------------------------------------------------------

// Forwards to new/delete and records every block: the exact traffic an arena sends upstream.
class counting_resource final : public std::pmr::memory_resource {
 public:
  ~counting_resource() override { EXPECT_TRUE(live_.empty()) << live_.size() << " blocks leaked"; }
  std::size_t allocations = 0;
  std::size_t deallocations = 0;
  std::size_t bytes_live = 0;
  std::vector<std::size_t> sizes;  // of every allocation, in order

  [[nodiscard]] std::size_t live() const { return live_.size(); }
  [[nodiscard]] bool holds(const void* p) const {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return std::any_of(live_.begin(), live_.end(), [a](const auto& kv) {
      const auto b = reinterpret_cast<std::uintptr_t>(kv.first);
      return a >= b && a < b + kv.second;
    });
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* p = std::pmr::new_delete_resource()->allocate(bytes, alignment);
    ++allocations;
    bytes_live += bytes;
    sizes.push_back(bytes);
    live_.emplace(p, bytes);
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    const auto it = live_.find(p);
    EXPECT_NE(it, live_.end()) << "deallocate of a block not from this resource";
    if (it != live_.end()) {
      EXPECT_EQ(it->second, bytes) << "deallocate with the wrong size";
      live_.erase(it);
    }
    ++deallocations;
    bytes_live -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
  std::unordered_map<void*, std::size_t> live_;
};

struct interval {
  std::uintptr_t begin;
  std::uintptr_t end;
};

// True when no two non-empty intervals overlap.
bool disjoint(std::vector<interval> v) {
  std::erase_if(v, [](const interval& i) { return i.begin == i.end; });
  std::sort(v.begin(), v.end(),
            [](const interval& a, const interval& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i].begin < v[i - 1].end) return false;
  }
  return true;
}

interval span_of(const void* p, std::size_t size) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return {a, a + size};
}

void check_invariants(const arena_stats& s) {
  EXPECT_LE(s.bytes_used, s.bytes_reserved);
  EXPECT_EQ(s.bytes_used + s.waste, s.bytes_reserved);
  EXPECT_LE(s.bytes_available, s.waste);
}

// Logs its id on destruction.
struct logged {
  explicit logged(std::vector<int>* log, int id) : log_(log), id_(id) {}
  logged(const logged&) = delete;
  logged& operator=(const logged&) = delete;
  ~logged() { log_->push_back(id_); }
  std::vector<int>* log_;
  int id_;
};

// Counts constructions and destructions; throws from the constructor number `throw_at`.
struct counted {
  static inline int ctors = 0;
  static inline int dtors = 0;
  static inline int throw_at = -1;
  static inline std::vector<int>* order = nullptr;  // destruction order of `index`
  static void clear() {
    ctors = dtors = 0;
    throw_at = -1;
    order = nullptr;
  }
  counted() : index(ctors) {
    if (ctors == throw_at) throw std::runtime_error("counted");
    ++ctors;
  }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() {
    ++dtors;
    if (order != nullptr) order->push_back(index);
  }
  int index;
  std::uint64_t payload = 0xfeedULL;
};

// ---- allocate -----------------------------------------------------------------------------

TEST(Arena, EveryAlignmentAndRandomSizesAlignedAndDisjoint) {
  counting_resource up;
  {
    arena a({.first_chunk_size = 512, .max_chunk_size = 16384, .upstream = &up});
    std::mt19937_64 rng(42);
    struct block {
      unsigned char* p;
      std::size_t size;
      unsigned char tag;
    };
    std::vector<block> blocks;
    std::vector<interval> spans;
    for (int round = 0; round < 6; ++round) {
      for (std::size_t align = 1; align <= arena::max_alignment; align *= 2) {
        for (int k = 0; k < 60; ++k) {
          std::size_t size = rng() % 200;
          if (rng() % 50 == 0) size = rng() % 40000;  // some bigger than the cap
          auto* p = static_cast<unsigned char*>(a.allocate(size, align));
          ASSERT_NE(p, nullptr);
          ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0U) << "align " << align;
          const auto tag = static_cast<unsigned char>(blocks.size() * 131);
          std::memset(p, tag, size);
          blocks.push_back({p, size, tag});
          spans.push_back(span_of(p, size));
        }
      }
    }
    EXPECT_GT(blocks.size(), 3000U);
    EXPECT_TRUE(disjoint(spans));
    for (const block& b : blocks) {
      for (std::size_t i = 0; i < b.size; ++i) ASSERT_EQ(b.p[i], b.tag);
    }
    check_invariants(a.stats());
  }
  EXPECT_EQ(up.live(), 0U);
}

TEST(Arena, SizeZeroGivesAlignedNonNullPointer) {
  arena empty;
  for (std::size_t align = 1; align <= arena::max_alignment; align *= 2) {
    void* p = empty.allocate(0, align);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0U);
  }
  EXPECT_EQ(empty.stats().chunks, 0U);  // no chunk was needed
  arena a;
  (void)a.allocate(8, 8);
  void* z = a.allocate(0, 64);
  EXPECT_NE(z, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(z) % 64, 0U);
}

TEST(ArenaDeathTest, BadAlignmentIsAContractViolation) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  arena a;
  EXPECT_DEATH((void)a.allocate(8, 3), "power of two");
  EXPECT_DEATH((void)a.allocate(8, 8192), "power of two");
  EXPECT_DEATH((void)a.allocate(8, 0), "power of two");
}

// ---- destructors --------------------------------------------------------------------------

TEST(Arena, DestructorsRunInReverseOnReset) {
  std::vector<int> log;
  arena a;
  for (int i = 1; i <= 5; ++i) (void)a.make<logged>(&log, i);
  EXPECT_TRUE(log.empty());
  a.reset();
  EXPECT_EQ(log, (std::vector<int>{5, 4, 3, 2, 1}));
  a.reset();  // nothing registered any more
  EXPECT_EQ(log.size(), 5U);
}

TEST(Arena, DestructorsRunInReverseOnDestruction) {
  std::vector<int> log;
  {
    arena a({.first_chunk_size = 256, .max_chunk_size = 1024});
    for (int i = 1; i <= 100; ++i) (void)a.make<logged>(&log, i);  // spans many chunks
    EXPECT_GT(a.stats().chunks, 3U);
  }
  ASSERT_EQ(log.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(log[static_cast<std::size_t>(i)], 100 - i);
}

TEST(Arena, DestructorsRunInReverseOnRewind) {
  std::vector<int> log;
  {
    arena a({.first_chunk_size = 256, .max_chunk_size = 512});
    (void)a.make<logged>(&log, 1);
    (void)a.make<logged>(&log, 2);
    const auto cp = a.checkpoint();
    for (int i = 3; i <= 40; ++i) (void)a.make<logged>(&log, i);
    a.rewind(cp);
    ASSERT_EQ(log.size(), 38U);
    for (std::size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i], 40 - static_cast<int>(i));
    log.clear();
    (void)a.make<logged>(&log, 50);
  }
  EXPECT_EQ(log, (std::vector<int>{50, 2, 1}));
}

TEST(Arena, TriviallyDestructibleTypesRegisterNothing) {
  arena a;
  (void)a.make<int>(1);
  const auto used = a.stats().bytes_used;
  (void)a.make<std::uint64_t>(2U);
  EXPECT_EQ(a.stats().bytes_used, used + sizeof(std::uint64_t) + 4);  // 4 bytes of padding
}

TEST(Arena, MakeForwardsArguments) {
  arena a;
  struct point {
    int x;
    int y;
  };
  auto* p = a.make<point>(3, 4);
  EXPECT_EQ(p->x + p->y, 7);
  auto* s =
      a.make<std::string>(std::size_t{40}, 'x');  // non-trivial: destructor registered, no leak
  EXPECT_EQ(*s, std::string(40, 'x'));
}

TEST(Arena, ThrowingConstructorRegistersNothingAndLeaksNothing) {
  counted::clear();
  counting_resource up;
  {
    arena a({.upstream = &up});
    (void)a.make<counted>();
    counted::throw_at = 1;
    EXPECT_THROW((void)a.make<counted>(), std::runtime_error);
    counted::throw_at = -1;
    (void)a.make<counted>();
    EXPECT_EQ(counted::ctors, 2);
    a.reset();
    EXPECT_EQ(counted::dtors, 2);  // not 3: the failed object has no record
    (void)a.make<std::string>(std::size_t{100}, 'y');
  }
  EXPECT_EQ(up.live(), 0U);
}

// ---- make_array ---------------------------------------------------------------------------

TEST(Arena, MakeArrayConstructsAndDestroysEveryElementOnce) {
  counted::clear();
  std::vector<int> order;
  counted::order = &order;
  {
    arena a;
    auto s = a.make_array<counted>(100);
    ASSERT_EQ(s.size(), 100U);
    EXPECT_EQ(counted::ctors, 100);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].index, static_cast<int>(i));
    auto t = a.make_array<counted>(3);
    EXPECT_EQ(t[2].index, 102);
    a.reset();
    EXPECT_EQ(counted::dtors, 103);
    ASSERT_EQ(order.size(), 103U);
    for (std::size_t i = 0; i < order.size(); ++i) {
      EXPECT_EQ(order[i], 102 - static_cast<int>(i));  // newest array first, reverse index
    }
    (void)a.make_array<counted>(7);
  }
  EXPECT_EQ(counted::dtors, 110);
  counted::clear();
}

TEST(Arena, MakeArrayThrowingElementUnwindsInReverse) {
  counted::clear();
  std::vector<int> order;
  counted::order = &order;
  arena a;
  counted::throw_at = 5;
  EXPECT_THROW((void)a.make_array<counted>(10), std::runtime_error);
  EXPECT_EQ(counted::ctors, 5);
  EXPECT_EQ(counted::dtors, 5);
  EXPECT_EQ(order, (std::vector<int>{4, 3, 2, 1, 0}));
  a.reset();
  EXPECT_EQ(counted::dtors, 5);  // no record was registered
  counted::clear();
}

TEST(Arena, MakeArrayValueInitializesAndForOverwriteDoesNot) {
  arena a;
  (void)a.allocate(16, 16);  // the first chunk exists before the checkpoint
  const auto cp = a.checkpoint();
  auto* dirty = static_cast<unsigned char*>(a.allocate(4000, 16));
  std::memset(dirty, 0xAB, 4000);
  a.rewind(cp);  // the same bytes are handed out again
  auto zeros = a.make_array<std::uint32_t>(1000);
  EXPECT_EQ(static_cast<void*>(zeros.data()), static_cast<void*>(dirty));
  EXPECT_TRUE(std::all_of(zeros.begin(), zeros.end(), [](std::uint32_t v) { return v == 0; }));
  auto raw = a.make_array_for_overwrite<std::uint32_t>(16);
  EXPECT_EQ(raw.size(), 16U);
  EXPECT_TRUE(a.make_array<std::string>(0).empty());
}

// ---- overflow -----------------------------------------------------------------------------

TEST(Arena, HugeRequestsThrowBadAllocAndLeaveTheArenaUsable) {
  counting_resource up;
  arena a({.upstream = &up});
  (void)a.allocate(100, 8);
  const arena_stats before = a.stats();
  constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
  EXPECT_THROW((void)a.allocate(max, 1), std::bad_alloc);
  EXPECT_THROW((void)a.allocate(max - 10, 4096), std::bad_alloc);
  EXPECT_THROW((void)a.allocate(max / 2 + 1, 16), std::bad_alloc);
  EXPECT_THROW((void)a.allocate(arena::max_size() + 1, 1), std::bad_alloc);
  EXPECT_THROW((void)a.make_array<std::uint64_t>(max / sizeof(std::uint64_t) + 1),
               std::bad_alloc);  // n * 8 wraps to 0 without the check
  EXPECT_THROW((void)a.make_array<std::uint64_t>(max / 4), std::bad_alloc);
  counted::clear();
  EXPECT_THROW((void)a.make_array<counted>(max / 3), std::bad_alloc);
  EXPECT_EQ(counted::ctors, 0);
  EXPECT_EQ(a.stats(), before);
  EXPECT_EQ(up.allocations, 1U);  // nothing reached upstream
  auto* p = static_cast<char*>(a.allocate(64, 8));
  std::memset(p, 1, 64);
  EXPECT_EQ(a.stats().bytes_used, before.bytes_used + 64);
}

// ---- stats and growth ---------------------------------------------------------------------

TEST(Arena, GrowthDoublesUpToTheCapAndHugeRequestsGetTheirOwnChunk) {
  counting_resource up;
  arena a({.first_chunk_size = 256, .max_chunk_size = 2048, .upstream = &up});
  EXPECT_EQ(a.stats(), arena_stats{});
  while (a.stats().chunks < 6) {
    (void)a.allocate(64, 8);
    check_invariants(a.stats());
  }
  EXPECT_EQ(up.sizes, (std::vector<std::size_t>{256, 512, 1024, 2048, 2048, 2048}));
  EXPECT_EQ(a.stats().bytes_reserved, 256U + 512 + 1024 + 3 * 2048);
  EXPECT_EQ(a.stats().chunks, up.live());

  auto* before = static_cast<std::byte*>(a.allocate(16, 16));
  auto* huge = a.allocate(10000, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(huge) % 64, 0U);
  EXPECT_EQ(a.stats().chunks, 7U);
  EXPECT_GE(up.sizes.back(), 10000U + 32);
  EXPECT_LE(up.sizes.back(), 10000U + 32 + 64);
  // The current chunk keeps serving small requests right below the previous one.
  auto* after = static_cast<std::byte*>(a.allocate(16, 16));
  EXPECT_EQ(after, before - 16);
  check_invariants(a.stats());

  // A request that fits the cap but not the next size grows to the smallest fitting double.
  counting_resource up2;
  arena b({.first_chunk_size = 256, .max_chunk_size = 8192, .upstream = &up2});
  (void)b.allocate(1500, 8);
  EXPECT_EQ(up2.sizes, (std::vector<std::size_t>{2048}));
  (void)b.allocate(1000, 8);
  EXPECT_EQ(up2.sizes, (std::vector<std::size_t>{2048, 4096}));
}

TEST(Arena, StatsCountUsedPaddingAndWaste) {
  arena a({.first_chunk_size = 1024, .max_chunk_size = 1024});
  (void)a.allocate(10, 1);
  (void)a.allocate(8, 8);  // 6 bytes of padding
  arena_stats s = a.stats();
  EXPECT_EQ(s.bytes_used, 24U);
  EXPECT_EQ(s.bytes_reserved, 1024U);
  EXPECT_EQ(s.chunks, 1U);
  EXPECT_EQ(s.bytes_available, 1024U - 32 - 24);
  EXPECT_EQ(s.waste, 1024U - 24);
  (void)a.allocate(900, 1);
  (void)a.allocate(200, 1);  // abandons a tail of 1024 - 32 - 924 = 68 bytes
  s = a.stats();
  EXPECT_EQ(s.chunks, 2U);
  EXPECT_EQ(s.bytes_used, 1124U);
  EXPECT_EQ(s.waste, 2048U - 1124);
  EXPECT_EQ(s.bytes_available, 1024U - 32 - 200);
  check_invariants(s);
}

// ---- checkpoint / rewind ------------------------------------------------------------------

TEST(Arena, RewindRestoresStatsAndReusesMemory) {
  counting_resource up;
  arena a({.first_chunk_size = 256, .max_chunk_size = 1024, .upstream = &up});
  (void)a.allocate(40, 8);
  const auto cp = a.checkpoint();
  const arena_stats at_cp = a.stats();
  const std::size_t upstream_at_cp = up.live();
  void* first = a.allocate(24, 8);
  for (int i = 0; i < 50; ++i) (void)a.allocate(100, 16);
  (void)a.allocate(5000, 8);  // a dedicated chunk
  std::vector<int> log;
  (void)a.make<logged>(&log, 1);
  EXPECT_GT(a.stats().chunks, at_cp.chunks + 3);
  a.rewind(cp);
  EXPECT_EQ(log, std::vector<int>{1});
  EXPECT_EQ(a.stats(), at_cp);
  EXPECT_EQ(up.live(), upstream_at_cp);
  EXPECT_EQ(a.allocate(24, 8), first);
  a.rewind(cp);  // a checkpoint stays valid after a rewind to it
  EXPECT_EQ(a.stats(), at_cp);
  EXPECT_EQ(a.allocate(24, 8), first);
}

TEST(Arena, RewindToACheckpointOfAnEmptyArena) {
  counting_resource up;
  arena a({.upstream = &up});
  const auto cp = a.checkpoint();
  for (int i = 0; i < 1000; ++i) (void)a.allocate(64, 8);
  a.rewind(cp);
  EXPECT_EQ(a.stats(), arena_stats{});
  EXPECT_EQ(up.live(), 0U);
  EXPECT_NE(a.allocate(8, 8), nullptr);
}

TEST(Arena, NestedCheckpointsRewindInLifoOrder) {
  arena a;
  const auto outer = a.checkpoint();
  (void)a.allocate(100, 8);
  const auto inner = a.checkpoint();
  const arena_stats at_inner = a.stats();
  (void)a.allocate(100, 8);
  a.rewind(inner);
  EXPECT_EQ(a.stats(), at_inner);
  a.rewind(outer);
  EXPECT_EQ(a.stats().bytes_used, 0U);
  {
    ferrite::mem::arena_scope scope(a);
    (void)a.allocate(500, 8);
  }
  EXPECT_EQ(a.stats().bytes_used, 0U);
}

TEST(ArenaDeathTest, StaleCheckpointIsAContractViolation) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        arena a;
        const auto outer = a.checkpoint();
        const auto inner = a.checkpoint();
        a.rewind(outer);
        a.rewind(inner);  // discarded by the rewind to outer
      },
      "stale checkpoint");
  EXPECT_DEATH(
      {
        arena a;
        const auto outer = a.checkpoint();
        const auto inner = a.checkpoint();
        a.rewind(outer);
        (void)a.checkpoint();  // same depth as inner, another id
        a.rewind(inner);
      },
      "stale checkpoint");
  EXPECT_DEATH(
      {
        arena a;
        const auto cp = a.checkpoint();
        a.reset();
        a.rewind(cp);
      },
      "stale checkpoint");
  EXPECT_DEATH(
      {
        arena a;
        arena b;
        a.rewind(b.checkpoint());
      },
      "another arena");
}

// Random allocations, checkpoints and rewinds against a model: after each rewind the stats
// equal those at the checkpoint, and the surviving blocks are disjoint and intact.
TEST(Arena, RandomCheckpointRewindProperty) {
  counting_resource up;
  arena a({.first_chunk_size = 256, .max_chunk_size = 4096, .upstream = &up});
  std::mt19937_64 rng(7);
  struct block {
    unsigned char* p;
    std::size_t size;
    unsigned char tag;
  };
  struct level {
    ferrite::mem::arena_checkpoint cp;
    arena_stats stats;
    std::size_t blocks;
  };
  std::vector<block> live;
  std::vector<level> stack;
  for (int step = 0; step < 20000; ++step) {
    const auto op = rng() % 100;
    if (op < 80) {
      const std::size_t size = rng() % 4 == 0 ? rng() % 6000 : rng() % 64;
      const std::size_t align = std::size_t{1} << (rng() % 8);
      auto* p = static_cast<unsigned char*>(a.allocate(size, align));
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0U);
      const auto tag = static_cast<unsigned char>(step);
      std::memset(p, tag, size);
      live.push_back({p, size, tag});
    } else if (op < 90) {
      stack.push_back({a.checkpoint(), a.stats(), live.size()});
    } else if (!stack.empty()) {
      const std::size_t to = rng() % stack.size();
      a.rewind(stack[to].cp);
      ASSERT_EQ(a.stats(), stack[to].stats) << "step " << step;
      live.resize(stack[to].blocks);
      stack.erase(stack.begin() + static_cast<std::ptrdiff_t>(to) + 1, stack.end());  // cp stays
    }
    check_invariants(a.stats());
    ASSERT_EQ(a.stats().chunks, up.live());
  }
  std::vector<interval> spans;
  for (const block& b : live) {
    spans.push_back(span_of(b.p, b.size));
    for (std::size_t i = 0; i < b.size; ++i) ASSERT_EQ(b.p[i], b.tag);
  }
  EXPECT_TRUE(disjoint(spans));
}

// ---- reset, release, user buffer ----------------------------------------------------------

TEST(Arena, ResetKeepsTheLargestChunk) {
  counting_resource up;
  arena a({.first_chunk_size = 256, .max_chunk_size = 4096, .upstream = &up});
  for (int i = 0; i < 200; ++i) (void)a.allocate(100, 8);
  const std::size_t largest = *std::max_element(up.sizes.begin(), up.sizes.end());
  EXPECT_EQ(largest, 4096U);
  const std::size_t allocations = up.allocations;
  a.reset();
  EXPECT_EQ(a.stats().bytes_reserved, largest);
  EXPECT_EQ(a.stats().chunks, 1U);
  EXPECT_EQ(a.stats().bytes_used, 0U);
  EXPECT_EQ(up.live(), 1U);
  for (int i = 0; i < 40; ++i) (void)a.allocate(100, 4);  // 4000 bytes: the kept chunk
  EXPECT_EQ(up.allocations, allocations);

  (void)a.allocate(100000, 8);  // a dedicated chunk is the largest now: it is kept
  a.reset();
  EXPECT_EQ(a.stats().chunks, 1U);
  EXPECT_GE(a.stats().bytes_reserved, 100000U);
  (void)a.allocate(90000, 8);
  EXPECT_EQ(a.stats().chunks, 1U);

  a.release();
  EXPECT_EQ(a.stats(), arena_stats{});
  EXPECT_EQ(up.live(), 0U);
  (void)a.allocate(8, 8);
  EXPECT_EQ(up.sizes.back(), 256U);  // growth restarted
}

TEST(Arena, UserBufferIsUsedFirstAndNeverFreed) {
  counting_resource up;
  alignas(64) std::array<std::byte, 1024> buffer{};
  const auto inside = [&](const void* p) {
    const auto* b = static_cast<const std::byte*>(p);
    return b >= buffer.data() && b < buffer.data() + buffer.size();
  };
  {
    arena a(buffer, {.first_chunk_size = 2048, .max_chunk_size = 8192, .upstream = &up});
    EXPECT_EQ(a.stats().chunks, 1U);
    EXPECT_EQ(a.stats().bytes_reserved, buffer.size());
    for (int i = 0; i < 15; ++i) EXPECT_TRUE(inside(a.allocate(64, 8)));
    EXPECT_EQ(up.allocations, 0U);
    EXPECT_FALSE(inside(a.allocate(64, 8)));  // 1024 - 32 - 15 * 64 = 32 bytes left
    EXPECT_EQ(up.allocations, 1U);
    EXPECT_EQ(up.sizes.back(), 2048U);

    a.reset();  // the buffer is current again; the 2048-byte chunk is kept as the spare
    EXPECT_EQ(a.stats().bytes_reserved, 1024U + 2048);
    EXPECT_EQ(a.stats().chunks, 2U);
    EXPECT_EQ(up.live(), 1U);
    EXPECT_TRUE(inside(a.allocate(64, 8)));

    const auto cp = a.checkpoint();
    const arena_stats at_cp = a.stats();
    for (int i = 0; i < 40; ++i) (void)a.allocate(64, 8);  // the buffer, then the spare
    EXPECT_EQ(up.allocations, 1U);
    a.rewind(cp);  // the spare goes back to being the spare
    EXPECT_EQ(a.stats(), at_cp);
    EXPECT_EQ(up.live(), 1U);

    a.release();  // only the user buffer is kept
    EXPECT_EQ(a.stats().bytes_reserved, 1024U);
    EXPECT_EQ(up.live(), 0U);
    EXPECT_TRUE(inside(a.allocate(64, 8)));
  }
  EXPECT_EQ(up.live(), 0U);  // the buffer was never handed to upstream
}

TEST(Arena, UserBufferLargerThanEveryChunkIsAllThatResetKeeps) {
  counting_resource up;
  std::vector<std::byte> buffer(std::size_t{64} * 1024);
  arena a(buffer, {.first_chunk_size = 256, .max_chunk_size = 1024, .upstream = &up});
  for (int i = 0; i < 2000; ++i) (void)a.allocate(64, 8);
  EXPECT_GT(up.live(), 0U);
  a.reset();
  EXPECT_EQ(up.live(), 0U);
  EXPECT_EQ(a.stats().chunks, 1U);
}

TEST(Arena, MisalignedUserBufferIsAlignedForTheHeader) {
  alignas(16) std::array<std::byte, 512> storage{};
  arena a(std::span<std::byte>(storage).subspan(3), {});
  auto* p = a.allocate(16, 16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0U);
  EXPECT_GE(static_cast<std::byte*>(p), storage.data() + 3 + 32);
  EXPECT_LT(static_cast<std::byte*>(p), storage.data() + storage.size());
}

// ---- copy and pmr -------------------------------------------------------------------------

TEST(Arena, CopyIsNulTerminated) {
  arena a;
  std::string source = "hello, arena";
  const std::string_view v = a.copy(source);
  source[0] = 'J';
  EXPECT_EQ(v, "hello, arena");
  EXPECT_EQ(v.data()[v.size()], '\0');
  // The point of the test: data() is NUL-terminated.
  // NOLINTNEXTLINE(bugprone-suspicious-stringview-data-usage)
  EXPECT_EQ(std::strlen(v.data()), v.size());
  const std::string_view e = a.copy({});
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.data()[0], '\0');
}

TEST(Arena, PmrContainersAllocateThroughTheAdapter) {
  counting_resource up;
  {
    arena a({.upstream = &up});
    std::pmr::memory_resource* r = a.resource();
    EXPECT_TRUE(r->is_equal(*a.resource()));
    EXPECT_FALSE(r->is_equal(*std::pmr::new_delete_resource()));
    std::pmr::vector<int> v(r);
    for (int i = 0; i < 10000; ++i) v.push_back(i);
    std::pmr::string s("a string long enough to leave the small buffer", r);
    std::pmr::map<int, std::pmr::string> m(r);
    for (int i = 0; i < 500; ++i) m.emplace(i, std::pmr::string(std::string(40, 'k'), r));
    EXPECT_EQ(v[9999], 9999);
    EXPECT_EQ(m.at(499).size(), 40U);
    EXPECT_EQ(m.at(7).get_allocator().resource(), r);
    EXPECT_GT(a.stats().bytes_used, 10000 * sizeof(int));
    EXPECT_TRUE(up.holds(v.data()));
    EXPECT_TRUE(up.holds(s.data()));
  }  // containers die first (declared later), deallocate is a no-op
  EXPECT_EQ(up.live(), 0U);
}

TEST(Arena, UpstreamSeesExactlyTheChunks) {
  counting_resource up;
  {
    arena a({.first_chunk_size = 512, .max_chunk_size = 4096, .upstream = &up});
    EXPECT_EQ(up.allocations, 0U);  // lazily: no chunk before the first allocation
    for (int i = 0; i < 300; ++i) (void)a.allocate(48, 16);
    (void)a.allocate(9000, 8);
    (void)a.copy("text");
    const arena_stats s = a.stats();
    EXPECT_EQ(up.allocations, s.chunks);
    EXPECT_EQ(up.deallocations, 0U);
    EXPECT_EQ(up.bytes_live, s.bytes_reserved);
    EXPECT_EQ(a.upstream(), &up);
  }
  EXPECT_EQ(up.deallocations, up.allocations);
  EXPECT_EQ(up.bytes_live, 0U);
}

#if FERRITE_METRICS
TEST(Arena, ChunkMetricsCountUpstreamTraffic) {
  const auto read = [](std::string_view name) -> std::uint64_t {
    const auto snap = ferrite::metrics::take_snapshot("mem.arena.");
    const ferrite::metrics::entry* e = snap.find(name);
    return e != nullptr ? e->total : 0;
  };
  const std::uint64_t chunks = read("mem.arena.chunks_allocated");
  const std::uint64_t bytes = read("mem.arena.chunk_bytes_allocated");
  const std::uint64_t dedicated = read("mem.arena.dedicated_chunks");
  {
    arena a({.first_chunk_size = 1024, .max_chunk_size = 1024});
    (void)a.allocate(800, 8);
    (void)a.allocate(800, 8);
    (void)a.allocate(5000, 8);
  }
  EXPECT_EQ(read("mem.arena.chunks_allocated"), chunks + 3);
  EXPECT_EQ(read("mem.arena.chunk_bytes_allocated"), bytes + 1024 + 1024 + 5040);  // 32 + 5000, x16
  EXPECT_EQ(read("mem.arena.dedicated_chunks"), dedicated + 1);
}
#endif

TEST(Arena, DefaultUpstreamIsNewDelete) {
  arena a;
  EXPECT_EQ(a.upstream(), std::pmr::new_delete_resource());
}

}  // namespace
