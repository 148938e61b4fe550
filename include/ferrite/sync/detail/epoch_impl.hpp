// SPDX-License-Identifier: Apache-2.0
// The bodies behind epoch.hpp: pin/unpin, bag sealing, the global garbage list, epoch advance
// and collection, participant registration, and the default collector's thread-local handle.
// Included at the bottom of epoch.hpp; not a public header.
//
// Why the pin needs only the light fence, and the seal no fence at all (the proof is in
// docs/sync-design.md):
//  - Pin (E3 load global, E4 store local, E6/E7 light fence) against advance (E24 load global,
//    E25 heavy fence, E23 load locals): a store-buffering pair. Either the advancer sees the
//    pin, or the pinned thread's later loads see every store that happens-before the heavy
//    fence.
//  - Seal (E9) is an acq_rel RMW on the global epoch and every write to it is an RMW (E9, E26),
//    so all of them form one release sequence: a thread that reads the global epoch with
//    acquire (E3, E24, E31) synchronizes with every seal before the value it read. An object
//    unlinked before a seal at raw epoch s is therefore invisible to any thread pinned at
//    s + 2 or later, and invisible after the advance s + 2 -> s + 4 to any thread that
//    advancer did not see pinned. So the bag can run once the global epoch reaches s + 4
//    (two logical advances), which is crossbeam's rule without its SeqCst fence at push_bag.
//
// Orderings: every atomic operation has one label, numbered in reading order.
//  (E1)  relaxed load of the own epoch word (pinned()): the owner reads its own last store
//        (E2, E4, E8), by coherence.
//  (E2)  release store of 0 (the last unpin of a one-shot entry): as (E8).
//  (E3)  acquire load of the global epoch (pin): synchronizes-with the acq_rel RMWs (E9, E26),
//        one release sequence.
//  (E4)  release store of the own epoch word (pin): read by the advancers' acquire load (E23).
//  (E5)  relaxed peek at the garbage count (E19, E32): decides only whether to look.
//  (E6)  light fence, membarrier mode (a compiler barrier): pairs with the heavy fence (E25).
//  (E7)  light fence, symmetric mode (a seq_cst fence): pairs with the heavy fence (E25).
//  (E8)  release store of 0 (unpin): read by the advancers' acquire load (E23).
//  (E9)  acq_rel RMW of the global epoch (seal): joins the release sequence read by the
//        acquire loads (E3, E24, E31).
//  (E10) release store of active_ (release): synchronizes-with the acquire CAS (E16) of the
//        entry's next owner and the acquire load (E12) of the destructor.
//  (E11) acquire load of the participant list (destructor): synchronizes-with the CAS (E18).
//  (E12) acquire load of active_ (destructor): synchronizes-with the release store (E10).
//  (E13) relaxed load of the global epoch (epoch()): informational.
//  (E14) acquire load of the participant list (registration): synchronizes-with (E18).
//  (E15) relaxed pre-check of active_: a hint; the CAS (E16) decides.
//  (E16) acquire CAS of active_ (take a released entry): synchronizes-with (E10).
//  (E17) relaxed load of the list head: validated by the CAS (E18).
//  (E18) release CAS of the list head (publish an entry): read by (E11, E14, E22).
//  (E19) relaxed increment of the garbage count, before the push (E21).
//  (E20) relaxed load of incoming_: validated by the CAS (E21).
//  (E21) release CAS of incoming_ (push a bag): synchronizes-with the exchange (E28).
//  (E22) acquire load of the participant list (advance): synchronizes-with (E18).
//  (E23) acquire load of a participant's epoch word: synchronizes-with (E2, E4, E8).
//  (E24) acquire load of the global epoch (advance): synchronizes-with (E9, E26).
//  (E25) heavy fence (advance): pairs with the light fences (E6, E7).
//  (E26) acq_rel CAS of the global epoch (advance): continues the release sequence of (E9);
//        read by (E3, E24, E31).
//  (E27) acquire exchange of collecting_ (try-lock): synchronizes-with the unlock (E29).
//  (E28) acquire exchange of incoming_: synchronizes-with the release CAS (E21).
//  (E29) release store of collecting_ (unlock): read by the next try-lock (E27).
//  (E30) relaxed load of the garbage count (collect): as (E5).
//  (E31) acquire load of the global epoch (collect): synchronizes-with (E9, E26).
//  (E32) relaxed decrement of the garbage count, after running bags (E19).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "ferrite/sync/epoch.hpp"

