// SPDX-License-Identifier: Apache-2.0
// ferrite::metrics with metrics on (forced here, whatever the build's FERRITE_METRICS, since
// ferrite_core always carries the enabled implementation): exact totals across threads that
// have exited and threads still alive, a snapshot racing with writers never going down nor
// overshooting, histogram bucket edges, gauges netting out, merge by name, the exact text
// exposition, name validation, and a disabled translation unit (metrics_disabled.cpp) whose
// increments are never observed. Every test uses its own name prefix: the registry is global.
#undef FERRITE_METRICS
#define FERRITE_METRICS 1
#include "ferrite/core/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ferrite/core/atomic.hpp"

namespace ferrite_test {
std::string disabled_metrics_run(std::uint64_t n);  // metrics_disabled.cpp
}  // namespace ferrite_test

namespace {

namespace fm = ferrite::metrics;
using ferrite::errc;

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

// Runs `body(i)` on `n` threads and joins them all.
template <class F>
void run_threads(int n, F body) {
  std::vector<ferrite::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (ferrite::thread& t : threads) t.join();
}

const fm::entry& must_find(const fm::snapshot& s, std::string_view name) {
  const fm::entry* e = s.find(name);
  if (e == nullptr) throw std::runtime_error("snapshot lacks " + std::string(name));
  return *e;
}

TEST(Metrics, EnabledAndDisabledAreDistinctTypes) {
  static_assert(std::is_same_v<fm::counter, fm::enabled_v1::counter>);
  static_assert(!std::is_same_v<fm::counter, fm::disabled_v1::counter>);
  static_assert(!std::is_empty_v<fm::counter>);
  static_assert(!std::is_copy_constructible_v<fm::counter>);
  static_assert(!std::is_move_constructible_v<fm::histogram>);
  static_assert(std::is_empty_v<fm::disabled_v1::counter>);
}

TEST(Metrics, NamesAndBuckets) {
  static_assert(fm::is_valid_name("mem.arena.allocations"));
  static_assert(fm::is_valid_name("a:b_c.D9"));
  static_assert(fm::is_valid_name("_x"));
  static_assert(!fm::is_valid_name(""));
  static_assert(!fm::is_valid_name("9lives"));
  static_assert(!fm::is_valid_name("has space"));
  static_assert(!fm::is_valid_name("dash-ed"));
  static_assert(!fm::is_valid_name("quote\""));

  static_assert(fm::bucket_of(0) == 0 && fm::bucket_of(1) == 1);
  static_assert(fm::bucket_of(2) == 2 && fm::bucket_of(3) == 2 && fm::bucket_of(4) == 3);
  static_assert(fm::bucket_of(std::uint64_t{1} << 63) == 64 && fm::bucket_of(u64_max) == 64);
  static_assert(fm::bucket_upper_bound(0) == 0 && fm::bucket_upper_bound(1) == 1);
  static_assert(fm::bucket_upper_bound(2) == 3 && fm::bucket_upper_bound(64) == u64_max);
  for (std::size_t k = 1; k < fm::histogram_buckets; ++k) {
    EXPECT_EQ(fm::bucket_of(fm::bucket_upper_bound(k)), k);
    EXPECT_EQ(fm::bucket_of(fm::bucket_upper_bound(k - 1) + 1), k);
  }
}

// N threads x M increments: exact while the threads are alive (their stores happen-before
// the acquire of `done`), and still exact once they have exited and been folded into the
// retired totals.
TEST(Metrics, ExactTotalsFromLiveAndExitedThreads) {
  constexpr int threads = 8;
  constexpr std::uint64_t per_thread = 100'000;
  fm::counter c{"t.exact.events", "events"};
  fm::histogram h{"t.exact.sizes"};
  ferrite::atomic<int> done{0};
  ferrite::atomic<bool> release{false};

  std::vector<ferrite::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        c.add();
        h.record(i % 8);
      }
      // ORDERING: release; pairs with the acquire load below: this thread's slot stores
      // happen-before the snapshot taken after all threads are done.
      done.fetch_add(1, std::memory_order_release);
      // ORDERING: acquire; pairs with the release store of `release` (no data carried).
      while (!release.load(std::memory_order_acquire)) ferrite::yield_now();
    });
  }
  // ORDERING: acquire; pairs with each thread's release increment of `done`.
  while (done.load(std::memory_order_acquire) != threads) ferrite::yield_now();

  const std::uint64_t expected = threads * per_thread;
  const fm::snapshot live = fm::take_snapshot("t.exact.");
  EXPECT_EQ(must_find(live, "t.exact.events").total, expected);
  EXPECT_EQ(c.value(), expected);
  EXPECT_EQ(must_find(live, "t.exact.sizes").total, expected);

  // ORDERING: release; pairs with the threads' acquire loads.
  release.store(true, std::memory_order_release);
  for (ferrite::thread& t : pool) t.join();

  const fm::snapshot retired = fm::take_snapshot("t.exact.");
  EXPECT_EQ(must_find(retired, "t.exact.events").total, expected);
  EXPECT_EQ(c.value(), expected);
  const fm::entry& sizes = must_find(retired, "t.exact.sizes");
  EXPECT_EQ(sizes.total, expected);
  EXPECT_EQ(h.count(), expected);
  EXPECT_EQ(sizes.sum, threads * (per_thread / 8) * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
  EXPECT_EQ(sizes.buckets[0], expected / 8);      // 0
  EXPECT_EQ(sizes.buckets[1], expected / 8);      // 1
  EXPECT_EQ(sizes.buckets[2], 2 * expected / 8);  // 2, 3
  EXPECT_EQ(sizes.buckets[3], 4 * expected / 8);  // 4..7
  EXPECT_EQ(live, fm::take_snapshot("t.exact.")) << "retiring threads changed the totals";
}

