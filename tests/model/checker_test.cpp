// SPDX-License-Identifier: Apache-2.0
// The checker's own tests: exploration counts, each failure kind, replay, DPOR agreeing with
// the full search, the memory-model litmus tests (IRIW, coherence, release sequences).
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <tuple>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::explore;
using ferrite::check::failure_kind;
using ferrite::check::options;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

TEST(Checker, SingleThreadIsOneExecution) {
  auto r = explore(fixed_options(), [] {
    ferrite::atomic<int> a{0};
    a.store(1, memory_order_relaxed);
    FERRITE_ASSERT(a.load(memory_order_relaxed) == 1);
  });
  EXPECT_TRUE(r.ok()) << r.text();
  EXPECT_EQ(r.executions, 1U);
  EXPECT_TRUE(r.complete);
}

TEST(Checker, AtomicIncrementsNeverLoseUpdates) {
  auto r = expect_pass([] {
    ferrite::atomic<int> a{0};
    ferrite::thread t([&] { a.fetch_add(1, memory_order_relaxed); });
    a.fetch_add(1, memory_order_relaxed);
    t.join();
    FERRITE_ASSERT(a.load(memory_order_relaxed) == 2);
  });
  EXPECT_GE(r.executions, 2U);  // both orders of the two increments
}

TEST(Checker, LoadThenStoreLosesAnUpdate) {
  expect_failure(failure_kind::assertion, [] {
    ferrite::atomic<int> a{0};
    ferrite::thread t([&] { a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed); });
    a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed);
    t.join();
    FERRITE_ASSERT(a.load(memory_order_relaxed) == 2);
  });
}

TEST(Checker, UnsynchronizedCellWritesRace) {
  expect_failure(failure_kind::data_race, [] {
    ferrite::cell<int> c(0);
    ferrite::thread t([&] { c.with_mut([](int* p) { *p = 1; }); });
    c.with_mut([](int* p) { *p = 2; });
    t.join();
  });
}

TEST(Checker, MutexOrdersCellAccesses) {
  expect_pass([] {
    ferrite::check::mutex m;
    ferrite::cell<int> c(0);
    ferrite::thread t([&] {
      std::lock_guard lock(m);
      c.with_mut([](int* p) { ++*p; });
    });
    {
      std::lock_guard lock(m);
      c.with_mut([](int* p) { ++*p; });
    }
    t.join();
    FERRITE_ASSERT(c.with([](const int* p) { return *p; }) == 2);
  });
}

TEST(Checker, JoinOrdersTheThreadBeforeTheJoiner) {
  expect_pass([] {
    ferrite::cell<int> c(0);
    ferrite::thread t([&] { c.with_mut([](int* p) { *p = 7; }); });
    t.join();
    FERRITE_ASSERT(c.with([](const int* p) { return *p; }) == 7);
  });
}

TEST(Checker, LeakIsReported) {
  expect_failure(failure_kind::leak, [] {
    ferrite::atomic<int*> escape{nullptr};  // an opaque use, so the allocation is not elided
    escape.store(new int(5), memory_order_relaxed);
  });
}

// The next two tests commit the bugs they detect; GCC sees that statically too.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"                 // GCC: a group it does not know
#pragma GCC diagnostic ignored "-Wunknown-warning-option"  // clang: the same
#pragma GCC diagnostic ignored "-Wuse-after-free"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
TEST(Checker, AtomicInFreedMemoryIsUseAfterFree) {
  expect_failure(failure_kind::use_after_free, [] {
    auto* a = new ferrite::atomic<int>(1);
    ferrite::atomic<int>* alias = a;
    delete a;
    static_cast<void>(alias->load(memory_order_relaxed));
  });
}

TEST(Checker, DoubleFreeIsReported) {
  expect_failure(failure_kind::double_free, [] {
    auto* p = new int(5);
    ferrite::atomic<int*> escape{p};  // an opaque use, so the allocation is not elided
    delete escape.load(memory_order_relaxed);
    delete p;  // NOLINT: the bug under test
  });
}

#pragma GCC diagnostic pop

TEST(Checker, FreeUnorderedWithAnotherThreadsAccessIsFound) {
  // The first execution runs the load before the delete; partial-order reduction must treat
  // the delete as a write so the other order (a use after free) is explored too.
  for (const int bound : {2, -1}) {
    expect_failure(
        failure_kind::use_after_free,
        [] {
          auto* a = new ferrite::atomic<int>(1);
          ferrite::atomic<int> other{0};
          ferrite::thread t([&] {
            other.store(1, memory_order_relaxed);
            delete a;
          });
          static_cast<void>(a->load(memory_order_relaxed));
          t.join();
        },
        fixed_options(bound));
  }
}

TEST(Checker, SpinWithoutProgressIsALivelock) {
  options o = fixed_options();
  o.max_steps = 2000;
  expect_failure(
      failure_kind::livelock,
      [] {
        ferrite::atomic<bool> flag{false};
        while (!flag.load(memory_order_acquire)) ferrite::spin_hint();
      },
      o);
}

