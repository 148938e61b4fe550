// SPDX-License-Identifier: Apache-2.0
// The reductions must not lose behaviours: for small programs covering every kind of
// operation (relaxed/acquire/release/seq_cst loads, stores, RMWs and CAS, fences, wait and
// notify, mutexes, spinning, heap objects), the set of outcomes (every value each thread
// observed) found by the unbounded search with DPOR and sleep sets must equal the set the
// plain search over every interleaving finds. Each test also checks that the reduction
// explored fewer executions, and that the program has several outcomes (so the comparison
// can fail).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "model_support.hpp"
#include "speed_shapes.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::options;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

/// What one execution observed: up to 8 values, in a fixed order per program.
using observation = std::array<int, 8>;
using program = std::function<observation()>;

struct search {
  std::set<observation> outcomes;
  std::uint64_t executions = 0;
};

search run(const program& p, bool reduce, unsigned history, bool spurious) {
  search s;
  options o = fixed_options(-1);
  o.dpor = reduce;
  o.history = history;
  o.spurious_cas_failures = spurious;
  const ferrite::check::report r = explore(o, [&] {
    const observation seen = p();
    ferrite::check::untracked_scope bookkeeping;  // the set outlives the execution
    s.outcomes.insert(seen);
  });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  s.executions = r.executions;
  std::printf("%s: %s\n", reduce ? "dpor + sleep sets" : "every interleaving", r.summary().c_str());
  return s;
}

/// The reduced search finds exactly the outcomes of the full one, with fewer executions.
void same_outcomes(const program& p, std::size_t at_least, unsigned history = 7,
                   bool spurious = true) {
  const search full = run(p, false, history, spurious);
  const search reduced = run(p, true, history, spurious);
  EXPECT_EQ(reduced.outcomes, full.outcomes);
  EXPECT_GE(full.outcomes.size(), at_least);
  EXPECT_LT(reduced.executions, full.executions);
}

TEST(Reduction, VyukovQueueTwoThreadsPushPop) {
  same_outcomes(
      [] {
        vyukov<2> q;
        observation seen{};
        auto body = [&](int id) {
          const auto i = static_cast<std::size_t>(id) * 2;
          seen[i] = q.try_push(id + 1) ? 1 : 0;
          int v = 0;
          seen[i + 1] = q.try_pop(v) ? v : -1;
        };
        ferrite::thread t([&] { body(1); });
        body(0);
        t.join();
        int v = 0;
        for (std::size_t i = 4; i < 6 && q.try_pop(v); ++i) seen[i] = v;
        return seen;
      },
      6, 3, false);
}

TEST(Reduction, TreiberTwoThreadsPushPop) {
  same_outcomes(
      [] {
        treiber s;
        std::array<tnode*, 2> mine{};
        observation seen{};
        auto body = [&](int id) {
          const auto i = static_cast<std::size_t>(id);
          mine[i] = new tnode(id + 1);
          s.push(mine[i]);
          tnode* got = s.pop();
          seen[i] = got == nullptr ? -1 : got->value.with([](const int* p) { return *p; });
        };
        ferrite::thread t([&] { body(1); });
        body(0);
        t.join();
        delete mine[0];
        delete mine[1];
        return seen;
      },
      2);
}

TEST(Reduction, SeqCstFencesAndRelaxedAccesses) {
  // Store buffering with a seq_cst fence in one thread only, and a third thread reading
  // both locations: the fence rules of S decide which stale reads remain.
  same_outcomes(
      [] {
        ferrite::atomic<int> x{0};
        ferrite::atomic<int> y{0};
        observation seen{};
        ferrite::thread a([&] {
          x.store(1, memory_order_relaxed);
          ferrite::fence(memory_order_seq_cst);
          seen[0] = y.load(memory_order_relaxed);
        });
        ferrite::thread b([&] {
          seen[2] = x.load(memory_order_acquire);
          seen[3] = y.load(memory_order_seq_cst);
        });
        y.store(1, memory_order_seq_cst);
        seen[1] = x.load(memory_order_relaxed);
        a.join();
        b.join();
        return seen;
      },
      5);
}

