// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::epoch::collector / guard (epoch reclamation) under ferrite::check, with a
// collector created inside the closure and one local_handle per model thread (the default
// collector's implicit per-thread handle lives in thread_local storage, which the model
// threads, fibers of one OS thread, would all share). A deferred function never runs while
// a reader that may hold the object is pinned: the reader reads a race-checked cell of the
// object (a reclamation first is a reported use after free) and checks, at the end of its
// pinned section, that the deferred delete has not run. Once nobody is pinned, flushes do
// run it (the count check), and the collector's destructor frees the rest (else a leak).
#include <gtest/gtest.h>

#include <utility>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/epoch.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::epoch::collector;
using ferrite::sync::epoch::guard;
using ferrite::sync::epoch::local_handle;
using std::memory_order_acq_rel;
using std::memory_order_acquire;

/// An object with a race-checked payload; counts its destructions in a plain int
/// (bookkeeping: model threads run one at a time on one OS thread).
struct obj {
  obj(int v, int* destroyed) : value(v), destroyed_(destroyed) {}
  obj(const obj&) = delete;
  obj& operator=(const obj&) = delete;
  ~obj() { ++*destroyed_; }

  [[nodiscard]] int read() const {
    return value.with([](const int* v) { return *v; });
  }

  ferrite::cell<int> value;
  int* destroyed_;
};

/// A pinned read of `src`: the object it loads stays alive (not destroyed) until the unpin.
void pinned_read(local_handle& h, const ferrite::atomic<obj*>& src, const int& destroyed,
                 int expected_max) {
  const guard g = h.pin();
  const obj* p = src.load(memory_order_acquire);
  if (p == nullptr) return;
  const int before = destroyed;
  const int v = p->read();
  FERRITE_ASSERT(v >= 1 && v <= expected_max);
  FERRITE_ASSERT(destroyed == before, "a deferred delete ran while a reader was pinned");
}

/// Pins, flushes and unpins `n` times: each flush seals the bag and tries to advance the
/// epoch, so two of them after the last pinned reader run a bag sealed before it.
void flush_times(local_handle& h, int n) {
  for (int i = 0; i < n; ++i) {
    guard g = h.pin();
    g.flush();
  }
}

/// One reader; the writer unlinks the object, defers its delete and flushes three times
/// (enough to run it if no reader were pinned) while the reader may be pinned on it.
TEST(EpochModel, DeferredDeleteWaitsForPinnedReader) {
  expect_pass([] {
    collector c;  // destroyed last: runs whatever is still deferred
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread reader([&] {
      local_handle h = c.register_thread();
      pinned_read(h, src, destroyed, 1);
    });
    {
      local_handle h = c.register_thread();
      {
        guard g = h.pin();
        obj* old = src.exchange(nullptr, memory_order_acq_rel);
        g.defer_delete(old);
      }
      flush_times(h, 3);
    }
    reader.join();
    local_handle h = c.register_thread();
    flush_times(h, 2);
    FERRITE_ASSERT(destroyed == 1, "the deferred delete did not run once nobody was pinned");
  });
}

/// Two pinned readers against a writer that unlinks the object, defers its delete and
/// flushes twice (each flush tries to advance the epoch): the delete may run only after both
/// readers have unpinned. The handles are registered up front (the first test covers
/// concurrent registration) and each is used by one thread only.
TEST(EpochModel, TwoReadersOneDeferredDelete) {
  expect_pass([] {
    collector c;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    local_handle h1 = c.register_thread();
    local_handle h2 = c.register_thread();
    local_handle hw = c.register_thread();
    ferrite::thread r1([&] { pinned_read(h1, src, destroyed, 1); });
    ferrite::thread r2([&] { pinned_read(h2, src, destroyed, 1); });
    {
      guard g = hw.pin();
      g.defer_delete(src.exchange(nullptr, memory_order_acq_rel));
    }
    flush_times(hw, 2);
    r1.join();
    r2.join();
    flush_times(hw, 2);
    FERRITE_ASSERT(destroyed == 1, "the deferred delete did not run once nobody was pinned");
  });
}

/// The global-queue path: a writer thread defers the delete and releases its handle (moved to
/// it from the main thread), which seals its bag into the collector's global queue; the main
/// thread, a foreign collector, flushes twice meanwhile (running expired bags from that
/// queue), while a reader thread is pinned twice around its read (nested pins count; only the
/// outermost publishes its epoch).
TEST(EpochModel, GlobalQueueAndNestedPin) {
  expect_pass([] {
    collector c;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    local_handle hr = c.register_thread();
    local_handle hm = c.register_thread();
    local_handle hw = c.register_thread();
    ferrite::thread reader([&] {
      const guard outer = hr.pin();
      pinned_read(hr, src, destroyed, 1);  // nested inside `outer`
    });
    ferrite::thread writer([&] {
      local_handle h = std::move(hw);
      guard g = h.pin();
      g.defer_delete(src.exchange(nullptr, memory_order_acq_rel));
    });
    flush_times(hm, 2);
    reader.join();
    writer.join();
    flush_times(hm, 2);
    FERRITE_ASSERT(destroyed == 1, "the deferred delete did not run once nobody was pinned");
  });
}

/// Control: a reader that does not pin. The writer's flushes then run the deferred delete
/// under it, and the checker must report the use after free: the shape of the tests above
/// can see a deferred call that runs too early.
TEST(EpochModel, UnpinnedReaderIsCaught) {
  expect_failure(ferrite::check::failure_kind::use_after_free, [] {
    collector c;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread reader([&] {
      const obj* p = src.load(memory_order_acquire);
      if (p != nullptr) FERRITE_ASSERT(p->read() == 1);
    });
    {
      local_handle h = c.register_thread();
      {
        guard g = h.pin();
        g.defer_delete(src.exchange(nullptr, memory_order_acq_rel));
      }
      flush_times(h, 2);
    }
    reader.join();
  });
}

}  // namespace
