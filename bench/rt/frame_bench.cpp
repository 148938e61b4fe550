// SPDX-License-Identifier: Apache-2.0
// The frame allocator (rt::allocate_frame / deallocate_frame) side by side with the global
// operator new (glibc malloc), mimalloc and jemalloc:
//   frame/alloc_free_256B/<allocator>      allocate a 256-byte frame and free it, one thread
//   frame/alloc_free_256B_x64/<allocator>  allocate 64 such frames, then free them
//   frame/coroutine/<recycled|new>         create a trivial coroutine, run it to its end,
//                                          destroy it: promise on recycled_frame vs plain new
//   frame/remote_free_256B/<allocator>     a producer thread allocates frames and hands them
//                                          through an spsc_queue to a consumer thread, which
//                                          frees them (items/s, per frame)
// mimalloc and jemalloc are loaded with dlopen(RTLD_LOCAL) and called through dlsym, as in
// bench/mem/alloc_bench.cpp: both export an unprefixed malloc that, linked normally, would
// replace glibc's in the whole binary and make the operator_new rows measure them instead.
// That costs them an indirect call per operation, which the other rows do not pay.
//
// FERRITE_BENCH_ITERATIONS=n runs every single-thread row exactly n iterations, for instruction
// counts: under valgrind --tool=callgrind, (I(n2) - I(n1)) / (n2 - n1) is the cost of one
// iteration, setup and the harness cancelled out (with FERRITE_BENCH_NO_REEXEC=1).
#include <benchmark/benchmark.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "../peers/dl_allocators.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/rt/frame_allocator.hpp"
#include "ferrite/sync/spsc_queue.hpp"

