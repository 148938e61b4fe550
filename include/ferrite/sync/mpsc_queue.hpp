// SPDX-License-Identifier: Apache-2.0
// Unbounded multi-producer single-consumer queues after Dmitry Vyukov's node-based MPSC
// queue: producers append with one exchange on the back pointer and one store linking the
// previous node; the single consumer walks the links without any read-modify-write. Two
// flavours: mpsc_queue<T> allocates a node per element (through an allocator), and
// intrusive_mpsc_queue<Node, &Node::next> links caller-owned nodes (an executor's tasks), so
// pushing never allocates.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"

namespace ferrite::sync {

namespace detail {

/// A node of mpsc_queue: the link and room for one T. The stub (the node the consumer's
/// head points at) holds no element; neither does a node on a free list.
template <class T>
struct mpsc_node {
  union storage {
    constexpr storage() noexcept {}
    constexpr ~storage() {}
    storage(const storage&) = delete;
    storage& operator=(const storage&) = delete;
    T value;
  };

  atomic<mpsc_node*> next{nullptr};
  cell<storage> slot;
};

/// A thread's private stack of free nodes of one node type and (stateless) allocator type,
/// shared by every mpsc_queue of that type the thread pushes into; the nodes go back to the
/// allocator when the thread exits.
template <class Node, class NodeAllocator>
class mpsc_node_cache {
 public:
  mpsc_node_cache() = default;
  mpsc_node_cache(const mpsc_node_cache&) = delete;
  mpsc_node_cache& operator=(const mpsc_node_cache&) = delete;
  ~mpsc_node_cache() {
    NodeAllocator alloc;
    while (head != nullptr) {
      Node* const n = head;
      // ORDERING: relaxed: private nodes (acquired by (R3) in mpsc_queue::new_node).
      head = n->next.load(std::memory_order_relaxed);
      std::allocator_traits<NodeAllocator>::destroy(alloc, n);
      std::allocator_traits<NodeAllocator>::deallocate(alloc, n, 1);
    }
  }

  static mpsc_node_cache& of_this_thread() noexcept {
    thread_local mpsc_node_cache cache;
    return cache;
  }

