// SPDX-License-Identifier: Apache-2.0
// Queue benchmarks: ferrite's spsc_queue, mpmc_queue, seg_queue and mpsc_queue side by side with
// Boost.Lockfree, moodycamel (ReaderWriterQueue, ConcurrentQueue), oneTBB and libcds, in one
// binary, reporting items/s. One benchmark iteration is one run: start the producer and
// consumer threads, release them together, move items_per_run 64-bit integers through the
// queue, join; the time from release to join is reported as manual time. Peers that are not
// installed are skipped, never required.
//
// Workloads (capacity 1024 wherever a queue is bounded; boost spsc_queue<capacity<1024>> and
// ReaderWriterQueue(1023) hold 1023; see moodycamel_rwq for why capacity matters here):
//   spsc/1p1c   ferrite spsc_queue (and with 2048 slots) vs boost spsc_queue, moodycamel
//               ReaderWriterQueue (1023 and 2044 slots) and ConcurrentQueue
//   mpmc/1p1c, mpmc/2p2c   ferrite mpmc_queue (default try_ ops; .blocking = false; padded
//               slots; blocking push/pop) and seg_queue (unbounded) vs boost queue,
//               moodycamel ConcurrentQueue, tbb concurrent_bounded_queue and concurrent_queue,
//               libcds MSQueue<HP>
//   mpsc/2p1c   the mpmc set plus ferrite mpsc_queue (default blocks, 128 slots for u64, with
//               recycling off and on; blocks of 32 and 256) and the intrusive queue over nodes
//               allocated before the run
//   roundtrip/<queue>/<form>   one thread: try_push one u64, pop it, per iteration (ns each),
//               with both pop forms every ferrite queue has: try_pop(T&) (`try_pop_ref`) and
//               std::optional<T> try_pop() (`try_pop_optional`)
//
// Every non-blocking queue is driven the same way: a failed try_push/try_pop spins with
// pause for 64 attempts, then yields (the machine may have fewer cores than threads).
// moodycamel ConcurrentQueue gets producer/consumer tokens (its fastest use) and enqueue,
// which allocates blocks as needed: its bounded try_enqueue cannot serve two explicit
// producers (blocks stay with the producer that took them from the initial pool, the other
// never gets one, and the run hangs). boost queue uses bounded_push on its 1024 preallocated
// nodes. libcds' MSQueue and tbb::concurrent_queue are unbounded too.
// Run with --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true
// --benchmark_report_aggregates_only=true for medians (the machine is noisy: interleave).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/mpmc_queue.hpp"
#include "ferrite/sync/mpsc_queue.hpp"
#include "ferrite/sync/seg_queue.hpp"
#include "ferrite/sync/spsc_queue.hpp"

// Peer headers are not held to ferrite's warning flags.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wall"
#if __has_include(<boost/lockfree/spsc_queue.hpp>) && __has_include(<boost/lockfree/queue.hpp>)
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#define FERRITE_BENCH_HAVE_BOOST 1
#else
#define FERRITE_BENCH_HAVE_BOOST 0
#endif
#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#define FERRITE_BENCH_HAVE_MOODYCAMEL_CQ 1
#else
#define FERRITE_BENCH_HAVE_MOODYCAMEL_CQ 0
#endif
#if __has_include(<readerwriterqueue/readerwriterqueue.h>)
#include <readerwriterqueue/readerwriterqueue.h>
#define FERRITE_BENCH_HAVE_MOODYCAMEL_RWQ 1
#else
#define FERRITE_BENCH_HAVE_MOODYCAMEL_RWQ 0
#endif
#if FERRITE_BENCH_HAVE_TBB
#include <oneapi/tbb/concurrent_queue.h>
#endif
#if FERRITE_BENCH_HAVE_LIBCDS
#include <cds/container/msqueue.h>
#include <cds/gc/hp.h>
#include <cds/init.h>
#endif
#pragma GCC diagnostic pop

namespace {

using u64 = std::uint64_t;

/// Items moved per run (per benchmark iteration).
constexpr u64 items_per_run = 1'000'000;
/// Capacity of every bounded queue.
constexpr std::size_t ring_capacity = 1024;

/// What every driver does when a try_ operation fails: pause, then yield.
class retry {
 public:
  void operator()() noexcept {
    if (++failures_ < 64) {
      ferrite::spin_hint();
    } else {
      std::this_thread::yield();
    }
  }
  void reset() noexcept { failures_ = 0; }

