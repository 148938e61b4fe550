// SPDX-License-Identifier: Apache-2.0
// The bodies behind mpsc_queue.hpp: claiming a slot with one fetch_add, installing the next
// block at a block boundary (with the walk back along `prev` for a late producer), the
// consumer's walk over the slots, and retiring used-up blocks to the free list. Included at
// the bottom of mpsc_queue.hpp; not a public header.
//
// The orderings, numbered as in the ORDERING comments:
//
//   producer (emplace)                          consumer (try_pop_state)
//   (P1) w = word.fetch_add(1, acquire)         (C1) state = slot.state.load(acquire)
//        offset >= BlockSize: wait (W1), retry       not lap|full or lap|skip:
//   (P2) b = tail.blk.load(acquire), walk prev         (C4) word.load(relaxed) == pos? empty
//   offset 0:  (S1)/(S2) take the free list          move the element out
//              (R2) CAS b->next null -> list    last slot: (C2) next = blk->next (relaxed)
//   last slot: (I1) n = b->next.load(acquire)              retire: (S3) push on free_
//              (or link one, (R2)); n's header                     (release), or delete
//              (I2) tail.blk.store(n, release)
//              (I3) word.store(next lap, release)
//   construct the element
//   (P4) slot.state.store(lap | full, release)
//
//   pairs: (P4) -> (C1)            the element, and the producer's accesses to the block
//          (I3) -> (P1)            a lap's claims see its block installed (release sequence
//                                  of the fetch_adds that follow the store)
//          (I2) -> (P2)            a block read from tail.blk is seen with its header
//          (R2) -> (I1)            a linked block (or list of blocks) is seen as linked;
//                                  (C2) reads the link through (R2) -> (I1) -> (P4) -> (C1)
//          (S3) -> (S2)            a used block's last use by the consumer happens before
//                                  its reuse
//          (P4) -> (C1) of every slot of a block, then free: see "Block reclamation"
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/sync/mpsc_queue.hpp"

