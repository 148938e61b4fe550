// SPDX-License-Identifier: Apache-2.0
// intrusive_mpsc_queue<Node, &Node::next>: an unbounded multi-producer single-consumer FIFO of
// caller-owned nodes, after Dmitry Vyukov's intrusive MPSC node-based queue: producers append
// with one exchange on the back pointer and one store linking the previous node; the single
// consumer walks the links and does a read-modify-write only when it takes the last node.
// Pushing never allocates, which is what an executor's run queue wants for its tasks. Also
// home of mpsc_pop_result, shared with mpsc_queue<T>.
//
// The orderings, by the labels of the ORDERING comments (one per atomic operation, in reading
// order):
//   (I1)  - relaxed store of the new node's link: published by the release half of (I2)
//   (I2)  - this acq_rel exchange of tail_ synchronizes-with the previous producer's (I2) (its
//           node's (I1) is visible to our (I4)) and with the consumer's release-CAS (I9) whose null
//           it read (the consumer's (I8) happens before our (I3))
//   (I3)  - this release-store of head_ synchronizes-with the acquire-load (I5)
//   (I4)  - this release-store of the previous node's link synchronizes-with the acquire-loads
//           (I7, I10)
//   (I5)  - this acquire-load of head_ synchronizes-with the release-store (I3)
//   (I6)  - relaxed load of tail_: only tells empty from a push in flight
//   (I7)  - this acquire-load of the front node's link synchronizes-with the release-store (I4)
//   (I8)  - relaxed store of head_ (cleared before detaching): published by the CAS (I9)
//   (I9)  - this acq_rel CAS of tail_ synchronizes-with the producers' acquire-exchange (I2)
//   (I10) - this acquire-load of the front node's link synchronizes-with the release-store (I4), as
//           (I7)
//   (I11) - relaxed store of head_ (restored): only the consumer reads it back, and no producer
//           stores head_ while tail_ is not null
//   (I12) - relaxed store of head_ (advanced): only the consumer reads it back
//   (I13) - relaxed load of tail_ in empty(): an estimate
#pragma once

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"

namespace ferrite::sync {

/// What the consumer of an MPSC queue found at the front.
enum class mpsc_pop_result : unsigned char {
  item,          ///< an element was popped
  empty,         ///< no element had been pushed that was not already popped
  inconsistent,  ///< an element is in flight but cannot be reached yet (a producer is
                 ///< between its claim and its publication); retry soon
};

/// An intrusive, unbounded MPSC FIFO of caller-owned nodes linked through the member
/// `Next` (a `ferrite::atomic<Node*>`): pushing never allocates, which is what an executor's
/// run queue wants for its tasks. The queue never constructs, copies or destroys a Node.
///
/// Unlike Vyukov's intrusive version it needs no stub Node (Node need not be
/// default-constructible): an empty queue has tail_ == nullptr, and the producer that finds
/// it empty (its exchange returns null) publishes its node as head_ instead of linking it.
/// The consumer detaches the last node with one CAS of tail_ back to null; that is the only
/// read-modify-write the consumer ever does, and only when it takes the last node.
///
/// The inconsistent state: a producer between its exchange and its link (or its store of
/// head_) leaves its node unreachable; try_pop returns nullptr (try_pop_state
/// says `inconsistent`), try_pop_settled spins over it.
///
/// Names as in mpsc_queue<T>, with a node pointer (nullptr: nothing popped) where mpsc_queue
/// has an element: push, try_pop, try_pop_state, try_pop_settled.
///
/// Progress guarantee: push is wait-free (one exchange, one store); try_pop is wait-free but
/// may report the inconsistent state; try_pop_settled is blocking over it (a preempted
/// producer delays it).
///
/// Preconditions: a node is in at most one queue at a time and stays alive (and unmoved)
/// from push until the consumer pops it; the consumer functions (try_pop, try_pop_state,
/// try_pop_settled) from one thread at a time.
///
/// Paper/source: D. Vyukov, "Intrusive MPSC node-based queue", 1024cores.net (2010), with
/// the stub replaced by a null tail as described above.
template <class Node, atomic<Node*> Node::* Next>
class intrusive_mpsc_queue {
 public:
  using value_type = Node;

  constexpr intrusive_mpsc_queue() noexcept = default;
  /// Preconditions: the queue is empty (the queue does not own its nodes).
  ~intrusive_mpsc_queue() { FERRITE_DEBUG_ASSERT(empty(), "intrusive_mpsc_queue not drained"); }

  // Non-movable: producers hold references to tail_.
  intrusive_mpsc_queue(const intrusive_mpsc_queue&) = delete;
  intrusive_mpsc_queue& operator=(const intrusive_mpsc_queue&) = delete;

