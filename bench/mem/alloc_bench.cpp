// SPDX-License-Identifier: Apache-2.0
// Allocation benchmarks: ferrite's allocators side by side with what users use today, in one
// binary, reporting items/s. Peers that are not installed are skipped with a message, never
// required. The file has one section per ferrite allocator; each is self-contained and uses
// only the shared section:
//
//   1. shared      workload constants, items/s helper, peer adapters (glibc, jemalloc,
//                  mimalloc, Boost.Pool)
//   2. arena       "allocate 1M 32-byte objects and release them"
//   3. concurrent_bump  the same workload on one thread, then 1-2 threads against malloc
//   4. object_pool      appended after section 3 by object_pool's author
//
// jemalloc and mimalloc are loaded with dlopen(RTLD_LOCAL) and called through dlsym: both
// shared libraries export an unprefixed malloc, which, linked normally, would replace glibc's
// malloc in the whole binary and make the glibc column measure them instead.
#include <benchmark/benchmark.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

#include "../peers/dl_allocators.hpp"
#include "ferrite/mem/arena.hpp"
#include "ferrite/mem/concurrent_bump.hpp"

#if __has_include(<boost/pool/object_pool.hpp>)
#include <boost/pool/object_pool.hpp>
#define FERRITE_BENCH_HAVE_BOOST_POOL 1
#else
#define FERRITE_BENCH_HAVE_BOOST_POOL 0
#endif

namespace {

// =============================================================================================
// 1. shared: workload and peer adapters
// =============================================================================================

/// The workload of the issue: one million 32-byte objects, allocated, then all released.
constexpr std::size_t objects = 1'000'000;
constexpr std::size_t object_size = 32;
constexpr std::size_t object_align = 8;  // four pointers' worth
using object32 = std::array<char, object_size>;

/// Reports `per_iteration` items for every iteration the loop ran.
void set_items(benchmark::State& state, std::size_t per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(per_iteration));
}

namespace peers = ferrite_bench::peers;

/// The "allocate N, then free each" shape shared by every malloc-like peer.
template <class Alloc, class Free>
void malloc_free_loop(benchmark::State& state, std::size_t n, Alloc alloc, Free release) {
  std::vector<void*> ptrs(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) ptrs[i] = alloc(object_size);
    benchmark::DoNotOptimize(ptrs.data());
    benchmark::ClobberMemory();
    for (std::size_t i = 0; i < n; ++i) release(ptrs[i]);
  }
  set_items(state, n);
}

// =============================================================================================
// 2. arena: allocate 1M 32-byte objects and release them
// =============================================================================================
// Each benchmark allocates objects blocks of 32 bytes (8-aligned where the API takes an
// alignment), then releases all of them the way its API intends: reset() for the arena,
// release() for monotonic_buffer_resource, one free per block for malloc-like allocators,
// destruction for boost::object_pool. The allocator object itself lives across iterations
// where its API allows reuse (arena, monotonic), as a user would keep it.

void alloc_1m_ferrite_arena(benchmark::State& state) {
  ferrite::mem::arena a;
  for (auto _ : state) {
    for (std::size_t i = 0; i < objects; ++i) {
      benchmark::DoNotOptimize(a.allocate(object_size, object_align));
    }
    a.reset();
  }
  set_items(state, objects);
}
BENCHMARK(alloc_1m_ferrite_arena)
    ->Name("alloc_1M_32B/ferrite_arena")
    ->Unit(benchmark::kMillisecond);

void alloc_1m_pmr_monotonic(benchmark::State& state) {
  std::pmr::monotonic_buffer_resource r;
  for (auto _ : state) {
    for (std::size_t i = 0; i < objects; ++i) {
      benchmark::DoNotOptimize(r.allocate(object_size, object_align));
    }
    r.release();
  }
  set_items(state, objects);
}
BENCHMARK(alloc_1m_pmr_monotonic)
    ->Name("alloc_1M_32B/pmr_monotonic_buffer")
    ->Unit(benchmark::kMillisecond);

void alloc_1m_glibc_malloc(benchmark::State& state) {
  malloc_free_loop(
      state, objects, [](std::size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); });
}
BENCHMARK(alloc_1m_glibc_malloc)->Name("alloc_1M_32B/glibc_malloc")->Unit(benchmark::kMillisecond);

