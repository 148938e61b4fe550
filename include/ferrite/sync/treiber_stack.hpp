// SPDX-License-Identifier: Apache-2.0
// treiber_stack<T, Reclaim>: the lock-free LIFO stack of R. Kent Treiber, "Systems
// Programming: Coping with Parallelism" (IBM RJ 5118, 1986): one atomic head, push and pop by
// CAS. Popped nodes are handed to a safe-memory-reclamation policy (hazard pointers or epochs)
// instead of being freed, which is what makes the pop's CAS immune to ABA: a node another
// thread still looks at is never freed, so its address cannot come back as a new node.
//
// ```cpp
// ferrite::sync::treiber_stack<int> s;               // hazard pointers by default
// s.push(1);
// s.push(2);
// std::optional<int> top = s.try_pop();             // 2
// int next = 0;
// if (s.try_pop(next)) use(next);                    // 1; false when empty
// ```
//
// When not to use it: one hot head word means every push and pop of every thread contends on
// one cache line; for producer/consumer traffic a queue (mpmc_queue) scales better, and for
// per-thread pools of objects a thread-local free list avoids the sharing altogether.
//
// Orderings: every atomic operation has one label, numbered in reading order (with
// hazard_reclaim the pop's load is protect()'s, (P1)-(P3) in hazard_pointer.hpp).
//  (T1) acquire load of the head (epoch_reclaim's protect): synchronizes-with the release CAS
//       (T4) of the push that published the node, through the release sequence of the CASes
//       (T4, T6) on the head.
//  (T2) relaxed load of the head (destructor): every operation happens-before it (caller).
//  (T3) relaxed load of the head (push): only the CAS's first guess, validated by (T4).
//  (T4) release CAS of the head (push): read by the poppers' acquire loads (T1 or P1/P3).
//  (T5) relaxed load of the head (empty): a snapshot, nothing is read through it.
//  (T6) relaxed CAS of the head (pop): decides the winner; the node was acquired by (T1).
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/detail/node_cache.hpp"
#include "ferrite/sync/detail/unbounded_push.hpp"
#include "ferrite/sync/epoch.hpp"
#include "ferrite/sync/hazard_pointer.hpp"

namespace ferrite::sync {

/// Reclamation through hazard pointers of the default domain. A reader holds one hazard
/// pointer; garbage is bounded (max(512, 2H) per thread) even if a reader stalls.
struct hazard_reclaim {
  /// What a node must derive from: the hazard-protectable base.
  template <class Node>
  using node_base = hazard_pointer_obj_base<Node>;

  /// One read-side section (a hazard pointer, taken from the thread's cache).
  class reader {
   public:
    reader() : hp_(make_hazard_pointer()) {}
    /// Loads `src` and keeps the result from being reclaimed while this reader protects it.
    template <class Node>
    Node* protect(const atomic<Node*>& src) noexcept {
      return hp_.protect(src);
    }
    /// Hands an unlinked node to the reclaimer.
    template <class Node>
    void retire(Node* node) noexcept {
      node->retire();
    }

   private:
    hazard_pointer hp_;
  };
};

/// Reclamation through epochs of the default collector. A reader is a pin; cheaper per
/// operation than a hazard pointer, but a stalled reader stops all reclamation.
struct epoch_reclaim {
  /// Nodes need no base class under epochs: an empty one, constructible by Node only.
  template <class Node>
  class node_base {
    friend Node;
    node_base() noexcept = default;
  };

  /// One read-side section (a pin of the calling thread).
  class reader {
   public:
    reader() : guard_(epoch::pin()) {}
    template <class Node>
    Node* protect(const atomic<Node*>& src) noexcept {
      // ORDERING: (T1) acquire; pairs with the release CAS (T4) of the push that published the
      // node (or any store that did), so its fields are visible. The pin keeps it alive.
      return src.load(std::memory_order_acquire);
    }
    /// Defers `delete node`. The callable is stored inline; only a new 2 KiB bag can fail to
    /// allocate, and that terminates (the node is already unlinked, like a noexcept retire).
    template <class Node>
    void retire(Node* node) noexcept {
      guard_.defer_delete(node);
    }