// A reader snapshots continuously while writers increment and exit: every value it sees
// is at least the previous one and at most the final total.
TEST(Metrics, ConcurrentSnapshotsNeverGoDownNorOvershoot) {
  constexpr int writers = 4;
  constexpr std::uint64_t per_thread = 200'000;
  constexpr std::uint64_t expected = writers * per_thread;
  fm::counter c{"t.mono.events"};
  fm::histogram h{"t.mono.values"};
  ferrite::atomic<int> finished{0};

  std::uint64_t reads = 0;
  std::uint64_t regressions = 0;
  std::uint64_t overshoots = 0;
  std::uint64_t inconsistent = 0;
  ferrite::thread reader([&] {
    std::uint64_t last = 0;
    std::uint64_t last_value = 0;
    bool writers_done = false;
    while (!writers_done) {
      // ORDERING: acquire; pairs with the writers' release increments of `finished`.
      writers_done = finished.load(std::memory_order_acquire) == writers;
      const fm::snapshot s = fm::take_snapshot("t.mono.");
      const std::uint64_t v = must_find(s, "t.mono.events").total;
      const fm::entry& hist = must_find(s, "t.mono.values");
      std::uint64_t bucket_total = 0;
      for (const std::uint64_t b : hist.buckets) bucket_total += b;
      const std::uint64_t direct = c.value();
      regressions += static_cast<std::uint64_t>(v < last) +
                     static_cast<std::uint64_t>(direct < last_value) +
                     static_cast<std::uint64_t>(direct < v);
      overshoots += static_cast<std::uint64_t>(v > expected) +
                    static_cast<std::uint64_t>(direct > expected) +
                    static_cast<std::uint64_t>(hist.total > expected);
      inconsistent += static_cast<std::uint64_t>(bucket_total != hist.total);
      last = v;
      last_value = direct;
      ++reads;
    }
  });
  run_threads(writers, [&](int) {
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      c.add();
      h.record(i);
    }
    // ORDERING: release; pairs with the reader's acquire load.
    finished.fetch_add(1, std::memory_order_release);
  });
  reader.join();

  EXPECT_GT(reads, 0U);
  EXPECT_EQ(regressions, 0U);
  EXPECT_EQ(overshoots, 0U);
  EXPECT_EQ(inconsistent, 0U);
  EXPECT_EQ(c.value(), expected);
  EXPECT_EQ(h.count(), expected);
}

