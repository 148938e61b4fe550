// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::collector / guard (epoch reclamation) under ferrite::check, with a
// collector created inside the closure and one local_handle per model thread (the default
// collector's implicit per-thread handle lives in thread_local storage, which the model
// threads, fibers of one OS thread, would all share). A deferred function never runs while
// a reader that may hold the object is pinned: the reader reads a race-checked cell of the
// object (a reclamation first is a reported use after free) and checks, at the end of its
// pinned section, that the deferred delete has not run. Once nobody is pinned, flushes do
// run it (the count check), and the collector's destructor frees the rest (else a leak).
#include <gtest/gtest.h>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/epoch.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::collector;
using ferrite::sync::guard;
using ferrite::sync::local_handle;
using std::memory_order_acq_rel;
using std::memory_order_acquire;

/// An object with a race-checked payload; counts its destructions in a plain int
/// (bookkeeping: model threads run one at a time on one OS thread).
struct obj {
  obj(int v, int* destroyed) : value(v), destroyed_(destroyed) {}
  obj(const obj&) = delete;
  obj& operator=(const obj&) = delete;
  ~obj() { ++*destroyed_; }

  [[nodiscard]] int read() const { return value.with([](const int* v) { return *v; }); }

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

/// Unpins and flushes `n` times: each flush seals the bag and tries to advance the epoch, so
/// two of them after the last pinned reader run a bag sealed before it.
void flush_times(local_handle& h, int n) {
  for (int i = 0; i < n; ++i) {
    guard g = h.pin();
    g.flush();
  }
}

/// One reader; the writer unlinks the object, defers its delete and flushes three times
/// (enough to run it if no reader were pinned) while the reader may be pinned on it.
TEST(epoch_model, deferred_delete_waits_for_pinned_reader) {
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

/// Two readers and two unlinks (A -> B -> null), each deferred and flushed by the writer.
TEST(epoch_model, two_readers_two_deferred_deletes) {
  expect_pass([] {
    collector c;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    auto reader = [&] {
      local_handle h = c.register_thread();
      pinned_read(h, src, destroyed, 2);
    };
    ferrite::thread r1(reader);
    ferrite::thread r2(reader);
    {
      local_handle h = c.register_thread();
      for (obj* next : {new obj(2, &destroyed), static_cast<obj*>(nullptr)}) {
        {
          guard g = h.pin();
          g.defer_delete(src.exchange(next, memory_order_acq_rel));
        }
        flush_times(h, 1);
      }
    }
    r1.join();
    r2.join();
    local_handle h = c.register_thread();
    flush_times(h, 2);
    FERRITE_ASSERT(destroyed == 2, "a deferred delete did not run once nobody was pinned");
  });
}

/// A reader that pins twice in a row (nested pins count, only the outermost publishes) and
/// a writer that defers from its own thread while another thread flushes: the deferred
/// call runs on whichever thread collects, never under a pinned reader.
TEST(epoch_model, nested_pin_and_foreign_flush) {
  expect_pass([] {
    collector c;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread writer([&] {
      local_handle h = c.register_thread();
      guard g = h.pin();
      g.defer_delete(src.exchange(nullptr, memory_order_acq_rel));
    });  // releasing the handle moves the sealed bag to the collector's global queue
    {
      local_handle h = c.register_thread();
      const guard outer = h.pin();
      pinned_read(h, src, destroyed, 1);  // nested inside `outer`
      const obj* p = src.load(memory_order_acquire);
      if (p != nullptr) FERRITE_ASSERT(p->read() == 1);
    }
    writer.join();
    local_handle h = c.register_thread();
    flush_times(h, 3);
    FERRITE_ASSERT(destroyed == 1, "the deferred delete did not run once nobody was pinned");
  });
}

}  // namespace
