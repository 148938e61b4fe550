// SPDX-License-Identifier: Apache-2.0
// Hazard pointers: the P2530 surface (empty, move, swap, protect, try_protect, reset), the
// asymmetric fence pair (a store-buffering litmus test), reclamation in user and default
// domains (exactly once, never while protected, bounded garbage, thread-exit hand-off, domain
// destruction), and a reader/writer stress run where every object carries a magic value that
// its deleter poisons: a reader that dereferences a reclaimed object sees the dead pattern
// (and ASan reports the freed read).
#include "ferrite/sync/hazard_pointer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/asymmetric_fence.hpp"
#include "reclaim_test_support.hpp"

namespace {

using ferrite::atomic;
using ferrite::sync::hazard_pointer;
using ferrite::sync::hazard_pointer_default_domain;
using ferrite::sync::hazard_pointer_domain;
using ferrite::sync::hazard_pointer_obj_base;
using ferrite::sync::make_hazard_pointer;

using ferrite_test::alive_magic;
using ferrite_test::counters;
using ferrite_test::dead_magic;
using ferrite_test::outstanding;
using ferrite_test::stress_scale;

struct tracked;

/// A stateful deleter: poisons the magic, counts, deletes.
struct tracked_deleter {
  counters* c = nullptr;
  void operator()(tracked* p) const noexcept;
};

struct tracked : hazard_pointer_obj_base<tracked, tracked_deleter> {
  explicit tracked(counters& c, std::uint64_t v) : value(v) {
    c.created.fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t magic = alive_magic;
  std::uint64_t value;
};

void tracked_deleter::operator()(tracked* p) const noexcept {
  EXPECT_EQ(p->magic, alive_magic) << "double reclaim";
  p->magic = dead_magic;
  c->deleted.fetch_add(1, std::memory_order_relaxed);
  delete p;
}

/// A type with the default deleter.
struct plain_node : hazard_pointer_obj_base<plain_node> {
  explicit plain_node(int v) : value(v) {}
  int value;
};

/// A type with the default deleter whose destructor counts (in a plain int: one thread).
struct counted_node : hazard_pointer_obj_base<counted_node> {
  explicit counted_node(int* destroyed) : destroyed_(destroyed) {}
  counted_node(const counted_node&) = delete;
  counted_node& operator=(const counted_node&) = delete;
  ~counted_node() { ++*destroyed_; }
  int* destroyed_;
};

TEST(AsymmetricFence, ModeMatchesKernelSupport) {
  const bool supported = ferrite::sync::membarrier_supported();
  const auto mode = ferrite::sync::current_asymmetric_fence_mode();
  std::printf(
      "membarrier(PRIVATE_EXPEDITED) supported: %s; mode: %s\n", supported ? "yes" : "no",
      mode == ferrite::sync::asymmetric_fence_mode::membarrier ? "membarrier" : "symmetric");
#if FERRITE_TSAN || FERRITE_CHECK
  EXPECT_EQ(mode, ferrite::sync::asymmetric_fence_mode::symmetric);
#else
  EXPECT_EQ(mode == ferrite::sync::asymmetric_fence_mode::membarrier, supported);
#endif
}

/// Spins until `ready()`, yielding now and then so an oversubscribed run still progresses.
template <class Ready>
void wait_for(Ready ready) {
  for (int i = 0; !ready(); ++i) {
    if (i % 4096 == 4095) {
      ferrite::yield_now();
    } else {
      ferrite::spin_hint();
    }
  }
}

// Store buffering (Dekker): with a light fence on one side and a heavy fence on the other,
// both threads can never read 0. The light side sweeps a small delay so the two critical
// sections overlap at every offset; with compiler fences only on both sides, this loop does
// show r1 == r2 == 0 on x86.
TEST(AsymmetricFence, StoreBufferingIsForbidden) {
  const int rounds = FERRITE_TSAN ? 500 : 4000;
  atomic<int> x{0};
  atomic<int> y{0};
  atomic<int> go{0};    // round number released by the light side
  atomic<int> done{0};  // round number finished by the heavy side
  int r2 = 0;
  int both_zero = 0;
  ferrite::thread heavy([&] {
    for (int round = 1; round <= rounds; ++round) {
      wait_for([&] { return go.load(std::memory_order_acquire) == round; });
      y.store(1, std::memory_order_relaxed);
      ferrite::sync::asymmetric_heavy_fence();
      r2 = x.load(std::memory_order_relaxed);
      done.store(round, std::memory_order_release);
    }
  });
  for (int round = 1; round <= rounds; ++round) {
    x.store(0, std::memory_order_relaxed);
    y.store(0, std::memory_order_relaxed);
    go.store(round, std::memory_order_release);
    for (int d = (round * 7) % 64; d > 0; --d) ferrite::spin_hint();
    x.store(1, std::memory_order_relaxed);
    ferrite::sync::asymmetric_light_fence();
    const int r1 = y.load(std::memory_order_relaxed);
    wait_for([&] { return done.load(std::memory_order_acquire) == round; });
    if (r1 == 0 && r2 == 0) ++both_zero;
  }
  heavy.join();
  EXPECT_EQ(both_zero, 0);
}

TEST(HazardPointer, EmptyMoveSwap) {
  hazard_pointer none;
  EXPECT_TRUE(none.empty());
  hazard_pointer a = make_hazard_pointer();
  EXPECT_FALSE(a.empty());
  hazard_pointer b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_FALSE(b.empty());
  swap(a, b);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(b.empty());
  b = std::move(a);
  EXPECT_FALSE(b.empty());
  b = hazard_pointer();
  EXPECT_TRUE(b.empty());
}

TEST(HazardPointer, ProtectAndTryProtect) {
  hazard_pointer_domain domain;
  auto* first = new plain_node(1);
  auto* second = new plain_node(2);
  atomic<plain_node*> src{first};
  {
    hazard_pointer h = make_hazard_pointer(domain);
    EXPECT_EQ(h.protect(src), first);
    plain_node* guess = first;
    EXPECT_TRUE(h.try_protect(guess, src));
    EXPECT_EQ(guess, first);
    src.store(second, std::memory_order_release);
    EXPECT_FALSE(h.try_protect(guess, src));  // stale guess: fails and refreshes it
    EXPECT_EQ(guess, second);
    EXPECT_TRUE(h.try_protect(guess, src));
    h.reset_protection(first);
    h.reset_protection();
    h.reset_protection(nullptr);
    atomic<plain_node*> null_src{nullptr};
    EXPECT_EQ(h.protect(null_src), nullptr);
  }
  first->retire(domain);
  second->retire(domain);
}

TEST(HazardPointer, RecordsAreReused) {
  hazard_pointer_domain domain;
  {
    std::vector<hazard_pointer> hps;
    hps.reserve(40);
    for (int i = 0; i < 40; ++i) hps.push_back(make_hazard_pointer(domain));
  }
  EXPECT_EQ(domain.hazard_pointer_count(), 40U);
  for (int round = 0; round < 3; ++round) {
    std::vector<hazard_pointer> hps;
    hps.reserve(40);
    for (int i = 0; i < 40; ++i) hps.push_back(make_hazard_pointer(domain));
  }
  EXPECT_EQ(domain.hazard_pointer_count(), 40U);
  EXPECT_EQ(domain.retire_threshold(),
            std::max<std::size_t>(hazard_pointer_domain::min_retire_threshold, 80));
}

// A protected object survives any number of scans; once unprotected it goes at the next one.
TEST(HazardPointer, ProtectedObjectIsNotReclaimed) {
  counters c;
  {
    hazard_pointer_domain domain;
    auto* keep = new tracked(c, 7);
    atomic<tracked*> src{keep};
    hazard_pointer h = make_hazard_pointer(domain);
    ASSERT_EQ(h.protect(src), keep);
    src.store(nullptr, std::memory_order_release);
    keep->retire(domain, tracked_deleter{&c});
    for (int i = 0; i < 1000; ++i) (new tracked(c, 0))->retire(domain, tracked_deleter{&c});
    domain.cleanup();
    EXPECT_EQ(outstanding(c), 1U);
    EXPECT_EQ(keep->magic, alive_magic);  // still readable: protected
    EXPECT_EQ(keep->value, 7U);
    h.reset_protection();
    domain.cleanup();
    EXPECT_EQ(outstanding(c), 0U);
  }
  EXPECT_EQ(c.created.load(std::memory_order_relaxed), 1001U);
}

// protect()'s fast path trusts the hazard pointer's copy of its record; moves, swaps and
// resets must carry that copy along. After a swap, each hazard pointer re-protects through
// its new record: h1 (now holding b's record) protects a, h2 (now holding a's record) is
// reset, and a must survive a scan. A copy left behind by the swap would make h1 believe it
// already protects a and return it unpublished.
TEST(HazardPointer, ReprotectAfterSwapAndMovePublishes) {
  counters c;
  {
    hazard_pointer_domain domain;
    auto* a = new tracked(c, 1);
    auto* b = new tracked(c, 2);
    atomic<tracked*> src_a{a};
    atomic<tracked*> src_b{b};
    hazard_pointer h1 = make_hazard_pointer(domain);
    hazard_pointer h2 = make_hazard_pointer(domain);
    ASSERT_EQ(h1.protect(src_a), a);
    ASSERT_EQ(h2.protect(src_b), b);
    swap(h1, h2);
    h2.reset_protection();  // a's record is now empty
    ASSERT_EQ(h1.protect(src_a), a);
    hazard_pointer h3 = std::move(h1);  // the move carries the protection of a
    ASSERT_EQ(h3.protect(src_a), a);    // fast path: still a
    src_a.store(nullptr, std::memory_order_release);
    a->retire(domain, tracked_deleter{&c});
    domain.cleanup();
    EXPECT_EQ(a->magic, alive_magic);  // protected by h3
    EXPECT_EQ(outstanding(c), 2U);
    h3.reset_protection();
    domain.cleanup();
    EXPECT_EQ(outstanding(c), 1U);
    src_b.store(nullptr, std::memory_order_release);
    b->retire(domain, tracked_deleter{&c});
  }
  EXPECT_EQ(outstanding(c), 0U);
}

// Without protection, garbage stays below the documented threshold max(min, 2H) after each
// retire, in a user domain (shared list) and in the default domain (per-thread list); with more
// hazard pointers than min/2, the threshold follows 2H.
TEST(HazardPointer, UnreclaimedGarbageIsBounded) {
  counters c;
  {
    hazard_pointer_domain domain;
    const std::size_t h = hazard_pointer_domain::min_retire_threshold / 2 + 50;
    std::vector<hazard_pointer> hps;
    hps.reserve(h);
    for (std::size_t i = 0; i < h; ++i) hps.push_back(make_hazard_pointer(domain));
    ASSERT_EQ(domain.retire_threshold(), 2 * h);
    std::uint64_t peak = 0;
    for (int i = 0; i < 10000; ++i) {
      (new tracked(c, 0))->retire(domain, tracked_deleter{&c});
      peak = std::max(peak, outstanding(c));
      ASSERT_LT(outstanding(c), domain.retire_threshold());
    }
    EXPECT_EQ(peak, 2 * h - 1);  // the scan waits for the threshold (amortization)
  }
  EXPECT_EQ(outstanding(c), 0U);  // domain destruction reclaimed the rest

  counters d;
  hazard_pointer_domain& def = hazard_pointer_default_domain();
  for (int i = 0; i < 10000; ++i) {
    (new tracked(d, 0))->retire(tracked_deleter{&d});
    ASSERT_LT(outstanding(d), def.retire_threshold());
  }
  def.cleanup();
  EXPECT_EQ(outstanding(d), 0U);
}

TEST(HazardPointer, DefaultDomainHonoursProtection) {
  counters c;
  auto* keep = new tracked(c, 1);
  atomic<tracked*> src{keep};
  hazard_pointer h = make_hazard_pointer();
  ASSERT_EQ(h.protect(src), keep);
  keep->retire(tracked_deleter{&c});
  for (int i = 0; i < 500; ++i) (new tracked(c, 0))->retire(tracked_deleter{&c});
  hazard_pointer_default_domain().cleanup();
  EXPECT_EQ(outstanding(c), 1U);
  EXPECT_EQ(keep->magic, alive_magic);
  h = hazard_pointer();  // releases the record (to this thread's cache)
  hazard_pointer_default_domain().cleanup();
  EXPECT_EQ(outstanding(c), 0U);
}

// A thread that exits with objects on its retired list hands them to the default domain.
TEST(HazardPointer, ThreadExitHandsRetiredObjectsToTheDomain) {
  counters c;
  ferrite::thread t([&] {
    hazard_pointer h = make_hazard_pointer();  // also fills this thread's record cache
    for (int i = 0; i < 10; ++i) (new tracked(c, 0))->retire(tracked_deleter{&c});
  });
  t.join();
  EXPECT_EQ(outstanding(c), 10U);  // below the threshold: nobody scanned yet
  hazard_pointer_default_domain().cleanup();
  EXPECT_EQ(outstanding(c), 0U);
}

// The default deleter (std::default_delete, stored as nothing) in a user domain: objects
// retired below the threshold wait; cleanup() reclaims every one of them (each destructor runs
// once), and the domain's destructor reclaims what was retired after that.
TEST(HazardPointer, DefaultDeleterAndUserDomain) {
  int destroyed = 0;
  {
    hazard_pointer_domain domain;
    for (int i = 0; i < 300; ++i) (new counted_node(&destroyed))->retire(domain);
    ASSERT_LT(300U, domain.retire_threshold());
    EXPECT_EQ(domain.shared_retired_count(), 300U);
    EXPECT_EQ(destroyed, 0);  // below the threshold: nothing scanned yet
    domain.cleanup();
    EXPECT_EQ(destroyed, 300);
    EXPECT_EQ(domain.shared_retired_count(), 0U);
    for (int i = 0; i < 10; ++i) (new counted_node(&destroyed))->retire(domain);
    EXPECT_EQ(destroyed, 300);
  }
  EXPECT_EQ(destroyed, 310);
}

TEST(HazardPointerDeathTest, DomainDestroyedWhileHeldAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* domain = new hazard_pointer_domain;
        hazard_pointer h = make_hazard_pointer(*domain);
        delete domain;
      },
      "hazard pointers is alive");
}

