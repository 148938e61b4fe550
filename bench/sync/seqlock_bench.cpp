// SPDX-License-Identifier: Apache-2.0
// seqlock read throughput against the two locks people reach for instead: a 64-byte record
// read by 1 or 2 threads while one background writer overwrites it (ferrite::sync::seqlock vs
// std::shared_mutex with shared_lock/unique_lock vs std::mutex). The writer stores flat out
// (the seqlock's worst case: a reader on another core may need many attempts), or once per
// 100 ns or 1 us of simulated work (a realistic publisher); then the same reads with no
// writer: with 1 thread, the uncontended cost of one read; with 2, how readers scale when
// they only contend with each other. items_per_second is aggregate reads per second over the
// reader threads; writes_per_second is what the writer achieved meanwhile (a lock that
// favours readers shows it there). With 1 or 2 readers plus the writer on a 2-core machine,
// the threads share cores: numbers depend on the scheduler as much as on the lock; report
// `uptime` with them. Run with --benchmark_repetitions=9
// --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/seqlock.hpp"

namespace {

// 64 bytes, every word the same counter: a reader can check what it got, cheaply.
struct record {
  std::array<std::uint64_t, 8> words;
};
static_assert(sizeof(record) == 64);

record make_record(std::uint64_t n) {
  record r{};
  r.words.fill(n);
  return r;
}

class seqlock_box {
 public:
  record read() const { return lock_.load(); }
  void write(const record& r) { lock_.store(r); }

 private:
  ferrite::sync::seqlock<record> lock_;
};

class shared_mutex_box {
 public:
  record read() const {
    const std::shared_lock lock(mutex_);
    return value_;
  }
  void write(const record& r) {
    const std::unique_lock lock(mutex_);
    value_ = r;
  }

 private:
  mutable std::shared_mutex mutex_;
  record value_{};
};

class mutex_box {
 public:
  record read() const {
    const std::lock_guard lock(mutex_);
    return value_;
  }
  void write(const record& r) {
    const std::lock_guard lock(mutex_);
    value_ = r;
  }

 private:
  mutable std::mutex mutex_;
  record value_{};
};

// One box per contender, shared by the reader threads, and the writer that thread 0 starts
// before the timed loop (Google Benchmark holds every thread at a barrier until all are
// there, so the writer is running when timing starts) and stops after it. The writer either
// stores flat out (period 0) or once per `period_ns` of simulated work (a busy wait on the
// steady clock, so that consecutive stores start at least `period_ns` apart; a writer that
// was descheduled does not catch up in a burst). The rate achieved is in writes_per_second:
// below the nominal one when the clock reads or the scheduler take longer (about 4.5M/s for
// the 100 ns writer on the shared 2-core VM).
template <class Box>
struct arena {
  Box box;
  ferrite::atomic<bool> stop{false};
  std::optional<ferrite::thread> writer;
  // The last store number, carried from one writer to the next (the writers of successive
  // runs are joined one after the other), so that numbers only grow within a box.
  std::uint64_t stores = 0;

  void start_writer(std::int64_t period_ns) {
    // ORDERING: relaxed; the thread start orders it before the writer's loads.
    stop.store(false, std::memory_order_relaxed);
    writer.emplace([this, period_ns] {
      std::uint64_t n = stores;
      const auto period = std::chrono::nanoseconds(period_ns);
      auto last = std::chrono::steady_clock::now();
      // ORDERING: relaxed stop flag; join() below orders the writer's end before the reader
      // thread continues.
      while (!stop.load(std::memory_order_relaxed)) {
        box.write(make_record(++n));
        if (period_ns != 0) {
          auto now = std::chrono::steady_clock::now();
          while (now - last < period) now = std::chrono::steady_clock::now();
          last = now;
        }
      }
      stores = n;
    });
  }
  void stop_writer() {
    // ORDERING: relaxed; see the writer's loop.
    stop.store(true, std::memory_order_relaxed);
    writer->join();
    writer.reset();
  }
};

template <class Box>
arena<Box>& shared_arena() {
  static arena<Box> a;
  return a;
}

// Writes are counted from the records themselves: every word holds the writer's store
// number, so thread 0's first and last reads of the timed loop bracket the stores made while
// it ran (exact for every box; no counter traffic added to the writer).
template <class Box, std::int64_t WriterPeriodNs>
void read_loop(benchmark::State& state) {
  constexpr bool with_writer = WriterPeriodNs >= 0;
  arena<Box>& a = shared_arena<Box>();
  if (with_writer && state.thread_index() == 0) a.start_writer(WriterPeriodNs);
  std::uint64_t torn = 0;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool seen_first = false;
  for (auto _ : state) {
    // The reader uses every field: it checks that all eight words agree.
    const record r = a.box.read();
    bool same = true;
    for (const std::uint64_t w : r.words) same &= w == r.words[0];
    torn += static_cast<std::uint64_t>(!same);
    if (!seen_first) {
      first = r.words[0];
      seen_first = true;
    }
    last = r.words[0];
    benchmark::DoNotOptimize(torn);
  }
  state.SetItemsProcessed(state.iterations());
  if (with_writer && state.thread_index() == 0) {
    a.stop_writer();
    state.counters["writes_per_second"] =
        benchmark::Counter(static_cast<double>(last - first), benchmark::Counter::kIsRate);
  }
  if (torn != 0) state.SkipWithError("a reader saw a torn record");
}

constexpr std::int64_t no_writer = -1;
constexpr std::int64_t flat_out = 0;
constexpr std::int64_t every_100ns = 100;
constexpr std::int64_t every_1us = 1000;

#define FERRITE_SEQLOCK_BENCH(box, period, name) \
  BENCHMARK_TEMPLATE(read_loop, box, period)->Name(name)->Threads(1)->Threads(2)->UseRealTime()

FERRITE_SEQLOCK_BENCH(seqlock_box, flat_out, "BM_seqlock_read_with_writer");
FERRITE_SEQLOCK_BENCH(shared_mutex_box, flat_out, "BM_shared_mutex_read_with_writer");
FERRITE_SEQLOCK_BENCH(mutex_box, flat_out, "BM_mutex_read_with_writer");
FERRITE_SEQLOCK_BENCH(seqlock_box, every_100ns, "BM_seqlock_read_with_writer_every_100ns");
FERRITE_SEQLOCK_BENCH(shared_mutex_box, every_100ns,
                      "BM_shared_mutex_read_with_writer_every_100ns");
FERRITE_SEQLOCK_BENCH(mutex_box, every_100ns, "BM_mutex_read_with_writer_every_100ns");
FERRITE_SEQLOCK_BENCH(seqlock_box, every_1us, "BM_seqlock_read_with_writer_every_1us");
FERRITE_SEQLOCK_BENCH(shared_mutex_box, every_1us, "BM_shared_mutex_read_with_writer_every_1us");
FERRITE_SEQLOCK_BENCH(mutex_box, every_1us, "BM_mutex_read_with_writer_every_1us");
FERRITE_SEQLOCK_BENCH(seqlock_box, no_writer, "BM_seqlock_read_no_writer");
FERRITE_SEQLOCK_BENCH(shared_mutex_box, no_writer, "BM_shared_mutex_read_no_writer");
FERRITE_SEQLOCK_BENCH(mutex_box, no_writer, "BM_mutex_read_no_writer");

}  // namespace
