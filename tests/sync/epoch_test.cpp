// SPDX-License-Identifier: Apache-2.0
// Epoch-based reclamation: nested pins, deferred calls with captures (inline and boxed),
// collector destruction running everything, bounded garbage when nobody stalls, thread exit
// sealing the bag, the stalled-reader test (a pinned thread blocks reclamation until it
// unpins, then garbage drains), and a reader/writer stress run where every object carries a
// magic value that its deleter poisons (readers check it while pinned; ASan reports any read
// of freed memory).
#include "ferrite/sync/epoch.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "reclaim_test_support.hpp"

namespace {

using ferrite::atomic;
using ferrite::sync::epoch::collector;
using ferrite::sync::epoch::default_collector;
using ferrite::sync::epoch::guard;
using ferrite::sync::epoch::local_handle;

using ferrite_test::alive_magic;
using ferrite_test::counters;
using ferrite_test::dead_magic;
using ferrite_test::outstanding;
using ferrite_test::stress_scale;

struct tracked {
  tracked(counters& counts, std::uint64_t v) : c(&counts), value(v) {
    c->created.fetch_add(1, std::memory_order_relaxed);
  }
  tracked(const tracked&) = delete;
  tracked& operator=(const tracked&) = delete;
  ~tracked() {
    EXPECT_EQ(magic, alive_magic) << "double reclaim";
    magic = dead_magic;  // poisoned on free: a reader that sees it read a reclaimed object
    c->deleted.fetch_add(1, std::memory_order_relaxed);
  }
  counters* c;
  std::uint64_t magic = alive_magic;
  std::uint64_t value;
};

/// Flushes from the calling thread until `done()` or `tries` flushes (each with a fresh pin).
template <class Done>
bool flush_until(local_handle& h, Done done, int tries = 16) {
  for (int i = 0; i < tries && !done(); ++i) h.pin().flush();
  return done();
}

TEST(Epoch, NestedPinsCountDown) {
  collector c;
  local_handle h = c.register_thread();
  EXPECT_FALSE(h.is_pinned());
  {
    guard outer = h.pin();
    EXPECT_TRUE(h.is_pinned());
    {
      guard inner = h.pin();
      EXPECT_TRUE(h.is_pinned());
      guard moved = std::move(inner);
      EXPECT_TRUE(h.is_pinned());
    }
    EXPECT_TRUE(h.is_pinned());
  }
  EXPECT_FALSE(h.is_pinned());

  EXPECT_FALSE(ferrite::sync::epoch::is_pinned());
  {
    guard a = ferrite::sync::epoch::pin();
    guard b = ferrite::sync::epoch::pin();
    EXPECT_TRUE(ferrite::sync::epoch::is_pinned());
    EXPECT_EQ(&a.owner(), &default_collector());
  }
  EXPECT_FALSE(ferrite::sync::epoch::is_pinned());
}

// Guards of one thread may die in any order: the thread stays pinned (and keeps blocking the
// advance past its epoch) until the last of them goes, not the first one created.
TEST(Epoch, NestedGuardsMayDieOutOfOrder) {
  collector c;
  local_handle h = c.register_thread();
  local_handle other = c.register_thread();
  auto outer = std::make_optional(h.pin());
  guard inner = h.pin();
  const std::uint64_t e0 = c.epoch();
  {  // garbage, so that flushes have a reason to advance the epoch
    guard g = other.pin();
    g.defer([] {});
  }
  outer.reset();  // the outermost guard goes first
  EXPECT_TRUE(h.is_pinned());
  for (int i = 0; i < 8; ++i) other.pin().flush();
  EXPECT_LE(c.epoch(), e0 + 1) << "advanced twice past a pinned thread";
  {
    guard again = h.pin();
  }  // a nested pin and unpin in between change nothing
  EXPECT_TRUE(h.is_pinned());
  {
    guard drop = std::move(inner);
  }
  EXPECT_FALSE(h.is_pinned());
  for (int i = 0; i < 8; ++i) other.pin().flush();
  EXPECT_GE(c.epoch(), e0 + 2);
}

// Garbage of a thread that has gone (its bags are in the collector's global queue) is
// reclaimed by the periodic collect of a thread that only pins: no defer, no flush.
TEST(Epoch, ReadOnlyPinsCollectGarbageLeftInTheGlobalQueue) {
  counters n;
  collector c;
  ferrite::thread t([&] {
    local_handle h = c.register_thread();
    guard g = h.pin();
    for (int i = 0; i < 5; ++i) g.defer_delete(new tracked(n, 0));
  });  // releasing the handle seals the bag into the global queue
  t.join();
  local_handle reader = c.register_thread();
  EXPECT_EQ(outstanding(n), 5U);
  for (int i = 0; i < 128 * 16 && outstanding(n) != 0; ++i) {
    const guard g = reader.pin();
  }
  EXPECT_EQ(outstanding(n), 0U);
}

// A thread's own sealed bags are run by its own later pins (paced every 128), without flush.
TEST(Epoch, ReadOnlyPinsRunTheThreadsOwnSealedBags) {
  counters n;
  collector c;
  local_handle h = c.register_thread();
  {
    guard g = h.pin();
    for (int i = 0; i < 64; ++i) g.defer_delete(new tracked(n, 0));  // fills and seals a bag
  }
  EXPECT_EQ(outstanding(n), 64U);
  for (int i = 0; i < 128 * 16 && outstanding(n) != 0; ++i) {
    const guard g = h.pin();
  }
  EXPECT_EQ(outstanding(n), 0U);
}

// Pinning from a thread_local destructor that runs after the epoch exit hook: the thread gets
// a one-shot entry, released when its last (nested) guard goes; deferred calls still run, and
// is_pinned() is true while the guards live and false once they are gone.
struct late_pinner {
  counters* c = nullptr;
  int* pinned_checks = nullptr;  // how many of the is_pinned() checks below held
  late_pinner() = default;
  late_pinner(const late_pinner&) = delete;
  late_pinner& operator=(const late_pinner&) = delete;
  ~late_pinner() {
    if (c == nullptr) return;
    *pinned_checks += ferrite::sync::epoch::is_pinned() ? 0 : 1;
    {
      guard outer = ferrite::sync::epoch::pin();
      *pinned_checks += ferrite::sync::epoch::is_pinned() ? 1 : 0;
      {
        guard inner = ferrite::sync::epoch::pin();
        *pinned_checks += ferrite::sync::epoch::is_pinned() ? 1 : 0;
        inner.defer_delete(new tracked(*c, 0));
      }
      *pinned_checks += ferrite::sync::epoch::is_pinned() ? 1 : 0;  // the outer guard still lives
    }
    *pinned_checks += ferrite::sync::epoch::is_pinned() ? 0 : 1;
  }
};

TEST(Epoch, PinAfterThreadExitHookUsesOneShotEntry) {
  counters n;
  int pinned_checks = 0;
  ferrite::thread t([&] {
    // Constructed before the thread's first pin (which constructs the exit hook), so destroyed
    // after the hook has released the thread's entry.
    static thread_local late_pinner late;
    late.c = &n;
    late.pinned_checks = &pinned_checks;
    const guard g = ferrite::sync::epoch::pin();
  });
  t.join();
  EXPECT_EQ(pinned_checks, 5);
  for (int i = 0; i < 16 && outstanding(n) != 0; ++i) ferrite::sync::epoch::pin().flush();
  EXPECT_EQ(outstanding(n), 0U);
}

TEST(Epoch, DeferWithCapturesRunsOnce) {
  int small_runs = 0;
  std::string seen;
  std::array<std::uint64_t, 16> big{};
  big.fill(3);
  std::uint64_t big_sum = 0;
  auto owned = std::make_unique<int>(41);
  int owned_seen = 0;
  {
    collector c;
    local_handle h = c.register_thread();
    {
      guard g = h.pin();
      int* counter = &small_runs;
      g.defer([counter] { ++*counter; });  // one pointer: inline
      g.defer([&seen, text = std::string("captured by value")] { seen = text; });
      g.defer([&big_sum, big] {  // 128 bytes: boxed on the heap
        for (auto v : big) big_sum += v;
      });
      g.defer([&owned_seen, p = std::move(owned)] { owned_seen = *p + 1; });  // move-only
    }
    EXPECT_EQ(small_runs, 0);  // a bag is only run after two epoch advances
  }  // the collector's destruction runs what is still queued (h released first)
  EXPECT_EQ(small_runs, 1);
  EXPECT_EQ(seen, "captured by value");
  EXPECT_EQ(big_sum, 48U);
  EXPECT_EQ(owned_seen, 42);
}

TEST(Epoch, FlushRunsGarbageOnceNobodyIsPinned) {
  counters n;
  collector c;
  local_handle h = c.register_thread();
  {
    guard g = h.pin();
    for (int i = 0; i < 10; ++i) g.defer_delete(new tracked(n, 0));
  }
  EXPECT_EQ(outstanding(n), 10U);
  const std::uint64_t e0 = c.epoch();
  EXPECT_TRUE(flush_until(h, [&] { return outstanding(n) == 0; }));
  EXPECT_GE(c.epoch(), e0 + 2);  // two advances past the sealing epoch
}

// With nobody stalled, a single thread's garbage stays bounded: bags are sealed every 64
// defers, the epoch advances at every 128th pin, and a bag runs two advances after sealing.
TEST(Epoch, GarbageIsBoundedWithoutStalls) {
  counters n;
  collector c;
  {
    local_handle h = c.register_thread();
    std::uint64_t peak = 0;
    for (int i = 0; i < 20000 * stress_scale; ++i) {
      guard g = h.pin();
      g.defer_delete(new tracked(n, 0));
      peak = std::max(peak, outstanding(n));
    }
    EXPECT_LT(peak, 1024U);
  }
  EXPECT_LT(outstanding(n), 1024U);
}

TEST(Epoch, ThreadExitSealsItsBag) {
  counters n;
  ferrite::thread t([&] {
    guard g = ferrite::sync::epoch::pin();
    for (int i = 0; i < 5; ++i) g.defer_delete(new tracked(n, 0));
  });
  t.join();
  EXPECT_EQ(outstanding(n), 5U);  // sealed into the global queue, not yet safe
  for (int i = 0; i < 16 && outstanding(n) != 0; ++i) ferrite::sync::epoch::pin().flush();
  EXPECT_EQ(outstanding(n), 0U);
}

// The documented liveness limit: a thread that stays pinned blocks every reclamation of its
// collector, however often others flush; when it unpins, the garbage drains.
TEST(Epoch, StalledPinnedThreadBlocksReclamationUntilItUnpins) {
  // 80 bags: more than a thread keeps locally (64), so some spill to the global queue too.
  constexpr int stalled_objects = 64 * 80;
  counters n;
  collector c;
  atomic<int> stage{0};  // 1: A is pinned; 2: B asks A to unpin; 3: A unpinned
  ferrite::thread a([&] {
    local_handle ha = c.register_thread();
    {
      guard g = ha.pin();
      stage.store(1, std::memory_order_release);
      while (stage.load(std::memory_order_acquire) != 2) ferrite::yield_now();
    }
    stage.store(3, std::memory_order_release);
    while (stage.load(std::memory_order_acquire) != 4) ferrite::yield_now();
  });
  while (stage.load(std::memory_order_acquire) != 1) ferrite::yield_now();

  local_handle hb = c.register_thread();
  {
    guard g = hb.pin();
    for (int i = 0; i < stalled_objects; ++i) g.defer_delete(new tracked(n, 0));
  }
  const std::uint64_t stalled_epoch = c.epoch();
  for (int i = 0; i < 200; ++i) hb.pin().flush();
  EXPECT_EQ(outstanding(n), std::uint64_t{stalled_objects})
      << "freed while a thread pinned before the retire is pinned";
  EXPECT_LE(c.epoch(), stalled_epoch + 1);  // the epoch itself is stuck

  stage.store(2, std::memory_order_release);
  while (stage.load(std::memory_order_acquire) != 3) ferrite::yield_now();
  EXPECT_TRUE(flush_until(hb, [&] { return outstanding(n) == 0; }));
  EXPECT_EQ(outstanding(n), 0U);
  stage.store(4, std::memory_order_release);
  a.join();
}

// Readers pin and check the magic of the object in a slot; writers swap in a new object and
// defer the old one's deletion. Exactly once, never while pinned, nothing left at the end.
void reader_writer_stress(collector& c, counters& n, bool implicit_handles) {
  constexpr int slot_count = 4;
  constexpr int thread_count = 6;  // oversubscribes 2 cores
  const int ops = 20000 * stress_scale;
  atomic<tracked*> slots[slot_count];
  for (auto& s : slots) s.store(new tracked(n, 0), std::memory_order_relaxed);
  atomic<std::uint64_t> bad_reads{0};
  std::vector<ferrite::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      local_handle h;
      if (!implicit_handles) h = c.register_thread();
      auto pin = [&] { return implicit_handles ? ferrite::sync::epoch::pin() : h.pin(); };
      for (int i = 0; i < ops; ++i) {
        atomic<tracked*>& slot = slots[(i + t) % slot_count];
        guard g = pin();
        if (t % 2 == 0) {  // reader
          const tracked* p = slot.load(std::memory_order_acquire);
          if (p->magic != alive_magic) bad_reads.fetch_add(1, std::memory_order_relaxed);
        } else {  // writer
          tracked* old = slot.exchange(new tracked(n, static_cast<std::uint64_t>(i)),
                                       std::memory_order_acq_rel);
          g.defer_delete(old);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_reads.load(std::memory_order_relaxed), 0U);
  for (auto& s : slots) delete s.exchange(nullptr, std::memory_order_relaxed);
}

TEST(Epoch, StressUserCollectorReclaimsEverythingOnce) {
  counters n;
  {
    collector c;
    reader_writer_stress(c, n, false);
  }
  EXPECT_GT(n.created.load(std::memory_order_relaxed), 1000U);
  EXPECT_EQ(outstanding(n), 0U);
}

TEST(Epoch, StressDefaultCollectorReclaimsEverythingOnce) {
  counters n;
  reader_writer_stress(default_collector(), n, true);
  // Every other thread has exited (their bags sealed): a few flushes drain the queue.
  for (int i = 0; i < 16 && outstanding(n) != 0; ++i) ferrite::sync::epoch::pin().flush();
  EXPECT_EQ(outstanding(n), 0U);
}

// The names the API had in ferrite::sync before it moved into ferrite::sync::epoch still
// compile and mean the same things (deprecated aliases and forwarders; warning silenced here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST(Epoch, DeprecatedNamesInSyncStillWork) {
  static_assert(std::is_same_v<ferrite::sync::collector, collector>);
  static_assert(std::is_same_v<ferrite::sync::guard, guard>);
  static_assert(std::is_same_v<ferrite::sync::local_handle, local_handle>);
  EXPECT_EQ(&ferrite::sync::default_collector(), &default_collector());
  EXPECT_FALSE(ferrite::sync::is_pinned());
  {
    const ferrite::sync::guard g = ferrite::sync::pin();
    EXPECT_TRUE(ferrite::sync::is_pinned());
    EXPECT_TRUE(ferrite::sync::epoch::is_pinned());
    EXPECT_EQ(&g.owner(), &default_collector());
  }
  EXPECT_FALSE(ferrite::sync::is_pinned());
  ferrite::sync::collector c;
  ferrite::sync::local_handle h = c.register_thread();
  {
    const ferrite::sync::guard g = h.pin();
    EXPECT_TRUE(h.is_pinned());
  }
  EXPECT_FALSE(h.is_pinned());
}
#pragma GCC diagnostic pop

TEST(EpochDeathTest, CollectorDestroyedWithLiveHandleAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* c = new collector;
        local_handle h = c->register_thread();
        delete c;
      },
      "local_handle of it is alive");
}

}  // namespace