   private:
    epoch::guard guard_;
  };
};

namespace detail {
/// A node shape used only to check the reclaim concept.
template <class R>
struct reclaim_probe : R::template node_base<reclaim_probe<R>> {};
}  // namespace detail

/// A reclamation policy for node-based lock-free structures: a `node_base<Node>` to derive
/// nodes from, and a default-constructible `reader` that protects a loaded pointer for its
/// lifetime and retires unlinked nodes (which are then deleted with `delete` once safe).
template <class R>
concept reclaimer = std::default_initializable<typename R::reader> &&
                    requires(typename R::reader& r, const atomic<detail::reclaim_probe<R>*>& src,
                             detail::reclaim_probe<R>* node) {
                      { r.protect(src) } noexcept -> std::same_as<detail::reclaim_probe<R>*>;
                      r.retire(node);
                    };

/// A lock-free, unbounded LIFO stack of T.
///
/// Nodes: one heap node per element (`new` in push, `delete` by the reclaimer once no reader
/// protects it), allocated through a bounded per-thread cache of reclaimed nodes
/// (detail::node_cache: up to 64 KiB per thread and element type; off under sanitizers). The head
/// is alone on its cache line. All modifications of the head are CASes, so every acquire load of it
/// synchronizes with the push that published the node it reads.
///
/// Progress: push, emplace, their try_ forms and both try_pop are lock-free (a CAS fails only
/// when another thread's succeeded); with hazard_reclaim, try_pop's scans are bounded; with
/// epoch_reclaim, try_pop's periodic collection is lock-free. empty() is wait-free. Allocation
/// (push) may block in the allocator.
///
/// \warning There is no size() (a concurrent count is a stale snapshot at best), and the
/// destructor must not race with any other operation.
template <class T, reclaimer Reclaim = hazard_reclaim>
class treiber_stack : public detail::unbounded_try_push<treiber_stack<T, Reclaim>, T> {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "treiber_stack<T>: try_pop moves the value out of an already unlinked node, "
                "where a throwing move would lose it");

 public:
  using value_type = T;
  using reclaim_type = Reclaim;

  treiber_stack() noexcept = default;
  treiber_stack(const treiber_stack&) = delete;
  treiber_stack& operator=(const treiber_stack&) = delete;
  // Not movable: threads operate through its address, and the head is an atomic.
  treiber_stack(treiber_stack&&) = delete;
  treiber_stack& operator=(treiber_stack&&) = delete;

  /// Deletes the remaining nodes (and their values). Popped nodes belong to the reclaimer.
  /// Preconditions: no other thread uses the stack. O(size).
  ~treiber_stack() {
    // ORDERING: (T2) relaxed; the caller guarantees every push (T4) happens-before this.
    node* n = head_->load(std::memory_order_relaxed);
    while (n != nullptr) {
      node* const next = n->next;
      delete n;
      n = next;
    }
  }

  /// Pushes a copy/move of `value`. Throws what T's constructor or `new` throws (then the
  /// stack is unchanged). Complexity: O(1) per attempt. Progress: lock-free.
  void push(const T& value) { emplace(value); }
  void push(T&& value) { emplace(std::move(value)); }

  // try_push / try_emplace (the family's try_ shape; always true: the stack is unbounded, a
  // failed allocation or a throwing constructor propagates instead) come from
  // unbounded_try_push.