void alloc_1m_mimalloc(benchmark::State& state) {
  const peers::mimalloc_api* mi = peers::mimalloc();
  if (mi == nullptr) {
    state.SkipWithError("mimalloc not installed (libmimalloc.so.2)");
    return;
  }
  malloc_free_loop(
      state, objects, [mi](std::size_t n) { return mi->malloc(n); },
      [mi](void* p) { mi->free(p); });
}
BENCHMARK(alloc_1m_mimalloc)->Name("alloc_1M_32B/mimalloc")->Unit(benchmark::kMillisecond);

void alloc_1m_jemalloc(benchmark::State& state) {
  const peers::jemalloc_api* je = peers::jemalloc();
  if (je == nullptr) {
    const std::string why = "jemalloc not loadable: " + peers::load_jemalloc().error;
    state.SkipWithError(why.c_str());
    return;
  }
  malloc_free_loop(
      state, objects, [je](std::size_t n) { return je->mallocx(n, 0); },
      [je](void* p) { je->dallocx(p, 0); });
}
BENCHMARK(alloc_1m_jemalloc)->Name("alloc_1M_32B/jemalloc")->Unit(benchmark::kMillisecond);

void alloc_1m_boost_object_pool(benchmark::State& state) {
#if FERRITE_BENCH_HAVE_BOOST_POOL
  for (auto _ : state) {
    boost::object_pool<object32> pool;
    for (std::size_t i = 0; i < objects; ++i) benchmark::DoNotOptimize(pool.malloc());
  }  // the pool's destructor releases everything
  set_items(state, objects);
#else
  state.SkipWithError("Boost.Pool not installed");
#endif
}
BENCHMARK(alloc_1m_boost_object_pool)
    ->Name("alloc_1M_32B/boost_object_pool")
    ->Unit(benchmark::kMillisecond);

// =============================================================================================
// 3. concurrent_bump
// =============================================================================================

// One thread, the workload of section 2: a buffer big enough for 1M objects, reset() after
// each round (quiescent: one thread).
void alloc_1m_ferrite_concurrent_bump(benchmark::State& state) {
  const std::size_t bytes = objects * object_size;
  const std::unique_ptr<std::byte[]> buffer(new std::byte[bytes]);  // not touched: no faults
  ferrite::mem::concurrent_bump bump(std::span<std::byte>(buffer.get(), bytes));
  for (auto _ : state) {
    for (std::size_t i = 0; i < objects; ++i) {
      benchmark::DoNotOptimize(bump.allocate(object_size, object_align));
    }
    bump.reset();
  }
  set_items(state, objects);
}
BENCHMARK(alloc_1m_ferrite_concurrent_bump)
    ->Name("alloc_1M_32B/ferrite_concurrent_bump")
    ->Unit(benchmark::kMillisecond);

// Threads sharing one concurrent_bump: each iteration, every thread allocates its share of
// 1M objects. reset() needs quiescence, which only the start/stop barriers of the benchmark
// give, so the buffer holds every iteration (fixed count) and is reset outside the loop.
constexpr benchmark::IterationCount mt_iterations = 20;
std::unique_ptr<std::byte[]> g_mt_buffer;                  // written by thread 0 only,
std::unique_ptr<ferrite::mem::concurrent_bump> g_mt_bump;  // outside the timed loop

void mt_ferrite_concurrent_bump(benchmark::State& state) {
  const std::size_t per_thread = objects / static_cast<std::size_t>(state.threads());
  if (state.thread_index() == 0) {
    const std::size_t bytes = static_cast<std::size_t>(mt_iterations) * objects * object_size;
    g_mt_buffer.reset(new std::byte[bytes]);  // virtual memory only: never touched
    g_mt_bump = std::make_unique<ferrite::mem::concurrent_bump>(
        std::span<std::byte>(g_mt_buffer.get(), bytes));
  }
  for (auto _ : state) {  // the loop starts and ends with a barrier of all threads
    for (std::size_t i = 0; i < per_thread; ++i) {
      benchmark::DoNotOptimize(g_mt_bump->allocate(object_size, object_align));
    }
  }
  set_items(state, per_thread);
  if (state.thread_index() == 0) {
    g_mt_bump.reset();
    g_mt_buffer.reset();
  }
}
BENCHMARK(mt_ferrite_concurrent_bump)
    ->Name("mt_alloc_1M_32B/ferrite_concurrent_bump")
    ->Iterations(mt_iterations)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void mt_glibc_malloc(benchmark::State& state) {
  malloc_free_loop(
      state, objects / static_cast<std::size_t>(state.threads()),
      [](std::size_t n) { return std::malloc(n); }, [](void* p) { std::free(p); });
}
BENCHMARK(mt_glibc_malloc)
    ->Name("mt_alloc_1M_32B/glibc_malloc")
    ->Iterations(mt_iterations)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

