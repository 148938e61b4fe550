// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::mpsc_queue (blocks of slots) and sync::intrusive_mpsc_queue under
// ferrite::check. mpsc_queue runs with blocks shrunk to 2 slots (and 1), so that a handful of
// pushes crosses block boundaries and the checker explores: producer against producer on the
// claim word (fetch_add, overshoot and the wait for the next lap); the next block's
// preparation (producer of slot 0) racing its install (producer of the last slot) on the
// link; a producer preempted between its claim and finding its block, which then walks back
// along `prev`; the consumer against a producer's publication (empty vs inconsistent); and the
// consumer freeing or recycling a used block (spare) while producers prepare the next ones.
// Every element is popped exactly once, FIFO per producer; the checker reports use after free
// of a block, leaks, double frees and races on slot cells.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/mpsc_queue.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::mpsc_pop_result;

/// mpsc_queue<int> with blocks of B slots.
template <std::size_t B>
using small_queue = ferrite::sync::mpsc_queue<int, std::allocator<int>, B>;

/// The consumer's view: values are producer * 10 + sequence number (1, 2, ...). Checks that
/// each value comes once and that each producer's values come in order. Bookkeeping only
/// (model threads run one at a time on one OS thread).
struct fifo_check {
  std::array<int, 4> next_seq{1, 1, 1, 1};  // per producer: the sequence number expected next
  int total = 0;
  void take(int v) {
    const int producer = v / 10;
    const int seq = v % 10;
    FERRITE_ASSERT(producer >= 1 && producer <= 3, "a value nobody pushed");
    FERRITE_ASSERT(seq == next_seq.at(static_cast<std::size_t>(producer)),
                   "duplicated, lost or reordered element of one producer");
    ++next_seq.at(static_cast<std::size_t>(producer));
    ++total;
  }
};

/// Producer 1 pushes 11, 12; producer 2 pushes 21: three claims over blocks of 2, so one
/// boundary install (and the preparation of two blocks). The consumer try_pops twice while
/// they run (try_pop may report the inconsistent state), then drains.
TEST(MpscQueueModel, TwoProducersTryPopThenDrain) {
  expect_pass([] {
    small_queue<2> q;
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(11);
      q.push(12);
    });
    ferrite::thread p2([&] { q.push(21); });
    for (int i = 0; i < 2; ++i) {
      int v = 0;
      if (q.try_pop(v)) check.take(v);
    }
    p1.join();
    p2.join();
    int v = 0;
    while (q.try_pop_settled(v)) check.take(v);
    FERRITE_ASSERT(check.total == 3, "an element was lost");
    FERRITE_ASSERT(q.empty());
  });
}

/// Blocks of 1: every push is the last slot of its block, so every claim installs, and the
/// other producer's claim overshoots whenever it lands between a claim and its install.
TEST(MpscQueueModel, EveryPushInstalls) {
  expect_pass([] {
    small_queue<1> q;
    fifo_check check;
    ferrite::thread p1([&] { q.push(11); });
    ferrite::thread p2([&] {
      q.push(21);
      q.push(22);
    });
    int v = 0;
    if (q.try_pop(v)) check.take(v);
    p1.join();
    p2.join();
    while (q.try_pop_settled(v)) check.take(v);
    FERRITE_ASSERT(check.total == 3, "an element was lost");
  });
}

/// Producer 1's single claim (slot 0 of the first block) can be preempted before it finds its
/// block while producer 2 fills the rest of that block and the next one (installing two
/// blocks): producer 1 then reads the newest block from tail.blk and walks back along `prev`.
/// The consumer pops concurrently, so the blocks it frees race the walk.
TEST(MpscQueueModel, PreemptedClaimWalksBack) {
  expect_pass([] {
    small_queue<2> q;
    fifo_check check;
    ferrite::thread p1([&] { q.push(11); });
    ferrite::thread p2([&] {
      q.push(21);
      q.push(22);
      q.push(23);
    });
    int v = 0;
    if (q.try_pop(v)) check.take(v);
    p1.join();
    p2.join();
    while (q.try_pop_settled(v)) check.take(v);
    FERRITE_ASSERT(check.total == 4, "an element was lost");
  });
}