namespace {

namespace rt = ferrite::rt;

constexpr std::size_t frame_bytes = 256;

// ---- peers, loaded at run time ---------------------------------------------------------------

namespace peers = ferrite_bench::peers;

// ---- allocator adapters: alloc(n) / release(p, n), and why one is unavailable ---------------

// Each is an object made once per run, outside the timed loop: the peers copy their function
// pointers into it, so the loop pays one indirect call, not a function-local static's guard.

struct ferrite_frames {
  bool available(std::string& /*why*/) const { return true; }
  void* alloc(std::size_t n) const { return rt::allocate_frame(n); }
  void release(void* p, std::size_t n) const noexcept { rt::deallocate_frame(p, n); }
};

struct global_new {
  bool available(std::string& /*why*/) const { return true; }
  void* alloc(std::size_t n) const { return ::operator new(n); }
  void release(void* p, std::size_t n) const noexcept { ::operator delete(p, n); }
};

struct mimalloc_peer {
  void* (*malloc)(std::size_t) = peers::load_mimalloc().malloc;
  void (*free)(void*) = peers::load_mimalloc().free;
  bool available(std::string& why) const {
    why = "mimalloc not loadable: " + peers::load_mimalloc().error;
    return malloc != nullptr && free != nullptr;
  }
  void* alloc(std::size_t n) const { return malloc(n); }
  void release(void* p, std::size_t /*n*/) const noexcept { free(p); }
};

struct jemalloc_peer {
  void* (*mallocx)(std::size_t, int) = peers::load_jemalloc().mallocx;
  void (*sdallocx)(void*, std::size_t, int) = peers::load_jemalloc().sdallocx;
  bool available(std::string& why) const {
    why = "jemalloc not loadable: " + peers::load_jemalloc().error;
    return mallocx != nullptr && sdallocx != nullptr;
  }
  void* alloc(std::size_t n) const { return mallocx(n, 0); }
  void release(void* p, std::size_t n) const noexcept { sdallocx(p, n, 0); }
};

/// Applied to the single-thread rows: FERRITE_BENCH_ITERATIONS's fixed count, when it is set.
void single_thread(benchmark::internal::Benchmark* b) {
  // Read at registration, before main, on the only thread.
  const char* n = std::getenv("FERRITE_BENCH_ITERATIONS");  // NOLINT(concurrency-mt-unsafe)
  if (n != nullptr && std::atoll(n) > 0) b->Iterations(std::atoll(n));
}

template <class A>
bool skip_if_missing(const A& a, benchmark::State& state) {
  std::string why;
  if (a.available(why)) return false;
  state.SkipWithError(why.c_str());
  return true;
}

// ---- one thread ------------------------------------------------------------------------------

template <class A>
void alloc_free(benchmark::State& state) {
  const A a;
  if (skip_if_missing(a, state)) return;
  for (auto _ : state) {
    void* p = a.alloc(frame_bytes);
    benchmark::DoNotOptimize(p);
    a.release(p, frame_bytes);
  }
}
BENCHMARK(alloc_free<ferrite_frames>)->Name("frame/alloc_free_256B/ferrite")->Apply(single_thread);
BENCHMARK(alloc_free<global_new>)->Name("frame/alloc_free_256B/operator_new")->Apply(single_thread);
BENCHMARK(alloc_free<mimalloc_peer>)->Name("frame/alloc_free_256B/mimalloc")->Apply(single_thread);
BENCHMARK(alloc_free<jemalloc_peer>)->Name("frame/alloc_free_256B/jemalloc")->Apply(single_thread);

/// 64 frames alive at once (more than glibc's 7-entry tcache holds), freed in LIFO order.
template <class A>
void alloc_free_x64(benchmark::State& state) {
  const A a;
  if (skip_if_missing(a, state)) return;
  constexpr std::size_t batch = 64;
  void* frames[batch];
  for (auto _ : state) {
    for (void*& p : frames) p = a.alloc(frame_bytes);
    benchmark::DoNotOptimize(frames);
    for (std::size_t i = batch; i-- > 0;) a.release(frames[i], frame_bytes);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(alloc_free_x64<ferrite_frames>)
    ->Name("frame/alloc_free_256B_x64/ferrite")
    ->Apply(single_thread);
BENCHMARK(alloc_free_x64<global_new>)
    ->Name("frame/alloc_free_256B_x64/operator_new")
    ->Apply(single_thread);
BENCHMARK(alloc_free_x64<mimalloc_peer>)
    ->Name("frame/alloc_free_256B_x64/mimalloc")
    ->Apply(single_thread);
BENCHMARK(alloc_free_x64<jemalloc_peer>)
    ->Name("frame/alloc_free_256B_x64/jemalloc")
    ->Apply(single_thread);

// ---- a trivial coroutine, recycled frame vs plain new ---------------------------------------

struct plain_frame {};

template <bool Recycled>
struct trivial_coroutine {
  struct promise_type : std::conditional_t<Recycled, rt::recycled_frame, plain_frame> {
    trivial_coroutine get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

/// Not inlined, so that no compiler elides the frame allocation (clang's HALO would, for a
/// handle that does not escape), which is what the rows measure.
template <bool Recycled>
[[gnu::noinline]] trivial_coroutine<Recycled> trivial(std::uint64_t* out) {
  ++*out;
  co_return;
}

template <bool Recycled>
void coroutine_create_destroy(benchmark::State& state) {
  std::uint64_t runs = 0;
  for (auto _ : state) {
    trivial_coroutine<Recycled> c = trivial<Recycled>(&runs);
    c.handle.resume();
    c.handle.destroy();
  }
  benchmark::DoNotOptimize(runs);
}
BENCHMARK(coroutine_create_destroy<true>)->Name("frame/coroutine/recycled")->Apply(single_thread);
BENCHMARK(coroutine_create_destroy<false>)->Name("frame/coroutine/new")->Apply(single_thread);

// ---- remote frees: allocated on one thread, freed on another ---------------------------------

/// Frames moved per run.
constexpr std::uint64_t frames_per_run = 200'000;
/// Frames in flight at most: well under what the cache limit holds of this class, so the
/// producer's refills never overflow it.
constexpr std::size_t ring_capacity = 256;

/// A failed try_ operation spins a little, then yields (the two threads may share a core).
void retry(unsigned& failures) {
  if (++failures < 64) {
    ferrite::spin_hint();
  } else {
    std::this_thread::yield();
  }
}

template <class A>
void remote_free(benchmark::State& state) {
  const A a;
  if (skip_if_missing(a, state)) return;
  for (auto _ : state) {
    auto queue = std::make_unique<ferrite::sync::spsc_queue<void*>>(ring_capacity);
    ferrite::atomic<bool> go{false};
    std::uint64_t checksum = 0;
    std::thread consumer([&] {
      while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
      for (std::uint64_t i = 0; i < frames_per_run; ++i) {
        void* p = nullptr;
        unsigned failures = 0;
        while (!queue->try_pop(p)) retry(failures);
        checksum += *static_cast<unsigned char*>(p);
        a.release(p, frame_bytes);
      }
    });
    std::thread producer([&] {
      while (!go.load(std::memory_order_acquire)) ferrite::spin_hint();
      for (std::uint64_t i = 0; i < frames_per_run; ++i) {
        void* p = a.alloc(frame_bytes);
        *static_cast<unsigned char*>(p) = static_cast<unsigned char>(i);
        unsigned failures = 0;
        while (!queue->try_push(p)) retry(failures);
      }
    });
    const auto start = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    producer.join();
    consumer.join();
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames_per_run));
}
BENCHMARK(remote_free<ferrite_frames>)
    ->Name("frame/remote_free_256B/ferrite")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(remote_free<global_new>)
    ->Name("frame/remote_free_256B/operator_new")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(remote_free<mimalloc_peer>)
    ->Name("frame/remote_free_256B/mimalloc")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(remote_free<jemalloc_peer>)
    ->Name("frame/remote_free_256B/jemalloc")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