TEST(Checker, SpinUntilAnotherThreadPublishes) {
  expect_pass([] {
    ferrite::atomic<bool> flag{false};
    ferrite::cell<int> data(0);
    ferrite::thread t([&] {
      data.with_mut([](int* p) { *p = 3; });
      flag.store(true, memory_order_release);
    });
    while (!flag.load(memory_order_acquire)) ferrite::spin_hint();
    FERRITE_ASSERT(data.with([](const int* p) { return *p; }) == 3);
    t.join();
  });
}

TEST(Checker, ExceptionInAThreadIsReported) {
  expect_failure(failure_kind::exception, [] {
    ferrite::thread t([] { throw std::runtime_error("boom"); });
    t.join();
  });
}

TEST(Checker, RelaxedLoadMayReadAnOlderStore) {
  // Coherence allows the reader to miss the writer's newest store even after seeing the
  // flag (relaxed): both outcomes of `x` must be explored.
  std::set<int> seen;
  auto r = explore(fixed_options(), [&] {
    ferrite::atomic<int> x{0};
    ferrite::thread t([&] { x.store(1, memory_order_relaxed); });
    t.join();  // join synchronizes: x must read 1 afterwards
    const int v = x.load(memory_order_relaxed);
    ferrite::check::untracked_scope bookkeeping;
    seen.insert(v);
  });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(seen, (std::set<int>{1}));
  seen.clear();
  r = explore(fixed_options(), [&] {
    ferrite::atomic<int> x{0};
    ferrite::thread t([&] { x.store(1, memory_order_relaxed); });
    const int v = x.load(memory_order_relaxed);
    ferrite::check::untracked_scope bookkeeping;
    seen.insert(v);
    t.join();
  });
  EXPECT_EQ(seen, (std::set<int>{0, 1}));
}

TEST(Checker, ReadReadCoherence) {
  // Once a thread has read the newest store it cannot read an older one.
  expect_pass([] {
    ferrite::atomic<int> x{0};
    ferrite::thread t([&] {
      x.store(1, memory_order_relaxed);
      x.store(2, memory_order_relaxed);
    });
    const int a = x.load(memory_order_relaxed);
    const int b = x.load(memory_order_relaxed);
    FERRITE_ASSERT(b >= a);
    t.join();
  });
}

/// IRIW: two writers, two readers reading in opposite orders. With seq_cst everywhere the
/// readers must agree on the order of the writes; with acquire loads they may disagree.
void iriw(std::memory_order load_order, bool& disagreed) {
  ferrite::atomic<int> x{0};
  ferrite::atomic<int> y{0};
  int r1 = 0;
  int r2 = 0;
  int r3 = 0;
  int r4 = 0;
  ferrite::thread a([&] { x.store(1, memory_order_seq_cst); });
  ferrite::thread b([&] { y.store(1, memory_order_seq_cst); });
  ferrite::thread c([&] {
    r1 = x.load(load_order);
    r2 = y.load(load_order);
  });
  r3 = y.load(load_order);
  r4 = x.load(load_order);
  a.join();
  b.join();
  c.join();
  if (r1 == 1 && r2 == 0 && r3 == 1 && r4 == 0) disagreed = true;
}

TEST(Checker, IriwSeqCstAgreesAcquireMayNot) {
  bool disagreed = false;
  auto r = explore(fixed_options(-1), [&] { iriw(memory_order_seq_cst, disagreed); });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  EXPECT_FALSE(disagreed);
  r = explore(fixed_options(-1), [&] { iriw(memory_order_acquire, disagreed); });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  EXPECT_TRUE(disagreed);
}

TEST(Checker, ReleaseSequenceThroughRmw) {
  // T1 publishes data with a release store; T2's relaxed RMW continues the release sequence;
  // an acquire load that reads T2's RMW still synchronizes with T1.
  expect_pass([] {
    ferrite::cell<int> data(0);
    ferrite::atomic<int> flag{0};
    ferrite::thread t1([&] {
      data.with_mut([](int* p) { *p = 1; });
      flag.store(1, memory_order_release);
    });
    ferrite::thread t2([&] { flag.fetch_add(1, memory_order_relaxed); });
    if (flag.load(memory_order_acquire) == 2)
      FERRITE_ASSERT(data.with([](const int* p) { return *p; }) == 1);
    t1.join();
    t2.join();
  });
}

