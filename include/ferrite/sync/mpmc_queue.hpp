// SPDX-License-Identifier: Apache-2.0
// mpmc_queue<T>: a bounded multi-producer multi-consumer FIFO after Dmitry Vyukov's bounded
// MPMC queue: a ring of slots, each with a turn word that says whose turn the slot is
// (which producer may fill it, which consumer may drain it). try_push/try_pop claim a position
// with one CAS and never wait; push/pop take a ticket with one fetch_add and wait for their
// slot's turn, spinning with backoff and then sleeping in atomic::wait on the turn word. A
// per-slot sleeper count, read after an asymmetric fence, lets the hand-off stay a plain
// store and notify only when someone may be asleep on that slot.
//
// The orderings, by the labels of the ORDERING comments (one per atomic operation, in reading
// order):
//   (V1)  - relaxed load of a turn in the destructor: its precondition orders every hand-off before
//           it
//   (V2)  - relaxed fetch_add of enqueue_pos in emplace: a ticket; the wait (V15) orders the data
//   (V3)  - relaxed fetch_add of dequeue_pos in pop: a ticket, like (V2)
//   (V4)  - relaxed load of dequeue_pos in size_approx: an estimate
//   (V5)  - relaxed load of enqueue_pos in size_approx: an estimate
//   (V6)  - relaxed load of a slot's sleepers in sleepers_approx: an estimate
//   (V7)  - relaxed load of the claim counter in try_claim: a hint; the CAS (V9) decides
//   (V8)  - this acquire-load of the turn synchronizes-with the release-store (V11) of the hand-off
//           that set it: the previous owner's construction (a producer's) or move out (a
//           consumer's) happens before ours
//   (V9)  - relaxed CAS of the claim counter: it only claims the position; the turn word orders the
//           data ((V8), (V11))
//   (V10) - relaxed reload of the claim counter after another thread took the position, as (V7)
//   (V11) - this release-store of the turn synchronizes-with the acquire-loads (V8, V15, V18) of
//           the next turn's owner
//   (V12) - light fence; with the heavy fence (V17) a store-buffering pair: either (V13) sees the
//           waiter's (V16), or the waiter's (V18) sees our (V11)
//   (V13) - relaxed load of the slot's sleepers, ordered by (V12)
//   (V14) - notify_all on the turn word: wakes the threads asleep in (V19)
//   (V15) - this acquire-load of the turn synchronizes-with the release-store (V11)
//   (V16) - relaxed fetch_add of the slot's sleepers: counts the waiter in for (V13)
//   (V17) - heavy fence; pairs with the light fence (V12)
//   (V18) - this acquire-load of the turn synchronizes-with the release-store (V11); after (V17)
//   (V19) - relaxed wait on the turn word: sleeps while it still holds the value (V18) read; (V15)
//           re-reads it with acquire
//   (V20) - relaxed fetch_sub of the slot's sleepers: the waiter is awake
//   (V21) - relaxed store of each slot's first turn at construction: whoever hands the queue to
//           other threads publishes it
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/sync/asymmetric_fence.hpp"
#include "ferrite/sync/detail/ring_storage.hpp"