// Readers protect a slot and check the object's magic; writers replace slot contents and
// retire the old object. Every object is reclaimed exactly once (the deleter checks the
// magic), never while protected (readers check it), and all by the domain's destruction.
template <class RetireTo>
void reader_writer_stress(RetireTo retire_to, hazard_pointer_domain& domain, counters& c) {
  constexpr int slot_count = 4;
  constexpr int thread_count = 6;  // oversubscribes 2 cores
  const int ops = 20000 * stress_scale;
  atomic<tracked*> slots[slot_count];
  for (auto& s : slots) s.store(new tracked(c, 0), std::memory_order_relaxed);
  atomic<std::uint64_t> bad_reads{0};
  std::vector<ferrite::thread> threads;
  threads.reserve(thread_count);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      hazard_pointer h = make_hazard_pointer(domain);
      for (int i = 0; i < ops; ++i) {
        atomic<tracked*>& slot = slots[(i + t) % slot_count];
        if (t % 2 == 0) {  // reader
          const tracked* p = h.protect(slot);
          if (p->magic != alive_magic) bad_reads.fetch_add(1, std::memory_order_relaxed);
          h.reset_protection();
        } else {  // writer
          tracked* old = slot.exchange(new tracked(c, static_cast<std::uint64_t>(i)),
                                       std::memory_order_acq_rel);
          retire_to(old);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad_reads.load(std::memory_order_relaxed), 0U);
  for (auto& s : slots) retire_to(s.exchange(nullptr, std::memory_order_acq_rel));
}

TEST(HazardPointer, StressUserDomainReclaimsEverythingOnce) {
  counters c;
  {
    hazard_pointer_domain domain;
    reader_writer_stress([&](tracked* p) { p->retire(domain, tracked_deleter{&c}); }, domain, c);
  }
  EXPECT_GT(c.created.load(std::memory_order_relaxed), 1000U);
  EXPECT_EQ(outstanding(c), 0U);
}

TEST(HazardPointer, StressDefaultDomainReclaimsEverythingOnce) {
  counters c;
  reader_writer_stress([&](tracked* p) { p->retire(tracked_deleter{&c}); },
                       hazard_pointer_default_domain(), c);
  hazard_pointer_default_domain().cleanup();  // exited threads' lists and this thread's
  EXPECT_EQ(outstanding(c), 0U);
}

}  // namespace