/// Outcomes (final reads) of a small racy program, for comparing DPOR with the full search.
std::set<std::tuple<int, int, int>> outcomes(bool dpor, int bound) {
  std::set<std::tuple<int, int, int>> out;
  options o = fixed_options(bound);
  o.dpor = dpor;
  auto r = explore(o, [&] {
    ferrite::atomic<int> x{0};
    ferrite::atomic<int> y{0};
    int a = 0;
    int b = 0;
    ferrite::thread t([&] {
      x.store(1, memory_order_release);
      a = y.load(memory_order_acquire);
      y.fetch_add(1, memory_order_acq_rel);
    });
    y.store(5, memory_order_relaxed);
    b = x.load(memory_order_acquire);
    t.join();
    const int c = y.load(memory_order_relaxed);
    ferrite::check::untracked_scope bookkeeping;
    out.emplace(a, b, c);
  });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  return out;
}

TEST(Checker, DporFindsEveryOutcomeTheFullSearchFinds) {
  const auto full = outcomes(false, -1);
  EXPECT_EQ(outcomes(true, -1), full);
  EXPECT_GE(full.size(), 4U);
}

TEST(Checker, RandomModeFindsALostUpdate) {
  options o = fixed_options();
  o.search = ferrite::check::mode::random;
  o.iterations = 2000;
  expect_failure(
      failure_kind::assertion,
      [] {
        ferrite::atomic<int> a{0};
        ferrite::thread t([&] { a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed); });
        a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed);
        t.join();
        FERRITE_ASSERT(a.load(memory_order_relaxed) == 2);
      },
      o);
}

TEST(Checker, ReportNamesTheOperationAndSourceLine) {
  auto r = explore(fixed_options(), [] {
    ferrite::atomic<int> a{0};
    ferrite::check::name(&a, "counter");
    ferrite::thread t([&] { a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed); });
    a.store(a.load(memory_order_relaxed) + 1, memory_order_relaxed);
    t.join();
    FERRITE_ASSERT(a.load(memory_order_relaxed) == 2, "lost update");
  });
  ASSERT_FALSE(r.ok());
  const std::string text = r.text();
  EXPECT_NE(text.find("'counter'"), std::string::npos) << text;
  EXPECT_NE(text.find("checker_test.cpp:"), std::string::npos) << text;
  EXPECT_NE(text.find("lost update"), std::string::npos) << text;
  EXPECT_NE(text.find("FERRITE_CHECK_REPLAY="), std::string::npos) << text;
}

void recording_handler(const ferrite::contract_violation& /*v*/) {}

TEST(Checker, MalformedReplayTokenLeavesNoStateBehind) {
  // explore() must undo its setup when it throws: the engine pointer (else every later
  // explore() is "already exploring") and the contract handler (else a later contract
  // failure reaches the destroyed engine).
  const ferrite::contract_handler outer = ferrite::set_contract_handler(&recording_handler);
  options bad = fixed_options();
  bad.replay = "not a token";
  EXPECT_THROW(static_cast<void>(explore(bad, [] {})), std::invalid_argument);
  EXPECT_EQ(ferrite::set_contract_handler(&recording_handler), &recording_handler);
  bad.replay = "v1.a*2";  // a run without its closing ';'
  EXPECT_THROW(static_cast<void>(explore(bad, [] {})), std::invalid_argument);
  EXPECT_EQ(ferrite::set_contract_handler(&recording_handler), &recording_handler);
  auto r = explore(fixed_options(), [] {
    ferrite::atomic<int> a{0};
    ferrite::thread t([&] { a.fetch_add(1, memory_order_relaxed); });
    a.fetch_add(1, memory_order_relaxed);
    t.join();
    FERRITE_ASSERT(a.load(memory_order_relaxed) == 2);
  });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  EXPECT_EQ(ferrite::set_contract_handler(outer), &recording_handler);
}

}  // namespace

namespace {

std::set<std::pair<int, int>> dekker_outcomes(std::memory_order o, bool dpor) {
  std::set<std::pair<int, int>> out;
  options opts = fixed_options(-1);
  opts.dpor = dpor;
  auto r = explore(opts, [&] {
    ferrite::atomic<int> x{0};
    ferrite::atomic<int> y{0};
    int r2 = -1;
    ferrite::thread t([&] {
      y.store(1, o);
      r2 = x.load(o);
    });
    x.store(1, o);
    const int r1 = y.load(o);
    t.join();
    ferrite::check::untracked_scope bookkeeping;
    out.emplace(r1, r2);
  });
  EXPECT_TRUE(r.ok() && r.complete) << r.text();
  return out;
}

TEST(Checker, StoreBufferingOutcomesMatchTheMemoryModel) {
  const std::set<std::pair<int, int>> sc{{0, 1}, {1, 0}, {1, 1}};
  EXPECT_EQ(dekker_outcomes(memory_order_seq_cst, false), sc);
  EXPECT_EQ(dekker_outcomes(memory_order_seq_cst, true), sc);
  std::set<std::pair<int, int>> weak = sc;
  weak.emplace(0, 0);
  EXPECT_EQ(dekker_outcomes(memory_order_relaxed, false), weak);
  EXPECT_EQ(dekker_outcomes(memory_order_relaxed, true), weak);
}

}  // namespace
