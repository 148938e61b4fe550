// SPDX-License-Identifier: Apache-2.0
// Treiber stacks and reclamation side by side: ferrite's treiber_stack with hazard pointers and
// with epochs against boost::lockfree::stack (tagged pointers + node free list, no
// reclamation) and libcds's TreiberStack over its hazard pointer GC (cds::gc::HP), as push+pop
// pairs on 1 and 2 threads; then the read-side cost of each reclamation scheme, uncontended:
// hazard_pointer::protect and pin()/unpin against a plain acquire load and libcds's
// HP::Guard::protect, each loop reading the node through the pointer it obtained. Compare
// medians: --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
// --benchmark_enable_random_interleaving=true.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/epoch.hpp"
#include "ferrite/sync/hazard_pointer.hpp"
#include "ferrite/sync/treiber_stack.hpp"

// Peers: third-party headers get their own warnings switched off.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#if __has_include(<boost/lockfree/stack.hpp>)
#include <boost/lockfree/stack.hpp>
#define FERRITE_BENCH_HAVE_BOOST_LOCKFREE 1
#endif
#if FERRITE_BENCH_HAVE_LIBCDS
#include <cds/container/treiber_stack.h>
#include <cds/gc/hp.h>
#include <cds/init.h>
#include <cds/threading/model.h>
#endif
#if FERRITE_BENCH_HAVE_URCU
// The inline read side (urcu's _LGPL_SOURCE): what a user of urcu-memb gets in a hot loop.
#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>
#endif
#pragma GCC diagnostic pop