TEST(Metrics, HistogramBucketEdgesCountAndSum) {
  fm::histogram h{"t.hist.edges", "edge values"};
  const std::vector<std::uint64_t> values = {0, 1, 2, 3, 4, std::uint64_t{1} << 63, u64_max};
  for (const std::uint64_t v : values) h.record(v);

  const fm::snapshot s = fm::take_snapshot("t.hist.edges");
  ASSERT_EQ(s.size(), 1U);
  const fm::entry& e = s.entries().front();
  EXPECT_EQ(e.kind, fm::metric_kind::histogram);
  ASSERT_EQ(e.buckets.size(), fm::histogram_buckets);
  std::vector<std::uint64_t> want(fm::histogram_buckets, 0);
  want[0] = 1;   // 0
  want[1] = 1;   // 1
  want[2] = 2;   // 2, 3
  want[3] = 1;   // 4
  want[64] = 2;  // 2^63, 2^64 - 1
  EXPECT_EQ(e.buckets, want);
  EXPECT_EQ(e.total, values.size());
  EXPECT_EQ(h.count(), values.size());
  const std::uint64_t sum = 0 + 1 + 2 + 3 + 4 + (std::uint64_t{1} << 63) + u64_max;  // mod 2^64
  EXPECT_EQ(e.sum, sum);
  EXPECT_EQ(h.sum(), sum);
}

TEST(Metrics, GaugeUpAndDownAcrossThreadsNetsOut) {
  fm::gauge g{"t.gauge.level"};
  constexpr std::int64_t per_thread = 50'000;
  run_threads(6, [&](int t) {
    for (std::int64_t i = 0; i < per_thread; ++i) {
      if (t % 2 == 0) {
        g.add();
      } else {
        g.sub();
      }
    }
  });
  EXPECT_EQ(g.value(), 0);
  g.sub(5);  // this thread alone goes negative
  EXPECT_EQ(g.value(), -5);
  run_threads(1, [&](int) { g.add(std::numeric_limits<std::int64_t>::max()); });
  EXPECT_EQ(g.value(), std::numeric_limits<std::int64_t>::max() - 5);
  g.add(5);
  g.sub(std::numeric_limits<std::int64_t>::max());
  const fm::snapshot s = fm::take_snapshot("t.gauge.");
  EXPECT_EQ(must_find(s, "t.gauge.level").level, 0);
  EXPECT_EQ(must_find(s, "t.gauge.level").kind, fm::metric_kind::gauge);
}

// A thread_local destroyed after the thread's exit hook (it was constructed before the
// thread's first increment) still counts: it gets a block that stays linked.
struct late_adder {
  fm::counter* target = nullptr;
  late_adder() = default;
  late_adder(const late_adder&) = delete;
  late_adder& operator=(const late_adder&) = delete;
  ~late_adder() {
    if (target != nullptr) target->add(5);
  }
};

TEST(Metrics, IncrementsFromLateThreadLocalDestructorsAreKept) {
  fm::counter c{"t.late.adds"};
  run_threads(2, [&](int) {
    thread_local late_adder adder;  // constructed before this thread's exit hook
    adder.target = &c;
    c.add(1);  // first increment on the thread: arms the exit hook
  });
  EXPECT_EQ(c.value(), 12U);
}