namespace ferrite::sync {
namespace detail {

/// Outermost pins between two collect() calls of one thread (crossbeam: 128).
inline constexpr std::uint32_t epoch_pins_between_collect = 128;
/// Expired bags one periodic collect runs at least (flush runs them all); it runs more when a
/// backlog builds up (one more per 8 queued bags). A small share per collect spreads the
/// deferred work, and the node memory it frees, over the threads, instead of the thread that
/// advanced the epoch running everything (crossbeam: 8 steps).
inline constexpr std::size_t epoch_collect_steps = 2;
/// Sealed bags a participant keeps to run itself; older ones go to the global queue.
inline constexpr std::uint32_t epoch_max_local_bags = 64;
/// Emptied bags a participant keeps for reuse instead of freeing them.
inline constexpr std::uint32_t epoch_max_spares = 4;
/// Raw epoch distance after which a sealed bag is safe: two logical advances.
inline constexpr std::uint64_t epoch_safe_distance = 4;

/// The default collector's per-thread state: constant-initialized and trivially destructible
/// (one TLS offset to reach, no init guard); the exit hook is a separate object.
struct epoch_thread_state {
  participant* local;
  bool hooked;
  bool exited;
};
inline thread_local constinit epoch_thread_state epoch_tls{};

/// The default collector's implicit per-thread handle.
struct epoch_thread {
  /// The first pin of a thread (out of line: not part of every pin's code).
  FERRITE_COLD static participant* attach() {
    epoch_thread_state& t = epoch_tls;
    participant* p = epoch::default_collector().acquire_participant();
    if (t.exited) {
      // Pinned after this thread's exit hook ran (from another thread_local's destructor):
      // a one-shot entry, released when its last guard goes (crossbeam does the same). It is
      // the thread's entry until then, so nested pins reuse it and is_pinned() sees it.
      p->unpin_flags_ |= participant::unpin_ephemeral;
      t.local = p;
      return p;
    }
    if (!t.hooked) {
      struct exit_hook {
        exit_hook() noexcept = default;
        exit_hook(const exit_hook&) = delete;
        exit_hook& operator=(const exit_hook&) = delete;
        ~exit_hook() { epoch_thread::on_exit(); }
      };
      // Constructed, and its destructor registered, the first time control passes here.
      static thread_local exit_hook hook_object;
      static_cast<void>(&hook_object);
      t.hooked = true;
    }
    t.local = p;
    return p;
  }