// =============================================================================================
// 4. object_pool: appended below by its author, inside its own `namespace { ... }` (the same
//    unnamed namespace, so section 1's constants, set_items, malloc_free_loop and peers:: are
//    visible).
// =============================================================================================

// Section 4 only; sections 1-3 do not use it.
#include "ferrite/mem/object_pool.hpp"

namespace {

// Workloads, all on 32-byte objects (object32), items = objects created and destroyed, or
// steady-state operations (one destroy + one create):
//   pool_1M_32B_fifo/<peer>  create 1M, then destroy each in creation order (section 2's
//                            malloc_free_loop)
//   pool_1M_32B_lifo/<peer>  create 1M, then destroy each in reverse order
//   pool_steady_32B/<peer>   steady_live objects stay live; each operation destroys a
//                            pseudo-random one and creates its replacement
// Every pool or resource lives across iterations, as a heap does: from the second iteration
// on, creation reuses freed slots. ferrite_object_pool uses create_for_overwrite(), which
// leaves a trivial object uninitialized as malloc does; ferrite_object_pool_construct uses
// create(), which value-initializes (zeroes) it as boost::object_pool::construct() does.
// boost::object_pool's destroy() is an ordered insertion into its free list, O(free slots):
// in creation order that is quadratic (measured: 41 us per destroy at 16K objects), so its
// fifo row is skipped, and the lifo row (head insertions) is its intended use.

constexpr std::size_t steady_live = 16'384;
constexpr std::size_t steady_ops = 1'000'000;

namespace pool_peers {

// One adapter per peer: ready() (false: skipped, with the reason given to the state),
// allocate() one 32-byte object, release() it.
struct ferrite_pool {
  ferrite::mem::object_pool<object32> pool;
  bool ready(benchmark::State& /*state*/) { return true; }
  void* allocate() { return pool.create_for_overwrite(); }
  void release(void* p) { pool.destroy(static_cast<object32*>(p)); }
};

struct ferrite_pool_construct {
  ferrite::mem::object_pool<object32> pool;
  bool ready(benchmark::State& /*state*/) { return true; }
  void* allocate() { return pool.create(); }
  void release(void* p) { pool.destroy(static_cast<object32*>(p)); }
};

struct glibc_malloc {
  bool ready(benchmark::State& /*state*/) { return true; }
  void* allocate() { return std::malloc(object_size); }
  void release(void* p) { std::free(p); }
};

struct mimalloc {
  const peers::mimalloc_api* mi = peers::mimalloc();
  bool ready(benchmark::State& state) {
    if (mi == nullptr) state.SkipWithError("mimalloc not installed (libmimalloc.so.2)");
    return mi != nullptr;
  }
  void* allocate() { return mi->malloc(object_size); }
  void release(void* p) { mi->free(p); }
};

struct jemalloc {
  const peers::jemalloc_api* je = peers::jemalloc();
  bool ready(benchmark::State& state) {
    if (je == nullptr) state.SkipWithError("jemalloc not loadable (libjemalloc.so.2)");
    return je != nullptr;
  }
  void* allocate() { return je->mallocx(object_size, 0); }
  void release(void* p) { je->dallocx(p, 0); }
};

struct pmr_unsync_pool {
  std::pmr::unsynchronized_pool_resource resource;
  bool ready(benchmark::State& /*state*/) { return true; }
  void* allocate() { return resource.allocate(object_size, object_align); }
  void release(void* p) { resource.deallocate(p, object_size, object_align); }
};

#if FERRITE_BENCH_HAVE_BOOST_POOL
struct boost_object_pool {
  boost::object_pool<object32> pool;
  bool ready(benchmark::State& /*state*/) { return true; }
  void* allocate() { return pool.construct(); }
  void release(void* p) { pool.destroy(static_cast<object32*>(p)); }
};
#else
struct boost_object_pool : glibc_malloc {
  bool ready(benchmark::State& state) {
    state.SkipWithError("Boost.Pool not installed");
    return false;
  }
};
#endif

}  // namespace pool_peers

template <class Peer>
void pool_1m_fifo(benchmark::State& state) {
  Peer peer;
  if (!peer.ready(state)) return;
  malloc_free_loop(
      state, objects, [&peer](std::size_t /*n*/) { return peer.allocate(); },
      [&peer](void* p) { peer.release(p); });
}

template <class Peer>
void pool_1m_lifo(benchmark::State& state) {
  Peer peer;
  if (!peer.ready(state)) return;
  std::vector<void*> ptrs(objects);
  for (auto _ : state) {
    for (std::size_t i = 0; i < objects; ++i) ptrs[i] = peer.allocate();
    benchmark::DoNotOptimize(ptrs.data());
    benchmark::ClobberMemory();
    for (std::size_t i = objects; i-- > 0;) peer.release(ptrs[i]);
  }
  set_items(state, objects);
}

void pool_1m_fifo_boost_skipped(benchmark::State& state) {
  state.SkipWithError("boost::object_pool::destroy is O(free slots): quadratic in this order");
}

template <class Peer>
void pool_steady(benchmark::State& state) {
  Peer peer;
  if (!peer.ready(state)) return;
  std::vector<void*> live(steady_live);
  for (void*& p : live) p = peer.allocate();
  std::uint32_t x = 2463534242U;  // xorshift32: the victims, the same sequence for every peer
  for (auto _ : state) {
    for (std::size_t i = 0; i < steady_ops; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const auto victim = static_cast<std::size_t>((std::uint64_t{x} * steady_live) >> 32);
      peer.release(live[victim]);
      live[victim] = peer.allocate();
    }
    benchmark::DoNotOptimize(live.data());
    benchmark::ClobberMemory();
  }
  for (void* p : live) peer.release(p);
  set_items(state, steady_ops);
}

#define FERRITE_POOL_BENCH(fn, peer, label) \
  BENCHMARK_TEMPLATE(fn, pool_peers::peer)->Name(label "/" #peer)->Unit(benchmark::kMillisecond)

FERRITE_POOL_BENCH(pool_1m_fifo, ferrite_pool, "pool_1M_32B_fifo");
FERRITE_POOL_BENCH(pool_1m_fifo, ferrite_pool_construct, "pool_1M_32B_fifo");
FERRITE_POOL_BENCH(pool_1m_fifo, glibc_malloc, "pool_1M_32B_fifo");
FERRITE_POOL_BENCH(pool_1m_fifo, mimalloc, "pool_1M_32B_fifo");
FERRITE_POOL_BENCH(pool_1m_fifo, jemalloc, "pool_1M_32B_fifo");
FERRITE_POOL_BENCH(pool_1m_fifo, pmr_unsync_pool, "pool_1M_32B_fifo");
BENCHMARK(pool_1m_fifo_boost_skipped)->Name("pool_1M_32B_fifo/boost_object_pool");

FERRITE_POOL_BENCH(pool_1m_lifo, ferrite_pool, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, ferrite_pool_construct, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, glibc_malloc, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, mimalloc, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, jemalloc, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, pmr_unsync_pool, "pool_1M_32B_lifo");
FERRITE_POOL_BENCH(pool_1m_lifo, boost_object_pool, "pool_1M_32B_lifo");

FERRITE_POOL_BENCH(pool_steady, ferrite_pool, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, ferrite_pool_construct, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, glibc_malloc, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, mimalloc, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, jemalloc, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, pmr_unsync_pool, "pool_steady_32B");
FERRITE_POOL_BENCH(pool_steady, boost_object_pool, "pool_steady_32B");

#undef FERRITE_POOL_BENCH

}  // namespace