/// The consumer pops while two producers cross two boundaries: it retires the first block
/// (pushing it on the free list, or freeing it when recycling is off and the list is full)
/// while the producer of slot 0 of the second block links the third, maybe taking that very
/// block from the free list. Both recycling modes.
void retire_races_preparation(ferrite::sync::mpsc_recycling recycling) {
  expect_pass([recycling] {
    small_queue<2> q(recycling);
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(11);
      q.push(12);
    });
    ferrite::thread p2([&] {
      q.push(21);
      q.push(22);
    });
    for (int i = 0; i < 3; ++i) {
      int v = 0;  // try_pop_state: its read of the claim word is explored too
      if (q.try_pop_state(v) == mpsc_pop_result::item) check.take(v);
    }
    p1.join();
    p2.join();
    int v = 0;
    while (q.try_pop_settled(v)) check.take(v);
    FERRITE_ASSERT(check.total == 4, "an element was lost");
  });
}

TEST(MpscQueueModel, RetireRacesPreparationRecyclingOff) {
  retire_races_preparation(ferrite::sync::mpsc_recycling::off);
}

TEST(MpscQueueModel, RetireRacesPreparationRecyclingOn) {
  retire_races_preparation(ferrite::sync::mpsc_recycling::on);
}

/// Recycling on, warmed up on one thread so that the free list holds three blocks: the
/// producer of the next slot 0 takes the whole list and links it ahead; the installers then
/// install those blocks one by one (writing their headers) while the consumer retires blocks
/// onto the emptied list.
TEST(MpscQueueModel, RecycledListLinkedAhead) {
  expect_pass([] {
    small_queue<2> q(ferrite::sync::mpsc_recycling::on);
    int v = 0;
    for (int i = 0; i < 6; ++i) q.push(i);
    for (int i = 0; i < 6; ++i) FERRITE_ASSERT(q.try_pop(v) && v == i);
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(11);
      q.push(12);
    });
    ferrite::thread p2([&] { q.push(21); });
    for (int i = 0; i < 3; ++i)
      if (q.try_pop(v)) check.take(v);
    p1.join();
    p2.join();
    while (q.try_pop_settled(v)) check.take(v);
    FERRITE_ASSERT(check.total == 3, "an element was lost");
  });
}

/// try_pop_settled concurrent with the producers (both forms): it waits out a claimed but
/// unpublished slot instead of reporting it, and reports nothing only when the queue is empty.
TEST(MpscQueueModel, TryPopSettledRidesOutInconsistentState) {
  expect_pass([] {
    small_queue<2> q;
    fifo_check check;
    ferrite::thread p1([&] { q.push(11); });
    ferrite::thread p2([&] { q.push(21); });
    while (check.total < 2) {
      int v = 0;
      bool got = false;
      if (check.total == 0) {
        got = q.try_pop_settled(v);  // the T& form first, then the std::optional one
      } else if (std::optional<int> o = q.try_pop_settled()) {
        v = *o;
        got = true;
      }
      if (got) {
        check.take(v);
      } else {
        ferrite::yield_now();  // empty: wait for the producers
      }
    }
    p1.join();
    p2.join();
    int v = 0;
    FERRITE_ASSERT(!q.try_pop_settled(v), "an element appeared from nowhere");
  });
}

/// try_pop_state distinguishes empty from inconsistent: `empty` is reported only when every
/// push that happened before the call has been popped. Here the push happens before the flag
/// the consumer acquires, on the second slot of a block (the installing one) after another
/// producer's claim of the first: the consumer sees the element, or (while the other producer
/// has not published the slot before it) the inconsistent state, never empty.
TEST(MpscQueueModel, EmptyOnlyWhenNothingPushedIsLeft) {
  expect_pass([] {
    small_queue<2> q;
    ferrite::atomic<bool> pushed{false};
    ferrite::thread other([&] { q.push(21); });
    ferrite::thread producer([&] {
      q.push(11);
      pushed.store(true, std::memory_order_release);
    });
    if (pushed.load(std::memory_order_acquire)) {
      int v = 0;
      const mpsc_pop_result r = q.try_pop_state(v);
      FERRITE_ASSERT(r != mpsc_pop_result::empty, "a completed push was not visible");
      FERRITE_ASSERT(r == mpsc_pop_result::inconsistent || v == 11 || v == 21);
    }
    other.join();
    producer.join();
  });
}

