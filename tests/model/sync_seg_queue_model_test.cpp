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

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/seg_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::seg_queue;

/// Exactly-once and per-producer FIFO accounting. Values are producer * 100 + sequence
/// number (from 1). Bookkeeping only: model threads run one at a time on one OS thread.
struct ledger {
  std::array<int, 4> next_seq{1, 1, 1, 1};  // per producer: the sequence number expected next
  std::array<int, 4> pushed{};              // per producer: how many it pushed
  int total = 0;
  void take(int v) {
    const int producer = v / 100;
    FERRITE_ASSERT(producer >= 0 && producer <= 3, "a value nobody pushed");
    FERRITE_ASSERT(v % 100 == next_seq.at(static_cast<std::size_t>(producer)),
                   "duplicated, lost or reordered element of one producer");
    ++next_seq.at(static_cast<std::size_t>(producer));
    ++total;
  }
  void expect_all_taken() const {
    for (std::size_t p = 0; p < pushed.size(); ++p)
      FERRITE_ASSERT(next_seq.at(p) == pushed.at(p) + 1, "an element was lost");
  }
};

void push_as(seg_queue<int>& q, ledger& l, int producer, int seq) {
  q.push(producer * 100 + seq);
  ++l.pushed.at(static_cast<std::size_t>(producer));
}

void try_take(seg_queue<int>& q, ledger& l) {
  int v = 0;
  if (q.try_pop(v)) l.take(v);
}

void drain(seg_queue<int>& q, ledger& l) {
  int v = 0;
  while (q.try_pop(v)) l.take(v);
  l.expect_all_taken();
  FERRITE_ASSERT(q.empty());
}

/// One producer pushes two elements while the consumer try_pops twice: FIFO, exactly once.
TEST(seg_queue_model, one_producer_one_consumer) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    ferrite::thread producer([&] {
      push_as(q, l, 1, 1);
      push_as(q, l, 1, 2);
    });
    try_take(q, l);
    try_take(q, l);
    producer.join();
    drain(q, l);
  });
}

/// Two producers and two consumers (one element each): claims race on both indices.
TEST(seg_queue_model, two_producers_two_consumers) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    ferrite::thread p1([&] { push_as(q, l, 1, 1); });
    ferrite::thread p2([&] { push_as(q, l, 2, 1); });
    ferrite::thread c([&] { try_take(q, l); });
    try_take(q, l);
    p1.join();
    p2.join();
    c.join();
    drain(q, l);
  });
}

/// A push that happens before a pop (through a release/acquire flag) is seen by it: try_pop
/// never reports empty then (the emptiness check (Q11) reads a relaxed tail).
TEST(seg_queue_model, pop_after_push_is_never_empty) {
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

/// Fills the queue single-threaded up to `position` (pushes and pops `position` elements of
/// producer 0), so that the next push lands at that position of the first block.
void advance_to(seg_queue<int>& q, ledger& l, int position) {
  for (int i = 1; i <= position; ++i) push_as(q, l, 0, i);
  for (int i = 0; i < position; ++i) try_take(q, l);
  FERRITE_ASSERT(l.total == position && q.empty());
}

/// Block boundary, producer side: the producer pushes into slots 29 and 30 (claiming slot 30
/// installs the next block) and into slot 0 of the next block, while a consumer pops: it
/// waits at the phantom position for the install, moves the head onto the new block, frees
/// the used one, and still sees FIFO order.
TEST(seg_queue_model, block_boundary_one_producer_one_consumer) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    advance_to(q, l, 29);
    ferrite::thread producer([&] {
      for (int i = 1; i <= 3; ++i) push_as(q, l, 1, i);
    });
    for (int i = 0; i < 3; ++i) try_take(q, l);
    producer.join();
    drain(q, l);
  });
}

/// Block boundary, consumer side: slots 29 and 30 are filled; two consumers claim them at
/// once. The consumer of slot 30 starts destroy_block while the consumer of slot 29 may
/// still be moving its element out: one of them frees the block (READ/DESTROY hand-over),
/// after the other is done with it, exactly once.
TEST(seg_queue_model, block_boundary_destroy_hand_over) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    advance_to(q, l, 29);
    push_as(q, l, 1, 1);  // slot 29
    push_as(q, l, 1, 2);  // slot 30: the next block is installed
    ferrite::thread c([&] { try_take(q, l); });
    try_take(q, l);
    c.join();
    FERRITE_ASSERT(l.total == 31, "a consumer found the queue empty");
    drain(q, l);
  });
}

/// Block boundary with a producer and two consumers: the install of the next block at the
/// tail (producer of slot 30) races the consumer of slot 30, which waits for the link.
TEST(seg_queue_model, block_boundary_install_race) {
  expect_pass([] {
    seg_queue<int> q;
    ledger l;
    advance_to(q, l, 30);  // the next push claims slot 30
    ferrite::thread producer([&] { push_as(q, l, 1, 1); });
    ferrite::thread c([&] { try_take(q, l); });
    try_take(q, l);
    producer.join();
    c.join();
    drain(q, l);
  });
}

/// Elements owning heap memory, some left in the queue: ~seg_queue destroys them (and
/// frees its block) exactly once.
TEST(seg_queue_model, owned_elements_destroyed_once) {
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