// More metrics than fit one chunk: slot ranges in several chunks, none straddling two.
TEST(Metrics, ManyMetricsAcrossChunks) {
  std::vector<std::unique_ptr<fm::counter>> counters;
  std::vector<std::unique_ptr<fm::histogram>> histograms;
  counters.reserve(600);
  histograms.reserve(10);
  for (int i = 0; i < 600; ++i) {
    counters.push_back(std::make_unique<fm::counter>("t.many.c" + std::to_string(i)));
    if (i % 60 == 0) {
      histograms.push_back(std::make_unique<fm::histogram>("t.many.h" + std::to_string(i)));
    }
  }
  run_threads(3, [&](int) {
    for (std::size_t i = 0; i < counters.size(); ++i) counters[i]->add(i);
    for (auto& h : histograms) h->record(1000);
  });
  const fm::snapshot s = fm::take_snapshot("t.many.");
  EXPECT_EQ(s.size(), counters.size() + histograms.size());
  for (std::size_t i = 0; i < counters.size(); ++i) {
    EXPECT_EQ(must_find(s, "t.many.c" + std::to_string(i)).total, 3 * i);
    EXPECT_EQ(counters[i]->value(), 3 * i);
  }
  for (auto& h : histograms) {
    EXPECT_EQ(h->count(), 3U);
    EXPECT_EQ(h->sum(), 3000U);
  }
}

TEST(Metrics, DestroyedMetricIsNotListed) {
  auto c = std::make_unique<fm::counter>("t.dead.counter");
  fm::gauge kept{"t.dead.kept"};
  c->add(3);
  kept.add(1);
  EXPECT_NE(fm::take_snapshot("t.dead.").find("t.dead.counter"), nullptr);
  c.reset();
  const fm::snapshot s = fm::take_snapshot("t.dead.");
  EXPECT_EQ(s.find("t.dead.counter"), nullptr);
  EXPECT_NE(s.find("t.dead.kept"), nullptr);
  EXPECT_EQ(s.size(), 1U);
  fm::counter again{"t.dead.counter"};  // the name is free again
  EXPECT_EQ(again.value(), 0U);
}

// A destroyed metric's slots go to the next metric of its size, which starts at zero even
// though threads (one still alive, one exited) hold the old values in those slots.
TEST(Metrics, RecycledSlotsStartAtZero) {
  ferrite::atomic<int> phase{0};
  auto old_counter = std::make_unique<fm::counter>("t.recycle.old");
  auto old_hist = std::make_unique<fm::histogram>("t.recycle.old_hist");
  std::unique_ptr<fm::counter> fresh;
  std::unique_ptr<fm::histogram> fresh_hist;
  run_threads(1, [&](int) {
    old_counter->add(40);
    old_hist->record(9);
  });  // exited: folded into the retired totals
  ferrite::thread alive([&] {
    old_counter->add(2);
    old_hist->record(1);
    // ORDERING: release/acquire handshakes with the main thread; they order the increments
    // before the destruction and the creation of the new metrics before their use.
    phase.store(1, std::memory_order_release);
    while (phase.load(std::memory_order_acquire) != 2) ferrite::yield_now();
    fresh->add(1);
    fresh_hist->record(4);
    phase.store(3, std::memory_order_release);
    while (phase.load(std::memory_order_acquire) != 4) ferrite::yield_now();
  });
  while (phase.load(std::memory_order_acquire) != 1) ferrite::yield_now();
  old_counter->add(100);
  EXPECT_EQ(old_counter->value(), 142U);
  old_counter.reset();
  old_hist.reset();
  fresh = std::make_unique<fm::counter>("t.recycle.new");  // takes the freed slot (LIFO)
  fresh_hist = std::make_unique<fm::histogram>("t.recycle.new_hist");
  EXPECT_EQ(fresh->value(), 0U);
  EXPECT_EQ(fresh_hist->count(), 0U);
  EXPECT_EQ(fresh_hist->sum(), 0U);
  phase.store(2, std::memory_order_release);
  while (phase.load(std::memory_order_acquire) != 3) ferrite::yield_now();
  fresh->add(10);
  EXPECT_EQ(fresh->value(), 11U);
  EXPECT_EQ(fresh_hist->count(), 1U);
  EXPECT_EQ(fresh_hist->sum(), 4U);
  phase.store(4, std::memory_order_release);
  alive.join();
  const fm::snapshot s = fm::take_snapshot("t.recycle.");
  EXPECT_EQ(s.size(), 2U);
  EXPECT_EQ(must_find(s, "t.recycle.new").total, 11U);
  EXPECT_EQ(must_find(s, "t.recycle.new_hist").buckets[3], 1U);
  EXPECT_EQ(must_find(s, "t.recycle.new_hist").total, 1U);
}