  static void on_exit() noexcept {
    epoch_thread_state& t = epoch_tls;
    t.exited = true;
    participant* const p = std::exchange(t.local, nullptr);
    if (p == nullptr) return;
    if (!p->pinned()) {
      p->release();
    } else {
      p->unpin_flags_ |= participant::unpin_ephemeral;  // a guard outlives the hook
    }
  }
};

/// Storage of the default collector: constant-initialized, never destroyed.
union epoch_default_collector_storage {
  constexpr epoch_default_collector_storage() noexcept : value() {}
  ~epoch_default_collector_storage() {}
  epoch_default_collector_storage(const epoch_default_collector_storage&) = delete;
  epoch_default_collector_storage& operator=(const epoch_default_collector_storage&) = delete;
  epoch::collector value;
};

#if !FERRITE_CHECK
inline constinit epoch_default_collector_storage epoch_default_collector;
#endif

/// Whether the light side of the asymmetric fence pair needs a fence instruction in this
/// process (symmetric mode). The mode is chosen once (this call chooses it if nobody has) and
/// never changes, so a participant may cache the answer: every pin then fences in the same
/// mode as every advancer's heavy fence (E25), as asymmetric_light_fence() itself would.
inline bool light_fence_is_symmetric() noexcept {
#if FERRITE_TSAN || FERRITE_CHECK
  return true;  // as asymmetric_light_fence(): neither understands membarrier
#else
  return current_asymmetric_fence_mode() != asymmetric_fence_mode::membarrier;
#endif
}

inline bool participant::pinned() const noexcept {
  // ORDERING: (E1) relaxed; the owner reads its own last store (E2, E4, E8) (coherence).
  return (epoch_.load(std::memory_order_relaxed) & 1) != 0;
}

/// The rare parts of pin and unpin, out of line so that the inlined fast paths stay small
/// (free functions: GCC rejects noinline on an inline member declared without it).
FERRITE_COLD inline void epoch_collect_paced(participant& p) noexcept { p.collect_paced(); }
FERRITE_COLD inline void epoch_unpin_last_ephemeral(participant& p) noexcept {
  // ORDERING: (E2) release, as (E8) in unpin(); pairs with the advancers' acquire loads (E23).
  p.epoch_.store(0, std::memory_order_release);
  p.release();  // a one-shot entry (pinned after the thread's exit hook ran)
  // The next pin of this thread takes a new one-shot entry. (An entry that became one-shot
  // because a guard outlived the exit hook is no longer epoch_tls.local: on_exit cleared it.)
  if (epoch_tls.local == &p) epoch_tls.local = nullptr;
}

// The uncontended outermost pin is: a load of the own epoch word (nesting), a load of the
// global epoch, one store, one load of pin_flags_ and one of the collector's garbage count,
// and a compiler barrier; everything else (the symmetric fence, pacing collections) is behind
// one predictable branch. No read-modify-write of a per-thread counter on that path: a counter
// bumped by every pin would chain each pin to the previous one through store forwarding.
FERRITE_ALWAYS_INLINE void participant::pin(epoch::collector& owner) noexcept {
  FERRITE_DEBUG_ASSERT(&owner == owner_, "epoch: pinned in a foreign collector");
  if (pinned()) {
    FERRITE_DEBUG_ASSERT((unpin_flags_ & unpin_nested_mask) != unpin_nested_mask,
                         "epoch: too many nested pins");
    ++unpin_flags_;  // nested: only the outermost guard publishes and unpublishes
    return;
  }
  // ORDERING: (E3) acquire; pairs with the acq_rel RMWs (E9 seals, E26 advances), all in one
  // release sequence: every object unlinked before a seal older than this value is invisible
  // to this thread's later loads.
  const std::uint64_t global = owner.epoch_->load(std::memory_order_acquire);
  // ORDERING: (E4) release; pairs with the advancers' acquire loads (E23): what this thread
  // did before (its previous pinned sections) happens-before an advance that sees this.
  epoch_.store(global | 1, std::memory_order_release);
  // ORDERING: (E5) relaxed peek at the count (E19, E32); collect() acquires with (E28).
  if ((pin_flags_ | owner.queued_.load(std::memory_order_relaxed)) != 0) [[unlikely]] {
    pin_rare();
  }
  // ORDERING: (E6) light half of the asymmetric seq_cst fence pair; pairs with the heavy fence
  // (E25) in try_advance: either that advancer's loads (E23) see the store (E4), or this
  // thread's loads after this point see every store that happens-before (E25). In membarrier
  // mode the light fence is this compiler barrier (the heavy side's membarrier runs a full
  // barrier on this CPU before or after it, never across it); in symmetric mode it is the
  // seq_cst fence (E7) in pin_rare(). This is asymmetric_light_fence() with the mode read once
  // per participant (light_fence_is_symmetric) instead of once per pin.
#if FERRITE_TSAN || FERRITE_CHECK
  // Always symmetric here (pin_rare() ran the fence (E7)). No compiler barrier: the model
  // checker models one as a seq_cst fence, which would hide a missing (E7) from it.
#else
  compiler_fence(std::memory_order_seq_cst);
#endif
}

FERRITE_ALWAYS_INLINE void participant::pin_rare() noexcept {
  // A volatile re-read of the owner-only word (not the value tested in pin()): the fast path
  // then keeps nothing live across its test, which compiles to one load and one or-with-memory.
  // Codegen only: the word is never shared, so no ordering is involved.
  const std::size_t flags = *static_cast<const volatile std::size_t*>(&pin_flags_);
  if ((flags & pin_symmetric) != 0) {
    // ORDERING: (E7) symmetric mode: the light fence is a real seq_cst fence (instead of the
    // compiler barrier (E6)); pairs with the seq_cst fence that asymmetric_heavy_fence() (E25)
    // is in this mode. After the store (E4), before every load of the pinned section.
    fence(std::memory_order_seq_cst);
  }
  // Every 128th pin that comes here collects (tries to advance, runs expired bags); collect()
  // itself returns at once when there is no garbage (a symmetric-mode pin comes here always).
  if (++pins_ % epoch_pins_between_collect == 0) [[unlikely]]
    epoch_collect_paced(*this);
}

FERRITE_ALWAYS_INLINE void participant::unpin() noexcept {
  FERRITE_DEBUG_ASSERT(pinned(), "epoch: unpin without pin");
  const std::uint32_t flags = unpin_flags_;
  // [[likely]]: keeps the outermost unpin's store on the fall-through path in every caller
  // (an inner guard's unpin takes the branch instead; see docs/sync-design.md).
  if (flags == 0) [[likely]] {
    // ORDERING: (E8) release; pairs with the advancers' acquire loads (E23): every access
    // this thread made while pinned happens-before the advance that sees it unpinned, and so
    // before the reclamation that advance enables.
    epoch_.store(0, std::memory_order_release);
  } else if (flags != unpin_ephemeral) {
    unpin_flags_ = flags - 1;  // an inner guard (nested bits != 0): the thread stays pinned
  } else {
    epoch_unpin_last_ephemeral(*this);
  }
}

template <class F>
void participant::defer(F&& fn) {
  FERRITE_DEBUG_ASSERT(pinned(), "epoch: defer outside a pinned section");
  if (bag_ == nullptr) {
    if (spare_ != nullptr) {
      bag_ = std::exchange(spare_, spare_->next);
      --spares_;
    } else {
      bag_ = new epoch_bag;
    }
  }
  bag_->items[bag_->len].set(std::forward<F>(fn));  // may throw: then nothing was stored
  if (++bag_->len == epoch_bag::capacity) seal();
}

inline void participant::seal() noexcept {
  // ORDERING: (E9) acq_rel RMW (adds 0): reads the latest global epoch in modification order
  // and joins its release sequence, so every unlink this thread made before (the deferred
  // objects') happens-before any acquire load (E3, E24, E31) of a later epoch value. Replaces
  // crossbeam's SeqCst fence + load at push_bag.
  bag_->epoch = owner_->epoch_->fetch_add(0, std::memory_order_acq_rel);
  epoch_bag* const bag = std::exchange(bag_, nullptr);
  bag->next = nullptr;
  if (sealed_.tail != nullptr) {
    sealed_.tail->next = bag;
  } else {
    sealed_.head = bag;
  }
  sealed_.tail = bag;
  pin_flags_ |= pin_local_garbage;
  if (++sealed_count_ > epoch_max_local_bags) {
    // Too much local garbage (the epoch is not moving): let any thread run the oldest bag.
    epoch_bag* const oldest = sealed_.head;
    sealed_.head = oldest->next;
    --sealed_count_;
    owner_->push_bag(oldest);
  }
}

inline void participant::collect_paced() noexcept { owner_->collect(*this, false); }

inline void participant::collect_local(std::uint64_t global) noexcept {
  // Sealed in epoch order by this thread: stop at the first bag that is not yet safe.
  while (sealed_.head != nullptr && sealed_.head->epoch + epoch_safe_distance <= global) {
    epoch_bag* const bag = sealed_.head;
    sealed_.head = bag->next;
    if (sealed_.head == nullptr) sealed_.tail = nullptr;
    --sealed_count_;
    bag->run_all();  // may defer again (into bag_, never into sealed_ before we return)
    recycle(bag);
  }
  update_garbage_flag();
}

inline void participant::recycle(epoch_bag* bag) noexcept {
  if (spares_ < epoch_max_spares) {
    bag->next = spare_;
    spare_ = bag;
    ++spares_;
  } else {
    delete bag;
  }
}

inline void participant::flush() noexcept {
  if (bag_ != nullptr && bag_->len != 0) seal();
  owner_->collect(*this, true);
}

inline void participant::release() noexcept {
  FERRITE_ASSERT(!pinned(), "epoch: local handle released while pinned");
  if (bag_ != nullptr && bag_->len != 0) seal();
  // The thread leaves: its sealed bags go to the global queue, for any thread to run.
  while (sealed_.head != nullptr) {
    epoch_bag* const bag = sealed_.head;
    sealed_.head = bag->next;
    owner_->push_bag(bag);
  }
  sealed_.tail = nullptr;
  sealed_count_ = 0;
  update_garbage_flag();
  unpin_flags_ = 0;  // not nested (asserted unpinned), not ephemeral
  pins_ = 0;
  // ORDERING: (E10) release; pairs with the acquire CAS (E16) of the entry's next owner, which
  // takes over bag_/spare_ and the counters, and with the destructor's acquire load (E12).
  active_.store(false, std::memory_order_release);
}

}  // namespace detail

namespace epoch {

inline collector::~collector() {
  // ORDERING: (E11) acquire; pairs with the release CAS (E18). Every use of the collector
  // happens-before its destruction (caller's precondition).
  detail::participant* const first = participants_.load(std::memory_order_acquire);
  for (const detail::participant* p = first; p != nullptr; p = p->next_) {
    // ORDERING: (E12) acquire; pairs with the release store (E10) of the last owner.
    FERRITE_ASSERT(!p->active_.load(std::memory_order_acquire),
                   "collector destroyed while a local_handle of it is alive");
  }
  // Deferred calls may defer more (into other collectors, or seal here): loop until empty.
  for (;;) {
    detail::epoch_bag* bag = take_expired(UINT64_MAX, SIZE_MAX);  // everything is safe now
    if (bag == nullptr) break;
    while (bag != nullptr) {
      detail::epoch_bag* const next = bag->next;
      bag->run_all();
      delete bag;
      bag = next;
    }
  }
  for (detail::participant* p = first; p != nullptr;) {
    detail::participant* const next = p->next_;
    // Every entry is released (asserted above): release() sealed a non-empty open bag and
    // handed every sealed bag to the global queue, which the loop above ran. What is left is
    // memory: an empty open bag and the spares.
    FERRITE_DEBUG_ASSERT((p->bag_ == nullptr || p->bag_->len == 0) && p->sealed_.head == nullptr,
                         "epoch: a released entry kept garbage");
    delete p->bag_;
    while (p->spare_ != nullptr) delete std::exchange(p->spare_, p->spare_->next);
    delete p;
    p = next;
  }
}

inline local_handle collector::register_thread() { return local_handle(acquire_participant()); }

inline std::uint64_t collector::epoch() const noexcept {
  // ORDERING: (E13) relaxed; an informational read of (E9)/(E26).
  return epoch_->load(std::memory_order_relaxed) / 2;
}

inline detail::participant* collector::acquire_participant() {
  const std::size_t symmetric =
      detail::light_fence_is_symmetric() ? detail::participant::pin_symmetric : 0;
  // ORDERING: (E14) acquire; pairs with the release CAS (E18) that published each entry.
  for (detail::participant* p = participants_.load(std::memory_order_acquire); p != nullptr;
       p = p->next_) {
    // ORDERING: (E15) relaxed pre-check, a hint only; the CAS (E16) decides.
    if (p->active_.load(std::memory_order_relaxed)) continue;
    bool expected = false;
    // ORDERING: (E16) acquire CAS; pairs with the release store (E10) of the previous owner.
    if (p->active_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
      p->pin_flags_ = symmetric;  // release() left no sealed bags
      return p;
    }
  }
  auto* const p = new detail::participant;  // active from birth, unpinned
  p->owner_ = this;
  p->pin_flags_ = symmetric;
  // ORDERING: (E17) relaxed; validated by the CAS (E18).
  detail::participant* head = participants_.load(std::memory_order_relaxed);
  do {
    p->next_ = head;
    // ORDERING: (E18) release CAS; pairs with the acquire loads (E11, E14, E22): walkers see
    // next_, owner_ and the initial (unpinned) epoch word.
  } while (!participants_.compare_exchange_weak(head, p, std::memory_order_release,
                                                std::memory_order_relaxed));
  return p;
}

inline void collector::push_bag(detail::epoch_bag* bag) noexcept {
  // ORDERING: (E19) relaxed; a count that only decides whether to look. Incremented before the
  // push so that (E32) of a collector that already took the bag never underflows it.
  queued_.fetch_add(1, std::memory_order_relaxed);
  // ORDERING: (E20) relaxed; validated by the CAS (E21).
  detail::epoch_bag* head = incoming_.load(std::memory_order_relaxed);
  do {
    bag->next = head;
    // ORDERING: (E21) release CAS; pairs with the acquire exchange (E28) of collect: the
    // collector sees the bag's calls and its epoch.
  } while (!incoming_.compare_exchange_weak(head, bag, std::memory_order_release,
                                            std::memory_order_relaxed));
}

inline bool collector::all_pinned_caught_up(std::uint64_t global) const noexcept {
  // ORDERING: (E22) acquire; pairs with the release CAS (E18).
  for (const detail::participant* p = participants_.load(std::memory_order_acquire); p != nullptr;
       p = p->next_) {
    // ORDERING: (E23) acquire; pairs with the release stores (E4) of pins and (E8, E2) of unpins:
    // a participant seen unpinned (or re-pinned) has finished its earlier pinned sections.
    const std::uint64_t local = p->epoch_.load(std::memory_order_acquire);
    if ((local & 1) != 0 && local != (global | 1)) return false;
  }
  return true;
}

inline std::uint64_t collector::try_advance() noexcept {
  // ORDERING: (E24) acquire; pairs with the acq_rel RMWs (E9, E26): every unlink sealed into a
  // bag with an epoch below this value happens-before the heavy fence (E25).
  const std::uint64_t global = epoch_->load(std::memory_order_acquire);
  // A cheap look first: if some pinned thread is visibly behind, skip the heavy fence.
  if (!all_pinned_caught_up(global)) return global;
  // ORDERING: (E25) heavy half of the asymmetric seq_cst fence pair; pairs with the light fence
  // (E6 or E7) of every pin. After it, a pin this walk does not see is a pin whose later loads see
  // every unlink sealed before `global`.
  asymmetric_heavy_fence();
  if (!all_pinned_caught_up(global)) return global;
  std::uint64_t expected = global;
  // ORDERING: (E26) acq_rel CAS; continues the release sequence of the seals (E9) and releases
  // this advancer's observations (E23) to pins (E3) and advancers and collectors (E24, E31)
  // reading the new value.
  if (epoch_->compare_exchange_strong(expected, global + 2, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
    return global + 2;
  }
  return expected;  // another thread advanced first
}

inline detail::epoch_bag* collector::take_expired(std::uint64_t global,
                                                  std::size_t steps) noexcept {
  // ORDERING: (E27) acquire try-lock; pairs with the release unlock (E29) of the previous
  // holder, whose updates of pending_ it then sees. A busy lock means another thread is
  // collecting: skip (nobody ever waits for it).
  if (collecting_.exchange(true, std::memory_order_acquire)) return nullptr;
  detail::epoch_bag* expired = pending_.with_mut([&](detail::bag_fifo* fifo) {
    // ORDERING: (E28) acquire exchange; pairs with the release CAS (E21) of push_bag.
    detail::epoch_bag* fresh = incoming_.exchange(nullptr, std::memory_order_acquire);
    // incoming_ is newest first: reverse it onto the back of the FIFO (oldest first).
    detail::epoch_bag* reversed = nullptr;
    detail::epoch_bag* const new_tail = fresh;
    while (fresh != nullptr) {
      detail::epoch_bag* const next = fresh->next;
      fresh->next = reversed;
      reversed = fresh;
      fresh = next;
    }
    if (reversed != nullptr) {
      if (fifo->tail != nullptr) {
        fifo->tail->next = reversed;
      } else {
        fifo->head = reversed;
      }
      fifo->tail = new_tail;
    }
    detail::epoch_bag* out = nullptr;
    detail::epoch_bag** out_tail = &out;
    while (steps != 0 && fifo->head != nullptr &&
           fifo->head->epoch + detail::epoch_safe_distance <= global) {
      detail::epoch_bag* const bag = fifo->head;
      fifo->head = bag->next;
      if (fifo->head == nullptr) fifo->tail = nullptr;
      bag->next = nullptr;
      *out_tail = bag;
      out_tail = &bag->next;
      --steps;
    }
    return out;
  });
  // ORDERING: (E29) release unlock; pairs with (E27) of the next collector.
  collecting_.store(false, std::memory_order_release);
  return expired;
}

inline void collector::collect(detail::participant& self, bool force) noexcept {
  // ORDERING: (E30) relaxed peek at the count (E19, E32): no garbage, nothing to advance for.
  const std::size_t queued = queued_.load(std::memory_order_relaxed);
  if (self.sealed_count_ == 0 && queued == 0) return;
  // Periodic collections advance only if nobody did since this thread's last one: with N
  // threads collecting, about one heavy fence per round instead of N. flush() always tries.
  // ORDERING: (E31) acquire; pairs with the acq_rel RMWs (E9, E26), as (E24).
  std::uint64_t global = epoch_->load(std::memory_order_acquire);
  if (force || global == self.last_collect_epoch_) global = try_advance();
  self.last_collect_epoch_ = global;
  self.collect_local(global);
  if (queued == 0) return;
  // Global bags (of exited threads, or overflow): a small share per collect (see steps).
  detail::epoch_bag* expired =
      take_expired(global, force ? SIZE_MAX : detail::epoch_collect_steps + queued / 8);
  // Deferred calls run outside the lock: they may pin, defer, even collect again.
  std::size_t ran = 0;
  while (expired != nullptr) {
    detail::epoch_bag* const next = expired->next;
    expired->run_all();
    ++ran;
    self.recycle(expired);
    expired = next;
  }
  // ORDERING: (E32) relaxed; a count, see (E19).
  if (ran != 0)
    queued_.fetch_add(std::size_t{0} - ran, std::memory_order_relaxed);  // modular subtract
}

inline collector& default_collector() noexcept {
#if FERRITE_CHECK
  // The checker's atomics need not be constexpr-constructible: build it on first use.
  static detail::epoch_default_collector_storage* storage =
      new detail::epoch_default_collector_storage;
  return storage->value;
#else
  return detail::epoch_default_collector.value;
#endif
}

inline guard pin() {
  detail::participant* p = detail::epoch_tls.local;
  if (p == nullptr) [[unlikely]]
    p = detail::epoch_thread::attach();
  return guard(p, default_collector());
}

inline bool is_pinned() noexcept {
  const detail::participant* p = detail::epoch_tls.local;
  return p != nullptr && p->pinned();
}

}  // namespace epoch
}  // namespace ferrite::sync