 private:
  unsigned failures_ = 0;
};

// ---- adapters ------------------------------------------------------------------------------
// Each adapter A owns one queue; A::producer / A::consumer are per-thread handles (tokens,
// thread attachment) with try_push(u64) / try_pop(u64&). Blocking adapters set
// `blocking = true` and offer push(u64) / pop() instead.

template <class A>
struct simple_handles {
  struct producer {
    explicit producer(A& a) : q(a) {}
    bool try_push(u64 v) { return q.try_push(v); }
    A& q;
  };
  struct consumer {
    explicit consumer(A& a) : q(a) {}
    bool try_pop(u64& v) { return q.try_pop(v); }
    A& q;
  };
  static constexpr bool blocking = false;
};

template <std::size_t Capacity = ring_capacity>
struct ferrite_spsc : simple_handles<ferrite_spsc<Capacity>> {
  ferrite::sync::spsc_queue<u64> q{Capacity};
  bool try_push(u64 v) { return q.try_push(v); }
  bool try_pop(u64& v) { return q.try_pop(v); }
};

template <ferrite::sync::mpmc_options L>
struct ferrite_mpmc : simple_handles<ferrite_mpmc<L>> {
  ferrite::sync::mpmc_queue<u64, L> q{ring_capacity};
  bool try_push(u64 v) { return q.try_push(v); }
  bool try_pop(u64& v) { return q.try_pop(v); }
};

template <ferrite::sync::mpmc_options L>
struct ferrite_mpmc_blocking {
  ferrite::sync::mpmc_queue<u64, L> q{ring_capacity};
  static constexpr bool blocking = true;
  struct producer {
    explicit producer(ferrite_mpmc_blocking& a) : q(a.q) {}
    void push(u64 v) { q.push(v); }
    ferrite::sync::mpmc_queue<u64, L>& q;
  };
  struct consumer {
    explicit consumer(ferrite_mpmc_blocking& a) : q(a.q) {}
    u64 pop() { return q.pop(); }
    ferrite::sync::mpmc_queue<u64, L>& q;
  };
};

/// Unbounded: try_push never fails (a new 31-slot block every 31 pushes).
struct ferrite_seg : simple_handles<ferrite_seg> {
  ferrite::sync::seg_queue<u64> q;
  bool try_push(u64 v) { return q.try_push(v); }
  bool try_pop(u64& v) { return q.try_pop(v); }
};

/// Unbounded: try_push never fails (blocks of BlockSize slots; with recycling off one used
/// block is kept as a spare, with it on every used block is reused).
template <ferrite::sync::mpsc_recycling R,
          std::size_t BlockSize = ferrite::sync::mpsc_queue<u64>::block_size>
struct ferrite_mpsc : simple_handles<ferrite_mpsc<R, BlockSize>> {
  ferrite::sync::mpsc_queue<u64, std::allocator<u64>, BlockSize> q{R};
  bool try_push(u64 v) { return q.try_push(v); }
  bool try_pop(u64& v) { return q.try_pop(v); }
};

/// The intrusive queue with every node allocated before the run (one per item): the cost
/// of the queue alone, without any allocator.
struct ferrite_mpsc_intrusive {
  struct node {
    ferrite::atomic<node*> next{nullptr};
    u64 value = 0;
  };
  ferrite::sync::intrusive_mpsc_queue<node, &node::next> q;
  std::unique_ptr<node[]> nodes{new node[items_per_run]};
  std::atomic<u64> next_block{0};
  static constexpr bool blocking = false;
  struct producer {
    explicit producer(ferrite_mpsc_intrusive& a)
        : q(a.q), free(a.nodes.get() + a.next_block.fetch_add(items_per_run / 2)) {}
    bool try_push(u64 v) {
      free->value = v;
      q.push(free++);
      return true;
    }
    ferrite::sync::intrusive_mpsc_queue<node, &node::next>& q;
    node* free;
  };
  struct consumer {
    explicit consumer(ferrite_mpsc_intrusive& a) : q(a.q) {}
    bool try_pop(u64& v) {
      node* n = q.try_pop();
      if (n == nullptr) return false;
      v = n->value;
      return true;
    }
    ferrite::sync::intrusive_mpsc_queue<node, &node::next>& q;
  };
};

#if FERRITE_BENCH_HAVE_BOOST
struct boost_spsc : simple_handles<boost_spsc> {
  boost::lockfree::spsc_queue<u64, boost::lockfree::capacity<ring_capacity>> q;
  bool try_push(u64 v) { return q.push(v); }
  bool try_pop(u64& v) { return q.pop(v); }
};

struct boost_queue : simple_handles<boost_queue> {
  boost::lockfree::queue<u64> q{ring_capacity};
  bool try_push(u64 v) { return q.bounded_push(v); }
  bool try_pop(u64& v) { return q.pop(v); }
};
#endif

#if FERRITE_BENCH_HAVE_MOODYCAMEL_RWQ
/// ReaderWriterQueue(n) is a ring of blocks of at most 512 slots, each block losing one slot,
/// plus a spare block: asked for 1024 it builds 4 blocks and holds up to 2044 elements.
/// Asked for 1023 it builds one block of 1024 and holds 1023, the others' capacity.
template <std::size_t Requested>
struct moodycamel_rwq : simple_handles<moodycamel_rwq<Requested>> {
  moodycamel::ReaderWriterQueue<u64> q{Requested};
  bool try_push(u64 v) { return q.try_enqueue(v); }
  bool try_pop(u64& v) { return q.try_dequeue(v); }
};
#endif

#if FERRITE_BENCH_HAVE_MOODYCAMEL_CQ
struct moodycamel_cq {
  moodycamel::ConcurrentQueue<u64> q{ring_capacity};
  static constexpr bool blocking = false;
  struct producer {
    explicit producer(moodycamel_cq& a) : q(a.q), token(a.q) {}
    bool try_push(u64 v) { return q.enqueue(token, v); }
    moodycamel::ConcurrentQueue<u64>& q;
    moodycamel::ProducerToken token;
  };
  struct consumer {
    explicit consumer(moodycamel_cq& a) : q(a.q), token(a.q) {}
    bool try_pop(u64& v) { return q.try_dequeue(token, v); }
    moodycamel::ConcurrentQueue<u64>& q;
    moodycamel::ConsumerToken token;
  };
};
#endif

#if FERRITE_BENCH_HAVE_TBB
struct tbb_bounded : simple_handles<tbb_bounded> {
  tbb_bounded() { q.set_capacity(static_cast<std::ptrdiff_t>(ring_capacity)); }
  tbb::concurrent_bounded_queue<u64> q;
  bool try_push(u64 v) { return q.try_push(v); }
  bool try_pop(u64& v) { return q.try_pop(v); }
};

struct tbb_unbounded : simple_handles<tbb_unbounded> {
  tbb::concurrent_queue<u64> q;
  bool try_push(u64 v) {
    q.push(v);
    return true;
  }
  bool try_pop(u64& v) { return q.try_pop(v); }
};
#endif

#if FERRITE_BENCH_HAVE_LIBCDS
/// libcds needs the library initialized, one HP garbage collector, and every thread that
/// touches a queue attached. The main thread stays attached (it constructs and destroys
/// the queues).
void libcds_init_once() {
  static const bool done = [] {
    cds::Initialize();
    static cds::gc::HP hp_gc;
    cds::threading::Manager::attachThread();
    return true;
  }();
  (void)done;
}

struct libcds_msqueue {
  libcds_msqueue() { libcds_init_once(); }
  cds::container::MSQueue<cds::gc::HP, u64> q;
  static constexpr bool blocking = false;
  struct attached {
    attached() { cds::threading::Manager::attachThread(); }
    ~attached() { cds::threading::Manager::detachThread(); }
    attached(const attached&) = delete;
    attached& operator=(const attached&) = delete;
  };
  struct producer : attached {
    explicit producer(libcds_msqueue& a) : q(a.q) {}
    bool try_push(u64 v) { return q.enqueue(v); }
    cds::container::MSQueue<cds::gc::HP, u64>& q;
  };
  struct consumer : attached {
    explicit consumer(libcds_msqueue& a) : q(a.q) {}
    bool try_pop(u64& v) { return q.dequeue(v); }
    cds::container::MSQueue<cds::gc::HP, u64>& q;
  };
};
#endif

// ---- driver --------------------------------------------------------------------------------

template <class A>
void produce(A& a, u64 count, const std::atomic<bool>& go) {
  typename A::producer p(a);
  while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
  if constexpr (A::blocking) {
    for (u64 v = 1; v <= count; ++v) p.push(v);
  } else {
    retry r;
    for (u64 v = 1; v <= count; ++v) {
      while (!p.try_push(v)) r();
      r.reset();
    }
  }
}

template <class A>
u64 consume(A& a, u64 count, const std::atomic<bool>& go) {
  typename A::consumer c(a);
  while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
  u64 sum = 0;
  if constexpr (A::blocking) {
    for (u64 i = 0; i < count; ++i) sum += c.pop();
  } else {
    retry r;
    for (u64 i = 0; i < count; ++i) {
      u64 v = 0;
      while (!c.try_pop(v)) r();
      r.reset();
      sum += v;
    }
  }
  return sum;
}

/// One run per iteration: `producers` threads push items_per_run / producers values each,
/// `consumers` threads pop an equal share each; the sum of what was popped is checked.
template <class A>
void run(benchmark::State& state, unsigned producers, unsigned consumers) {
  const u64 per_producer = items_per_run / producers;
  const u64 total = per_producer * producers;
  const u64 per_consumer = total / consumers;
  const u64 expected = producers * (per_producer * (per_producer + 1) / 2);
  for (auto _ : state) {
    auto a = std::make_unique<A>();
    std::atomic<bool> go{false};
    std::vector<u64> sums(consumers, 0);
    std::vector<std::thread> threads;
    for (unsigned c = 0; c < consumers; ++c) {
      threads.emplace_back([&, c] { sums[c] = consume(*a, per_consumer, go); });
    }
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&] { produce(*a, per_producer, go); });
    }
    const auto start = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    u64 sum = 0;
    for (u64 s : sums) sum += s;
    if (sum != expected) {
      state.SkipWithError("items lost or duplicated");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(total));
}