// Creating and destroying far more metrics than there are slots never runs out.
TEST(Metrics, ChurnDoesNotExhaustSlots) {
  constexpr int rounds = 140'000;  // > 131072 slots per thread
  for (int i = 0; i < rounds; ++i) {
    fm::counter c{"t.churn.c"};
    c.add();
    if (i % 1000 == 0) {
      fm::histogram h{"t.churn.h"};
      h.record(1);
      EXPECT_EQ(h.count(), 1U);
    }
    if (c.value() != 1) {
      ADD_FAILURE() << "round " << i << ": " << c.value();
      break;
    }
  }
  EXPECT_TRUE(fm::take_snapshot("t.churn.").empty());
}

TEST(Metrics, MergeAddsByName) {
  fm::counter c{"t.merge.count"};
  fm::gauge g{"t.merge.level"};
  fm::histogram h{"t.merge.hist"};
  c.add(5);
  g.sub(2);
  h.record(3);
  fm::snapshot a = fm::take_snapshot("t.merge.");
  c.add(1);
  h.record(100);
  fm::counter late{"t.merge.late", "only in b"};
  late.add(7);
  const fm::snapshot b = fm::take_snapshot("t.merge.");

  ASSERT_TRUE(a.merge(b).has_value());
  EXPECT_EQ(a.size(), 4U);
  EXPECT_EQ(must_find(a, "t.merge.count").total, 5U + 6U);
  EXPECT_EQ(must_find(a, "t.merge.level").level, -4);
  EXPECT_EQ(must_find(a, "t.merge.late").total, 7U);
  EXPECT_EQ(must_find(a, "t.merge.late").help, "only in b");
  const fm::entry& hist = must_find(a, "t.merge.hist");
  EXPECT_EQ(hist.total, 3U);
  EXPECT_EQ(hist.sum, 3U + 3U + 100U);
  EXPECT_EQ(hist.buckets[2], 2U);
  EXPECT_EQ(hist.buckets[7], 1U);
  EXPECT_TRUE(std::ranges::is_sorted(a.entries(), {}, &fm::entry::name));

  // Entries built by hand (another process's values) merge the same way.
  fm::entry remote{"t.merge.count", "", fm::metric_kind::counter, 100, 0, 0, {}};
  ASSERT_TRUE(a.merge(remote).has_value());
  EXPECT_EQ(must_find(a, "t.merge.count").total, 111U);
  fm::snapshot empty;
  ASSERT_TRUE(empty.merge(a).has_value());
  EXPECT_EQ(empty, a);
}