  /// Pushes a T constructed from `args`. As push().
  template <class... Args>
  void emplace(Args&&... args) {
    node* const n = new node(std::forward<Args>(args)...);
    // ORDERING: (T3) relaxed; only a guess for the CAS (T4), which validates it.
    n->next = head_->load(std::memory_order_relaxed);
    backoff b;
    // ORDERING: (T4) release CAS; pairs with the acquire loads (T1, P1/P3) of poppers: they
    // see the node's value and next. Failure relaxed: the fresh head is only a new guess.
    while (!head_->compare_exchange_weak(n->next, n, std::memory_order_release,
                                         std::memory_order_relaxed)) {
      b.spin();
    }
  }

  /// Pops the most recently pushed element, or returns nullopt when the stack is empty.
  /// ABA-safe: the node is protected from reclamation between the load of the head and the
  /// CAS, so the head cannot be freed and reallocated at the same address meanwhile.
  /// Complexity: O(1) per attempt, amortized O(1) reclamation. Progress: lock-free.
  /// Throws std::bad_alloc only when the reader cannot be set up (a thread's first hazard
  /// pointer or first pin allocates).
  [[nodiscard]] std::optional<T> try_pop() {
    return pop_with<std::optional<T>>(
        [](T&& value) noexcept { return std::optional<T>(std::move(value)); });
  }

  /// As try_pop(), moving the element into `out` and returning true, or returning false (and
  /// leaving `out` untouched) when the stack is empty.
  bool try_pop(T& out)
    requires std::is_nothrow_move_assignable_v<T>
  {
    return pop_with<bool>([&](T&& value) noexcept {
      out = std::move(value);
      return true;
    });
  }

  /// True when the stack was empty at the moment of the load. Progress: wait-free.
  [[nodiscard]] bool empty() const noexcept {
    // ORDERING: (T5) relaxed; a snapshot of (T4)/(T6), nothing is read through it.
    return head_->load(std::memory_order_relaxed) == nullptr;
  }

 private:
  /// Unlinks the top node and returns what `take` makes of its value (an rvalue, moved from by
  /// `take`), or R{} when the stack is empty. Both try_pop overloads.
  template <class R, class Take>
  R pop_with(Take take) {
    typename Reclaim::reader r;
    backoff b;
    for (;;) {
      // The acquire load is the reader's: (T1), or protect()'s (P1)/(P3) for hazard_reclaim.
      node* const n = r.protect(*head_);
      if (n == nullptr) return R{};
      // SAFETY: `n` is protected by `r`, so it is not reclaimed even if another thread pops
      // it now; next is immutable after the push (T4) that published it.
      node* const next = n->next;
      node* expected = n;
      // ORDERING: (T6) relaxed CAS; atomicity decides the winner, and the value was already
      // acquired by (T1) from the release sequence of pushes (T4) and pops (T6) on the head.
      if (head_->compare_exchange_weak(expected, next, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
        // SAFETY: winning the CAS made this thread the node's only owner of value; other
        // poppers that still protect it only read next.
        R out(n->value.with_mut([&](T* v) { return take(std::move(*v)); }));
        r.retire(n);
        return out;
      }
      b.spin();
    }
  }

  struct node final : Reclaim::template node_base<node> {
    template <class... Args>
    explicit node(Args&&... args) : value(std::in_place, std::forward<Args>(args)...) {}
    // Node memory comes from, and returns to, a per-thread cache (the reclaimer's `delete`
    // lands here too), so steady push/pop traffic does not reach malloc.
    // `final`: every `new node` asks for exactly sizeof(node), the cache's block size.
    // SAFETY: the cache hands out blocks of sizeof(node) aligned for node (node_cache<node>).
    static void* operator new(std::size_t /*size*/) { return detail::node_cache<node>::allocate(); }
    static void operator delete(void* p) noexcept { detail::node_cache<node>::deallocate(p); }
    // Written by the popper that wins the CAS on this node, read by nobody else.
    cell<T> value;
    // Written before the node is published (T4), immutable afterwards.
    node* next = nullptr;
  };

  cache_padded<atomic<node*>> head_{nullptr};
};

}  // namespace ferrite::sync
