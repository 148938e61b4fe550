// SPDX-License-Identifier: Apache-2.0
// The bodies behind mpsc_queue.hpp: claiming a slot with one fetch_add, installing the next
// block at a block boundary (with the walk back along `prev` for a late producer), the
// consumer's walk over the slots, and retiring used-up blocks to the free list. Included at
// the bottom of mpsc_queue.hpp; not a public header.
//
// The orderings, by the labels of the ORDERING comments (one per atomic operation, in reading
// order: mpsc_queue.hpp first, then this file):
//
//   producer (emplace)                              consumer (try_pop_state)
//   (B4) w = word.fetch_add(1, acquire)             (B6) state = slot.state.load(acquire)
//        offset >= BlockSize: wait (B14), (B15)          not lap|full or lap|skip:
//   (B5) b = tail.blk.load(acquire), or (B16)              (B7) word.load(relaxed) == pos?
//        and a walk back along prev                             empty : inconsistent
//   offset 0:  (B25)/(B26) take the free list            move the element out
//              (B21) CAS b->next null -> list       last slot: (B23) next = blk->next
//   last slot: (B18) n = b->next.load(acquire)                 (relaxed)
//              (or link one, (B21)); n's header       retire: (B29) push on free_
//              (B19) tail.blk.store(n, release)               (release), or delete
//              (B20) word.store(next lap, release)
//   construct the element
//   (B9) slot.state.store(lap | full, release)
//
//   (B1)  - relaxed store of the first block in the constructor: whoever hands the queue to other
//           threads publishes it
//   (B2)  - relaxed load of the consumer's shown position in empty(): an estimate
//   (B3)  - relaxed load of the claim word in empty(): an estimate
//   (B4)  - this acquire-RMW of the claim word synchronizes-with the release-store (B20) that
//           opened the lap (the fetch_adds after it continue its release sequence)
//   (B5)  - this acquire-load of tail.blk synchronizes-with the release-store (B19)
//   (B6)  - this acquire-load of a slot's state synchronizes-with the release-store (B9): the
//           element, and the producer's accesses to the block (the link (B21)), are visible
//   (B7)  - relaxed load of the claim word: only compared with the consumer's position, which
//           coherence keeps it from being behind
//   (B8)  - relaxed store of the consumer's shown position: only (B2) reads it
//   (B9)  - this release-store of a slot's state synchronizes-with the acquire-load (B6)
//   (B10) - relaxed load of a slot's state in the destructor: its precondition orders every push
//           before it
//   (B11) - relaxed load of a block's link in the destructor, as (B10)
//   (B12) - relaxed load of the free list in the destructor, as (B10)
//   (B13) - relaxed load of a free block's link in the destructor, as (B10)
//   (B14) - relaxed load of the claim word while overshooting: only tells when to retry; the claim
//           (B15) orders what it reads
//   (B15) - this acquire-RMW of the claim word synchronizes-with the release-store (B20), as (B4)
//   (B16) - this acquire-load of tail.blk synchronizes-with the release-store (B19), as (B5)
//   (B17) - relaxed load of the next link in prepare_next: only saves work; the CAS (B21) decides
//   (B18) - this acquire-load of the next link synchronizes-with the release-CAS (B21) that linked
//           the block (or list of blocks)
//   (B19) - this release-store of tail.blk synchronizes-with the acquire-loads (B5, B16): the
//           installed block's header is visible
//   (B20) - this release-store of the claim word synchronizes-with the acquire-RMWs (B4, B15) of
//           the next lap's claims
//   (B21) - this release-CAS of the next link synchronizes-with the acquire-load (B18); on failure,
//           it acquires the winner's (B21)
//   (B22) - relaxed load of a link of our own list (taken by (B26), or fresh) in link_next
//   (B23) - relaxed load of the next link by the consumer: ordered already by (B21) -> (B18) ->
//           (B9) -> (B6) of the block's last slot
//   (B24) - relaxed load of the free list in retire: with recycling off, a peek
//   (B25) - relaxed load of the free list in take_free: a peek before the exchange
//   (B26) - this acquire-exchange of the free list synchronizes-with the release-CASes (B29) that
//           pushed its blocks: their last use happens before their reuse
//   (B27) - relaxed load of the free list in put_free: a guess for the CAS (B29)
//   (B28) - relaxed store of a block's link in put_free: published by the CAS (B29)
//   (B29) - this release-CAS of the free list synchronizes-with the acquire-exchange (B26)
//
//   Block reclamation: (B9) -> (B6) of every slot of a block happens before the consumer frees
//   or reuses it (see mpsc_queue, "Block reclamation").
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
  block* b = consumer_->blk;
  std::uint64_t offset = consumer_->pos & detail::mpsc_offset_mask;
  std::uint64_t lap = consumer_->pos - offset;
  while (b != nullptr) {
    for (; offset < BlockSize; ++offset) {
      slot& s = b->slots[offset];
      // ORDERING: (B10) relaxed: the destructor's precondition orders every push before us.
      if (s.state.load(std::memory_order_relaxed) == (lap | detail::mpsc_slot_full)) {
        // SAFETY: a slot at or after the consumer's position that is full in its block's lap
        // holds an element that was not popped. Blocks after the consumer's have the laps
        // that follow (installed or linked ahead); a state from an older use never matches.
        std::destroy_at(std::addressof(s.value.get_mut().value));
      }
    }
    offset = 0;
    lap += detail::mpsc_lap_one;
    // ORDERING: (B11) relaxed, as (B10); linked-ahead blocks are freed too.
    block* const next = b->next.load(std::memory_order_relaxed);
    delete_block(b);
    b = next;
  }
  // ORDERING: (B12) relaxed, as (B10): the free list is ours alone.
  for (b = free_->load(std::memory_order_relaxed); b != nullptr;) {
    // ORDERING: (B13) relaxed, as (B10).
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
    // ORDERING: (B14) relaxed: only tells when to retry; (B15) orders what the claim reads.
    while (((tail_->word.load(std::memory_order_relaxed) ^ w) & ~detail::mpsc_offset_mask) == 0) {
      wait.snooze();
    }
    // ORDERING: (B15) acquire RMW, as (B4) in claim_slot(): pairs with the release store (B20).
    w = tail_->word.fetch_add(1, std::memory_order_acquire);
  }
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::find_block(std::uint64_t lap) noexcept -> block* {
  // ORDERING: (B16) acquire; pairs with the release store (B19) that installed the block we
  // read: its header is visible. By (B4)/(B15), that is this lap's block or a later one.
  block* b = tail_->blk.load(std::memory_order_acquire);
  // SAFETY: every block from our lap's to the newest is alive: the consumer frees in order,
  // and not past our slot until our (B9). Each of them got its header from its installer
  // before (B19), and the installers of later laps are ordered after it by (B20) -> (B4)/(B15),
  // so the walk reads initialized headers and stops at our lap.
  while (lap_of(*b) != lap) b = b->prev.with([](block* const* p) { return *p; });
  return b;
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::prepare_next(block& b) {
  // ORDERING: (B17) relaxed: only saves the work when a block is linked already; (B21) decides.
  if (b.next.load(std::memory_order_relaxed) == nullptr) link_next(b);
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::install_next(block& b, std::uint64_t lap) noexcept {
  // ORDERING: (B18) acquire; pairs with the release CAS (B21) that linked it: the block is seen
  // as its last user left it, and so are the blocks linked after it (which later installers
  // reach through here).
  block* next = b.next.load(std::memory_order_acquire);
  // The preparer is late (or BlockSize is 1): link one ourselves. noexcept: if that throws,
  // std::terminate (see the class comment).
  if (next == nullptr) next = link_next(b);
  // SAFETY (of writing the header): `next` is not installed yet, so no producer reads it
  // (they wait for (B20)) and no walk reaches it; the consumer never reads headers.
  set_header(*next, lap + detail::mpsc_lap_one, &b);
  // ORDERING: (B19) release; pairs with (B5) and (B16): producers that load `next` see its
  // header.
  tail_->blk.store(next, std::memory_order_release);
  // ORDERING: (B20) release; pairs with (B4) and (B15) of the next lap's claims (and (B14) lets
  // the overshooting producers claim again).
  tail_->word.store(lap + detail::mpsc_lap_one, std::memory_order_release);
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::link_next(block& b) -> block* {
  block* first = take_free();
  if (first == nullptr) first = new_block();  // may throw: nothing is linked yet
  block* expected = nullptr;
  // ORDERING: (B21) acq_rel CAS. Release: publishes the blocks (fresh, or used ones acquired at
  // (B26), with the links between them) to the installer's (B18). Acquire on failure: the
  // winner's blocks, which our caller may install. (Success needs no acquire, it reads null;
  // GCC rejects a failure order stronger than the success order.)
  if (b.next.compare_exchange_strong(expected, first, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
    return first;
  }
  // The installer or the preparer was first: give ours back (untouched).
  block* last = first;
  // ORDERING: (B22) relaxed: the list is ours since (B26) (or fresh).
  for (block* n; (n = last->next.load(std::memory_order_relaxed)) != nullptr;) last = n;
  put_free(first, last);
  return expected;
}

template <class T, class Allocator, std::size_t BlockSize>
std::uint64_t mpsc_queue<T, Allocator, BlockSize>::next_block(std::uint64_t pos) noexcept {
  consumer_side& c = consumer_.value;
  block* const used = c.blk;
  // ORDERING: (B23) relaxed. The link is already ordered before us: the producer of the last
  // slot installed this block (its (B21), or its (B18) acquiring the slot-0 producer's (B21))
  // before its (B9), which our (B6) acquired; so this load reads the link, never null. Nothing
  // of the next block is read through it but slot states, each acquired by (B6).
  c.blk = used->next.load(std::memory_order_relaxed);
  retire(used);
  return (pos & ~detail::mpsc_offset_mask) + detail::mpsc_lap_one;
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::retire(block* b) noexcept {
  // SAFETY (of freeing or reusing b): (B6) acquired the state of each of its slots, so every
  // producer's accesses to b happened before now (see the class comment, "Block
  // reclamation"); the consumer has moved to the next block and never comes back.
  // ORDERING: (B24) relaxed peek: with recycling off, a non-empty list means delete.
  if (!recycle_all_ && free_->load(std::memory_order_relaxed) != nullptr) {
    delete_block(b);
    return;
  }
  put_free(b, b);  // no reset: its state words hold this lap, which will not come again
}

template <class T, class Allocator, std::size_t BlockSize>
auto mpsc_queue<T, Allocator, BlockSize>::take_free() noexcept -> block* {
  // ORDERING: (B25) relaxed peek: the exchange below is an RMW on a shared line, not worth
  // doing when there is nothing to take.
  if (free_->load(std::memory_order_relaxed) == nullptr) return nullptr;
  // ORDERING: (B26) acquire; pairs with the release CASes (B29) that pushed the blocks: their
  // last users' accesses (the consumer moving elements out, linking them) happen before ours.
  // Taking the whole list (never one block) is what rules out ABA.
  return free_->exchange(nullptr, std::memory_order_acquire);
}

template <class T, class Allocator, std::size_t BlockSize>
void mpsc_queue<T, Allocator, BlockSize>::put_free(block* first, block* last) noexcept {
  // ORDERING: (B27) relaxed: a guess for the CAS (B29).
  block* top = free_->load(std::memory_order_relaxed);
  do {
    if (!recycle_all_ && top != nullptr) {  // recycling off: keep one block at most
      FERRITE_DEBUG_ASSERT(first == last, "recycling off: one block at a time");
      delete_block(first);
      return;
    }
    // ORDERING: (B28) relaxed: published by the release CAS (B29).
    last->next.store(top, std::memory_order_relaxed);
    // ORDERING: (B29) release CAS; pairs with (B26). A Treiber push: concurrent pushes (the
    // consumer, a preparer giving blocks back) and take-alls make it retry, never corrupt.
  } while (!free_->compare_exchange_weak(top, first, std::memory_order_release,
                                         std::memory_order_relaxed));
}

}  // namespace ferrite::sync
