// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::seg_queue under ferrite::check: every element pushed is popped exactly
// once and FIFO per producer, a pop that happens after a push never reports empty, and at a
// block boundary (slot 30 of a block: the next block's install at both ends and the
// READ/DESTROY hand-over that frees the used block) no block is freed while a consumer still
// reads it (use after free), none is leaked, and no slot cell is raced.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/seg_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::seg_queue;

/// Exactly-once and FIFO accounting. Values are producer * 100 + sequence number (from 1).
/// Bookkeeping only: model threads run one at a time on one OS thread.
struct ledger {
  static constexpr std::size_t producers = 3;
  static constexpr std::size_t max_seq = 32;
  std::array<int, producers> pushed{};  // per producer: how many it pushed
  std::array<std::array<int, max_seq>, producers> taken{};
  int total = 0;
  void take(int v) {
    const auto producer = static_cast<std::size_t>(v / 100);
    const auto seq = static_cast<std::size_t>(v % 100);
    FERRITE_ASSERT(producer < producers && seq >= 1 && seq < max_seq, "a value nobody pushed");
    FERRITE_ASSERT(taken.at(producer).at(seq)++ == 0, "an element popped twice");
    ++total;
  }
  void expect_all_taken() const {
    for (std::size_t p = 0; p < producers; ++p)
      for (std::size_t seq = 1; seq < max_seq; ++seq)
        FERRITE_ASSERT(taken.at(p).at(seq) == (static_cast<int>(seq) <= pushed.at(p) ? 1 : 0),
                       "an element was lost");
  }
};

/// One consumer's view: the elements of each producer it pops come in push order (FIFO per
/// producer holds per consumer; two consumers may finish their pops in either order).
struct fifo_view {
  std::array<int, ledger::producers> last{};
  void see(int v) {
    const auto producer = static_cast<std::size_t>(v / 100);
    FERRITE_ASSERT(v % 100 > last.at(producer), "elements of one producer reordered");
    last.at(producer) = v % 100;
  }
};

void push_as(seg_queue<int>& q, ledger& l, int producer, int seq) {
  q.push(producer * 100 + seq);
  ++l.pushed.at(static_cast<std::size_t>(producer));
}

void try_take(seg_queue<int>& q, ledger& l, fifo_view& view) {
  int v = 0;
  if (q.try_pop(v)) {
    l.take(v);
    view.see(v);
  }
}

/// Pops what is left, through the std::optional form of try_pop (try_take uses the T& one).
void drain(seg_queue<int>& q, ledger& l, fifo_view& view) {
  while (std::optional<int> v = q.try_pop()) {
    l.take(*v);
    view.see(*v);
  }
  l.expect_all_taken();
  FERRITE_ASSERT(q.empty());
}

/// Moves the queue, single-threaded, to `position` of its first block (pushes and pops that
/// many elements of producer 0), so that the next push claims that slot.
void advance_to(seg_queue<int>& q, ledger& l, fifo_view& view, int position) {
  for (int i = 1; i <= position; ++i) push_as(q, l, 0, i);
  for (int i = 0; i < position; ++i) try_take(q, l, view);
  FERRITE_ASSERT(l.total == position && q.empty());
}

/// From `position` of the first block, one producer pushes two elements while the consumer
/// try_pops twice; then the rest is drained: FIFO, exactly once.
void two_pushes_against_two_takes(int position) {
  seg_queue<int> q;
  ledger l;
  fifo_view view;
  advance_to(q, l, view, position);
  ferrite::thread producer([&] {
    push_as(q, l, 1, 1);
    push_as(q, l, 1, 2);
  });
  try_take(q, l, view);
  try_take(q, l, view);
  producer.join();
  drain(q, l, view);
}

/// One producer pushes two elements while the consumer try_pops twice.
TEST(SegQueueModel, OneProducerOneConsumer) {
  expect_pass([] { two_pushes_against_two_takes(0); });
}

