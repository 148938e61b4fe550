// SPDX-License-Identifier: Apache-2.0
// Broken zoo: a seqlock whose reader copies the payload without the fences (Boehm, "Can
// seqlocks get along with programming language memory models?"). The reader can accept a
// torn payload; with the writer's release fence and the reader's acquire fence it cannot.
#include <gtest/gtest.h>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;

struct toy_seqlock {
  ferrite::atomic<unsigned> seq{0};
  ferrite::atomic<int> a{0};
  ferrite::atomic<int> b{0};  // invariant of every published value: a == b

  void write(int v, bool fenced) {
    const unsigned s = seq.load(memory_order_relaxed);
    seq.store(s + 1, memory_order_relaxed);
    if (fenced) ferrite::fence(memory_order_release);
    a.store(v, memory_order_relaxed);
    b.store(v, memory_order_relaxed);
    seq.store(s + 2, memory_order_release);
  }

  bool try_read(int& x, int& y, bool fenced) {
    const unsigned s1 = seq.load(memory_order_acquire);
    if ((s1 & 1U) != 0) return false;
    x = a.load(memory_order_relaxed);
    y = b.load(memory_order_relaxed);
    if (fenced) ferrite::fence(memory_order_acquire);
    return seq.load(memory_order_relaxed) == s1;
  }
};

void run(bool writer_fence, bool reader_fence) {
  toy_seqlock lock;
  ferrite::thread writer([&] {
    lock.write(1, writer_fence);
    lock.write(2, writer_fence);
  });
  int x = 0;
  int y = 0;
  if (lock.try_read(x, y, reader_fence)) FERRITE_ASSERT(x == y, "torn read accepted");
  writer.join();
}

TEST(BrokenSeqlock, ReaderWithoutAcquireFenceAcceptsTornValue) {
  expect_failure(failure_kind::assertion, [] { run(true, false); });
}

TEST(BrokenSeqlock, WriterWithoutReleaseFencePublishesEarly) {
  expect_failure(failure_kind::assertion, [] { run(false, true); });
}

TEST(FixedSeqlock, BothFences) {
  expect_pass([] { run(true, true); });
}

}  // namespace
