// SPDX-License-Identifier: Apache-2.0
// The bodies behind ws_deque.hpp: the owner's push (with growth) and pop, and steal, in the
// order of operations of Lê et al.'s C11 code (ws_deque's class comment draws them), then the
// constructor, size_approx and the destructor. Included at the bottom of ws_deque.hpp; not a
// public header.
//
// Why the owner and a thief never both take position b (the two seq_cst fences):
//   owner pop: (D5) bottom = b       (D6)   (D7) t = top             takes b, no CAS, if t < b
//   thief:     (D11) t' = top (acq)  (D12)  (D13) b' = bottom (acq)  takes t' if t' < b', by CAS
// Suppose both take b without the owner's CAS: t < b, t' = b < b'. The thief's (D13) read an
// older bottom than (D5), so (D12) precedes (D6) in the single total order S (otherwise (D13)
// would see (D5)). The thief's (D11) read top == b from the CAS that moved it there, which
// happens before (D12) (release CAS, acquire load); the owner's (D7) read an older top, so (D6)
// precedes (D12) in S ([atomics.order]: a fence that happens before a read that is
// coherence-ordered before a write precedes a fence that the write happens before). Both cannot
// hold: contradiction. When t == b both sides go through a CAS on top and only one wins.
//
// Orderings: every atomic operation has one label, numbered in reading order; (S1)/(S2) are
// the slot words' relaxed store and load in ws_deque_ring.hpp.
//  (D1)  relaxed load of bottom (push): only the owner writes it.
//  (D2)  acquire load of top (push, when the ring may be full): synchronizes-with the seq_cst
//        CASes (D9, D15) that moved top past the slots about to be reused.
//  (D3)  release store of bottom (push): read by the thieves' acquire load (D13), which then
//        see the slot (S1) and the box written before it.
//  (D4)  relaxed load of bottom (pop): the owner's own variable.
//  (D5)  release store of bottom (pop reserves b): the store side of the fence pair (D6/D12);
//        release as (D3), for thieves that read it (D13).
//  (D6)  seq_cst fence (pop): pairs with the thieves' fence (D12).
//  (D7)  relaxed load of top (pop): ordered after (D5) by (D6).
//  (D8)  release store of bottom (pop found it empty): as (D5).
//  (D9)  seq_cst CAS of top (pop of the last element): in S with (D6, D12, D15); read by the
//        acquire loads (D2, D11).
//  (D10) release store of bottom (after the CAS (D9)): as (D5).
//  (D11) acquire load of top (steal): synchronizes-with the CASes (D9, D15) that wrote it.
//  (D12) seq_cst fence (steal): pairs with the owner's fence (D6).
//  (D13) acquire load of bottom (steal): synchronizes-with the release stores (D3, D5, D8, D10).
//  (D14) acquire load of the ring (steal): synchronizes-with the release store (D16).
//  (D15) seq_cst CAS of top (steal): wins position t; in S with (D6, D9, D12); read by (D2, D11).
//  (D16) release store of the ring (grow): read by the thieves' acquire load (D14).
//  (D17) relaxed store of the ring (constructor): whatever shares the deque orders it.
//  (D18) relaxed load of top (size_approx): an estimate.
//  (D19) relaxed load of bottom (size_approx): an estimate.
//  (D20) relaxed load of top (destructor): every operation happens-before it (caller).
//  (D21) relaxed load of bottom (destructor): as (D20).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/sync/ws_deque.hpp"

namespace ferrite::sync {

template <class T>
template <class... Args>
  requires std::is_constructible_v<T, Args...>
void ws_deque<T>::emplace(Args&&... args) {
  owner_side& o = *owner_;
  // ORDERING: (D1) relaxed: only this thread, the owner, writes bottom.
  const std::int64_t b = o.bottom.load(std::memory_order_relaxed);
  ring* r = o.cached_array;
  if (b - o.cached_top > r->mask) [[unlikely]] {
    // ORDERING: (D2) acquire; pairs with the seq_cst CASes (D9)/(D15) that moved top past the
    // positions whose slots we are about to reuse: the winners' reads of those slots happen
    // before our overwrite, so no winner can read it. A stale cached_top is only smaller, so
    // the check above is conservative, and slots are reused only below a top acquired here.
    o.cached_top = top_->load(std::memory_order_acquire);
    if (b - o.cached_top > r->mask) r = grow(r, o.cached_top, b);
  }
  const stored s = make_stored(std::forward<Args>(args)...);  // a throw leaves no trace
  // ORDERING: (S1) relaxed slot store (ws_deque_ring), published by the release store (D3).
  r->at(b).store(s);
  // ORDERING: (D3) release (the paper's release fence + relaxed store, folded); pairs with
  // the acquire load (D13) of thieves: the slot words (S1), and the box's contents, written
  // above (and by every earlier push) happen before a thief that sees b + 1 reads them.
  o.bottom.store(b + 1, std::memory_order_release);
}

// Always inlined, like steal(): returned from an out-of-line call, the std::optional is
// assembled in memory and reloaded whole right after the fence (a store-forwarding stall).
template <class T>
FERRITE_ALWAYS_INLINE std::optional<T> ws_deque<T>::pop() noexcept {
  owner_side& o = *owner_;
  // ORDERING: (D4) relaxed: the owner's own variable.
  const std::int64_t b = o.bottom.load(std::memory_order_relaxed) - 1;
  ring* const r = o.cached_array;
  // ORDERING: (D5) release: reserves position b before top is read (the store half of the
  // pair (D6)/(D12)); release as (D3), so a thief that reads this value still gets the pushes.
  o.bottom.store(b, std::memory_order_release);
  // ORDERING: (D6) seq_cst fence; pairs with the thieves' seq_cst fence (D12) in steal(): see
  // the argument at the top of this file.
  fence(std::memory_order_seq_cst);
  // ORDERING: (D7) relaxed; ordered after (D5) by (D6).
  std::int64_t t = top_->load(std::memory_order_relaxed);
  if (t > b) {
    // Empty. ORDERING: (D8) release, as (D5): gives the reservation back.
    o.bottom.store(b + 1, std::memory_order_release);
    return std::nullopt;
  }
  const stored s = r->at(b).load();  // (S2) our own write: thieves never write slots
  if (t == b) {
    // The last element: thieves may be after it too; the CAS on top decides.
    // ORDERING: (D9) seq_cst CAS (the paper's), in S with the fences (D6)/(D12) and (D15);
    // failure relaxed: the element is a thief's, nothing is read through the value.
    const bool won = top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                                   std::memory_order_relaxed);
    // ORDERING: (D10) release, as (D5): bottom = top again (the deque is empty either way).
    o.bottom.store(b + 1, std::memory_order_release);
    if (!won) return std::nullopt;
  }
  return unbox(s);
}