  /// Producer (any thread): appends `n`.
  /// Preconditions: n is not in any queue. Complexity: O(1). Progress: wait-free.
  void push(Node* n) noexcept {
    // ORDERING: (I1) relaxed: published by the release half of (I2).
    (n->*Next).store(nullptr, std::memory_order_relaxed);
    // ORDERING: (I2) acq_rel exchange. Release publishes (I1) and the caller's writes to n
    // to the next producer (which stores into n's link at (I4)). Acquire makes our (I4)
    // come after the previous producer's (I1), and our (I3) after the consumer's detach
    // (I9), whose null we read.
    Node* const prev = tail_->exchange(n, std::memory_order_acq_rel);
    if (prev == nullptr) {
      // ORDERING: (I3) release-store; pairs with the acquire-load (I5) in try_pop_state.
      head_->store(n, std::memory_order_release);
    } else {
      // ORDERING: (I4) release-store; pairs with the acquire-loads (I7) and (I10) in
      // try_pop_state.
      (prev->*Next).store(n, std::memory_order_release);
    }
  }

  /// Consumer: the front node (removed from the queue, now the caller's), or nullptr with
  /// the reason in `state` (empty or inconsistent).
  /// Complexity: O(1). Progress: wait-free.
  Node* try_pop_state(mpsc_pop_result& state) noexcept {
    // ORDERING: (I5) acquire-load; pairs with (I3), for a node published as the new head.
    // The consumer's own stores of head_ below are relaxed: it reads them back itself.
    Node* const first = head_->load(std::memory_order_acquire);
    if (first == nullptr) {
      // ORDERING: (I6) relaxed: only tells empty from a push in flight; no data is read
      // through it.
      state = tail_->load(std::memory_order_relaxed) == nullptr ? mpsc_pop_result::empty
                                                                : mpsc_pop_result::inconsistent;
      return nullptr;
    }
    // ORDERING: (I7) acquire-load; pairs with (I4), so the next node's contents are visible.
    Node* next = (first->*Next).load(std::memory_order_acquire);
    if (next == nullptr) {
      // `first` looks like the last node: detach it by swinging tail_ back to null. Clear
      // head_ first: after a successful CAS, the next producer will store head_ (I3).
      // ORDERING: (I8) relaxed: published by the release half of (I9).
      head_->store(nullptr, std::memory_order_relaxed);
      Node* expected = first;
      // ORDERING: (I9) acq_rel CAS. Release orders the head_ store (I8) before the next
      // producer's (I3) (it acquires our null at (I2)); acquire is not needed for data.
      if (tail_->compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        state = mpsc_pop_result::item;
        return first;
      }
      // A producer exchanged after `first` and is about to link it (I4).
      // ORDERING: (I10) acquire-load; pairs with (I4), as (I7).
      next = (first->*Next).load(std::memory_order_acquire);
      if (next == nullptr) {
        // ORDERING: (I11) relaxed: no producer stores head_ now (tail_ is not null), and
        // only this thread reads it back.
        head_->store(first, std::memory_order_relaxed);
        state = mpsc_pop_result::inconsistent;
        return nullptr;
      }
    }
    // SAFETY (of handing `first` out): its successor is linked, so the one producer that
    // had `first` as prev is done with it; no other thread references it.
    // ORDERING: (I12) relaxed: only this thread reads head_ back while the queue is not empty.
    head_->store(next, std::memory_order_relaxed);
    state = mpsc_pop_result::item;
    return first;
  }

  /// Consumer: try_pop_state without the reason.
  [[nodiscard]] Node* try_pop() noexcept {
    mpsc_pop_result ignored{};
    return try_pop_state(ignored);
  }

  /// Consumer: like try_pop, but waits out the inconsistent state (spinning with backoff,
  /// then yielding); nullptr only when the queue was empty, never because a producer was
  /// slow to link its node.
  /// Progress: blocking while a producer is between its exchange and its link.
  [[nodiscard]] Node* try_pop_settled() noexcept {
    backoff b;
    for (;;) {
      mpsc_pop_result state{};
      Node* const n = try_pop_state(state);
      if (state != mpsc_pop_result::inconsistent) return n;
      b.snooze();
    }
  }

  /// Consumer: the old name of try_pop_settled(), kept so that existing code compiles.
  [[deprecated("use try_pop_settled()")]] Node* pop() noexcept { return try_pop_settled(); }

  /// Whether no pushed node is waiting, approximate while producers run.
  [[nodiscard]] bool empty() const noexcept {
    // ORDERING: (I13) relaxed: an estimate.
    return tail_->load(std::memory_order_relaxed) == nullptr;
  }

 private:
  // Consumer's line (producers store it only when they find the queue empty).
  cache_padded<atomic<Node*>> head_{nullptr};
  // Producers' line.
  cache_padded<atomic<Node*>> tail_{nullptr};
};

}  // namespace ferrite::sync