template <class A>
void add(const std::string& workload, const char* name, unsigned producers, unsigned consumers) {
  benchmark::RegisterBenchmark((workload + "/" + name).c_str(),
                               [=](benchmark::State& s) { run<A>(s, producers, consumers); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(0.2);
}

// ---- single-thread round trip: the two pop forms -------------------------------------------

/// A fresh Q: bounded queues get ring_capacity slots.
template <class Q>
std::unique_ptr<Q> make_queue() {
  if constexpr (std::is_constructible_v<Q, std::size_t>) {
    return std::make_unique<Q>(ring_capacity);
  } else {
    return std::make_unique<Q>();
  }
}

/// One thread: try_push a u64 and pop it, once per iteration, with try_pop(T&) (!Optional)
/// or std::optional<T> try_pop() (Optional). The popped values are summed, and the sum is
/// made observable every iteration, so neither form can be optimized away.
template <class Q, bool Optional>
void roundtrip(benchmark::State& state) {
  const std::unique_ptr<Q> owner = make_queue<Q>();
  Q& q = *owner;
  u64 v = 0;
  u64 sum = 0;
  for (auto _ : state) {
    if (!q.try_push(++v)) {
      state.SkipWithError("try_push failed on an empty queue");
      break;
    }
    if constexpr (Optional) {
      const std::optional<u64> out = q.try_pop();
      if (!out.has_value()) {
        state.SkipWithError("try_pop found nothing after a push");
        break;
      }
      sum += *out;
    } else {
      u64 out = 0;
      if (!q.try_pop(out)) {
        state.SkipWithError("try_pop found nothing after a push");
        break;
      }
      sum += out;
    }
    benchmark::DoNotOptimize(sum);
  }
  if (sum != v * (v + 1) / 2) state.SkipWithError("items lost or duplicated");
}

template <class Q>
void add_roundtrip(const std::string& name) {
  benchmark::RegisterBenchmark(("roundtrip/" + name + "/try_pop_ref").c_str(), roundtrip<Q, false>);
  benchmark::RegisterBenchmark(("roundtrip/" + name + "/try_pop_optional").c_str(),
                               roundtrip<Q, true>);
}

void add_mpmc_set(const std::string& workload, unsigned p, unsigned c) {
  using ferrite::sync::mpmc_layout;
  using ferrite::sync::mpmc_options;
  constexpr mpmc_options compact{};
  constexpr mpmc_options padded{.layout = mpmc_layout::padded};
  constexpr mpmc_options non_blocking{.blocking = false};
  add<ferrite_mpmc<compact>>(workload, "ferrite_mpmc", p, c);
  add<ferrite_mpmc<non_blocking>>(workload, "ferrite_mpmc_nonblocking", p, c);
  add<ferrite_mpmc<padded>>(workload, "ferrite_mpmc_padded", p, c);
  add<ferrite_mpmc_blocking<compact>>(workload, "ferrite_mpmc_push_pop", p, c);
  add<ferrite_seg>(workload, "ferrite_seg_queue", p, c);
#if FERRITE_BENCH_HAVE_BOOST
  add<boost_queue>(workload, "boost_queue", p, c);
#endif
#if FERRITE_BENCH_HAVE_MOODYCAMEL_CQ
  add<moodycamel_cq>(workload, "moodycamel_cq", p, c);
#endif
#if FERRITE_BENCH_HAVE_TBB
  add<tbb_bounded>(workload, "tbb_concurrent_bounded_queue", p, c);
  add<tbb_unbounded>(workload, "tbb_concurrent_queue", p, c);
#endif
#if FERRITE_BENCH_HAVE_LIBCDS
  add<libcds_msqueue>(workload, "libcds_msqueue_hp", p, c);
#endif
}

[[maybe_unused]] const bool registered = [] {
  add<ferrite_spsc<>>("spsc/1p1c", "ferrite_spsc", 1, 1);
#if FERRITE_BENCH_HAVE_BOOST
  add<boost_spsc>("spsc/1p1c", "boost_spsc", 1, 1);
#endif
#if FERRITE_BENCH_HAVE_MOODYCAMEL_RWQ
  add<moodycamel_rwq<ring_capacity - 1>>("spsc/1p1c", "moodycamel_rwq", 1, 1);
  add<moodycamel_rwq<ring_capacity>>("spsc/1p1c", "moodycamel_rwq_2044_slots", 1, 1);
  add<ferrite_spsc<2 * ring_capacity>>("spsc/1p1c", "ferrite_spsc_2048_slots", 1, 1);
#endif
#if FERRITE_BENCH_HAVE_MOODYCAMEL_CQ
  add<moodycamel_cq>("spsc/1p1c", "moodycamel_cq", 1, 1);
#endif
  add_mpmc_set("mpmc/1p1c", 1, 1);
  add_mpmc_set("mpmc/2p2c", 2, 2);
  using ferrite::sync::mpsc_recycling;
  add<ferrite_mpsc<mpsc_recycling::off>>("mpsc/2p1c", "ferrite_mpsc", 2, 1);
  add<ferrite_mpsc<mpsc_recycling::on>>("mpsc/2p1c", "ferrite_mpsc_recycling", 2, 1);
  add<ferrite_mpsc<mpsc_recycling::off, 32>>("mpsc/2p1c", "ferrite_mpsc_block32", 2, 1);
  add<ferrite_mpsc<mpsc_recycling::off, 256>>("mpsc/2p1c", "ferrite_mpsc_block256", 2, 1);
  add<ferrite_mpsc_intrusive>("mpsc/2p1c", "ferrite_mpsc_intrusive_prealloc", 2, 1);
  add_mpmc_set("mpsc/2p1c", 2, 1);
  add_roundtrip<ferrite::sync::spsc_queue<u64>>("ferrite_spsc");
  add_roundtrip<ferrite::sync::mpmc_queue<u64>>("ferrite_mpmc");
  add_roundtrip<ferrite::sync::mpmc_queue<u64, ferrite::sync::mpmc_options{.blocking = false}>>(
      "ferrite_mpmc_nonblocking");
  add_roundtrip<ferrite::sync::seg_queue<u64>>("ferrite_seg_queue");
  add_roundtrip<ferrite::sync::mpsc_queue<u64>>("ferrite_mpsc");
  return true;
}();

}  // namespace
