// SPDX-License-Identifier: Apache-2.0
// The bodies behind ws_deque.hpp: the owner's push (with growth) and pop, and steal, in the
// order of operations of Lê et al.'s C11 code (see ws_deque's class comment for the table of
// numbered orderings). Included at the bottom of ws_deque.hpp; not a public header.
//
// Why the owner and a thief never both take position b (the two seq_cst fences):
//   owner pop:  (D5) bottom = b        (F1)   (D6) t = top            takes b without a CAS if t <
//   b thief:      (D7) t' = top (acq)    (F2)   (D8) b' = bottom (acq)  takes t' if t' < b', by CAS
// Suppose both take b without the owner's CAS: t < b, t' = b < b'. The thief's (D8) read an
// older bottom than (D5), so (F2) precedes (F1) in the single total order S (otherwise (D8)
// would see (D5)). The thief's (D7) read top == b from the CAS that moved it there, which
// happens before (F2) (release CAS, acquire load); the owner's (D6) read an older top, so (F1)
// precedes (F2) in S ([atomics.order]: a fence that happens before a read that is
// coherence-ordered before a write precedes a fence that the write happens before). Both cannot
// hold: contradiction. When t == b both sides go through a CAS on top and only one wins.
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
ws_deque<T>::~ws_deque() {
  ring* const r = owner_->cached_array;
  if constexpr (boxed) {
    // ORDERING: relaxed, both: the precondition orders every operation before us.
    const std::int64_t t = top_->load(std::memory_order_relaxed);
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    // SAFETY: positions [t, b) hold boxes pushed and never won by pop or steal; the current
    // ring holds all of them (growth copies the live positions).
    for (std::int64_t i = t; i < b; ++i) delete r->at(i).load();
  }
  delete r;  // and, through `older`, every outgrown ring
}

template <class T>
template <class... Args>
  requires std::is_constructible_v<T, Args...>
void ws_deque<T>::emplace(Args&&... args) {
  owner_side& o = *owner_;
  // ORDERING: (D1) relaxed: only this thread, the owner, writes bottom.
  const std::int64_t b = o.bottom.load(std::memory_order_relaxed);
  ring* r = o.cached_array;
  if (b - o.cached_top > r->mask) [[unlikely]] {
    // ORDERING: (D2) acquire; pairs with the seq_cst CASes (D12)/(D13) that moved top past the
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
  // the acquire load (D8) of thieves: the slot words (S1), and the box's contents, written
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
  // pair (F1)/(F2)); release as (D3), so a thief that reads this value still gets the pushes.
  o.bottom.store(b, std::memory_order_release);
  // ORDERING: (F1) seq_cst fence; pairs with the thieves' seq_cst fence (F2) in steal(): see
  // the argument at the top of this file.
  fence(std::memory_order_seq_cst);
  // ORDERING: (D6) relaxed; ordered after (D5) by (F1).
  std::int64_t t = top_->load(std::memory_order_relaxed);
  if (t > b) {
    // Empty. ORDERING: (D10) release, as (D5): gives the reservation back.
    o.bottom.store(b + 1, std::memory_order_release);
    return std::nullopt;
  }
  const stored s = r->at(b).load();  // (S2) our own write: thieves never write slots
  if (t == b) {
    // The last element: thieves may be after it too; the CAS on top decides.
    // ORDERING: (D12) seq_cst CAS (the paper's), in S with the fences (F1)/(F2) and (D13);
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
  // ORDERING: (D7) acquire; pairs with the seq_cst CAS (D12)/(D13) that wrote this top: that
  // CAS then happens before (F2), which the argument at the top of this file relies on.
  std::int64_t t = top_->load(std::memory_order_acquire);
  // ORDERING: (F2) seq_cst fence; pairs with the owner's seq_cst fence (F1) in pop().
  fence(std::memory_order_seq_cst);
  // ORDERING: (D8) acquire; pairs with the release stores of bottom (D3)/(D5)/(D10): the slot
  // of every position below the value read was written (S1) before it.
  const std::int64_t b = owner_->bottom.load(std::memory_order_acquire);
  if (t >= b) return steal_result<T>(steal_status::empty);
  // ORDERING: (D9) acquire (the paper's consume); pairs with the release store (D11) of
  // grow(): a new ring's copied slots are visible. An older ring is fine too: it is never
  // freed, and it holds position t's value for as long as t can still be won.
  ring* const r = owner_->array.load(std::memory_order_acquire);
  const stored s = r->at(t).load();  // (S2), possibly torn: kept only if the CAS wins
  // ORDERING: (D13) seq_cst CAS (the paper's): wins position t against other thieves and the
  // owner's (D12); its release half is what (D2) and other thieves' (D7) acquire. Failure
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
  // ORDERING: (D11) release; pairs with the acquire load (D9) of thieves: the slots copied
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
    // or steal's CAS, or pop below a top it read after (F1)): nobody else will touch it.
    T value(std::move(*s));
    delete s;
    return value;
  } else {
    return s;
  }
}

}  // namespace ferrite::sync
