// SPDX-License-Identifier: Apache-2.0
// rt::allocate_frame / deallocate_frame: steady state without operator new (raw frames of
// mixed sizes, and a real generator coroutine whose promise derives from recycled_frame),
// frames freed on other threads going back to their home (mpmc_queue hand-off, patterns
// checked, the home gets exactly its own frames back and reuses them without operator new),
// frames outliving their thread and a new thread adopting its cache, threads coming and going
// while frames cross them, the limit, big frames, and 16-byte alignment for every size.
//
// This file is built twice (tests/rt/CMakeLists.txt): rt_frame_allocator_test with
// FERRITE_RT_FRAME_CACHE=1 (suite FrameAllocator; the cache even under ASan, so ASan checks the
// cache's own code) and rt_frame_allocator_bypass_test with FERRITE_RT_FRAME_CACHE=0 (suite
// FrameAllocatorBypassed): there the same steady-state loops must count exactly one operator
// new per frame, which shows that the counter below would see the frames the cached build
// claims it does not allocate.
#include "ferrite/rt/frame_allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <latch>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/core/platform.hpp"
#include "ferrite/sync/mpmc_queue.hpp"

// ---- a counting global operator new -----------------------------------------------------
// Every global operator new of this binary is counted, per thread (what the tests read: the
// count of the thread that allocates, unaffected by other threads) and in total.
namespace {
std::atomic<std::uint64_t> g_news{0};
constinit thread_local std::uint64_t t_news = 0;
constinit thread_local std::size_t t_last_new_size = 0;

void* counted_malloc(std::size_t n) {
  ++t_news;
  t_last_new_size = n;
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* counted_aligned(std::size_t n, std::align_val_t al) {
  ++t_news;
  t_last_new_size = n;
  g_news.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(al);
  return std::aligned_alloc(a, (n + a - 1) / a * a + (n == 0 ? a : 0));
}
// Out of line: GCC would otherwise see free() called on an inlined operator new's result
// (-Wmismatched-new-delete), although this very file made operator new malloc.
[[gnu::noinline]] void counted_free(void* p) noexcept { std::free(p); }
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  return counted_malloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  return counted_malloc(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) {
  if (void* p = counted_aligned(n, al)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t& /*tag*/) noexcept {
  return counted_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t& /*tag*/) noexcept {
  return counted_aligned(n, al);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t /*al*/) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t /*al*/) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t /*n*/, std::align_val_t /*al*/) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t /*n*/, std::align_val_t /*al*/) noexcept {
  counted_free(p);
}
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t /*al*/, const std::nothrow_t& /*tag*/) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::align_val_t /*al*/, const std::nothrow_t& /*tag*/) noexcept {
  counted_free(p);
}

#if FERRITE_RT_FRAME_CACHE
#define FRAME_SUITE FrameAllocator
#else
#define FRAME_SUITE FrameAllocatorBypassed
#endif

namespace {

namespace rt = ferrite::rt;
namespace detail = ferrite::rt::detail;

constexpr bool cached = rt::frame_cache_enabled;
constexpr bool metrics_on = FERRITE_METRICS != 0;

// ---- helpers --------------------------------------------------------------------------------

/// Writes a pattern derived from `tag` over a frame's `n` bytes.
void fill(void* p, std::size_t n, std::uint64_t tag) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(tag * 131U + i * 7U);
}

/// Whether a frame still holds fill()'s pattern for `tag`.
bool holds(const void* p, std::size_t n, std::uint64_t tag) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != static_cast<unsigned char>(tag * 131U + i * 7U)) return false;
  }
  return true;
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

/// Runs `fn` on a new thread and joins it: the thread starts with an empty cache (adopted or
/// new), whatever earlier tests of this process left in the main thread's.
template <class Fn>
void on_fresh_thread(Fn fn) {
  std::thread t(std::move(fn));
  t.join();
}

/// Attaches this thread's metric slots (their first use on a thread allocates), so that a
/// measured region counts only the allocator's own operator new calls.
void touch_metrics() {
  detail::frames_from_cache.add(0);
  detail::frames_from_heap.add(0);
  detail::remote_frees.add(0);
  detail::over_limit_frees.add(0);
  detail::orphan_frees.add(0);
}