namespace ferrite::sync {

template <class T, class Allocator, std::size_t BlockSize>
mpsc_queue<T, Allocator, BlockSize>::~mpsc_queue() {
  // ORDERING: relaxed, all of them: the precondition orders every push before us.
  block* b = consumer_->blk;
  std::uint64_t offset = consumer_->pos & detail::mpsc_offset_mask;
  std::uint64_t lap = consumer_->pos - offset;
  while (b != nullptr) {
    for (; offset < BlockSize; ++offset) {
      slot& s = b->slots[offset];
      // ORDERING: relaxed (the destructor's precondition, above).
      if (s.state.load(std::memory_order_relaxed) == (lap | detail::mpsc_slot_full)) {
        // SAFETY: a slot at or after the consumer's position that is full in its block's lap
        // holds an element that was not popped. Blocks after the consumer's have the laps
        // that follow (installed or linked ahead); a state from an older use never matches.
        std::destroy_at(std::addressof(s.value.get_mut().value));
      }
    }
    offset = 0;
    lap += detail::mpsc_lap_one;
    // ORDERING: relaxed (the destructor's precondition); linked-ahead blocks are freed too.
    block* const next = b->next.load(std::memory_order_relaxed);
    delete_block(b);
    b = next;
  }
  // ORDERING: relaxed, both (the destructor's precondition): the free list is ours alone.
  for (b = free_->load(std::memory_order_relaxed); b != nullptr;) {
    block* const next = b->next.load(std::memory_order_relaxed);
    delete_block(b);
    b = next;
  }
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::claim_slow(std::uint64_t w) noexcept -> claim {
  for (;;) {
    const std::uint64_t offset = w & detail::mpsc_offset_mask;
    if (offset < BlockSize) {
      const std::uint64_t lap = w - offset;
      block* const b = find_block(lap);
      if (offset + 1 == BlockSize) install_next(*b, lap);
      return claim{b, lap, offset};
    }
    // Overshoot: the lap is used up and its installer is opening the next one. Claim again
    // once the lap has changed.
    backoff wait;
    // ORDERING: (W1) relaxed: only tells when to retry; (P1) orders what the claim reads.
    while (((tail_->word.load(std::memory_order_relaxed) ^ w) & ~detail::mpsc_offset_mask) == 0) {
      wait.snooze();
    }
    // ORDERING: (P1) again, as in claim_slot().
    w = tail_->word.fetch_add(1, std::memory_order_acquire);
  }
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::find_block(std::uint64_t lap) noexcept -> block* {
  // ORDERING: (P2) acquire; pairs with the release store (I2) that installed the block we
  // read: its header is visible. By (P1), that is this lap's block or a later one.
  block* b = tail_->blk.load(std::memory_order_acquire);
  // SAFETY: every block from our lap's to the newest is alive: the consumer frees in order,
  // and not past our slot until our (P4). Each of them got its header from its installer
  // before (I2), and the installers of later laps are ordered after it by (I3) -> (P1), so
  // the walk reads initialized headers and stops at our lap.
  while (lap_of(*b) != lap) b = b->prev.with([](block* const* p) { return *p; });
  return b;
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::prepare_next(block& b) {
  // ORDERING: relaxed: only saves the work when a block is linked already; (R2) decides.
  if (b.next.load(std::memory_order_relaxed) == nullptr) link_next(b);
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::install_next(block& b, std::uint64_t lap) noexcept {
  // ORDERING: (I1) acquire; pairs with the release CAS (R2) that linked it: the block is seen
  // as its last user left it, and so are the blocks linked after it (which later installers
  // reach through here).
  block* next = b.next.load(std::memory_order_acquire);
  // The preparer is late (or BlockSize is 1): link one ourselves. noexcept: if that throws,
  // std::terminate (see the class comment).
  if (next == nullptr) next = link_next(b);
  // SAFETY (of writing the header): `next` is not installed yet, so no producer reads it
  // (they wait for (I3)) and no walk reaches it; the consumer never reads headers.
  set_header(*next, lap + detail::mpsc_lap_one, &b);
  // ORDERING: (I2) release; pairs with (P2): producers that load `next` see its header.
  tail_->blk.store(next, std::memory_order_release);
  // ORDERING: (I3) release; pairs with (P1) of the next lap's claims (and (W1) lets the
  // overshooting producers claim again).
  tail_->word.store(lap + detail::mpsc_lap_one, std::memory_order_release);
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::link_next(block& b) -> block* {
  block* first = take_free();
  if (first == nullptr) first = new_block();  // may throw: nothing is linked yet
  block* expected = nullptr;
  // ORDERING: (R2) acq_rel CAS. Release: publishes the blocks (fresh, or used ones acquired at
  // (S2), with the links between them) to the installer's (I1). Acquire on failure: the
  // winner's blocks, which our caller may install. (Success needs no acquire, it reads null;
  // GCC rejects a failure order stronger than the success order.)
  if (b.next.compare_exchange_strong(expected, first, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
    return first;
  }
  // The installer or the preparer was first: give ours back (untouched).
  block* last = first;
  // ORDERING: relaxed: the list is ours since (S2) (or fresh).
  for (block* n; (n = last->next.load(std::memory_order_relaxed)) != nullptr;) last = n;
  put_free(first, last);
  return expected;
}

template <class T, class Allocator, std::size_t BlockSize>
std::uint64_t mpsc_queue<T, Allocator, BlockSize>::next_block(std::uint64_t pos) noexcept {
  consumer_side& c = consumer_.value;
  block* const used = c.blk;
  // ORDERING: (C2) relaxed. The link is already ordered before us: the producer of the last
  // slot installed this block (its (R2), or its (I1) acquiring the slot-0 producer's (R2))
  // before its (P4), which our (C1) acquired; so this load reads the link, never null. Nothing
  // of the next block is read through it but slot states, each acquired by (C1).
  c.blk = used->next.load(std::memory_order_relaxed);
  retire(used);
  return (pos & ~detail::mpsc_offset_mask) + detail::mpsc_lap_one;
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::retire(block* b) noexcept {
  // SAFETY (of freeing or reusing b): (C1) acquired the state of each of its slots, so every
  // producer's accesses to b happened before now (see the class comment, "Block
  // reclamation"); the consumer has moved to the next block and never comes back.
  // ORDERING: relaxed peek: with recycling off, a non-empty list means delete.
  if (!recycle_all_ && free_->load(std::memory_order_relaxed) != nullptr) {
    delete_block(b);
    return;
  }
  put_free(b, b);  // no reset: its state words hold this lap, which will not come again
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::take_free() noexcept -> block* {
  // ORDERING: (S1) relaxed peek: the exchange below is an RMW on a shared line, not worth
  // doing when there is nothing to take.
  if (free_->load(std::memory_order_relaxed) == nullptr) return nullptr;
  // ORDERING: (S2) acquire; pairs with the release CASes (S3) that pushed the blocks: their
  // last users' accesses (the consumer moving elements out, linking them) happen before ours.
  // Taking the whole list (never one block) is what rules out ABA.
  return free_->exchange(nullptr, std::memory_order_acquire);
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::put_free(block* first, block* last) noexcept {
  // ORDERING: relaxed: a guess for the CAS below.
  block* top = free_->load(std::memory_order_relaxed);
  do {
    if (!recycle_all_ && top != nullptr) {  // recycling off: keep one block at most
      FERRITE_DEBUG_ASSERT(first == last, "recycling off: one block at a time");
      delete_block(first);
      return;
    }
    // ORDERING: relaxed: published by the release CAS.
    last->next.store(top, std::memory_order_relaxed);
    // ORDERING: (S3) release CAS; pairs with (S2). A Treiber push: concurrent pushes (the
    // consumer, a preparer giving blocks back) and take-alls make it retry, never corrupt.
  } while (!free_->compare_exchange_weak(top, first, std::memory_order_release,
                                         std::memory_order_relaxed));
}

}  // namespace ferrite::sync