template <class T>
FERRITE_ALWAYS_INLINE steal_result<T> ws_deque<T>::steal() noexcept {
  // ORDERING: (D11) acquire; pairs with the seq_cst CAS (D9)/(D15) that wrote this top: that
  // CAS then happens before (D12), which the argument at the top of this file relies on.
  std::int64_t t = top_->load(std::memory_order_acquire);
  // ORDERING: (D12) seq_cst fence; pairs with the owner's seq_cst fence (D6) in pop().
  fence(std::memory_order_seq_cst);
  // ORDERING: (D13) acquire; pairs with the release stores of bottom (D3)/(D5)/(D8)/(D10): the
  // slot of every position below the value read was written (S1) before it.
  const std::int64_t b = owner_->bottom.load(std::memory_order_acquire);
  if (t >= b) return steal_result<T>(steal_status::empty);
  // ORDERING: (D14) acquire (the paper's consume); pairs with the release store (D16) of
  // grow(): a new ring's copied slots are visible. An older ring is fine too: it is never
  // freed, and it holds position t's value for as long as t can still be won.
  ring* const r = owner_->array.load(std::memory_order_acquire);
  const stored s = r->at(t).load();  // (S2), possibly torn: kept only if the CAS wins
  // ORDERING: (D15) seq_cst CAS (the paper's): wins position t against other thieves and the
  // owner's (D9); its release half is what (D2) and other thieves' (D11) acquire. Failure
  // relaxed: we lost, and discard `s` without reading through it.
  if (!top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                     std::memory_order_relaxed)) {
    return steal_result<T>(steal_status::retry);
  }
  return steal_result<T>(unbox(s));
}

template <class T>
auto ws_deque<T>::grow(ring* old, std::int64_t t, std::int64_t b) -> ring* {
  const auto count = static_cast<size_type>(old->mask + 1);
  if (count >= ring::max_slots)
    throw std::length_error("ferrite::sync::ws_deque: too many elements");
  ring* const bigger = ring::create(count * 2);
  // The live positions [t, b): the owner wrote them, thieves only read, so our relaxed loads
  // see our own stores. Positions below a top that moves meanwhile are copied needlessly.
  for (std::int64_t i = t; i < b; ++i) bigger->at(i).store(old->at(i).load());
  bigger->older.reset(old);
  owner_->cached_array = bigger;
  // ORDERING: (D16) release; pairs with the acquire load (D14) of thieves: the slots copied
  // above are visible to a thief that loads the new ring.
  owner_->array.store(bigger, std::memory_order_release);
  return bigger;
}

template <class T>
template <class... Args>
auto ws_deque<T>::make_stored(Args&&... args) -> stored {
  if constexpr (boxed) {
    return new T(std::forward<Args>(args)...);
  } else {
    return T(std::forward<Args>(args)...);
  }
}

template <class T>
T ws_deque<T>::unbox(stored s) noexcept {
  if constexpr (boxed) {
    // SAFETY: `s` is a box made by make_stored() whose position this thread just won (pop's
    // or steal's CAS, or pop below a top it read after (D6)): nobody else will touch it.
    T value(std::move(*s));
    delete s;
    return value;
  } else {
    return s;
  }
}

template <class T>
ws_deque<T>::ws_deque(size_type capacity) {
  ring* const first = ring::create(ring::round(capacity));
  owner_->cached_array = first;
  // ORDERING: (D17) relaxed: whatever hands the deque to other threads orders this store.
  owner_->array.store(first, std::memory_order_relaxed);
}

template <class T>
auto ws_deque<T>::size_approx() const noexcept -> size_type {
  // ORDERING: (D18) relaxed: an estimate; nothing is read through it.
  const std::int64_t t = top_->load(std::memory_order_relaxed);
  // ORDERING: (D19) relaxed, as (D18).
  const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
  return b > t ? static_cast<size_type>(b - t) : 0;
}

template <class T>
ws_deque<T>::~ws_deque() {
  ring* const r = owner_->cached_array;
  if constexpr (boxed) {
    // ORDERING: (D20) relaxed: the precondition orders every operation before us.
    const std::int64_t t = top_->load(std::memory_order_relaxed);
    // ORDERING: (D21) relaxed, as (D20).
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    // SAFETY: positions [t, b) hold boxes pushed and never won by pop or steal; the current
    // ring holds all of them (growth copies the live positions).
    for (std::int64_t i = t; i < b; ++i) delete r->at(i).load();
  }
  delete r;  // and, through `older`, every outgrown ring
}

}  // namespace ferrite::sync