/// A metric's total now (0 with FERRITE_METRICS=0), with this thread's batched cache hits
/// reported first.
template <class Metric>
std::uint64_t total(const Metric& m) {
  if constexpr (cached) detail::report_frame_metrics();
  return m.value();
}

// ---- a generator-like coroutine whose frames come from the allocator ------------------------

class int_generator {
 public:
  struct promise_type : rt::recycled_frame {
    int current = 0;
    int_generator get_return_object() noexcept {
      return int_generator{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(int v) noexcept {
      current = v;
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };

  int_generator(int_generator&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  int_generator(const int_generator&) = delete;
  int_generator& operator=(const int_generator&) = delete;
  int_generator& operator=(int_generator&&) = delete;
  ~int_generator() {
    if (h_) h_.destroy();
  }

  /// Runs to the next co_yield; false at the end.
  bool next() {
    h_.resume();
    return !h_.done();
  }
  [[nodiscard]] int value() const { return h_.promise().current; }

 private:
  explicit int_generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

/// Yields 1..n through a Pad-byte local that lives across the suspensions, so the frame is
/// at least Pad bytes. Not inlined: an inlined coroutine whose handle does not escape may have
/// its allocation elided (clang's HALO), which would hide the frame from both counters.
template <std::size_t Pad>
[[gnu::noinline]] int_generator count_to(int n) {
  std::array<unsigned char, Pad> scratch{};
  for (std::size_t i = 0; i < Pad; ++i) scratch[i] = static_cast<unsigned char>(i);
  for (int i = 1; i <= n; ++i) {
    co_yield i + scratch[static_cast<std::size_t>(i) % Pad] -
        static_cast<int>(static_cast<unsigned char>(static_cast<std::size_t>(i) % Pad));
  }
}

/// Sum of count_to<Pad>(n)'s values, which must be n(n+1)/2.
template <std::size_t Pad>
int run_generator(int n) {
  int_generator g = count_to<Pad>(n);
  int sum = 0;
  while (g.next()) sum += g.value();
  return sum;
}

// ---- size classes and alignment --------------------------------------------------------------

TEST(FRAME_SUITE, SizeClassesHoldFrameAndHeaderWithinOneStep) {
  for (std::size_t b = 0; b <= rt::max_cached_frame; ++b) {
    const std::uint32_t c = detail::frame_class_of(b);
    ASSERT_LT(c, detail::frame_classes) << b;
    ASSERT_GE(detail::frame_class_size(c), b + detail::frame_header_size) << b;
    if (c > 0) {  // the smallest class that fits
      ASSERT_LT(detail::frame_class_size(c - 1), b + detail::frame_header_size) << b;
    }
  }
}

TEST(FRAME_SUITE, EveryFrameIsSixteenByteAlignedAndWritable) {
  std::vector<std::size_t> sizes;
  for (std::size_t b = 0; b <= 2048; ++b) sizes.push_back(b);
  for (std::size_t b = 2049; b <= rt::max_cached_frame + 64; b += 15) sizes.push_back(b);
  for (std::size_t b : {rt::max_cached_frame, rt::max_cached_frame + 1, std::size_t{1} << 20}) {
    sizes.push_back(b);
  }
  for (int round = 0; round < 2; ++round) {  // the second round reuses cached frames
    for (const std::size_t b : sizes) {
      void* p = rt::allocate_frame(b);
      ASSERT_TRUE(aligned16(p)) << b << " bytes at " << p;
      fill(p, b, b);  // every byte is ours (ASan checks the block's end)
      ASSERT_TRUE(holds(p, b, b));
      rt::deallocate_frame(p, b);
    }
  }
}

// A debug build checks the header on free: a wrong size (another size class) is reported.
TEST(FRAME_SUITE, WrongSizeOnFreeIsCaughtInDebugBuilds) {
  if (!cached || FERRITE_DEBUG == 0) GTEST_SKIP() << "needs the cache and FERRITE_DEBUG=1";
  void* p = rt::allocate_frame(100);
  EXPECT_DEATH(rt::deallocate_frame(p, 1000), "not a frame of allocate_frame");
  rt::deallocate_frame(p, 100);
}

// ---- steady state -----------------------------------------------------------------------------

// Frame sizes of one round: typical coroutine frames, then a few KiB; `live` frames of each
// alive at once, freed in an order other than LIFO. All of them (header and class rounding
// included) fit the per-thread limit, so a round after the first is served from the cache.
constexpr std::array<std::size_t, 12> mixed_sizes{24,   100,  200,  256,  300,   500,
                                                  1000, 1500, 3000, 6000, 12000, 200};
constexpr std::size_t live = 4;

static_assert([] {
  std::size_t bytes = 0;
  for (const std::size_t b : mixed_sizes) {
    bytes += live * detail::frame_class_size(detail::frame_class_of(b));
  }
  return bytes <= rt::frame_cache_limit;
}());

void mixed_round(std::uint64_t round) {
  std::array<void*, mixed_sizes.size() * live> frames{};
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::size_t b = mixed_sizes[i % mixed_sizes.size()];
    frames[i] = rt::allocate_frame(b);
    fill(frames[i], std::min<std::size_t>(b, 64), round + i);
  }
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const std::size_t i = (k * 7) % frames.size();  // 7 is coprime to 48: a permutation
    const std::size_t b = mixed_sizes[i % mixed_sizes.size()];
    EXPECT_TRUE(holds(frames[i], std::min<std::size_t>(b, 64), round + i));
    rt::deallocate_frame(frames[i], b);
  }
}

// After one warm-up round, rounds of mixed-size frames call operator new zero times; in the
// bypassed build, exactly once per frame (the counter sees frames that come from the heap).
TEST(FRAME_SUITE, SteadyStateCallsNoOperatorNew) {
  on_fresh_thread([] {
    mixed_round(0);  // warm-up: fills the lists (and this thread's metric slots)
    constexpr std::uint64_t rounds = 1000;
    const std::uint64_t from_cache = total(detail::frames_from_cache);
    const std::uint64_t before = t_news;
    for (std::uint64_t r = 1; r <= rounds; ++r) mixed_round(r);
    const std::uint64_t news = t_news - before;
    const std::uint64_t frames = rounds * mixed_sizes.size() * live;
    EXPECT_EQ(news, cached ? 0 : frames) << "operator new calls in " << frames << " frames";
    if (metrics_on && cached) {
      EXPECT_EQ(total(detail::frames_from_cache) - from_cache, frames);
    }
  });
}

// The same with a real coroutine: generators whose promise derives from recycled_frame.
TEST(FRAME_SUITE, SteadyStateCoroutinesCallNoOperatorNew) {
  on_fresh_thread([] {
    auto round = [] {
      int sum = 0;
      sum += run_generator<16>(5);
      sum += run_generator<200>(5);
      sum += run_generator<600>(5);
      sum += run_generator<3000>(5);
      return sum;
    };
    ASSERT_EQ(round(), 4 * 15);  // warm-up
    constexpr std::uint64_t rounds = 1000;
    const std::uint64_t from_cache = total(detail::frames_from_cache);
    const std::uint64_t from_heap = total(detail::frames_from_heap);
    const std::uint64_t before = t_news;
    for (std::uint64_t r = 0; r < rounds; ++r) ASSERT_EQ(round(), 4 * 15);
    const std::uint64_t news = t_news - before;
    EXPECT_EQ(news, cached ? 0 : 4 * rounds)
        << "operator new calls in " << 4 * rounds << " coroutine frames";
    if (metrics_on) {  // every frame went through allocate_frame (from the cache if cached)
      EXPECT_EQ(total(detail::frames_from_cache) - from_cache, cached ? 4 * rounds : 0);
      EXPECT_EQ(total(detail::frames_from_heap) - from_heap, cached ? 0 : 4 * rounds);
    }
  });
}

// ---- the limit and big frames -------------------------------------------------------------

// A thread caches at most frame_cache_limit bytes: frees past it go to the heap, and the next
// allocations beyond the cached ones come from the heap again.
TEST(FRAME_SUITE, FreesPastTheLimitGoBackToTheHeap) {
  on_fresh_thread([] {
    constexpr std::size_t bytes = 12000;  // the 16 KiB class
    constexpr std::size_t fit = rt::frame_cache_limit / 16384;
    constexpr std::size_t extra = 5;
    std::array<void*, fit + extra> frames{};
    for (void*& p : frames) p = rt::allocate_frame(bytes);
    const std::uint64_t over = total(detail::over_limit_frees);
    for (void* p : frames) rt::deallocate_frame(p, bytes);
    if (metrics_on && cached) {
      EXPECT_EQ(total(detail::over_limit_frees) - over, extra);
    }
    const std::uint64_t before = t_news;
    for (void*& p : frames) p = rt::allocate_frame(bytes);
    EXPECT_EQ(t_news - before, cached ? extra : fit + extra);
    for (void* p : frames) rt::deallocate_frame(p, bytes);
  });
}

// Frames above max_cached_frame are one operator new of exactly their size (no header).
TEST(FRAME_SUITE, BigFramesComeStraightFromTheHeap) {
  touch_metrics();
  for (const std::size_t b : {rt::max_cached_frame + 1, std::size_t{65536}, std::size_t{1} << 20}) {
    const std::uint64_t before = t_news;
    void* p = rt::allocate_frame(b);
    EXPECT_EQ(t_news - before, 1U) << b;
    EXPECT_EQ(t_last_new_size, b) << "a big frame carries no header";
    EXPECT_TRUE(aligned16(p));
    fill(p, b, 3);
    EXPECT_TRUE(holds(p, b, 3));
    rt::deallocate_frame(p, b);
  }
  // The largest cached size, by contrast, is served from the cache once warm.
  on_fresh_thread([] {
    rt::deallocate_frame(rt::allocate_frame(rt::max_cached_frame), rt::max_cached_frame);
    const std::uint64_t before = t_news;
    rt::deallocate_frame(rt::allocate_frame(rt::max_cached_frame), rt::max_cached_frame);
    EXPECT_EQ(t_news - before, cached ? 0U : 1U);
  });
}

// ---- cross-thread ----------------------------------------------------------------------------

struct message {
  void* frame;
  std::uint32_t bytes;
  std::uint32_t producer;
  std::uint64_t tag;
};

// Producers allocate frames and hand them through an mpmc_queue to consumers, which check the
// pattern, the frame's home and that no frame arrives twice, and free them. Between rounds,
// each producer allocates the same sizes again: it gets back exactly the frames it allocated
// in the first round (none lost, none duplicated, none kept by another thread), without a
// single operator new.
TEST(FRAME_SUITE, RemoteFreesReturnToTheirHomeAndAreReused) {
  constexpr std::uint32_t producers = 3;
  constexpr std::uint32_t consumers = 2;
  constexpr std::uint32_t per_producer = 300;
  constexpr std::uint32_t rounds = 20;
  constexpr std::uint32_t per_round = producers * per_producer;
  constexpr std::array<std::uint32_t, 6> sizes{40, 120, 200, 264, 500, 900};

  ferrite::sync::mpmc_queue<message> queue(1024);
  std::array<const detail::frame_cache*, producers> homes{};
  std::vector<std::atomic<std::uint8_t>> seen(std::size_t{rounds} * per_round);
  std::array<std::atomic<std::uint32_t>, rounds> taken{};
  std::atomic<std::uint32_t> failures{0};
  std::barrier round_done(producers + consumers);
  const std::uint64_t remote_before = total(detail::remote_frees);

  auto producer = [&](std::uint32_t id) {
    std::vector<void*> first(per_producer);
    std::vector<void*> now(per_producer);
    for (std::uint32_t r = 0; r < rounds; ++r) {
      const std::uint64_t before = t_news;
      for (std::uint32_t i = 0; i < per_producer; ++i) {
        const std::uint32_t b = sizes[i % sizes.size()];
        now[i] = rt::allocate_frame(b);
      }
      const std::uint64_t news = t_news - before;
      if (r == 0) {
        first = now;
        homes[id] = detail::this_thread_frame_cache();
      } else if (cached) {
        EXPECT_EQ(news, 0U) << "producer " << id << ", round " << r;
        std::vector<void*> a = first;
        std::vector<void*> b = now;
        std::ranges::sort(a);
        std::ranges::sort(b);
        EXPECT_EQ(a, b) << "producer " << id << " did not get its own frames back, round " << r;
      }
      for (std::uint32_t i = 0; i < per_producer; ++i) {
        const std::uint32_t b = sizes[i % sizes.size()];
        if (cached && detail::frame_home(now[i]) != homes[id]) failures.fetch_add(1);
        const std::uint64_t tag = (std::uint64_t{r} * producers + id) * per_producer + i;
        fill(now[i], b, tag);
        queue.push(message{now[i], b, id, tag});
      }
      round_done.arrive_and_wait();  // the consumers freed every frame of the round
    }
  };
  auto consumer = [&] {
    for (std::uint32_t r = 0; r < rounds; ++r) {
      while (taken[r].fetch_add(1, std::memory_order_relaxed) < per_round) {
        const message m = queue.pop();
        const std::uint64_t index = m.tag;  // unique across rounds and producers
        if (seen[index].exchange(1, std::memory_order_relaxed) != 0) failures.fetch_add(1);
        if (!holds(m.frame, m.bytes, m.tag)) failures.fetch_add(1);
        if (cached && detail::frame_home(m.frame) != homes[m.producer]) failures.fetch_add(1);
        rt::deallocate_frame(m.frame, m.bytes);
      }
      round_done.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(producers + consumers);
  for (std::uint32_t p = 0; p < producers; ++p) threads.emplace_back(producer, p);
  for (std::uint32_t c = 0; c < consumers; ++c) threads.emplace_back(consumer);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0U) << "patterns, homes or duplicate deliveries";
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1U) << "a frame was never delivered";
  if (metrics_on && cached) {
    EXPECT_EQ(total(detail::remote_frees) - remote_before, std::uint64_t{rounds} * per_round);
  }
}

// ---- thread exit ---------------------------------------------------------------------------

// A thread allocates frames, gets some freed back remotely while it lives, frees some itself,
// and exits with the rest alive on the main thread. They stay valid (the pattern holds; under
// ASan a freed block would be reported), their home is the exited thread's cache, and freeing
// them goes to the heap. A new thread then adopts that cache instead of creating one, and finds
// it empty: the exit hook gave everything back.
TEST(FRAME_SUITE, FramesOutliveTheirThreadThenANewThreadAdoptsItsCache) {
  constexpr std::size_t count = 60;
  constexpr std::array<std::size_t, 4> sizes{64, 256, 700, 5000};
  std::array<void*, count> frames{};
  const detail::frame_cache* home = nullptr;
  std::latch handed_over(1);
  std::latch remote_freed(1);

  const std::uint64_t remote_before = total(detail::remote_frees);
  std::thread owner([&] {
    for (std::size_t i = 0; i < count; ++i) {
      frames[i] = rt::allocate_frame(sizes[i % sizes.size()]);
      fill(frames[i], sizes[i % sizes.size()], i);
    }
    home = detail::this_thread_frame_cache();
    handed_over.count_down();
    remote_freed.wait();  // the main thread freed frames [0, count / 3) while we live
    for (std::size_t i = count / 3; i < 2 * count / 3; ++i) {
      rt::deallocate_frame(frames[i], sizes[i % sizes.size()]);  // local frees
    }
  });
  handed_over.wait();
  for (std::size_t i = 0; i < count / 3; ++i) {
    ASSERT_TRUE(holds(frames[i], sizes[i % sizes.size()], i));
    rt::deallocate_frame(frames[i], sizes[i % sizes.size()]);  // remote: the owner is alive
  }
  remote_freed.count_down();
  owner.join();  // exits with frames [2 * count / 3, count) alive here

  const std::uint64_t orphans_before = total(detail::orphan_frees);
  for (std::size_t i = 2 * count / 3; i < count; ++i) {
    EXPECT_TRUE(holds(frames[i], sizes[i % sizes.size()], i)) << "frame " << i;
    if (cached) {
      EXPECT_EQ(detail::frame_home(frames[i]), home);
    }
    rt::deallocate_frame(frames[i], sizes[i % sizes.size()]);
  }
  if (metrics_on && cached) {
    EXPECT_EQ(total(detail::remote_frees) - remote_before, count / 3);
    EXPECT_EQ(total(detail::orphan_frees) - orphans_before, count - 2 * count / 3);
  }

  const std::size_t caches = detail::frame_caches_created();
  std::thread next([&] {
    std::array<void*, count> mine{};
    touch_metrics();
    const std::uint64_t before = t_news;
    for (std::size_t i = 0; i < count; ++i) mine[i] = rt::allocate_frame(sizes[i % 4]);
    const std::uint64_t news = t_news - before;
    const detail::frame_cache* adopted = detail::this_thread_frame_cache();
    if (cached) {
      // One operator new per frame: the adopted cache holds nothing (and no new cache was
      // created: checked below).
      EXPECT_EQ(news, count);
      EXPECT_NE(adopted, nullptr);
      for (void* p : mine) EXPECT_EQ(detail::frame_home(p), adopted);
    }
    for (std::size_t i = 0; i < count; ++i) rt::deallocate_frame(mine[i], sizes[i % 4]);
  });
  next.join();
  EXPECT_EQ(detail::frame_caches_created(), caches) << "the new thread created a cache";
}

// Allocations from a thread_local destructor that runs after the exit hook still work (a
// headered heap frame with no home), and so do frees there.
TEST(FRAME_SUITE, AllocationsAfterTheExitHookGoToTheHeap) {
  struct late_user {
    std::size_t bytes = 0;
    late_user() = default;
    late_user(const late_user&) = delete;
    late_user& operator=(const late_user&) = delete;
    ~late_user() {
      void* p = rt::allocate_frame(bytes);
      fill(p, bytes, 9);
      if (cached) {
        EXPECT_EQ(detail::frame_home(p), nullptr);
      }
      EXPECT_TRUE(holds(p, bytes, 9));
      rt::deallocate_frame(p, bytes);
    }
  };
  std::thread t([] {
    // Constructed before the cache's exit hook, so destroyed after it.
    static thread_local late_user user;
    user.bytes = 300;
    rt::deallocate_frame(rt::allocate_frame(300), 300);
  });
  t.join();
}

// Short-lived threads, three at a time and overlapping, each allocating frames, pushing them
// to a shared queue, then popping as many (its own, a live thread's, or an exited one's) and
// freeing them: local, remote and orphan frees race with exits and adoptions. Every pattern
// holds, and no more caches exist than threads that were alive at once.
TEST(FRAME_SUITE, ThreadsComeAndGoWhileFramesCrossThem) {
  constexpr int spawners = 3;
  constexpr int generations = 30;
  constexpr std::uint32_t per_thread = 64;
  ferrite::sync::mpmc_queue<message> queue(std::size_t{spawners} * per_thread);
  std::atomic<std::uint32_t> failures{0};
  const std::size_t caches_before = detail::frame_caches_created();

  auto worker = [&](std::uint64_t id) {
    for (std::uint32_t i = 0; i < per_thread; ++i) {
      const std::uint32_t b = 32 + (i * 37) % 700;
      void* p = rt::allocate_frame(b);
      const std::uint64_t tag = id * per_thread + i;
      fill(p, b, tag);
      queue.push(message{p, b, 0, tag});
    }
    for (std::uint32_t i = 0; i < per_thread; ++i) {
      const message m = queue.pop();
      if (!holds(m.frame, m.bytes, m.tag)) failures.fetch_add(1);
      rt::deallocate_frame(m.frame, m.bytes);
    }
  };
  std::vector<std::thread> spawner_threads;
  spawner_threads.reserve(spawners);
  for (int s = 0; s < spawners; ++s) {
    spawner_threads.emplace_back([&, s] {
      for (int g = 0; g < generations; ++g) {
        std::thread t(worker, std::uint64_t(g) * spawners + std::uint64_t(s));
        t.join();
      }
    });
  }
  for (std::thread& t : spawner_threads) t.join();
  EXPECT_EQ(failures.load(), 0U);
  EXPECT_TRUE(queue.empty());
  if (cached) {
    EXPECT_LE(detail::frame_caches_created() - caches_before, std::size_t{spawners});
  }
}

}  // namespace
