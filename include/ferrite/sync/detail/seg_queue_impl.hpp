// SPDX-License-Identifier: Apache-2.0
// The bodies behind seg_queue.hpp: claiming a position at either end, installing the next
// block at a block boundary, waiting for a slot's producer, and the READ/DESTROY hand-over that
// lets the last consumer of a block free it. Included at the bottom of seg_queue.hpp; not a
// public header.
//
// The orderings, by the labels of the ORDERING comments (one per atomic operation, in reading
// order: seg_queue.hpp first, then this file):
//
//   producer (claim_tail, emplace)             consumer (claim_head, try_pop)
//   (Q10) t = tail.index.load(acquire)         (Q19) h = head.index.load(acquire)
//   (Q11) b = tail.block.load(acquire)         (Q20) b = head.block.load(acquire)
//         (Q12)/(Q13) reload both at a phantom       (Q21)/(Q22) reload both at a phantom
//                                              (Q23) seen = head.seen_tail.load(acquire)
//                                              (Q24) t = tail.index.load(relaxed): empty if
//                                                    h == t
//                                              (Q25) head.seen_tail.store(t, release)
//   (Q14) CAS tail.index t -> t+1 (acquire)    (Q26) CAS head.index h -> h+1 (acq_rel)
//         lost: (Q15) reload the block               lost: (Q27) reload the block
//   last slot of a block (offset 30):          last slot of a block (offset 30):
//   (Q16) tail.block.store(next, release)      (Q28)/(Q29) next = b->next.load(acquire),
//   (Q17) tail.index.store(lap+1, release)           waiting
//   (Q18) b->next.store(next, release)         (Q30) next->next.load(relaxed): HAS_NEXT?
//                                              (Q31) head.block.store(next, release)
//                                              (Q32) head.index.store(lap+1, release)
//   construct T in the slot                    (Q33) wait for written (acquire)
//   (Q3)  written.store(1, release)                  move T out
//                                              (Q34) state.fetch_or(READ, acq_rel), or for
//                                                    slot 30: destroy_block (Q35)/(Q36)
//
//   (Q1)  - relaxed store of the first block (head end) in the constructor: whoever hands the queue
//           to other threads publishes it
//   (Q2)  - relaxed store of the first block (tail end), as (Q1)
//   (Q3)  - this release-store of `written` synchronizes-with the acquire-load (Q33) of the
//           position's consumer: the element is constructed before it is moved out
//   (Q4)  - this acquire-load of the head index synchronizes-with (Q26, Q32), as (Q19): the tail
//           load (Q5) after it is at least this head
//   (Q5)  - relaxed load of the tail index in size_approx: an estimate
//   (Q6)  - relaxed load of the head index in the destructor: its precondition orders every
//           operation before it
//   (Q7)  - relaxed load of the tail index in the destructor, as (Q6)
//   (Q8)  - relaxed load of the head block in the destructor, as (Q6)
//   (Q9)  - relaxed load of a block's link in the destructor, as (Q6)
//   (Q10) - this acquire-load of the tail index synchronizes-with the release-store (Q17) that
//           opened the lap (and its release sequence of CASes (Q14))
//   (Q11) - this acquire-load of the tail block synchronizes-with the release-store (Q16)
//   (Q12) - this acquire-load of the tail index synchronizes-with (Q17), as (Q10)
//   (Q13) - this acquire-load of the tail block synchronizes-with (Q16), as (Q11)
//   (Q14) - this acquire-CAS of the tail index synchronizes-with (Q17), as (Q10), on failure
//   (Q15) - this acquire-load of the tail block synchronizes-with (Q16), as (Q11)
//   (Q16) - this release-store of the tail block synchronizes-with the acquire-loads
//           (Q11, Q13, Q15)
//   (Q17) - this release-store of the tail index synchronizes-with the acquire-loads (Q10, Q12) and
//           the failure load of (Q14)
//   (Q18) - this release-store of the full block's link synchronizes-with the acquire-loads
//           (Q28, Q29) of the consumer of its slot 30
//   (Q19) - this acquire-load of the head index synchronizes-with the acq_rel CAS (Q26) and the
//           release-store (Q32) that wrote it
//   (Q20) - this acquire-load of the head block synchronizes-with the release-store (Q31)
//   (Q21) - this acquire-load of the head index synchronizes-with (Q26, Q32), as (Q19)
//   (Q22) - this acquire-load of the head block synchronizes-with (Q31), as (Q20)
//   (Q23) - this acquire-load of seen_tail synchronizes-with the release-store (Q25)
//   (Q24) - relaxed load of the tail index: only compared with the head, which (Q19) and coherence
//           keep it from being behind
//   (Q25) - this release-store of seen_tail synchronizes-with the acquire-load (Q23)
//   (Q26) - this acq_rel CAS of the head index synchronizes-with (Q26, Q32) (acquire, also on
//           failure) and with the next consumer's (Q19, Q21) and failing (Q26) (release)
//   (Q27) - this acquire-load of the head block synchronizes-with (Q31), as (Q20)
//   (Q28) - this acquire-load of the used block's link synchronizes-with the release-store (Q18)
//   (Q29) - this acquire-load of the used block's link synchronizes-with (Q18), as (Q28)
//   (Q30) - relaxed load of the next block's link: a non-null link means its slots are all claimed;
//           each slot's data is ordered by (Q3) -> (Q33)
//   (Q31) - this release-store of the head block synchronizes-with the acquire-loads
//           (Q20, Q22, Q27)
//   (Q32) - this release-store of the head index synchronizes-with the acquire-loads (Q19, Q21) and
//           the failure load of (Q26)
//   (Q33) - this acquire-load of `written` synchronizes-with the release-store (Q3)
//   (Q34) - this acq_rel RMW of a slot's state synchronizes-with the destroyer's (Q35, Q36)
//           (release) and with its release-RMW (Q36) when DESTROY was set (acquire)
//   (Q35) - this acquire-load of a slot's state synchronizes-with the reader's (Q34)
//   (Q36) - this acq_rel RMW of a slot's state synchronizes-with the reader's (Q34), both ways
//
//   Every reader is done with a block before it is freed: (Q34) <-> (Q35)/(Q36). A consumer's
//   head carries the tail its writer saw ((Q26)/(Q32) -> (Q19)), so (Q24) never reads a tail
//   behind the head (coherence); (Q25) -> (Q23) extends that to a tail another consumer read.
//
// crossbeam makes the index CASes SeqCst and puts a SeqCst fence before the tail load (Q24).
// Nothing here needs a total order: the emptiness check needs only that (Q24) never reads a
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
  // ORDERING: (Q6) relaxed: the precondition orders every operation before us.
  std::uint64_t head = head_->index.load(std::memory_order_relaxed) & ~detail::seg_has_next;
  // ORDERING: (Q7) relaxed, as (Q6).
  const std::uint64_t tail = tail_->index.load(std::memory_order_relaxed);
  // ORDERING: (Q8) relaxed, as (Q6).
  block* blk = head_->block.load(std::memory_order_relaxed);
  while (head != tail) {
    const std::uint64_t offset = offset_of(head);
    if (offset < detail::seg_block_cap) {
      // SAFETY: positions in [head, tail) were pushed (their `written` stores are ordered before
      // us) and not popped: the element is constructed.
      std::destroy_at(std::addressof(blk->slots[offset].value.get_mut().value));
    } else {
      // The phantom position: every element of `blk` is gone; go on to the next block.
      // ORDERING: (Q9) relaxed, as (Q6): the destructor runs after every other operation.
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
  // ORDERING: (Q10) acquire; pairs with the release store (Q17) that opened the tail's lap (and
  // its release sequence of CASes (Q14)): the load (Q11) then sees that lap's block, or later.
  std::uint64_t tail = tail_->index.load(std::memory_order_acquire);
  // ORDERING: (Q11) acquire; pairs with the release store (Q16) that published the block (or
  // the constructor's publication): its slots are seen initialized (state 0, next null).
  block* blk = tail_->block.load(std::memory_order_acquire);
  std::unique_ptr<block> spare;  // the next block, allocated before claiming slot 30
  for (;;) {
    const std::uint64_t offset = offset_of(tail);
    if (offset == detail::seg_block_cap) {
      // The block is used up and its last producer is installing the next one: wait.
      b.snooze();
      // ORDERING: (Q12) acquire, as (Q10): pairs with the release store (Q17).
      tail = tail_->index.load(std::memory_order_acquire);
      // ORDERING: (Q13) acquire, as (Q11): pairs with the release store (Q16).
      blk = tail_->block.load(std::memory_order_acquire);
      continue;
    }
    // Allocate outside the window between claiming slot 30 and installing the next block,
    // so that other producers never wait for an allocation (and a throw claims nothing).
    if (offset + 1 == detail::seg_block_cap && spare == nullptr) spare = std::make_unique<block>();
    // ORDERING: (Q14) acquire CAS, pairing with (Q17) as (Q10) does. Failure: the fresh value may
    // open a lap whose block (Q11) must then see. Success needs no ordering of its own (`blk`
    // was acquired by (Q11) under this same index value, and a slot is written once, so there
    // is no previous occupant to synchronize with), but GCC rejects a failure order stronger
    // than the success order (-Winvalid-memory-model); on x86-64 both are one lock cmpxchg.
    if (tail_->index.compare_exchange_weak(tail, tail + detail::seg_one, std::memory_order_acquire,
                                           std::memory_order_acquire)) {
      if (offset + 1 == detail::seg_block_cap) {
        install_tail_block(blk, spare.release(), tail + detail::seg_one);
      }
      return claim{blk, offset};
    }
    // ORDERING: (Q15) acquire after a lost claim, as (Q11): pairs with the release store (Q16).
    blk = tail_->block.load(std::memory_order_acquire);
    b.spin();
  }
}

template <class T>
void seg_queue<T>::install_tail_block(block* full, block* next, std::uint64_t phantom) noexcept {
  // ORDERING: (Q16) release; pairs with (Q11): producers that load `next` see it initialized.
  tail_->block.store(next, std::memory_order_release);
  // ORDERING: (Q17) release; pairs with (Q10) and the failure load of (Q14): a producer that
  // reads the new lap's index then loads `next` (or a later block) with (Q11).
  tail_->index.store(phantom + detail::seg_one, std::memory_order_release);
  // ORDERING: (Q18) release; pairs with (Q28) of the consumer of this slot 30, which moves the
  // head onto `next`: it sees `next` initialized, and (Q17) done (so HAS_NEXT can trust it).
  full->next.store(next, std::memory_order_release);
}

template <class T>
auto seg_queue<T>::claim_head() noexcept -> claim {
  backoff b;
  // ORDERING: (Q19) acquire; pairs with the acq_rel CASes (Q26) and the release store (Q32)
  // that wrote the head: (Q20) then sees this lap's block, and (Q24) a tail at least as far as
  // the one that let the head get here (read-read coherence through happens-before).
  std::uint64_t head = head_->index.load(std::memory_order_acquire);
  // ORDERING: (Q20) acquire; pairs with the release store (Q31) (or the constructor's
  // publication), so the block's slots are seen initialized.
  block* blk = head_->block.load(std::memory_order_acquire);
  for (;;) {
    const std::uint64_t offset = offset_of(head);
    if (offset == detail::seg_block_cap) {
      // The consumer of slot 30 is moving the head onto the next block: wait.
      b.snooze();
      // ORDERING: (Q21) acquire, as (Q19): pairs with (Q26) and (Q32).
      head = head_->index.load(std::memory_order_acquire);
      // ORDERING: (Q22) acquire, as (Q20): pairs with the release store (Q31).
      blk = head_->block.load(std::memory_order_acquire);
      continue;
    }
    std::uint64_t new_head = head + detail::seg_one;
    // A tail some consumer read by (Q24): never ahead of the real tail, so if it is ahead of
    // the head, a producer has claimed the head's position and no fresher tail is needed.
    // ORDERING: (Q23) acquire; pairs with (Q25). It keeps (Q26)'s chain intact: whoever
    // inherits our head through (Q26) also happens after that (Q24), so its own (Q24) is
    // never behind its head (see the seg_queue model test ClaimBelowATailAnotherConsumerRead).
    const std::uint64_t seen = head_->seen_tail.load(std::memory_order_acquire);
    if ((new_head & detail::seg_has_next) == 0 &&
        (head >> detail::seg_shift) >= (seen >> detail::seg_shift)) {
      // ORDERING: (Q24) relaxed: only compared with the head; (Q19) makes it no older than the
      // tail the head's writer saw, so it is never behind the head. The data of the position
      // we may claim is ordered by the slot's `written` flag (Q3)/(Q33), not by the tail.
      const std::uint64_t tail = tail_->index.load(std::memory_order_relaxed);
      if ((head >> detail::seg_shift) == (tail >> detail::seg_shift)) return claim{nullptr, 0};
      // ORDERING: (Q25) release; pairs with (Q23). A racing consumer may store an older
      // tail, which is still a lower bound read the same way.
      head_->seen_tail.store(tail, std::memory_order_release);
      // The tail is in a later block: every slot of this one is claimed by a producer.
      if (((head >> detail::seg_shift) / detail::seg_lap) !=
          ((tail >> detail::seg_shift) / detail::seg_lap)) {
        new_head |= detail::seg_has_next;
      }
    }
    // ORDERING: (Q26) acq_rel CAS on success: acquire, as (Q19), and release, so that the next
    // consumer's (Q19) inherits the tail we (or our predecessors) saw; failure acquire, as (Q19).
    if (head_->index.compare_exchange_weak(head, new_head, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
      if (offset + 1 == detail::seg_block_cap) install_head_block(blk, new_head);
      return claim{blk, offset};
    }
    // ORDERING: (Q27) acquire after a lost claim, as (Q20): pairs with the release store (Q31).
    blk = head_->block.load(std::memory_order_acquire);
    b.spin();
  }
}

template <class T>
void seg_queue<T>::install_head_block(block* used, std::uint64_t phantom) noexcept {
  backoff b;
  // SAFETY: `used` is alive: its slot 30 is ours and not read yet, so destroy_block has not
  // run on it.
  // ORDERING: (Q28) acquire; pairs with the release store (Q18) of the producer of slot 30:
  // `next` is initialized, and that producer's (Q17) (the tail's move past `used`) is visible.
  block* next = used->next.load(std::memory_order_acquire);
  while (next == nullptr) {
    b.snooze();  // the producer of slot 30 has claimed it but not yet installed the next block
    // ORDERING: (Q29) acquire, as (Q28): pairs with the release store (Q18).
    next = used->next.load(std::memory_order_acquire);
  }
  std::uint64_t next_index = (phantom & ~detail::seg_has_next) + detail::seg_one;
  // ORDERING: (Q30) relaxed: a non-null link means a producer already claimed slot 30 of
  // `next`, hence all of its slots: consumers there may skip the tail (HAS_NEXT). What they
  // read is ordered by each slot's `written` flag, not by this load.
  if (next->next.load(std::memory_order_relaxed) != nullptr) next_index |= detail::seg_has_next;
  // ORDERING: (Q31) release; pairs with (Q20): consumers that load `next` see it initialized.
  head_->block.store(next, std::memory_order_release);
  // ORDERING: (Q32) release; pairs with (Q19) and the failure load of (Q26): a consumer that
  // reads the new lap sees (Q31), and the tail (Q17) that (Q28) made visible to us.
  head_->index.store(next_index, std::memory_order_release);
}

template <class T>
auto seg_queue<T>::wait_write(block& blk, std::uint64_t offset) noexcept -> slot& {
  slot& s = blk.slots[offset];
  backoff b;
  // ORDERING: (Q33) acquire; pairs with the release store (Q3) of the position's producer:
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
  // ORDERING: (Q34) acq_rel RMW. Release: pairs with the destroyer's acquire (Q35)/(Q36), so
  // our move out of the slot happens before the block is freed. Acquire: if DESTROY is set,
  // pairs with the destroyer's release (Q36), so its accesses happen before our free.
  const std::uint32_t prev =
      blk->slots[offset].state.fetch_or(detail::seg_read, std::memory_order_acq_rel);
  if ((prev & detail::seg_destroy) != 0) destroy_block(blk, offset + 1);
}

template <class T>
void seg_queue<T>::destroy_block(block* blk, std::uint64_t start) noexcept {
  // Slot 30 is never marked: its consumer is the one that starts the walk.
  for (std::uint64_t i = start; i + 1 < detail::seg_block_cap; ++i) {
    slot& s = blk->slots[i];
    // ORDERING: (Q35) acquire; pairs with (Q34): a reader seen done is done with the block.
    if ((s.state.load(std::memory_order_acquire) & detail::seg_read) == 0 &&
        // ORDERING: (Q36) acq_rel RMW; acquire as (Q35) when READ came in meanwhile; release
        // pairs with (Q34) of the reader that still works here, which continues the walk.
        (s.state.fetch_or(detail::seg_destroy, std::memory_order_acq_rel) & detail::seg_read) ==
            0) {
      return;  // slot i's consumer is still reading; it frees the block (from i + 1 on)
    }
  }
  // SAFETY: every slot of the block was claimed and read, and each reader's accesses happen
  // before this point ((Q34) -> (Q35)/(Q36)); producers' accesses happen before their
  // readers' ((Q3) -> (Q33)); threads that lost a claim never dereferenced it.
  delete blk;
}

}  // namespace ferrite::sync
