// SPDX-License-Identifier: Apache-2.0
// The bodies behind seg_queue.hpp: claiming a position at either end, installing the next
// block at a block boundary, waiting for a slot's producer, and the READ/DESTROY hand-over that
// lets the last consumer of a block free it. Included at the bottom of seg_queue.hpp; not a
// public header.
//
// The orderings, numbered as in the ORDERING comments:
//
//   producer (claim_tail, emplace)            consumer (claim_head, try_pop)
//   (Q1) t = tail.index.load(acquire)         (Q9)  h = head.index.load(acquire)
//   (Q2) b = tail.block.load(acquire)         (Q7)  b = head.block.load(acquire)
//                                             (Q11) t = tail.index.load(relaxed): empty if h == t
//   (Q3) CAS tail.index t -> t+1 (acquire)    (Q10) CAS head.index h -> h+1 (acq_rel)
//                                                   (failure acquire)
//   last slot of a block (offset 30):         last slot of a block (offset 30):
//   (Q4) tail.block.store(next, release)      (Q13) next = b->next.load(acquire), waiting
//   (Q5) tail.index.store(lap+1, release)     (Q17) head.block.store(next, release)
//   (Q6) b->next.store(next, release)         (Q18) head.index.store(lap+1, release)
//   construct T in the slot                   (Q12) wait for written (acquire)
//   (Q8) written.store(1, release)                  move T out
//                                             (Q19) state.fetch_or(READ, acq_rel), or for
//                                                   slot 30: destroy_block (Q20/Q21)
//
//   pairs: (Q8) -> (Q12)        the element is constructed before its consumer moves it out
//          (Q4)/(Q5) -> (Q1)/(Q2)/(Q3 failure)   a new tail lap comes with its block
//          (Q17)/(Q18) -> (Q9)/(Q7)/(Q10 failure) a new head lap comes with its block
//          (Q6) -> (Q13)        the consumer moving the head onto a block sees it initialized
//          (Q10)/(Q18) -> (Q9)  a consumer's head carries the tail its writer saw, so (Q11)
//                               never reads a tail behind the head (coherence)
//          (Q19) <-> (Q20)/(Q21) every reader is done with the block before it is freed
//          (Q23) -> (Q22)       a consumer may claim below a tail another consumer read
//                               (seen_tail), without reloading the tail
//
// crossbeam makes the index CASes SeqCst and puts a SeqCst fence before the tail load (Q11).
// Nothing here needs a total order: the emptiness check needs only that (Q11) never reads a
// tail behind the head (else a consumer would claim a position no producer has), which the
// acquire/release chain on the head index gives, and that a pop which happens after a push
// sees it, which coherence gives (tests/sync/seg_queue_test.cpp, PopAfterPushIsNeverEmpty).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/sync/seg_queue.hpp"