namespace ferrite::sync {

/// How mpmc_queue lays out its slots: `compact` packs them (turn words + element, as in
/// Vyukov's original), `padded` gives each slot its own cache line(s) (as folly's MPMCQueue),
/// trading capacity * cache_line_size bytes for no false sharing between neighbouring slots.
/// compact is the default: a padded slot costs a cache miss per element, where compact slots
/// share one line among several elements (docs/sync-design.md has the measurements).
enum class mpmc_layout : unsigned char { compact, padded };

/// Compile-time options of mpmc_queue, e.g. `mpmc_queue<job, mpmc_options{.blocking =
/// false}>`.
struct mpmc_options {
  /// Slot layout (see mpmc_layout).
  mpmc_layout layout = mpmc_layout::compact;
  /// Whether the queue offers blocking push/pop. With them, every hand-off adds an
  /// asymmetric light fence (a compiler barrier) and a relaxed load of the slot's sleeper
  /// count (same cache line); without them the hand-off is exactly Vyukov's release store.
  bool blocking = true;
};

namespace detail {

/// One ring slot: the turn word (see mpmc_queue's "Slot turn word"), the number of threads
/// that may be asleep on it, and the element. The two 32-bit words share 8 bytes, so a slot
/// of a u64 is 16 bytes; 32 bits also let atomic::wait use a futex on the word itself.
template <class T>
struct mpmc_slot {
  atomic<std::uint32_t> turn{0};
  atomic<std::uint32_t> sleepers{0};
  cell<slot_storage<T>> value;
};

/// The same, alone on its cache line(s).
template <class T>
struct alignas(cache_line_size) mpmc_padded_slot : mpmc_slot<T> {};

}  // namespace detail

/// A bounded FIFO for any number of producer and consumer threads.
///
/// Slot turn word (32 bits, one per slot):
/// ```
///   2*pos       the slot is empty and awaits the producer of position pos
///   2*pos + 1   the slot is full and awaits the consumer of position pos      (mod 2^32)
/// ```
/// Slot i serves positions i, i + capacity, i + 2*capacity, ...; it starts at turn 2*i. A
/// producer that owns position pos constructs the element and hands the slot off to turn
/// 2*pos + 1; the consumer of pos moves it out and hands off to 2*(pos + capacity). Because
/// the two phases of one position use different turns, capacity 1 works (Vyukov's original
/// encoding, seq = pos / pos + 1, needs capacity >= 2). Turns are compared by their signed
/// 32-bit difference, exact while fewer than 2^30 positions separate the slot's turn from a
/// claimed one (capacity is limited to 2^28 for that, leaving room for 3 * 2^28 tickets).
/// Invariant: a slot's turn only grows (mod 2^32), by one per hand-off; only the owner of
/// the current turn writes the element or moves the turn.
///
/// Sleeping without a lost wake-up (blocking queues only): a waiter that has spun long
/// enough increments its slot's `sleepers` (V16), runs asymmetric_heavy_fence() (V17), re-reads
/// the turn (V18) and sleeps in atomic::wait (V19) if it has still not come. Every hand-off
/// stores the turn (V11), runs asymmetric_light_fence() (V12) and reads the slot's `sleepers`
/// (V13); if it is not zero it calls notify_all on the turn word (V14). The fences form a
/// store-buffering (Dekker) pair, so either the waiter's re-read sees the new turn, or the
/// hand-off sees the waiter counted and wakes it (a wake-up before the waiter sleeps makes
/// atomic::wait return at once: the word changed). The common path pays a compiler barrier
/// and a load from the slot's own line; each sleep pays one membarrier system call (see
/// asymmetric_fence.hpp). sleepers_approx() sums the counts, for tests and monitoring.
///
/// Positions are claimed from two free-running counters, `enqueue_pos_` and `dequeue_pos_`:
/// try_ functions CAS them forward only when the slot is already at their turn (so they
/// never wait); push/pop fetch_add them unconditionally and then wait for the turn (so a
/// push into a full queue queues up behind the consumers, like a ticket lock).
///
/// Progress guarantee, honestly: try_push/try_pop never wait and are lock-free with respect
/// to each other's claims (a failed CAS means another thread claimed that position), but the
/// queue as a whole is *blocking* in Vyukov's sense: a producer preempted between its claim
/// and its hand-off makes consumers of that position see "empty" (try_pop) or wait (pop), and
/// a stalled consumer makes the slot look full to producers a lap later. try_push may thus
/// fail while other slots are free, and try_pop while later positions are filled.
/// push/pop are blocking: spin with backoff (ferrite::backoff), then sleep. With
/// `mpmc_options{.blocking = false}` they do not exist and try_ operations are exactly
/// Vyukov's (a CAS to claim, a release store to hand off).
///
/// Element requirements: nothrow move construction and destruction, because an element is
/// built only after a position is claimed and a claimed position cannot be given back. A
/// throwing constructor from other arguments is run on a temporary before claiming.
///
/// Paper/source: D. Vyukov, "Bounded MPMC queue", 1024cores.net (2010); the ticket-and-turn
/// blocking scheme follows folly's MPMCQueue / TurnSequencer (N. Bronson).
template <class T, mpmc_options Options = mpmc_options{}>
class mpmc_queue {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "mpmc_queue stores non-const, non-volatile object types");
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>,
                "mpmc_queue cannot give a claimed position back: T must move and destroy "
                "without throwing");

 public:
  using value_type = T;
  using size_type = std::size_t;

  /// A queue holding up to `next_pow2(max(capacity, 1))` elements (1 and 2 work).
  /// Throws std::length_error above 2^28 slots (see "Slot turn word"), std::bad_alloc if
  /// the slots cannot be allocated. Complexity: O(capacity).
  explicit mpmc_queue(size_type capacity)
      : mask_(detail::round_capacity<slot>(capacity, max_slots,
                                           "ferrite::sync::mpmc_queue: capacity too large") -
              1U),
        slots_(allocate_ring(static_cast<size_type>(mask_ + 1U))) {}

  /// Destroys the elements still in the queue.
  /// Preconditions: no thread is using the queue (none is blocked in push/pop either), and
  /// this thread happens-after every operation on it. Complexity: O(capacity).
  ~mpmc_queue() {
    for (size_type i = 0; i <= mask_; ++i) {
      slot& s = slots_[i];
      // ORDERING: (V1) relaxed: the precondition orders every hand-off before us.
      const std::uint32_t turn = s.turn.load(std::memory_order_relaxed);
      // SAFETY: an odd turn means "full, awaiting its consumer": the element is constructed.
      if ((turn & 1U) != 0) std::destroy_at(std::addressof(s.value.get_mut().value));
    }
    detail::deallocate_slots(slots_, static_cast<size_type>(mask_ + 1U));
  }

  // Non-movable: threads hold references to the counters and slots.
  mpmc_queue(const mpmc_queue&) = delete;
  mpmc_queue& operator=(const mpmc_queue&) = delete;

  /// Constructs a T from `args` at the back unless the slot of the next position is still
  /// occupied (the queue is full, or that slot's consumer has not finished); returns false
  /// then. If T is not nothrow-constructible from `args`, it is first built in a temporary
  /// (consuming rvalue args even when the call then returns false).
  /// Complexity: O(1) plus one retry per position lost to another producer.
  /// Progress: lock-free claim; see the class comment on stalled threads.
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  bool try_emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    if constexpr (!std::is_nothrow_constructible_v<T, Args...>) {
      return try_emplace(T(std::forward<Args>(args)...));
    } else {
      std::uint64_t pos = 0;
      slot* const s = try_claim<false>(enqueue_pos_.value, pos);
      if (s == nullptr) return false;  // the slot still holds the element of pos - capacity
      fill(*s, pos, std::forward<Args>(args)...);
      return true;
    }
  }

  /// try_emplace(value). Complexity and progress: as try_emplace.
  bool try_push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
  {
    return try_emplace(value);
  }

  /// try_emplace(std::move(value)); `value` is left untouched when this returns false.
  bool try_push(T&& value) noexcept { return try_emplace(std::move(value)); }

  /// Moves the front element into `out` unless the slot of the next position has not been
  /// filled yet (the queue is empty, or its producer has not finished); returns false then.
  /// Complexity: O(1) plus one retry per position lost to another consumer.
  /// Progress: lock-free claim; see the class comment on stalled threads.
  bool try_pop(T& out) noexcept
    requires std::is_nothrow_move_assignable_v<T>
  {
    std::uint64_t pos = 0;
    slot* const s = try_claim<true>(dequeue_pos_.value, pos);
    if (s == nullptr) return false;  // position pos has not been filled yet
    s->value.with_mut([&](storage* st) {
      // SAFETY: we own position pos and its turn is "full" (V8): the element is constructed
      // and no other thread touches the slot until the hand-off below.
      out = std::move(st->value);
      std::destroy_at(std::addressof(st->value));
    });
    hand_off(*s, empty_turn(pos + mask_ + 1U));
    return true;
  }

  /// Removes and returns the front element, or std::nullopt when the slot of the next
  /// position has not been filled yet (as try_pop(T&)).
  /// Complexity and progress: as try_pop(T&).
  [[nodiscard]] std::optional<T> try_pop() noexcept {
    std::uint64_t pos = 0;
    slot* const s = try_claim<true>(dequeue_pos_.value, pos);
    if (s == nullptr) return std::nullopt;
    return take<std::optional<T>>(*s, pos);
  }

  /// Constructs a T from `args` at the back, waiting while the queue is full.
  /// Complexity: O(1) claim; the wait lasts until the consumer one lap behind is done.
  /// Progress: blocking (spins with backoff, then sleeps in atomic::wait).
  template <class... Args>
    requires(Options.blocking && std::is_constructible_v<T, Args...>)
  void emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
    if constexpr (!std::is_nothrow_constructible_v<T, Args...>) {
      emplace(T(std::forward<Args>(args)...));
    } else {
      // ORDERING: (V2) relaxed: a ticket; the wait (V15) orders the data.
      const std::uint64_t pos = enqueue_pos_->fetch_add(1U, std::memory_order_relaxed);
      slot& s = slot_at(pos);
      wait_for(s, empty_turn(pos));
      fill(s, pos, std::forward<Args>(args)...);
    }
  }

  /// emplace(value). Progress: blocking.
  void push(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires(Options.blocking && std::is_copy_constructible_v<T>)
  {
    emplace(value);
  }

  /// emplace(std::move(value)). Progress: blocking.
  void push(T&& value) noexcept
    requires(Options.blocking)
  {
    emplace(std::move(value));
  }

  /// Removes and returns the front element, waiting while the queue is empty.
  /// Progress: blocking (spins with backoff, then sleeps in atomic::wait).
  [[nodiscard]] T pop() noexcept
    requires(Options.blocking)
  {
    // ORDERING: (V3) relaxed: a ticket, like (V2).
    const std::uint64_t pos = dequeue_pos_->fetch_add(1U, std::memory_order_relaxed);
    slot& s = slot_at(pos);
    wait_for(s, full_turn(pos));
    return take<T>(s, pos);
  }

  /// Claimed pushes minus claimed pops, clamped to [0, capacity()]: exact when no operation
  /// is in flight, otherwise approximate. Complexity: O(1). Progress: wait-free.
  [[nodiscard]] size_type size_approx() const noexcept {
    // ORDERING: (V4) relaxed: an estimate; nothing is read through it.
    const std::uint64_t deq = dequeue_pos_->load(std::memory_order_relaxed);
    // ORDERING: (V5) relaxed, as (V4).
    const std::uint64_t enq = enqueue_pos_->load(std::memory_order_relaxed);
    const auto n = static_cast<std::int64_t>(enq - deq);  // negative: pops are waiting
    if (n <= 0) return 0;
    return static_cast<std::uint64_t>(n) > mask_ ? static_cast<size_type>(mask_ + 1U)
                                                 : static_cast<size_type>(n);
  }

  /// Whether size_approx() is 0.
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }

  /// The number of threads in push/pop that gave up spinning and are asleep in atomic::wait,
  /// or about to sleep or just woken (a waiter counts itself in before its last look at the
  /// turn and out after it wakes). Exact when every waiter is asleep; approximate otherwise.
  /// For tests and monitoring: nothing in the queue depends on it.
  /// Complexity: O(capacity) (one relaxed load per slot). Progress: wait-free.
  [[nodiscard]] size_type sleepers_approx() const noexcept
    requires(Options.blocking)
  {
    size_type n = 0;
    for (size_type i = 0; i <= mask_; ++i) {
      // ORDERING: (V6) relaxed: an estimate; nothing is read through it.
      n += slots_[i].sleepers.load(std::memory_order_relaxed);
    }
    return n;
  }

  /// The number of elements the queue can hold: a power of two.
  [[nodiscard]] size_type capacity() const noexcept { return static_cast<size_type>(mask_ + 1U); }

 private:
  using slot = std::conditional_t<Options.layout == mpmc_layout::padded,
                                  detail::mpmc_padded_slot<T>, detail::mpmc_slot<T>>;
  using storage = detail::slot_storage<T>;

  /// 32-bit turns (see "Slot turn word") compare exactly only below 2^28 slots.
  static constexpr size_type max_slots = size_type{1} << 28U;

  /// The turns of position pos (see "Slot turn word"), modulo 2^32.
  static constexpr std::uint32_t empty_turn(std::uint64_t pos) noexcept {
    return static_cast<std::uint32_t>(pos << 1U);
  }
  static constexpr std::uint32_t full_turn(std::uint64_t pos) noexcept {
    return static_cast<std::uint32_t>((pos << 1U) | 1U);
  }
  /// How far `turn` is past `want`: 0 when it is the wanted turn, negative when the slot has
  /// not got there yet (see "Slot turn word" for why 32 bits suffice).
  static constexpr std::int32_t distance(std::uint32_t turn, std::uint32_t want) noexcept {
    return static_cast<std::int32_t>(turn - want);
  }

  slot& slot_at(std::uint64_t pos) const noexcept {
    return slots_[static_cast<size_type>(pos & mask_)];
  }

  /// Claims the next position of `counter` (enqueue_pos_ when !Full, dequeue_pos_ when Full)
  /// if its slot is at that position's empty (full) turn already: returns the slot and sets
  /// `pos`, or returns nullptr when the slot is not there yet (full, or empty). Never waits.
  template <bool Full>
  FERRITE_ALWAYS_INLINE slot* try_claim(atomic<std::uint64_t>& counter,
                                        std::uint64_t& pos) noexcept {
    // ORDERING: (V7) relaxed: only a hint where to start; the CAS (V9) decides.
    pos = counter.load(std::memory_order_relaxed);
    for (;;) {
      slot& s = slot_at(pos);
      const std::uint32_t want = Full ? full_turn(pos) : empty_turn(pos);
      // ORDERING: (V8) acquire-load; pairs with the release hand-off (V11) that set the turn, so
      // the previous owner's construction in the slot (a producer's) or move out of it (a
      // consumer's) happens before our access.
      const std::int32_t d = distance(s.turn.load(std::memory_order_acquire), want);
      if (d == 0) {
        // ORDERING: (V9) relaxed CAS: it only claims the position; the data is ordered by (V8)
        // and (V11) on the slot word.
        if (counter.compare_exchange_weak(pos, pos + 1U, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
          return &s;
        }
      } else if (d < 0) {
        return nullptr;
      } else {
        // ORDERING: (V10) relaxed, as (V7): another thread took pos; start over further on.
        pos = counter.load(std::memory_order_relaxed);
      }
    }
  }

  /// Constructs the element of position `pos` in `s` (which we own) and hands it to pos's
  /// consumer.
  template <class... Args>
  static void fill(slot& s, std::uint64_t pos, Args&&... args) noexcept {
    s.value.with_mut([&](storage* st) {
      // SAFETY: we own position pos and its turn is "empty" ((V8) or (V15)): the previous
      // element was moved out and destroyed before the hand-off we acquired.
      std::construct_at(std::addressof(st->value), std::forward<Args>(args)...);
    });
    hand_off(s, full_turn(pos));
  }

  /// Moves the element of position `pos` out of `s` (which we own) into a new R (T or
  /// std::optional<T>) and hands the slot to the producer one lap later.
  template <class R>
  R take(slot& s, std::uint64_t pos) noexcept {
    R result = s.value.with_mut([](storage* st) {
      // SAFETY: we own position pos and its turn is "full" ((V8) or (V15)): the element is
      // constructed and no other thread touches the slot until the hand-off below.
      R moved(std::move(st->value));
      std::destroy_at(std::addressof(st->value));
      return moved;
    });
    hand_off(s, empty_turn(pos + mask_ + 1U));
    return result;
  }

  /// Moves `s` to `turn` and, in a blocking queue, wakes its sleepers if there may be any.
  static void hand_off(slot& s, std::uint32_t turn) noexcept {
    // ORDERING: (V11) release-store; pairs with the acquire-loads (V8), (V15) and (V18) of the next
    // turn's owner, so our write (a construction) or read (a move out) of the element happens
    // before theirs.
    s.turn.store(turn, std::memory_order_release);
    if constexpr (Options.blocking) {
      // ORDERING: (V12) light side of the store-buffering pair with the heavy fence (V17) in
      // wait_for(): either our (V13) sees the waiter's (V16), or its (V18) sees our store.
      asymmetric_light_fence();
      // ORDERING: (V13) relaxed; see (V12).
      if (s.sleepers.load(std::memory_order_relaxed) != 0) {
        // ORDERING: (V14) no ordering of its own: wakes the waiters asleep in (V19), which
        // re-read the turn with (V15).
        s.turn.notify_all();
      }
    }
  }

  /// Waits until `s` reaches `turn`: spins with backoff, then sleeps on the turn word.
  /// Several threads may wait on one slot (tickets a lap apart), hence notify_all.
  static void wait_for(slot& s, std::uint32_t turn) noexcept {
    backoff b;
    for (;;) {
      // ORDERING: (V15) acquire-load; pairs with the release hand-off (V11) that set the turn,
      // as (V8) does.
      const std::int32_t d = distance(s.turn.load(std::memory_order_acquire), turn);
      if (d == 0) return;
      FERRITE_DEBUG_ASSERT(d < 0, "mpmc_queue: a turn was skipped");
      if (!b.is_completed()) {
        b.snooze();
        continue;
      }
      // ORDERING: (V16) relaxed RMW: counts us as a possible sleeper for (V13).
      s.sleepers.fetch_add(1U, std::memory_order_relaxed);
      // ORDERING: (V17) heavy side of the pair with (V12) in hand_off().
      asymmetric_heavy_fence();
      // ORDERING: (V18) acquire-load, as (V15); after (V17), so a hand-off whose (V13) missed
      // our (V16) has stored a turn that this load sees.
      const std::uint32_t seen = s.turn.load(std::memory_order_acquire);
      // ORDERING: (V19) relaxed wait: sleeps while the word is still `seen`; a hand-off
      // that changes it after (V18) sees our (V16) and notifies (V14). (V15) re-reads with acquire.
      if (seen != turn) s.turn.wait(seen, std::memory_order_relaxed);
      // ORDERING: (V20) relaxed: no longer a sleeper.
      s.sleepers.fetch_sub(1U, std::memory_order_relaxed);
    }
  }

  /// The slot array with every slot at its first turn (slot i awaits the producer of i).
  static slot* allocate_ring(size_type count) {
    slot* const slots = detail::allocate_slots<slot>(count);
    for (size_type i = 0; i < count; ++i) {
      // ORDERING: (V21) relaxed: the constructor's caller publishes the queue to other threads.
      slots[i].turn.store(empty_turn(i), std::memory_order_relaxed);
    }
    return slots;
  }

  // Line 0: read-only after construction (Shared in every core's cache).
  const std::uint64_t mask_;
  slot* const slots_;
  // Lines 1 and 2: producers' and consumers' claim counters, apart so that producers
  // claiming do not invalidate the line consumers CAS, and vice versa.
  cache_padded<atomic<std::uint64_t>> enqueue_pos_{0U};
  cache_padded<atomic<std::uint64_t>> dequeue_pos_{0U};
};

}  // namespace ferrite::sync