/// Three consumers and one element: a consumer may claim below a tail another consumer read
/// (seen_tail) without reloading the tail, and the consumer that inherits its head must still
/// not read a tail behind that head (it would claim a position nobody pushed and wait for it
/// forever). Found as a livelock when seen_tail is read relaxed instead of acquire.
TEST(SegQueueModel, ClaimBelowATailAnotherConsumerRead) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    ferrite::thread producer([&] { push_as(q, l, 1, 1); });
    ferrite::thread c1([&] {
      fifo_view view;
      try_take(q, l, view);
    });
    ferrite::thread c2([&] {
      fifo_view view;
      try_take(q, l, view);
    });
    fifo_view view;
    try_take(q, l, view);
    producer.join();
    c1.join();
    c2.join();
    drain(q, l, view);
  });
}

/// Two producers race on the tail (a thread and the main thread) and two consumers on the
/// head (a thread and the main thread, after its push).
TEST(SegQueueModel, TwoProducersTwoConsumers) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    ferrite::thread p([&] { push_as(q, l, 1, 1); });
    ferrite::thread c([&] {
      fifo_view view;
      try_take(q, l, view);
    });
    fifo_view view;
    push_as(q, l, 2, 1);
    try_take(q, l, view);
    p.join();
    c.join();
    drain(q, l, view);
  });
}

/// A push that happens before a pop (through a release/acquire flag) is seen by it: try_pop
/// never reports empty then (the emptiness check (Q24) reads a relaxed tail).
TEST(SegQueueModel, PopAfterPushIsNeverEmpty) {
  expect_pass([] {
    seg_queue<int> q;
    ferrite::atomic<bool> pushed{false};
    ferrite::thread producer([&] {
      q.push(1);
      pushed.store(true, std::memory_order_release);
    });
    if (pushed.load(std::memory_order_acquire)) {
      int v = 0;
      FERRITE_ASSERT(q.try_pop(v) && v == 1, "a completed push was not visible");
    }
    producer.join();
  });
}

/// Block boundary, producer side: the producer pushes into slot 30 (claiming it installs the
/// next block: (Q16), (Q17), (Q18)) and into slot 0 of the next block, while the consumer pops
/// twice: it may wait at the phantom position or for the link (Q28), moves the head onto the
/// new block and frees the used one (destroy_block), in FIFO order.
TEST(SegQueueModel, BlockBoundaryInstall) {
  expect_pass([] { two_pushes_against_two_takes(30); });
}

/// Block boundary, consumer side: slots 29 and 30 are filled; two consumers claim them at
/// once. The consumer of slot 30 moves the head and starts destroy_block while the consumer
/// of slot 29 may still be moving its element out: exactly one of them frees the block
/// (READ/DESTROY hand-over), after the other is done with it.
TEST(SegQueueModel, BlockBoundaryDestroyHandOver) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    fifo_view view;
    advance_to(q, l, view, 29);
    push_as(q, l, 1, 1);  // slot 29
    push_as(q, l, 1, 2);  // slot 30: the next block is installed
    ferrite::thread c([&] {
      fifo_view mine;
      try_take(q, l, mine);
    });
    try_take(q, l, view);
    c.join();
    FERRITE_ASSERT(l.total == 31, "a consumer found a non-empty queue empty");
    drain(q, l, view);
  });
}

/// Elements owning heap memory, some left in the queue: ~seg_queue destroys them (and
/// frees its block) exactly once.
TEST(SegQueueModel, OwnedElementsDestroyedOnce) {
  expect_pass([] {
    seg_queue<std::unique_ptr<int>> q;
    ferrite::thread p([&] { q.push(std::make_unique<int>(1)); });
    q.push(std::make_unique<int>(2));
    std::unique_ptr<int> out;
    if (q.try_pop(out)) FERRITE_ASSERT(out != nullptr && (*out == 1 || *out == 2));
    p.join();
  });
}

}  // namespace