namespace ferrite::sync {

template <class T>
seg_queue<T>::~seg_queue() {
  // ORDERING: relaxed, all of them: the precondition orders every operation before us.
  std::uint64_t head = head_->index.load(std::memory_order_relaxed) & ~detail::seg_has_next;
  const std::uint64_t tail = tail_->index.load(std::memory_order_relaxed);
  block* blk = head_->block.load(std::memory_order_relaxed);
  while (head != tail) {
    const std::uint64_t offset = offset_of(head);
    if (offset < detail::seg_block_cap) {
      // SAFETY: positions in [head, tail) were pushed (their `written` stores are ordered before
      // us) and not popped: the element is constructed.
      std::destroy_at(std::addressof(blk->slots[offset].value.get_mut().value));
    } else {
      // The phantom position: every element of `blk` is gone; go on to the next block.
      // ORDERING: relaxed: the destructor runs after every other operation (precondition).
      block* const next = blk->next.load(std::memory_order_relaxed);
      delete blk;
      blk = next;
    }
    head += detail::seg_one;
  }
  delete blk;  // the block the head and tail are in
}

template <class T>
auto seg_queue<T>::claim_tail() -> claim {
  backoff b;
  // ORDERING: (Q1) acquire; pairs with the release store (Q5) that opened the tail's lap (and
  // its release sequence of CASes (Q3)): the load (Q2) then sees that lap's block, or later.
  std::uint64_t tail = tail_->index.load(std::memory_order_acquire);
  // ORDERING: (Q2) acquire; pairs with the release store (Q4) that published the block (or
  // the constructor's publication): its slots are seen initialized (state 0, next null).
  block* blk = tail_->block.load(std::memory_order_acquire);
  std::unique_ptr<block> spare;  // the next block, allocated before claiming slot 30
  for (;;) {
    const std::uint64_t offset = offset_of(tail);
    if (offset == detail::seg_block_cap) {
      // The block is used up and its last producer is installing the next one: wait.
      b.snooze();
      // ORDERING: the reloads (Q1)/(Q2) of the first claim attempt, same pairing.
      tail = tail_->index.load(std::memory_order_acquire);  // (Q1)
      blk = tail_->block.load(std::memory_order_acquire);   // (Q2)
      continue;
    }
    // Allocate outside the window between claiming slot 30 and installing the next block,
    // so that other producers never wait for an allocation (and a throw claims nothing).
    if (offset + 1 == detail::seg_block_cap && spare == nullptr) spare = std::make_unique<block>();
    // ORDERING: (Q3) acquire CAS, pairing with (Q5) as (Q1) does. Failure: the fresh value may
    // open a lap whose block (Q2) must then see. Success needs no ordering of its own (`blk`
    // was acquired by (Q2) under this same index value, and a slot is written once, so there
    // is no previous occupant to synchronize with), but GCC rejects a failure order stronger
    // than the success order (-Winvalid-memory-model); on x86-64 both are one lock cmpxchg.
    if (tail_->index.compare_exchange_weak(tail, tail + detail::seg_one, std::memory_order_acquire,
                                           std::memory_order_acquire)) {
      if (offset + 1 == detail::seg_block_cap) {
        install_tail_block(blk, spare.release(), tail + detail::seg_one);
      }
      return claim{blk, offset};
    }
    // ORDERING: (Q2) again after a lost claim; pairs as above.
    blk = tail_->block.load(std::memory_order_acquire);  // (Q2)
    b.spin();
  }
}

template <class T>
void seg_queue<T>::install_tail_block(block* full, block* next, std::uint64_t phantom) noexcept {
  // ORDERING: (Q4) release; pairs with (Q2): producers that load `next` see it initialized.
  tail_->block.store(next, std::memory_order_release);
  // ORDERING: (Q5) release; pairs with (Q1) and the failure load of (Q3): a producer that
  // reads the new lap's index then loads `next` (or a later block) with (Q2).
  tail_->index.store(phantom + detail::seg_one, std::memory_order_release);
  // ORDERING: (Q6) release; pairs with (Q13) of the consumer of this slot 30, which moves the
  // head onto `next`: it sees `next` initialized, and (Q5) done (so HAS_NEXT can trust it).
  full->next.store(next, std::memory_order_release);
}

template <class T>
auto seg_queue<T>::claim_head() noexcept -> claim {
  backoff b;
  // ORDERING: (Q9) acquire; pairs with the acq_rel CASes (Q10) and the release store (Q18)
  // that wrote the head: (Q7) then sees this lap's block, and (Q11) a tail at least as far as
  // the one that let the head get here (read-read coherence through happens-before).
  std::uint64_t head = head_->index.load(std::memory_order_acquire);
  // ORDERING: (Q7) acquire; pairs with the release store (Q17) (or the constructor's
  // publication), so the block's slots are seen initialized.
  block* blk = head_->block.load(std::memory_order_acquire);
  for (;;) {
    const std::uint64_t offset = offset_of(head);
    if (offset == detail::seg_block_cap) {
      // The consumer of slot 30 is moving the head onto the next block: wait.
      b.snooze();
      // ORDERING: the reloads (Q9)/(Q7) of the first claim attempt, same pairing.
      head = head_->index.load(std::memory_order_acquire);  // (Q9)
      blk = head_->block.load(std::memory_order_acquire);   // (Q7)
      continue;
    }
    std::uint64_t new_head = head + detail::seg_one;
    // A tail some consumer read by (Q11): never ahead of the real tail, so if it is ahead of
    // the head, a producer has claimed the head's position and no fresher tail is needed.
    // ORDERING: (Q22) acquire; pairs with (Q23). It keeps (Q10)'s chain intact: whoever
    // inherits our head through (Q10) also happens after that (Q11), so its own (Q11) is
    // never behind its head (see the seg_queue model test claim_below_a_tail...).
    const std::uint64_t seen = head_->seen_tail.load(std::memory_order_acquire);
    if ((new_head & detail::seg_has_next) == 0 &&
        (head >> detail::seg_shift) >= (seen >> detail::seg_shift)) {
      // ORDERING: (Q11) relaxed: only compared with the head; (Q9) makes it no older than the
      // tail the head's writer saw, so it is never behind the head. The data of the position
      // we may claim is ordered by the slot's `written` flag (Q8)/(Q12), not by the tail.
      const std::uint64_t tail = tail_->index.load(std::memory_order_relaxed);
      if ((head >> detail::seg_shift) == (tail >> detail::seg_shift)) return claim{nullptr, 0};
      // ORDERING: (Q23) release; pairs with (Q22). A racing consumer may store an older
      // tail, which is still a lower bound read the same way.
      head_->seen_tail.store(tail, std::memory_order_release);
      // The tail is in a later block: every slot of this one is claimed by a producer.
      if (((head >> detail::seg_shift) / detail::seg_lap) !=
          ((tail >> detail::seg_shift) / detail::seg_lap)) {
        new_head |= detail::seg_has_next;
      }
    }
    // ORDERING: (Q10) acq_rel CAS on success: acquire, as (Q9), and release, so that the next
    // consumer's (Q9) inherits the tail we (or our predecessors) saw; failure acquire, as (Q9).
    if (head_->index.compare_exchange_weak(head, new_head, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
      if (offset + 1 == detail::seg_block_cap) install_head_block(blk, new_head);
      return claim{blk, offset};
    }
    // ORDERING: (Q7) again after a lost claim; pairs as above.
    blk = head_->block.load(std::memory_order_acquire);  // (Q7)
    b.spin();
  }
}

template <class T>
void seg_queue<T>::install_head_block(block* used, std::uint64_t phantom) noexcept {
  backoff b;
  // SAFETY: `used` is alive: its slot 30 is ours and not read yet, so destroy_block has not
  // run on it.
  // ORDERING: (Q13) acquire; pairs with the release store (Q6) of the producer of slot 30:
  // `next` is initialized, and that producer's (Q5) (the tail's move past `used`) is visible.
  block* next = used->next.load(std::memory_order_acquire);
  while (next == nullptr) {
    b.snooze();  // the producer of slot 30 has claimed it but not yet installed the next block
    next = used->next.load(std::memory_order_acquire);  // (Q13)
  }
  std::uint64_t next_index = (phantom & ~detail::seg_has_next) + detail::seg_one;
  // ORDERING: (Q14) relaxed: a non-null link means a producer already claimed slot 30 of
  // `next`, hence all of its slots: consumers there may skip the tail (HAS_NEXT). What they
  // read is ordered by each slot's `written` flag, not by this load.
  if (next->next.load(std::memory_order_relaxed) != nullptr) next_index |= detail::seg_has_next;
  // ORDERING: (Q17) release; pairs with (Q7): consumers that load `next` see it initialized.
  head_->block.store(next, std::memory_order_release);
  // ORDERING: (Q18) release; pairs with (Q9) and the failure load of (Q10): a consumer that
  // reads the new lap sees (Q17), and the tail (Q5) that (Q13) made visible to us.
  head_->index.store(next_index, std::memory_order_release);
}

template <class T>
auto seg_queue<T>::wait_write(block& blk, std::uint64_t offset) noexcept -> slot& {
  slot& s = blk.slots[offset];
  backoff b;
  // ORDERING: (Q12) acquire; pairs with the release store (Q8) of the position's producer:
  // the element it constructed is visible.
  while (s.written.load(std::memory_order_acquire) == 0) b.snooze();
  return s;
}

template <class T>
void seg_queue<T>::release_slot(block* blk, std::uint64_t offset) noexcept {
  if (offset + 1 == detail::seg_block_cap) {
    // The last slot: every position of the block is claimed; free it once all are read.
    destroy_block(blk, 0);
    return;
  }
  // ORDERING: (Q19) acq_rel RMW. Release: pairs with the destroyer's acquire (Q20)/(Q21), so
  // our move out of the slot happens before the block is freed. Acquire: if DESTROY is set,
  // pairs with the destroyer's release (Q21), so its accesses happen before our free.
  const std::uint32_t prev =
      blk->slots[offset].state.fetch_or(detail::seg_read, std::memory_order_acq_rel);
  if ((prev & detail::seg_destroy) != 0) destroy_block(blk, offset + 1);
}

template <class T>
void seg_queue<T>::destroy_block(block* blk, std::uint64_t start) noexcept {
  // Slot 30 is never marked: its consumer is the one that starts the walk.
  for (std::uint64_t i = start; i + 1 < detail::seg_block_cap; ++i) {
    slot& s = blk->slots[i];
    // ORDERING: (Q20) acquire; pairs with (Q19): a reader seen done is done with the block.
    if ((s.state.load(std::memory_order_acquire) & detail::seg_read) == 0 &&
        // ORDERING: (Q21) acq_rel RMW; acquire as (Q20) when READ came in meanwhile; release
        // pairs with (Q19) of the reader that still works here, which continues the walk.
        (s.state.fetch_or(detail::seg_destroy, std::memory_order_acq_rel) & detail::seg_read) ==
            0) {
      return;  // slot i's consumer is still reading; it frees the block (from i + 1 on)
    }
  }
  // SAFETY: every slot of the block was claimed and read, and each reader's accesses happen
  // before this point ((Q19) -> (Q20)/(Q21)); producers' accesses happen before their
  // readers' ((Q8) -> (Q12)); threads that lost a claim never dereferenced it.
  delete blk;
}

}  // namespace ferrite::sync