TEST(Reduction, MessagePassingThroughFencesWithASecondWriter) {
  same_outcomes(
      [] {
        ferrite::atomic<int> data{0};
        ferrite::atomic<int> flag{0};
        observation seen{};
        ferrite::thread w([&] {
          data.store(1, memory_order_relaxed);
          ferrite::fence(memory_order_release);
          flag.store(1, memory_order_relaxed);
        });
        ferrite::thread w2([&] { data.store(2, memory_order_relaxed); });
        seen[0] = flag.load(memory_order_relaxed);
        ferrite::fence(memory_order_acquire);
        seen[1] = data.load(memory_order_relaxed);
        seen[2] = data.load(memory_order_relaxed);
        w.join();
        w2.join();
        return seen;
      },
      5);
}

TEST(Reduction, RmwChainsAndCas) {
  same_outcomes(
      [] {
        ferrite::atomic<int> x{0};
        observation seen{};
        ferrite::thread a([&] {
          seen[0] = x.fetch_add(1, memory_order_relaxed);
          int expected = 1;
          seen[1] =
              x.compare_exchange_weak(expected, 10, memory_order_acq_rel, memory_order_relaxed)
                  ? 1
                  : expected;
        });
        ferrite::thread b([&] { seen[2] = x.exchange(5, memory_order_release); });
        seen[3] = x.load(memory_order_relaxed);
        seen[4] = x.load(memory_order_acquire);
        a.join();
        b.join();
        seen[5] = x.load(memory_order_relaxed);
        return seen;
      },
      6);
}

TEST(Reduction, WaitAndNotify) {
  same_outcomes(
      [] {
        ferrite::atomic<int> flag{0};
        ferrite::atomic<int> other{0};
        observation seen{};
        ferrite::thread t([&] {
          other.store(7, memory_order_relaxed);
          flag.store(1, memory_order_release);
          flag.notify_one();
        });
        ferrite::thread u([&] { seen[2] = other.exchange(3, memory_order_relaxed); });
        flag.wait(0, memory_order_acquire);
        seen[0] = other.load(memory_order_relaxed);
        seen[1] = flag.load(memory_order_relaxed);
        t.join();
        u.join();
        return seen;
      },
      3);
}

TEST(Reduction, MutexAndAnObserver) {
  same_outcomes(
      [] {
        ferrite::check::mutex m;
        ferrite::atomic<int> count{0};
        observation seen{};
        auto bump = [&](std::size_t i) {
          std::lock_guard lock(m);
          seen[i] = count.load(memory_order_relaxed);
          count.store(seen[i] + 1, memory_order_relaxed);
        };
        ferrite::thread a([&] { bump(0); });
        ferrite::thread b([&] { bump(1); });
        seen[2] = count.load(memory_order_relaxed);
        seen[3] = count.load(memory_order_relaxed);
        a.join();
        b.join();
        return seen;
      },
      6);
}

TEST(Reduction, SpinningReader) {
  same_outcomes(
      [] {
        ferrite::atomic<int> x{0};
        ferrite::atomic<int> ready{0};
        observation seen{};
        ferrite::thread w([&] {
          x.store(1, memory_order_relaxed);
          ready.store(1, memory_order_release);
        });
        ferrite::thread w2([&] { x.store(2, memory_order_relaxed); });
        while (ready.load(memory_order_acquire) == 0) ferrite::spin_hint();
        seen[0] = x.load(memory_order_relaxed);
        seen[1] = x.load(memory_order_relaxed);
        w.join();
        w2.join();
        return seen;
      },
      3);
}

TEST(Reduction, HeapObjectPublishedAndFreed) {
  // An atomic on the heap, published with release, read through the pointer, and freed by
  // its creator after the reader says it is done.
  same_outcomes(
      [] {
        ferrite::atomic<ferrite::atomic<int>*> slot{nullptr};
        ferrite::atomic<int> done{0};
        observation seen{};
        ferrite::thread t([&] {
          auto* p = new ferrite::atomic<int>(1);
          slot.store(p, memory_order_release);
          p->store(2, memory_order_relaxed);
          while (done.load(memory_order_acquire) == 0) ferrite::spin_hint();
          delete p;
        });
        ferrite::atomic<int>* p = slot.load(memory_order_acquire);
        seen[0] = p == nullptr ? -1 : p->load(memory_order_relaxed);
        seen[1] = p == nullptr ? -1 : p->load(memory_order_relaxed);
        done.store(1, memory_order_release);
        t.join();
        return seen;
      },
      3);
}

}  // namespace
