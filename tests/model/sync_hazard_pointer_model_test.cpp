// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::hazard_pointer under ferrite::check, in user domains created inside the
// closure (a user domain has no thread-local state, so the model threads, fibers of one OS
// thread, each act as a real thread would). A reader that protects an object never sees it
// reclaimed: it reads a race-checked cell of the object, so a reclamation before or during
// the read is a reported use after free; and every retired object is reclaimed exactly once
// by the cleanup that follows the readers (else a leak, or the count check fails).
#include <gtest/gtest.h>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/hazard_pointer.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::hazard_pointer;
using ferrite::sync::hazard_pointer_domain;
using ferrite::sync::make_hazard_pointer;
using std::memory_order_acq_rel;

/// A protectable object with a race-checked payload; counts its destructions in a plain int
/// (bookkeeping: model threads run one at a time on one OS thread).
struct obj : ferrite::sync::hazard_pointer_obj_base<obj> {
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

/// Protects the current object of `src` and reads it; returns its value (0 for null). The
/// hazard pointer's destructor clears the protection and frees the record.
int protected_read(hazard_pointer_domain& dom, const ferrite::atomic<obj*>& src) {
  hazard_pointer h = make_hazard_pointer(dom);
  const obj* p = h.protect(src);
  return p != nullptr ? p->read() : 0;
}

/// The writer's step: swaps `next` (maybe null) into `src`, retires the object it replaced
/// and scans at once, so an unprotected reader of the old object would see it reclaimed.
void replace_and_scan(hazard_pointer_domain& dom, ferrite::atomic<obj*>& src, obj* next) {
  obj* old = src.exchange(next, memory_order_acq_rel);
  old->retire(dom);
  dom.cleanup();
}

/// The shape of the tests that hold a protection across reads: a writer thread replaces the
/// object `replacements` times (retire and scan after each) while `reader(dom, src)` runs on
/// the main thread; then the last object is retired, and every object must have been
/// reclaimed exactly once.
template <class Reader>
void reader_against_writer(int replacements, Reader reader) {
  expect_pass([=] {
    hazard_pointer_domain dom;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread writer([&] {
      for (int v = 2; v <= replacements + 1; ++v) {
        replace_and_scan(dom, src, new obj(v, &destroyed));
      }
    });
    reader(dom, src);
    writer.join();
    replace_and_scan(dom, src, nullptr);
    FERRITE_ASSERT(destroyed == replacements + 1,
                   "a retired, unprotected object was not reclaimed");
  });
}

/// One reader against a writer that unlinks the object, retires it and immediately scans
/// (cleanup): the scan must see the reader's hazard pointer or the reader must see the
/// unlink (the asymmetric fence pair (P2)/(H20)).
TEST(HazardPointerModel, ReaderNeverSeesReclaimedObject) {
  expect_pass([] {
    hazard_pointer_domain dom;  // destroyed last: reclaims anything still retired
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread reader([&] {
      const int v = protected_read(dom, src);
      FERRITE_ASSERT(v == 0 || v == 1);
    });
    replace_and_scan(dom, src, nullptr);
    reader.join();
    dom.cleanup();  // the reader is gone: nothing protects the object any more
    FERRITE_ASSERT(destroyed == 1, "a retired, unprotected object was not reclaimed");
  });
}

/// Two readers (each taking a record: concurrent record creation on the domain's push-only
/// list) against a writer that unlinks the object, retires it and scans at once.
TEST(HazardPointerModel, TwoReadersOneRetire) {
  expect_pass([] {
    hazard_pointer_domain dom;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    auto reader = [&] {
      const int v = protected_read(dom, src);
      FERRITE_ASSERT(v == 0 || v == 1);
    };
    ferrite::thread r1(reader);
    ferrite::thread r2(reader);
    replace_and_scan(dom, src, nullptr);
    r1.join();
    r2.join();
    dom.cleanup();
    FERRITE_ASSERT(destroyed == 1, "a retired, unprotected object was not reclaimed");
  });
}

/// The reader holds its protection across two reads and re-protects after a change
/// (try_protect's retry path), while the writer retires from a second thread: records are
/// taken, released and reused by make_hazard_pointer in between.
TEST(HazardPointerModel, ProtectionHeldAcrossReadsAndRecordReuse) {
  reader_against_writer(1, [](hazard_pointer_domain& dom, ferrite::atomic<obj*>& src) {
    {
      hazard_pointer h = make_hazard_pointer(dom);
      const obj* p = h.protect(src);
      const int first = p->read();
      const int second = p->read();  // still protected: the same, live object
      FERRITE_ASSERT(first == second && (first == 1 || first == 2));
    }
    FERRITE_ASSERT(protected_read(dom, src) >= 1);  // reuses the record released above
  });
}

/// protect()'s fast path: re-protecting the pointer the record already holds skips the
/// store and the fence. The reader protects twice, reading after each, while the writer
/// replaces the object twice, retiring and scanning after each: the second protect either
/// returns the same object (still protected since the first, so not reclaimed) or a newer one,
/// which the slow path protects (a fast path that trusted a record holding another address
/// would read object 2 as the writer reclaims it).
TEST(HazardPointerModel, ReprotectSamePointerKeepsItAlive) {
  reader_against_writer(2, [](hazard_pointer_domain& dom, ferrite::atomic<obj*>& src) {
    hazard_pointer h = make_hazard_pointer(dom);
    const obj* p = h.protect(src);
    const int first = p->read();
    const obj* q = h.protect(src);  // fast path when src still holds p
    const int second = q->read();
    FERRITE_ASSERT(first >= 1 && first <= 3);
    FERRITE_ASSERT(second >= first, "re-protect went back to the retired object");
  });
}

/// After reset_protection() the same pointer must be published again: the fast path's copy of
/// the record (held_) is cleared with the record, so the second protect takes the slow path
/// and the writer's scan sees it (a stale copy would return the object unprotected, and the
/// scan would reclaim it under the read: a use after free).
TEST(HazardPointerModel, ReprotectAfterResetPublishesAgain) {
  reader_against_writer(1, [](hazard_pointer_domain& dom, ferrite::atomic<obj*>& src) {
    hazard_pointer h = make_hazard_pointer(dom);
    FERRITE_ASSERT(h.protect(src)->read() >= 1);
    h.reset_protection();
    const obj* q = h.protect(src);
    FERRITE_ASSERT(q->read() >= 1);
  });
}

/// Control for the fast path: a protection that was cleared in between (reset_protection)
/// must not count as "already protected". The reader protects, resets, then reads the
/// pointer it had without protecting again: the checker reports the destructor's write of the
/// payload racing with the read (a data race), so the fast path's condition (the record
/// holds the address right now) is what keeps it safe.
TEST(HazardPointerModel, StalePointerAfterResetIsCaught) {
  expect_failure(ferrite::check::failure_kind::data_race, [] {
    hazard_pointer_domain dom;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread reader([&] {
      hazard_pointer h = make_hazard_pointer(dom);
      const obj* p = h.protect(src);
      h.reset_protection();
      if (p != nullptr) FERRITE_ASSERT(p->read() == 1);
    });
    replace_and_scan(dom, src, nullptr);
    reader.join();
    dom.cleanup();
  });
}

/// Control: the same reader without a hazard pointer. The scan then frees the object under
/// the reader, and the checker must report the use after free: the shape of the tests above
/// can see a reclamation that comes too early.
TEST(HazardPointerModel, UnprotectedReaderIsCaught) {
  expect_failure(ferrite::check::failure_kind::use_after_free, [] {
    hazard_pointer_domain dom;
    int destroyed = 0;
    ferrite::atomic<obj*> src{new obj(1, &destroyed)};
    ferrite::thread reader([&] {
      const obj* p = src.load(std::memory_order_acquire);
      if (p != nullptr) FERRITE_ASSERT(p->read() == 1);
    });
    replace_and_scan(dom, src, nullptr);
    reader.join();
  });
}

}  // namespace