namespace {

using value_t = std::uint64_t;

// ---- stack adapters: one shared instance per type, alive for the whole run ----------------

template <class Reclaim>
struct ferrite_stack {
  static ferrite_stack& instance() {
    static ferrite_stack s;
    return s;
  }
  void push(value_t v) { stack.push(v); }
  bool pop(value_t& out) {
    auto v = stack.try_pop();
    if (!v) return false;
    out = *v;
    return true;
  }
  static void thread_begin() {}
  static void thread_end() {}
  ferrite::sync::treiber_stack<value_t, Reclaim> stack;
};

#if FERRITE_BENCH_HAVE_BOOST_LOCKFREE
struct boost_stack {
  static boost_stack& instance() {
    static boost_stack s;
    return s;
  }
  void push(value_t v) { stack.push(v); }
  bool pop(value_t& out) { return stack.pop(out); }
  static void thread_begin() {}
  static void thread_end() {}
  // Pre-sized free list: push allocates only when it runs dry (never in these runs).
  boost::lockfree::stack<value_t> stack{1024};
};
#endif

#if FERRITE_BENCH_HAVE_LIBCDS
// libcds needs its runtime and the HP singleton before any container, and every thread
// attached while it uses them. Constructed during static initialization of this unit.
struct cds_runtime {
  cds_runtime() { cds::Initialize(); }
  ~cds_runtime() { cds::Terminate(); }
  cds_runtime(const cds_runtime&) = delete;
  cds_runtime& operator=(const cds_runtime&) = delete;
};
cds_runtime g_cds_runtime;
cds::gc::HP g_cds_hp;  // defaults: 8 hazard pointers per thread, 100 threads

struct cds_stack {
  static cds_stack& instance() {
    static cds_stack s;
    return s;
  }
  void push(value_t v) { stack.push(v); }
  bool pop(value_t& out) { return stack.pop(out); }
  static void thread_begin() {
    if (!cds::threading::Manager::isThreadAttached()) cds::threading::Manager::attachThread();
  }
  static void thread_end() { cds::threading::Manager::detachThread(); }
  cds::container::TreiberStack<cds::gc::HP, value_t> stack;
};
#endif

/// One iteration = push one value, pop one value, on a stack shared by all threads.
template <class Stack>
void bm_push_pop(benchmark::State& state) {
  Stack::thread_begin();
  Stack& s = Stack::instance();
  value_t v = static_cast<value_t>(state.thread_index());
  std::int64_t empty_pops = 0;
  for (auto _ : state) {
    s.push(v);
    if (!s.pop(v)) ++empty_pops;
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.counters["empty_pops"] = static_cast<double>(empty_pops);
  Stack::thread_end();
}

#define FERRITE_STACK_BENCH(name, type) \
  BENCHMARK_TEMPLATE(bm_push_pop, type)->Name(name)->Threads(1)->Threads(2)->UseRealTime()

FERRITE_STACK_BENCH("stack_push_pop/ferrite_hazard", ferrite_stack<ferrite::sync::hazard_reclaim>);
FERRITE_STACK_BENCH("stack_push_pop/ferrite_epoch", ferrite_stack<ferrite::sync::epoch_reclaim>);
#if FERRITE_BENCH_HAVE_BOOST_LOCKFREE
FERRITE_STACK_BENCH("stack_push_pop/boost_lockfree", boost_stack);
#endif
#if FERRITE_BENCH_HAVE_LIBCDS
FERRITE_STACK_BENCH("stack_push_pop/libcds_hp", cds_stack);
#endif

// ---- read-side cost, uncontended, one thread -------------------------------------------
//
// Every loop has the same shape: obtain the protected pointer through the scheme under test,
// read the node through it, and hand the value to consume() (a register operand of an empty
// asm with a memory clobber, so nothing is hoisted out of the loop and no store is added).
// The plain acquire load is the floor; "x plain" ratios in docs/sync.md divide by it.

// Loop heads 64-byte aligned from here on: the plain loop is 4 instructions, and whether its
// last one straddles a 64-byte boundary (which depends on unrelated code before it) changes
// its time from one build to the next.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("align-loops=64")
#endif

struct protected_node : ferrite::sync::hazard_pointer_obj_base<protected_node> {
  value_t value = 1;
};

protected_node g_node;
ferrite::atomic<protected_node*> g_src{&g_node};
protected_node g_other_node;
ferrite::atomic<protected_node*> g_other_src{&g_other_node};

/// Keeps `v` (in a register: benchmark::DoNotOptimize may pick a memory operand and then
/// elide the load) and acts as a compiler barrier for memory.
inline void consume(value_t v) { asm volatile("" : : "r"(v) : "memory"); }

/// The floor: what a reader does without any reclamation scheme.
void bm_plain_load_acquire(benchmark::State& state) {
  for (auto _ : state) {
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
  }
}
BENCHMARK(bm_plain_load_acquire)->Name("read_side/plain_load_acquire");

/// hazard_pointer::protect on an existing hazard pointer (the per-access cost).
void bm_hazard_protect(benchmark::State& state) {
  ferrite::sync::hazard_pointer h = ferrite::sync::make_hazard_pointer();
  for (auto _ : state) {
    const protected_node* p = h.protect(g_src);
    consume(p->value);
  }
}
BENCHMARK(bm_hazard_protect)->Name("read_side/ferrite_hazard_protect");

/// The floor of the "pointer changed" shape below: two sources read alternately (each
/// iteration is two accesses).
void bm_plain_load_acquire_two(benchmark::State& state) {
  for (auto _ : state) {
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
    const protected_node* q = g_other_src.load(std::memory_order_acquire);
    consume(q->value);
  }
}
BENCHMARK(bm_plain_load_acquire_two)->Name("read_side/plain_load_acquire_two_sources");

/// protect when the pointer changed since the last one: one hazard pointer alternates between
/// two sources, so every protect publishes, fences and re-validates (the slow path; the row
/// above re-protects the same pointer, protect's fast path).
void bm_hazard_protect_changed(benchmark::State& state) {
  ferrite::sync::hazard_pointer h = ferrite::sync::make_hazard_pointer();
  for (auto _ : state) {
    const protected_node* p = h.protect(g_src);
    consume(p->value);
    const protected_node* q = h.protect(g_other_src);
    consume(q->value);
  }
}
BENCHMARK(bm_hazard_protect_changed)->Name("read_side/ferrite_hazard_protect_two_sources");

/// A whole hazard-pointer read section: make (thread cache), protect, destroy (to cache).
void bm_hazard_section(benchmark::State& state) {
  for (auto _ : state) {
    ferrite::sync::hazard_pointer h = ferrite::sync::make_hazard_pointer();
    const protected_node* p = h.protect(g_src);
    consume(p->value);
  }
}
BENCHMARK(bm_hazard_section)->Name("read_side/ferrite_hazard_make_protect_reset");

/// A whole epoch read section of the default collector: pin, acquire load, read, unpin.
void bm_epoch_section(benchmark::State& state) {
  for (auto _ : state) {
    ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
  }
}
BENCHMARK(bm_epoch_section)->Name("read_side/ferrite_epoch_pin_load_unpin");

/// The same section through a local_handle of a user collector (the collector's address is
/// not a constant: one more load per pin).
void bm_epoch_handle_section(benchmark::State& state) {
  ferrite::sync::epoch::collector c;
  ferrite::sync::epoch::local_handle h = c.register_thread();
  for (auto _ : state) {
    ferrite::sync::epoch::guard g = h.pin();
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
  }
}
BENCHMARK(bm_epoch_handle_section)->Name("read_side/ferrite_epoch_handle_pin_load_unpin");

/// A nested section inside an outer pin (only a counter moves). Guards are not const: GCC 12
/// keeps a const guard in a stack slot (a spill, a reload and a null test more per section).
void bm_epoch_nested_section(benchmark::State& state) {
  const ferrite::sync::epoch::guard outer = ferrite::sync::epoch::pin();
  for (auto _ : state) {
    ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
  }
}
BENCHMARK(bm_epoch_nested_section)->Name("read_side/ferrite_epoch_nested_pin_load_unpin");

/// A section while this thread has sealed garbage that cannot expire yet (a second handle of
/// the same thread stays pinned, so the epoch advances at most once): every pin takes the
/// pacing branch, and every 128th pin collects (walks the participants, finds the stalled
/// one, skips the heavy fence). The steady state of a thread that retires faster than the
/// epoch moves, minus the membarriers of successful advances.
void bm_epoch_section_with_garbage(benchmark::State& state) {
  ferrite::sync::epoch::collector c;
  ferrite::sync::epoch::local_handle stalled = c.register_thread();
  ferrite::sync::epoch::local_handle h = c.register_thread();
  {
    const ferrite::sync::epoch::guard hold = stalled.pin();
    {
      ferrite::sync::epoch::guard g = h.pin();
      for (std::size_t i = 0; i < 64; ++i) g.defer([] {});  // fills and seals one bag
    }
    for (auto _ : state) {
      ferrite::sync::epoch::guard g = h.pin();
      const protected_node* p = g_src.load(std::memory_order_acquire);
      consume(p->value);
    }
  }
  h.pin().flush();  // hold is gone: the bag can run
  h.pin().flush();
}
BENCHMARK(bm_epoch_section_with_garbage)
    ->Name("read_side/ferrite_epoch_pin_load_unpin_garbage_queued");

/// The floor of any publish-and-clear read side (an epoch pin, an RCU read lock): load the
/// global epoch, publish it, run the section, clear, on a word whose address is a constant,
/// with no thread-local lookup and no nesting test. pin() adds those two, and they are what
/// every nestable read side of the default domain must read: the row shows what they cost.
void bm_minimal_publish_section(benchmark::State& state) {
  static ferrite::atomic<std::uint64_t> global{8};
  static ferrite::atomic<std::uint64_t> local{0};
  for (auto _ : state) {
    // ORDERING: acquire, as a pin's (E3).
    const std::uint64_t e = global.load(std::memory_order_acquire);
    // ORDERING: release publish, as a pin's (E4).
    local.store(e | 1, std::memory_order_release);
    // ORDERING: the light fence of membarrier mode, a compiler fence, as a pin's (E6).
    ferrite::compiler_fence(std::memory_order_seq_cst);
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
    // ORDERING: release unpublish, as an unpin's (E8).
    local.store(0, std::memory_order_release);
  }
}
BENCHMARK(bm_minimal_publish_section)->Name("read_side/minimal_publish_load_unpublish");

#if FERRITE_BENCH_HAVE_URCU
/// Userspace RCU's membarrier flavour: the read side closest to pin() (a nesting counter in a
/// thread-local word, the light side of a membarrier fence pair). Registered per thread.
void bm_urcu_section(benchmark::State& state) {
  urcu_memb_register_thread();
  for (auto _ : state) {
    urcu_memb_read_lock();
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
    urcu_memb_read_unlock();
  }
  urcu_memb_unregister_thread();
}
BENCHMARK(bm_urcu_section)->Name("read_side/liburcu_memb_read_lock_load_unlock");
#endif

/// For scale: the same publish / load / unpublish shape as a pin, but with a symmetric
/// seq_cst fence (what pin and protect would cost without membarrier, or crossbeam's SeqCst).
void bm_symmetric_fence_section(benchmark::State& state) {
  ferrite::atomic<std::uint64_t> local{0};
  for (auto _ : state) {
    // ORDERING: release publish, as a pin's (E4).
    local.store(3, std::memory_order_release);
    // ORDERING: a symmetric seq_cst fence where a pin has the light fence (E6).
    ferrite::fence(std::memory_order_seq_cst);
    const protected_node* p = g_src.load(std::memory_order_acquire);
    consume(p->value);
    // ORDERING: release unpublish, as an unpin's (E8).
    local.store(0, std::memory_order_release);
  }
}
BENCHMARK(bm_symmetric_fence_section)->Name("read_side/store_seq_cst_fence_load_store");

// ---- read-side cost in a dependent chain (a list or tree walk), one thread ----------------
//
// Each iteration follows one link of a 64-node ring that stays in L1: the next load's address
// is the previous load's result, so a plain walk runs at the L1 load latency rather than at
// the load throughput measured above. Each scheme protects every step on its own (a pin or a
// read lock per link, the worst case of a walk); its extra work overlaps with the chain.

struct chain_node : ferrite::sync::hazard_pointer_obj_base<chain_node> {
  ferrite::atomic<chain_node*> next{nullptr};
};

/// The ring, linked once (i -> i + 1 -> ... -> 0).
chain_node* chain_ring() {
  static chain_node nodes[64];
  static const bool linked = [] {
    for (std::size_t i = 0; i < 64; ++i) {
      // ORDERING: relaxed; single-threaded set-up before any walk.
      nodes[i].next.store(&nodes[(i + 1) % 64], std::memory_order_relaxed);
    }
    return true;
  }();
  static_cast<void>(linked);
  return &nodes[0];
}

void bm_chain_plain(benchmark::State& state) {
  const chain_node* p = chain_ring();
  for (auto _ : state) {
    // ORDERING: acquire, the floor of every row below.
    p = p->next.load(std::memory_order_acquire);
    consume(reinterpret_cast<std::uintptr_t>(p));
  }
}
BENCHMARK(bm_chain_plain)->Name("read_chain/plain_load_acquire");

void bm_chain_epoch(benchmark::State& state) {
  const chain_node* p = chain_ring();
  for (auto _ : state) {
    ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();
    // ORDERING: acquire, as the plain row.
    p = p->next.load(std::memory_order_acquire);
    consume(reinterpret_cast<std::uintptr_t>(p));
  }
}
BENCHMARK(bm_chain_epoch)->Name("read_chain/ferrite_epoch_pin_per_step");

void bm_chain_hazard(benchmark::State& state) {
  // Hand over hand, as a real walk must: `cur` keeps the node whose `next` is read protected
  // while `nxt` protects (and re-validates) the successor; then they swap roles.
  ferrite::sync::hazard_pointer cur = ferrite::sync::make_hazard_pointer();
  ferrite::sync::hazard_pointer nxt = ferrite::sync::make_hazard_pointer();
  const chain_node* p = cur.protect(chain_ring()->next);
  for (auto _ : state) {
    // Every step protects a new pointer: the publish, fence and re-validation path.
    p = nxt.protect(p->next);
    cur.swap(nxt);
    consume(reinterpret_cast<std::uintptr_t>(p));
  }
}
BENCHMARK(bm_chain_hazard)->Name("read_chain/ferrite_hazard_protect_swap_per_step");
/// The same walk without swap: two hazard pointers take turns (two links per iteration, so
/// halve the time to compare). A swap moves both objects' fields through memory, and the next
/// protect's store address waits for that round trip: see docs/sync.md.
void bm_chain_hazard_alternating(benchmark::State& state) {
  ferrite::sync::hazard_pointer a = ferrite::sync::make_hazard_pointer();
  ferrite::sync::hazard_pointer b = ferrite::sync::make_hazard_pointer();
  const chain_node* p = a.protect(chain_ring()->next);
  for (auto _ : state) {
    p = b.protect(p->next);  // a still protects the node whose next is read
    consume(reinterpret_cast<std::uintptr_t>(p));
    p = a.protect(p->next);  // and now b does
    consume(reinterpret_cast<std::uintptr_t>(p));
  }
}
BENCHMARK(bm_chain_hazard_alternating)
    ->Name("read_chain/ferrite_hazard_two_alternating_per_2_steps");

#if FERRITE_BENCH_HAVE_URCU
void bm_chain_urcu(benchmark::State& state) {
  urcu_memb_register_thread();
  const chain_node* p = chain_ring();
  for (auto _ : state) {
    urcu_memb_read_lock();
    // ORDERING: acquire, as the plain row.
    p = p->next.load(std::memory_order_acquire);
    consume(reinterpret_cast<std::uintptr_t>(p));
    urcu_memb_read_unlock();
  }
  urcu_memb_unregister_thread();
}
BENCHMARK(bm_chain_urcu)->Name("read_chain/liburcu_memb_read_lock_per_step");
#endif

#if FERRITE_BENCH_HAVE_LIBCDS
/// libcds: HP::Guard::protect on an existing guard.
void bm_cds_protect(benchmark::State& state) {
  cds::threading::Manager::attachThread();
  {
    cds::gc::HP::Guard g;
    for (auto _ : state) {
      const protected_node* p = g.protect(g_src);
      consume(p->value);
    }
  }
  cds::threading::Manager::detachThread();
}
BENCHMARK(bm_cds_protect)->Name("read_side/libcds_hp_guard_protect");

/// libcds: a whole read section (Guard construction, protect, destruction).
void bm_cds_section(benchmark::State& state) {
  cds::threading::Manager::attachThread();
  for (auto _ : state) {
    cds::gc::HP::Guard g;
    const protected_node* p = g.protect(g_src);
    consume(p->value);
  }
  cds::threading::Manager::detachThread();
}
BENCHMARK(bm_cds_section)->Name("read_side/libcds_hp_guard_make_protect_reset");
#endif

}  // namespace