  Node* head = nullptr;
};

}  // namespace detail

/// Whether an mpsc_queue recycles its nodes (see mpsc_queue, "Node allocation").
enum class mpsc_recycling : bool { off, on };

/// The "transient" state of Vyukov's MPSC queue, as seen by the consumer.
enum class mpsc_pop_result : unsigned char {
  item,          ///< an element was popped
  empty,         ///< no element had been pushed that was not already popped
  inconsistent,  ///< a producer is between its exchange and its link: an element is in
                 ///< flight but cannot be reached yet; retry soon
};

/// An unbounded FIFO for any number of producer threads and one consumer thread.
///
/// ```
///  consumer: head --> [stub] --next--> [a] --next--> [b] <-- tail_ :producers
/// ```
/// `head` points at a stub node whose element was already consumed (or never existed); the
/// elements are in the nodes after it. push(x) gets a node, exchanges tail_ to point at it
/// and then links the previous tail to it; try_pop moves the element out of head->next,
/// which becomes the new stub, and retires the old one.
///
/// The inconsistent state: between a producer's exchange and its link store, the new node
/// is the tail but not reachable from head. try_pop then reports empty (try_pop_state()
/// reports `inconsistent`), although an element is in flight, and so is every element pushed
/// after it until the link lands. pop() rides that state out by spinning with backoff.
///
/// FIFO per producer; elements of different producers are ordered by their exchange.
///
/// Node allocation: nodes come from `Allocator` (rebound to the node type). By default each
/// push allocates a node and each pop frees one, the worst pattern for malloc (glibc spends
/// ~60% of a busy 2-producer run there). With `mpsc_recycling::on`, the consumer collects
/// retired nodes in private batches of `recycle_batch` and pushes each batch onto a shared
/// free stack with one CAS; a producer keeps a thread-local stack of free nodes (per node
/// type, shared by all queues of that type) and refills it by taking the whole shared stack
/// with one exchange: no allocator call and no extra shared RMW per element once warm.
/// Costs: idle nodes stay cached (the free stack until the queue dies, thread stacks until
/// their thread exits), at worst about (producers + 1) x the queue's high-water mark; it
/// needs a stateless allocator (can_recycle); no push from a thread_local destructor that
/// runs after the cache's. Model-checking builds ignore it (model threads share one OS
/// thread's thread_locals). Or use intrusive_mpsc_queue and own the nodes.
///
/// Progress guarantee: push is wait-free (one allocation or cache pop, one exchange, one
/// store; the allocator's own guarantee applies to an allocation). try_pop is wait-free
/// but may report empty in the inconsistent state; pop is blocking in that state (a
/// preempted producer delays it).
///
/// Thread roles are a precondition: try_pop, try_pop_state and pop from one thread at a time.
///
/// Paper/source: D. Vyukov, "Non-intrusive MPSC node-based queue", 1024cores.net (2010).
template <class T, class Allocator = std::allocator<T>>
class mpsc_queue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "mpsc_queue stores non-const, non-volatile object types");
  static_assert(std::is_nothrow_destructible_v<T>, "a throwing destructor could not be handled");

  using node = detail::mpsc_node<T>;
  using node_allocator = typename std::allocator_traits<Allocator>::template rebind_alloc<node>;
  using node_traits = std::allocator_traits<node_allocator>;
  using node_cache = detail::mpsc_node_cache<node, node_allocator>;

 public:
  using value_type = T;
  using allocator_type = Allocator;

  /// Retired nodes per batch the consumer hands back to producers (with recycling on).
  static constexpr unsigned recycle_batch = 32;
  /// Whether this allocator type allows mpsc_recycling::on.
  static constexpr bool can_recycle =
      node_traits::is_always_equal::value && std::is_default_constructible_v<node_allocator>;

  /// An empty queue (allocates the stub node). Throws what the allocator throws.
  /// Preconditions: `recycling` is off unless can_recycle (FERRITE_ASSERT).
  explicit mpsc_queue(mpsc_recycling recycling = mpsc_recycling::off,
                      const Allocator& alloc = Allocator())
      : alloc_(alloc), recycle_(!FERRITE_CHECK && recycling == mpsc_recycling::on) {
    FERRITE_ASSERT(!recycle_ || can_recycle, "mpsc_queue: recycling needs a stateless allocator");
    node* const stub = new_node();
    consumer_->head = stub;
    // ORDERING: relaxed: whoever hands the queue to other threads publishes it.
    tail_->store(stub, std::memory_order_relaxed);
  }

  /// Destroys the remaining elements and frees the nodes the queue holds (nodes cached by
  /// producer threads are freed when those threads exit).
  /// Preconditions: no thread is using the queue, and this thread happens-after every push
  /// (e.g. it joined the producers). Complexity: O(size()) plus the idle nodes.
  ~mpsc_queue() {
    node* n = consumer_->head;
    // ORDERING: relaxed, here and below: the precondition orders every store before us.
    node* next = n->next.load(std::memory_order_relaxed);
    delete_node(n);  // the stub holds no element
    while (next != nullptr) {
      n = next;
      next = n->next.load(std::memory_order_relaxed);
      // SAFETY: every node after the stub holds a constructed element.
      std::destroy_at(std::addressof(n->slot.get_mut().value));
      delete_node(n);
    }
    delete_chain(consumer_->batch_head);
    delete_chain(free_->load(std::memory_order_relaxed));
  }

  // Non-movable: producers hold references to tail_, and the stub lives at head.
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  /// Producer (any thread): constructs a T from `args` in a new node and appends it.
  /// Throws what the allocator or T's constructor throws; the queue is then unchanged.
  /// Complexity: O(1). Progress: wait-free after getting the node.
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  void emplace(Args&&... args) {
    node* const n = new_node();
    try {
      n->slot.with_mut([&](typename node::storage* s) {
        // SAFETY: n is fresh (or recycled: its element was destroyed) and private to this
        // thread until link() publishes it.
        std::construct_at(std::addressof(s->value), std::forward<Args>(args)...);
      });
    } catch (...) {
      delete_node(n);
      throw;
    }
    link(n);
  }

  /// emplace(value).
  void push(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    emplace(value);
  }

  /// emplace(std::move(value)).
  void push(T&& value)
    requires std::is_move_constructible_v<T>
  {
    emplace(std::move(value));
  }

  /// Consumer: moves the front element into `out` and reports `item`, or reports `empty`
  /// or `inconsistent` (see the class comment) and leaves `out` alone. If T's move
  /// assignment throws, the element stays at the front.
  /// Complexity: O(1). Progress: wait-free (plus the allocator's deallocation).
  mpsc_pop_result try_pop_state(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    node* const stub = consumer_->head;
    // ORDERING: (3) acquire-load; pairs with the release link store (2) in link(), so the
    // element constructed in `next` before (2) is visible to us.
    node* const next = stub->next.load(std::memory_order_acquire);
    if (next == nullptr) {
      // ORDERING: (4) relaxed: only tells "nothing pushed" (tail_ is the stub) from "a push
      // in flight"; no data is read through it.
      return tail_->load(std::memory_order_relaxed) == stub ? mpsc_pop_result::empty
                                                            : mpsc_pop_result::inconsistent;
    }
    next->slot.with_mut([&](typename node::storage* s) {
      // SAFETY: next is after the stub, so it holds an element (made visible by (3)); only
      // the consumer touches a linked node's element. It becomes the stub: destroyed here.
      out = std::move(s->value);
      std::destroy_at(std::addressof(s->value));
    });
    consumer_->head = next;
    // SAFETY: the old stub is unreachable: head moved past it, and its only producer-side
    // reference (the producer that linked `next` into it) finished with it at (2).
    retire_node(stub);
    return mpsc_pop_result::item;
  }

  /// Consumer: try_pop_state(out) == item. Returns false in the inconsistent state too.
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    return try_pop_state(out) == mpsc_pop_result::item;
  }

  /// Consumer: like try_pop, but waits out the inconsistent state (spinning with backoff,
  /// then yielding): returns false only when the queue was empty.
  /// Progress: blocking while a producer is between its exchange and its link.
  bool pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    backoff b;
    for (;;) {
      const mpsc_pop_result r = try_pop_state(out);
      if (r != mpsc_pop_result::inconsistent) return r == mpsc_pop_result::item;
      b.snooze();
    }
  }

  /// Whether no element was pushed that was not popped, as far as the consumer can tell;
  /// approximate from any other thread.
  [[nodiscard]] bool empty() const noexcept {
    // ORDERING: relaxed, as (4).
    return tail_->load(std::memory_order_relaxed) == consumer_->head;
  }

  [[nodiscard]] allocator_type get_allocator() const { return allocator_type(alloc_); }

 private:
  /// The consumer's line: the stub, and the batch of retired nodes being collected.
  struct consumer_side {
    node* head = nullptr;
    node* batch_head = nullptr;
    node* batch_tail = nullptr;
    unsigned batch_size = 0;
  };

  /// A node for a push: from this thread's cache, refilled from the free stack, or new.
  node* new_node() {
    if constexpr (can_recycle) {
      if (recycle_) {
        node_cache& cache = node_cache::of_this_thread();
        // ORDERING: (R2) relaxed peek first: the exchange below is an RMW on a shared
        // line, not worth doing when there is nothing to take.
        if (cache.head == nullptr && free_->load(std::memory_order_relaxed) != nullptr) {
          // ORDERING: (R3) acquire exchange; pairs with the release CAS (R1) in
          // flush_batch(): the consumer's last accesses to these nodes (moving elements
          // out, writing the links we follow) happen before our reuse.
          cache.head = free_->exchange(nullptr, std::memory_order_acquire);
        }
        if (node* const n = cache.head; n != nullptr) {
          // ORDERING: relaxed: a private node now (R3); the reset link is published by
          // the release half of (1).
          cache.head = n->next.load(std::memory_order_relaxed);
          n->next.store(nullptr, std::memory_order_relaxed);
          return n;
        }
      }
    }
    node* const n = node_traits::allocate(alloc_, 1);
    // SAFETY: fresh storage for one node; constructing an atomic and an empty cell cannot throw.
    node_traits::construct(alloc_, n);
    return n;
  }

  /// Consumer: a node it is done with (its element destroyed, unreachable).
  void retire_node(node* n) noexcept {
    if (!recycle_) {
      delete_node(n);
      return;
    }
    consumer_side& c = consumer_.value;
    // ORDERING: relaxed: the batch is private until flush_batch() releases it.
    n->next.store(c.batch_head, std::memory_order_relaxed);
    c.batch_head = n;
    if (c.batch_tail == nullptr) c.batch_tail = n;
    if (++c.batch_size == recycle_batch) flush_batch();
  }

  /// Consumer: pushes the collected batch onto the free stack with one CAS. ABA cannot
  /// happen: only this thread pushes, and producers only take the whole stack, so between
  /// our load and CAS `free_` can only go to null, which fails the CAS.
  void flush_batch() noexcept {
    consumer_side& c = consumer_.value;
    // ORDERING: relaxed: a guess for the CAS below.
    node* top = free_->load(std::memory_order_relaxed);
    do {
      // ORDERING: relaxed: published by the release CAS.
      c.batch_tail->next.store(top, std::memory_order_relaxed);
      // ORDERING: (R1) release CAS; pairs with the acquire exchange (R3) in new_node().
    } while (!free_->compare_exchange_weak(top, c.batch_head, std::memory_order_release,
                                           std::memory_order_relaxed));
    c = consumer_side{c.head, nullptr, nullptr, 0};
  }

  void delete_node(node* n) noexcept {
    node_traits::destroy(alloc_, n);
    node_traits::deallocate(alloc_, n, 1);
  }

  void delete_chain(node* n) noexcept {
    while (n != nullptr) {
      // ORDERING: relaxed: the destructor's precondition orders everything before us.
      node* const next = n->next.load(std::memory_order_relaxed);
      delete_node(n);
      n = next;
    }
  }

  /// Appends the filled, private node `n` (its next is null).
  void link(node* n) noexcept {
    // ORDERING: (1) acq_rel exchange. Release: the next producer, which gets `n` back from
    // its own (1), stores into n->next at (2); n's construction (next = null) must happen
    // before that store, or it could overwrite the link. Acquire: the same, for our store
    // into `prev` below, which the previous producer released here.
    node* const prev = tail_->exchange(n, std::memory_order_acq_rel);
    // Between (1) and (2) the queue is in the inconsistent state.
    // ORDERING: (2) release-store; pairs with the acquire-load (3) in try_pop_state, so the
    // consumer that reaches n sees its element.
    prev->next.store(n, std::memory_order_release);
  }

  // Read-only after construction.
  [[no_unique_address]] node_allocator alloc_;
  const bool recycle_;
  // The consumer's line: read and written only by the consumer.
  cache_padded<consumer_side> consumer_;
  // The producers' line: every push exchanges tail_; kept off the consumer's line so the
  // consumer's own loads and stores do not bounce it.
  cache_padded<atomic<node*>> tail_{nullptr};
  // The free stack (recycling only): the consumer pushes a batch per recycle_batch pops,
  // producers take it whole; on its own line, touched about once per batch.
  cache_padded<atomic<node*>> free_{nullptr};
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
/// The inconsistent state is mpsc_queue's: a producer between its exchange and its link (or
/// its store of head_) leaves its node unreachable; try_pop returns nullptr (try_pop_state
/// says `inconsistent`), pop() spins over it. Progress: as mpsc_queue's.
///
/// Preconditions: a node is in at most one queue at a time and stays alive (and unmoved)
/// from push until the consumer pops it; try_pop/pop from one thread at a time.
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
      // ORDERING: relaxed: only tells empty from a push in flight, as mpsc_queue's (4).
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

  /// Consumer: like try_pop, but waits out the inconsistent state; nullptr only when empty.
  /// Progress: blocking while a producer is between its exchange and its link.
  Node* pop() noexcept {
    backoff b;
    for (;;) {
      mpsc_pop_result state{};
      Node* const n = try_pop_state(state);
      if (state != mpsc_pop_result::inconsistent) return n;
      b.snooze();
    }
  }

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
