// SPDX-License-Identifier: Apache-2.0
// seqlock read throughput against the two locks people reach for instead: a 64-byte record
// read by 1 or 2 threads while one background writer overwrites it as fast as it can
// (ferrite::sync::seqlock vs std::shared_mutex with shared_lock/unique_lock vs std::mutex),
// and the same reads with no writer: with 1 thread, the uncontended cost of one read; with
// 2, how readers scale when they only contend with each other. items_per_second is
// aggregate reads per second over the reader threads; writes_per_second is what the writer
// achieved meanwhile (a seqlock writer never waits for readers; a lock's writer does).
// Run with --benchmark_repetitions=5 --benchmark_report_aggregates_only=true for medians.
#include <benchmark/benchmark.h>

#include <array>
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
// there, so the writer is running when timing starts) and stops after it.
template <class Box>
struct arena {
  Box box;
  ferrite::atomic<bool> stop{false};
  ferrite::atomic<std::uint64_t> writes{0};
  std::optional<ferrite::thread> writer;

  void start_writer() {
    // ORDERING: relaxed; the thread start orders it before the writer's loads.
    stop.store(false, std::memory_order_relaxed);
    writer.emplace([this] {
      std::uint64_t n = 0;
      // ORDERING: relaxed stop flag; join() below orders the writer's last store of
      // `writes` before the main thread reads it.
      while (!stop.load(std::memory_order_relaxed)) box.write(make_record(++n));
      // ORDERING: relaxed; read after join().
      writes.store(n, std::memory_order_relaxed);
    });
  }
  std::uint64_t stop_writer() {
    // ORDERING: relaxed; see the writer's loop.
    stop.store(true, std::memory_order_relaxed);
    writer->join();
    writer.reset();
    // ORDERING: relaxed; join() ordered the store before this load.
    return writes.load(std::memory_order_relaxed);
  }
};

template <class Box>
arena<Box>& shared_arena() {
  static arena<Box> a;
  return a;
}

template <class Box, bool WithWriter>
void read_loop(benchmark::State& state) {
  arena<Box>& a = shared_arena<Box>();
  if (WithWriter && state.thread_index() == 0) a.start_writer();
  std::uint64_t torn = 0;
  for (auto _ : state) {
    // The reader uses every field: it checks that all eight words agree.
    const record r = a.box.read();
    bool same = true;
    for (const std::uint64_t w : r.words) same &= w == r.words[0];
    torn += static_cast<std::uint64_t>(!same);
    benchmark::DoNotOptimize(torn);
  }
  state.SetItemsProcessed(state.iterations());
  if (WithWriter && state.thread_index() == 0) {
    state.counters["writes_per_second"] =
        benchmark::Counter(static_cast<double>(a.stop_writer()), benchmark::Counter::kIsRate);
  }
  if (torn != 0) state.SkipWithError("a reader saw a torn record");
}

void BM_seqlock_read_with_writer(benchmark::State& s) { read_loop<seqlock_box, true>(s); }
void BM_shared_mutex_read_with_writer(benchmark::State& s) { read_loop<shared_mutex_box, true>(s); }
void BM_mutex_read_with_writer(benchmark::State& s) { read_loop<mutex_box, true>(s); }
void BM_seqlock_read_no_writer(benchmark::State& s) { read_loop<seqlock_box, false>(s); }
void BM_shared_mutex_read_no_writer(benchmark::State& s) { read_loop<shared_mutex_box, false>(s); }
void BM_mutex_read_no_writer(benchmark::State& s) { read_loop<mutex_box, false>(s); }

BENCHMARK(BM_seqlock_read_with_writer)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_shared_mutex_read_with_writer)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_mutex_read_with_writer)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_seqlock_read_no_writer)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_shared_mutex_read_no_writer)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_mutex_read_no_writer)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