/// A throwing constructor after the claim: the slot is skipped, the queue is unchanged, and
/// the consumer passes over it (also when it is the installing slot of a block of 2).
TEST(MpscQueueModel, ThrowingConstructorSkipsItsSlot) {
  struct may_throw {
    explicit may_throw(int v) : value(v) {
      if (v < 0) throw std::runtime_error("ctor");
    }
    int value;
  };
  expect_pass([] {
    ferrite::sync::mpsc_queue<may_throw, std::allocator<may_throw>, 2> q;
    fifo_check check;
    ferrite::thread p1([&] {
      try {
        q.emplace(-1);
      } catch (const std::runtime_error&) {
      }
      q.emplace(11);
    });
    ferrite::thread p2([&] { q.emplace(21); });
    may_throw out(0);
    if (q.try_pop(out)) check.take(out.value);
    p1.join();
    p2.join();
    while (q.try_pop_settled(out)) check.take(out.value);
    FERRITE_ASSERT(check.total == 2, "an element was lost");
    FERRITE_ASSERT(q.empty());
  });
}

/// Elements owning heap memory, some left in the queue across a boundary: ~mpsc_queue
/// destroys them, and frees every block (the prepared and the spare ones too) once.
TEST(MpscQueueModel, OwnedElementsDestroyedOnce) {
  expect_pass([] {
    ferrite::sync::mpsc_queue<std::unique_ptr<int>, std::allocator<std::unique_ptr<int>>, 2> q;
    ferrite::thread p1([&] { q.push(std::make_unique<int>(1)); });
    ferrite::thread p2([&] {
      q.push(std::make_unique<int>(2));
      q.push(std::make_unique<int>(3));
    });
    std::unique_ptr<int> out;
    if (q.try_pop(out)) FERRITE_ASSERT(out != nullptr && *out >= 1 && *out <= 3);
    p1.join();
    p2.join();
  });
}

// ---- intrusive_mpsc_queue -----------------------------------------------------------------

struct task {
  explicit task(int v) : value(v) {}
  int value;
  ferrite::atomic<task*> next{nullptr};
};
using task_queue = ferrite::sync::intrusive_mpsc_queue<task, &task::next>;

/// Two producers push caller-owned nodes; the consumer pops with try_pop while they run
/// (including the detach of the last node by CAS, racing a producer's exchange) and drains
/// with try_pop_settled(). The nodes live in the closure, so a node handed out twice, or reached
/// after the consumer detached it, shows up as a duplicate value.
TEST(IntrusiveMpscQueueModel, TwoProducersDetachRace) {
  expect_pass([] {
    task a(11);
    task b(12);
    task c(21);
    task_queue q;
    fifo_check check;
    ferrite::thread p1([&] {
      q.push(&a);
      q.push(&b);
    });
    ferrite::thread p2([&] { q.push(&c); });
    for (int i = 0; i < 2; ++i)
      if (task* t = q.try_pop()) check.take(t->value);
    p1.join();
    p2.join();
    while (task* t = q.try_pop_settled()) check.take(t->value);
    FERRITE_ASSERT(check.total == 3, "a node was lost");
    FERRITE_ASSERT(q.empty());
  });
}

/// The queue empties and refills: the consumer detaches the only node (tail_ back to null)
/// while a producer pushes into what it may see as an empty queue (it then publishes head_).
TEST(IntrusiveMpscQueueModel, EmptyRefill) {
  expect_pass([] {
    task a(11);
    task b(12);
    task_queue q;
    fifo_check check;
    q.push(&a);
    ferrite::thread producer([&] { q.push(&b); });
    for (int i = 0; i < 2; ++i)
      if (task* t = q.try_pop()) check.take(t->value);
    producer.join();
    while (task* t = q.try_pop_settled()) check.take(t->value);
    FERRITE_ASSERT(check.total == 2, "a node was lost");
  });
}

}  // namespace