TEST(Metrics, MergeRejectsConflictsAllOrNothing) {
  fm::snapshot s;
  ASSERT_TRUE(s.merge(fm::entry{"t.conflict.x", "", fm::metric_kind::counter, 1, 0, 0, {}}));
  const fm::snapshot before = s;

  const auto kind_clash =
      s.merge(fm::entry{"t.conflict.x", "", fm::metric_kind::gauge, 0, 1, 0, {}});
  ASSERT_FALSE(kind_clash.has_value());
  EXPECT_EQ(kind_clash.error(), errc::invalid_argument);
  // "t_conflict_x" would be exposed as t_conflict_x_total, like "t.conflict.x".
  EXPECT_FALSE(s.merge(fm::entry{"t_conflict_x", "", fm::metric_kind::counter, 1, 0, 0, {}}));
  EXPECT_FALSE(s.merge(fm::entry{"bad name", "", fm::metric_kind::counter, 1, 0, 0, {}}));
  EXPECT_FALSE(s.merge(fm::entry{"t.conflict.h", "", fm::metric_kind::histogram, 0, 0, 0, {1}}));
  std::vector<std::uint64_t> buckets(fm::histogram_buckets, 1);
  EXPECT_FALSE(
      s.merge(fm::entry{"t.conflict.h", "", fm::metric_kind::histogram, 3, 0, 0, buckets}));
  EXPECT_FALSE(s.merge(fm::entry{"t.conflict.g", "", fm::metric_kind::gauge, 0, 0, 0, {1}}));
  EXPECT_EQ(s, before);

  fm::snapshot mixed;  // one good entry and one clashing one: nothing is merged
  ASSERT_TRUE(mixed.merge(fm::entry{"t.conflict.new", "", fm::metric_kind::gauge, 0, 4, 0, {}}));
  ASSERT_TRUE(mixed.merge(fm::entry{"t.conflict.x", "", fm::metric_kind::gauge, 0, 1, 0, {}}));
  EXPECT_FALSE(s.merge(mixed));
  EXPECT_EQ(s, before);
}

TEST(Metrics, TextExpositionIsExact) {
  fm::counter requests{"t.text.requests", "requests served"};
  fm::counter bytes{"t.text.bytes_total"};
  fm::gauge depth{"t.text.depth", "queue\\depth\nnow"};
  fm::histogram latency{"t.text.latency_ns", "latency"};
  fm::histogram empty{"t.text.empty"};
  requests.add(3);
  bytes.add(10);
  run_threads(1, [&](int) { depth.sub(2); });
  for (const std::uint64_t v : {0U, 2U, 3U, 5U}) latency.record(v);

  const char* const expected = R"(# TYPE t_text_bytes_total counter
t_text_bytes_total 10
# HELP t_text_depth queue\\depth\nnow
# TYPE t_text_depth gauge
t_text_depth -2
# TYPE t_text_empty histogram
t_text_empty_bucket{le="+Inf"} 0
t_text_empty_sum 0
t_text_empty_count 0
# HELP t_text_latency_ns latency
# TYPE t_text_latency_ns histogram
t_text_latency_ns_bucket{le="0"} 1
t_text_latency_ns_bucket{le="1"} 1
t_text_latency_ns_bucket{le="3"} 3
t_text_latency_ns_bucket{le="7"} 4
t_text_latency_ns_bucket{le="+Inf"} 4
t_text_latency_ns_sum 10
t_text_latency_ns_count 4
# HELP t_text_requests_total requests served
# TYPE t_text_requests_total counter
t_text_requests_total 3
)";
  EXPECT_EQ(fm::take_snapshot("t.text.").to_text(), expected);
  EXPECT_EQ(fm::snapshot{}.to_text(), "");
}

TEST(MetricsDeathTest, InvalidOrDuplicateNamesAreContractViolations) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(fm::counter{"9lives"}, "invalid metric name: \"9lives\"");
  EXPECT_DEATH(fm::gauge{"has space"}, "invalid metric name");
  EXPECT_DEATH(fm::histogram{""}, "invalid metric name");
  fm::counter first{"t.death.dup"};
  EXPECT_DEATH(fm::counter{"t.death.dup"}, "already has this exposition name");
  EXPECT_DEATH(fm::counter{"t_death_dup"}, "already has this exposition name");
  EXPECT_DEATH(fm::gauge{"t.death.dup_total"}, "already has this exposition name");
}

TEST(Metrics, DisabledUnitIsNeverObserved) {
  EXPECT_EQ(ferrite_test::disabled_metrics_run(10'000), "");
  const fm::snapshot s = fm::take_snapshot();
  for (const fm::entry& e : s.entries()) {
    EXPECT_FALSE(e.name.starts_with("test.disabled.")) << e.name;
  }
  EXPECT_EQ(s.find("test.disabled.counter"), nullptr);
}

}  // namespace
