// SPDX-License-Identifier: Apache-2.0
// intrusive_mpsc_queue<Node, &Node::next>: an unbounded multi-producer single-consumer FIFO of
// caller-owned nodes, after Dmitry Vyukov's intrusive MPSC node-based queue: producers append
// with one exchange on the back pointer and one store linking the previous node; the single
// consumer walks the links and does a read-modify-write only when it takes the last node.
// Pushing never allocates, which is what an executor's run queue wants for its tasks. Also
// home of mpsc_pop_result, shared with mpsc_queue<T>.
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
    // ORDERING: (P0) relaxed: published by the release half of (P1).
    (n->*Next).store(nullptr, std::memory_order_relaxed);
    // ORDERING: (P1) acq_rel exchange. Release publishes (P0) and the caller's writes to n
    // to the next producer (which stores into n's link at (P2)). Acquire makes our (P2)
    // come after the previous producer's (P0), and our (P3) after the consumer's detach
    // (C3), whose null we read.
    Node* const prev = tail_->exchange(n, std::memory_order_acq_rel);
    if (prev == nullptr) {
      // ORDERING: (P3) release-store; pairs with the acquire-load (C1) in try_pop_state.
      head_->store(n, std::memory_order_release);
    } else {
      // ORDERING: (P2) release-store; pairs with the acquire-loads (C2) in try_pop_state.
      (prev->*Next).store(n, std::memory_order_release);
    }
  }

  /// Consumer: the front node (removed from the queue, now the caller's), or nullptr with
  /// the reason in `state` (empty or inconsistent).
  /// Complexity: O(1). Progress: wait-free.
  Node* try_pop_state(mpsc_pop_result& state) noexcept {
    // ORDERING: (C1) acquire-load; pairs with (P3), for a node published as the new head.
    // The consumer's own stores of head_ below are relaxed: it reads them back itself.
    Node* const first = head_->load(std::memory_order_acquire);
    if (first == nullptr) {
      // ORDERING: relaxed: only tells empty from a push in flight; no data is read through it.
      state = tail_->load(std::memory_order_relaxed) == nullptr ? mpsc_pop_result::empty
                                                                : mpsc_pop_result::inconsistent;
      return nullptr;
    }
    // ORDERING: (C2) acquire-load; pairs with (P2), so the next node's contents are visible.
    Node* next = (first->*Next).load(std::memory_order_acquire);
    if (next == nullptr) {
      // `first` looks like the last node: detach it by swinging tail_ back to null. Clear
      // head_ first: after a successful CAS, the next producer will store head_ (P3).
      head_->store(nullptr, std::memory_order_relaxed);
      Node* expected = first;
      // ORDERING: (C3) acq_rel CAS. Release orders the head_ store above before the next
      // producer's (P3) (it acquires our null at (P1)); acquire is not needed for data.
      if (tail_->compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        state = mpsc_pop_result::item;
        return first;
      }
      // A producer exchanged after `first` and is about to link it (P2).
      // ORDERING: (C2) again.
      next = (first->*Next).load(std::memory_order_acquire);
      if (next == nullptr) {
        head_->store(first, std::memory_order_relaxed);  // no producer stores head_ now:
        state = mpsc_pop_result::inconsistent;           // tail_ is not null
        return nullptr;
      }
    }
    // SAFETY (of handing `first` out): its successor is linked, so the one producer that
    // had `first` as prev is done with it; no other thread references it.
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
    // ORDERING: relaxed: an estimate.
    return tail_->load(std::memory_order_relaxed) == nullptr;
  }

 private:
  // Consumer's line (producers store it only when they find the queue empty).
  cache_padded<atomic<Node*>> head_{nullptr};
  // Producers' line.
  cache_padded<atomic<Node*>> tail_{nullptr};
};

}  // namespace ferrite::sync
