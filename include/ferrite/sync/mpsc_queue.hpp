// SPDX-License-Identifier: Apache-2.0
// mpsc_queue<T>: an unbounded multi-producer single-consumer FIFO made of a linked list of
// blocks of slots (128 for small elements), in the style of tokio's mpsc list (`list.rs`) and
// crossbeam's list channel. A producer claims a slot with one fetch_add on the tail's claim word,
// constructs its element there and sets the slot's state with a plain release store; the single
// consumer walks the slots in order with loads only (no read-modify-write on its fast path). The
// producer of a block's last slot installs the next block (linked ahead by the producer of
// slot 0); the consumer frees each used-up block itself or puts it on the queue's free list,
// from which the next preparation takes it, so steady traffic does not reach the allocator.
// No epochs: only the consumer frees, and a block is never freed while a producer can still
// touch it (see the class comment, "Block reclamation"). intrusive_mpsc_queue (caller-owned
// nodes, no allocation at all) lives in intrusive_mpsc_queue.hpp, included here; the bodies
// and the numbered ordering table are in detail/mpsc_queue_impl.hpp.
//
// ```cpp
// ferrite::sync::mpsc_queue<job> q;          // allocates the first block
// q.push(job{1});                            // any thread; never fails (grows)
// job j;
// if (q.try_pop(j)) run(j);                  // the consumer thread only
// std::optional<job> k = q.try_pop();        // the same, for types without a default state
// while (q.try_pop_settled(j)) run(j);       // the same, waiting out pushes in flight
// ```
#pragma once

#include <algorithm>
#include <bit>
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
#include "ferrite/sync/detail/ring_storage.hpp"
#include "ferrite/sync/detail/unbounded_push.hpp"
#include "ferrite/sync/intrusive_mpsc_queue.hpp"

namespace ferrite::sync {

namespace detail {

/// The claim word (see mpsc_queue, "Claim word"): lap in the high 40 bits, offset in the low 24.
inline constexpr unsigned mpsc_offset_bits = 24;
inline constexpr std::uint64_t mpsc_offset_mask = (std::uint64_t{1} << mpsc_offset_bits) - 1;
inline constexpr std::uint64_t mpsc_lap_one = std::uint64_t{1} << mpsc_offset_bits;

/// Slot state word: the lap the slot was published in (claim word with offset 0) OR-ed with
/// what was published; written once per use by the slot's producer and never reset, so any
/// other value (0 in a fresh block, an older lap in a reused one) means "not published".
inline constexpr std::uint64_t mpsc_slot_full = 1;  // holds an element
inline constexpr std::uint64_t mpsc_slot_skip = 2;  // claimed by a push that threw: no element

/// One slot: its state word and room for one T (constructed by its producer, destroyed by
/// the consumer).
template <class T>
struct mpsc_slot {
  atomic<std::uint64_t> state{0};
  cell<slot_storage<T>> value;
};

/// Slots per block of mpsc_queue<T> unless given: about 2 KiB of slots (128 for 8-byte
/// elements), a power of two between 32 and 256. Fewer, larger blocks mean fewer allocations
/// and fewer block boundaries (where producers wait for the installer); docs/sync-design.md says
/// how the size was chosen.
template <class T>
inline constexpr std::size_t mpsc_block_size =
    std::clamp<std::size_t>(std::bit_floor(2048 / sizeof(mpsc_slot<T>)), 32, 256);

/// One block. The header (`lap` and `prev` written by the block's installer, then only read;
/// `next` written once per use) sits on its own line, off the slots the producers keep writing.
template <class T, std::size_t N>
struct mpsc_block {
  atomic<mpsc_block*> next{nullptr};  // the following block once linked; on the free list, the
                                      // next free block
  cell<std::uint64_t> lap;            // this block's lap, as a claim word with offset 0
  cell<mpsc_block*> prev;             // the block of the lap before (maybe freed: see find_block)
  alignas(cache_line_size) mpsc_slot<T> slots[N];
};

}  // namespace detail

/// How many used blocks an mpsc_queue keeps for reuse (see mpsc_queue, "Memory"): `off`
/// keeps one spare and frees the others; `on` keeps every one until the queue is destroyed.
enum class mpsc_recycling : bool { off, on };

/// An unbounded FIFO for any number of producer threads and one consumer thread.
///
/// ```
///  consumer_: blk, pos                       tail_: word (lap|offset), blk
///      |                                                            |
///      v                                                            v
///  [hdr|s0 s1 .. sB-1] -next-> [hdr|s0 .. sB-1] -next-> [hdr|s0 s1 .. sB-1] -next-> [hdr|..]
///   lap L (popping)              lap L+1 (full)           lap L+2 (claiming)    linked ahead
///    ^---------------- prev ----'  ^------------- prev -----'
///  free_ -> [hdr|..] -next-> [hdr|..] -> null     used blocks, ready for reuse as they are
///  slot: [state u64: lap | full/skip][T]         hdr: next (atomic), lap, prev
/// ```
///
/// Claim word (64 bits, `tail_.word`): bits 63..24 the lap (which block, counted modulo 2^40),
/// bits 23..0 the offset: 0..BlockSize-1 is a slot of the lap's block, BlockSize and above is
/// an overshoot ("this lap is used up; wait for the next"). push does `fetch_add(1)`: offset
/// BlockSize-1 makes it the installer, who takes the next block (already linked by the
/// producer of slot 0, unless that one is late: then the installer links one itself), writes
/// its header, points `tail_.blk` at it and stores the next lap with offset 0; overshooting
/// producers wait for that store and claim again. Invariant: every offset below BlockSize of
/// every lap is returned to exactly one producer, and a lap is opened (B20) only after its block
/// is installed (B19); the offset never exceeds BlockSize - 1 + (producers inside push at
/// once), so at most 2^24 - BlockSize threads may push at the same time (no system runs that
/// many), and laps compare equal modulo 2^40 only if fewer than 2^40 blocks are alive.
///
/// Finding the block of a claim: `tail_.blk` is the newest installed block; it is this lap's
/// or, if the producer was preempted for a whole block, a later one: then it walks back along
/// `prev` (each block's lap is in its header). Block reclamation: the consumer frees a block,
/// or puts it on the free list, only after it has read the state of every one of its slots,
/// and every producer that can touch a block holds an unpublished claim in that block's lap or
/// an earlier one (walkers go back no further than their own lap), so its accesses happen
/// before its own state store, which the consumer reads before it gets to the block's end.
/// Overshooting producers never dereference a block; blocks linked ahead of the tail are
/// touched only by their future installer. So no epochs, hazard pointers or reference counts.
///
/// FIFO per producer; elements of different producers are ordered by their claims.
///
/// Progress guarantee, honestly: a claim is one fetch_add and never fails, and publishing is
/// one store; but (1) the consumer pops in claim order, so a producer preempted between its
/// claim and its publication stalls the consumer at that slot (try_pop_state says
/// `inconsistent`, try_pop_settled waits), like seg_queue and Vyukov's queues; (2) at a block
/// boundary the producers that overshoot wait for the installer, a few instructions (plus an
/// allocation when the preparer of the next block is late and the free list is empty). try_pop is
/// wait-free.
///
/// Memory: one allocation per BlockSize elements while the queue grows. The consumer puts each
/// used-up block on the free list (as it is: a state word names its lap, so an old one reads
/// as "not published" in any later lap); the producer of slot 0 of a block takes
/// the whole list and links it after its block, so those blocks become the next laps without
/// an allocator call. With mpsc_recycling::off (the default) the free list holds at most one
/// block (the others are freed at once by the consumer): steady traffic still allocates
/// nothing, and an idle queue holds at most 3 blocks. With mpsc_recycling::on every used block
/// stays for reuse until the queue dies (zero allocation once warm, like moodycamel's free
/// list; memory stays at the high-water mark). Exceptions: if T's constructor throws,
/// the claimed slot is marked `skip` (the consumer passes over it) and push rethrows: the
/// queue is unchanged. If linking the next block throws std::bad_alloc, push rethrows it the
/// same way; if the installer itself cannot get a block, it calls std::terminate (a claimed
/// boundary cannot be given back, and every other producer would wait for it forever).
///
/// Thread roles are a precondition: the consumer functions (try_pop, try_pop_state,
/// try_pop_settled) from one thread at a time.
///
/// Paper/source: tokio's mpsc block list (tokio/src/sync/mpsc/list.rs) and crossbeam-channel's
/// list flavor; fetch_add claims as in A. Adas and R. Friedman, "Jiffy: a fast, memory
/// efficient, wait-free multi-producers single-consumer queue" (2020), with its `prev` walk.
template <class T, class Allocator = std::allocator<T>,
          std::size_t BlockSize = detail::mpsc_block_size<T>>
class mpsc_queue : public detail::unbounded_try_push<mpsc_queue<T, Allocator, BlockSize>, T> {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "mpsc_queue stores non-const, non-volatile object types");
  static_assert(std::is_nothrow_destructible_v<T>, "a throwing destructor could not be handled");
  static_assert(BlockSize >= 1 && BlockSize <= 4096,
                "the offset field must leave room for overshooting producers (see Claim word)");

  using block = detail::mpsc_block<T, BlockSize>;
  using slot = detail::mpsc_slot<T>;
  using storage = detail::slot_storage<T>;
  using block_allocator = typename std::allocator_traits<Allocator>::template rebind_alloc<block>;
  using block_traits = std::allocator_traits<block_allocator>;

 public:
  using value_type = T;
  using allocator_type = Allocator;
  using size_type = std::size_t;

  /// Elements per block (one allocation each while the queue grows).
  static constexpr size_type block_size = BlockSize;

  /// An empty queue with its first block, recycling off. Throws what the allocator throws.
  mpsc_queue() : mpsc_queue(mpsc_recycling::off) {}
  explicit mpsc_queue(const Allocator& alloc) : mpsc_queue(mpsc_recycling::off, alloc) {}
  /// An empty queue with its first block, keeping used blocks as `recycling` says (see
  /// "Memory"). Throws what the allocator throws.
  explicit mpsc_queue(mpsc_recycling recycling, const Allocator& alloc = Allocator())
      : alloc_(alloc), recycle_all_(recycling == mpsc_recycling::on) {
    block* const first = new_block();
    set_header(*first, 0, nullptr);
    consumer_->blk = first;
    // ORDERING: (B1) relaxed: whoever hands the queue to other threads publishes it.
    tail_->blk.store(first, std::memory_order_relaxed);
  }
  /// Destroys the remaining elements and frees every block (linked ahead or free too).
  /// Preconditions: no thread is using the queue, and this thread happens-after every push
  /// (e.g. it joined the producers). Complexity: O(size() + blocks).
  ~mpsc_queue();

  // Non-movable: producers work through the address of tail_, and blocks point at each other.
  mpsc_queue(const mpsc_queue&) = delete;
  mpsc_queue& operator=(const mpsc_queue&) = delete;

  /// Producer (any thread): constructs a T from `args` at the back.
  /// Throws what T's constructor throws, or std::bad_alloc from linking the next block; the
  /// queue is then unchanged. Complexity: O(1), plus one step back per block installed while
  /// this thread was preempted between its claim and finding its block; one allocation per
  /// BlockSize pushes at most. Progress: one fetch_add; waits only at a block boundary (see
  /// the class comment).
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  void emplace(Args&&... args) {
    const claim c = claim_slot();
    slot& s = c.blk->slots[c.offset];
    try {
      if constexpr (BlockSize > 1) {
        if (c.offset == 0) prepare_next(*c.blk);
      }
      s.value.with_mut([&](storage* st) {
        // SAFETY: the claim (B4) gave this slot to us alone; the consumer reads it only after
        // our state store (B9), and a reused block's previous element was destroyed before
        // the block went on the free list ((B29) -> (B26) -> (B21) -> (B18) -> (B20) -> (B4)).
        std::construct_at(std::addressof(st->value), std::forward<Args>(args)...);
      });
    } catch (...) {
      publish(s, c.lap | detail::mpsc_slot_skip);
      throw;
    }
    publish(s, c.lap | detail::mpsc_slot_full);
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

  // try_push / try_emplace (always true: the queue grows) come from unbounded_try_push.

  /// Consumer: moves the front element into `out` and reports `item`; or reports `empty`
  /// (nothing claimed that was not popped) or `inconsistent` (the front slot is claimed but
  /// its producer has not published it yet) and leaves `out` alone. If T's move assignment
  /// throws, the element stays at the front.
  /// Complexity: O(1) (plus one step per slot of a failed push). Progress: wait-free.
  mpsc_pop_result try_pop_state(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    std::uint64_t pos = 0;
    mpsc_pop_result why{};
    slot* const s = front_slot<true>(pos, why);
    if (s == nullptr) return why;
    move_out(*s, pos, out);
    return mpsc_pop_result::item;
  }

  /// Consumer: try_pop_state(out) == item, except that it does not read the producers' line
  /// to tell empty from inconsistent (a consumer polling an empty queue does not slow pushes).
  bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    std::uint64_t pos = 0;
    mpsc_pop_result why{};
    slot* const s = front_slot<false>(pos, why);
    if (s == nullptr) return false;
    move_out(*s, pos, out);
    return true;
  }

  /// Consumer: removes and returns the front element, or std::nullopt when try_pop(T&) would
  /// return false. If T's move constructor throws, the element stays at the front.
  /// Complexity: as try_pop(T&). Progress: wait-free.
  [[nodiscard]] std::optional<T> try_pop() noexcept(std::is_nothrow_move_constructible_v<T>)
    requires std::is_move_constructible_v<T>
  {
    std::uint64_t pos = 0;
    mpsc_pop_result why{};
    slot* const s = front_slot<false>(pos, why);
    if (s == nullptr) return std::nullopt;
    return take_out(*s, pos);
  }

  /// Consumer: like try_pop(out), but waits out a push in flight at the front (the
  /// inconsistent state of try_pop_state), spinning with backoff, then yielding; so false
  /// means the queue was empty, never that a producer was slow to publish.
  /// Progress: blocking while the front slot's producer is between its claim and publication.
  bool try_pop_settled(T& out) noexcept(std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    std::uint64_t pos = 0;
    slot* const s = settled_front_slot(pos);
    if (s == nullptr) return false;
    move_out(*s, pos, out);
    return true;
  }

  /// Consumer: try_pop() that waits out a push in flight, as try_pop_settled(T&).
  [[nodiscard]] std::optional<T> try_pop_settled() noexcept(std::is_nothrow_move_constructible_v<T>)
    requires std::is_move_constructible_v<T>
  {
    std::uint64_t pos = 0;
    slot* const s = settled_front_slot(pos);
    if (s == nullptr) return std::nullopt;
    return take_out(*s, pos);
  }

  /// Consumer: the old name of try_pop_settled(out), kept so that existing code compiles.
  [[deprecated("use try_pop_settled(out)")]] bool pop(T& out) noexcept(
      std::is_nothrow_move_assignable_v<T>)
    requires std::is_move_assignable_v<T>
  {
    return try_pop_settled(out);
  }

  /// Whether every claimed slot was popped: exact on the consumer when no push is in flight,
  /// approximate from any other thread. Progress: wait-free.
  [[nodiscard]] bool empty() const noexcept {
    // ORDERING: (B2) relaxed: an estimate.
    const std::uint64_t head = consumer_->shown_pos.load(std::memory_order_relaxed);
    // ORDERING: (B3) relaxed: an estimate; (B7) explains why, on the consumer, the tail is never
    // behind its position.
    return tail_->word.load(std::memory_order_relaxed) == head;
  }

  [[nodiscard]] allocator_type get_allocator() const { return allocator_type(alloc_); }

 private:
  /// A claimed slot: its block, the block's lap (claim word with offset 0) and the offset.
  struct claim {
    block* blk;
    std::uint64_t lap;
    std::uint64_t offset;
  };

  /// The consumer's line: the block it reads and its position (claim-word format), and a copy
  /// of the position that empty() may read from other threads (only the consumer writes it).
  struct consumer_side {
    block* blk = nullptr;
    std::uint64_t pos = 0;
    atomic<std::uint64_t> shown_pos{0};
  };

  /// The producers' line: the claim word, and the newest installed block (read right after
  /// the fetch_add, so from the line that the fetch_add just brought in).
  struct tail_side {
    atomic<std::uint64_t> word{0};
    atomic<block*> blk{nullptr};
  };

  /// Claims a slot (B4) and finds its block (B5): inline when the block is the newest and the
  /// slot is not its last, claim_slow() otherwise.
  FERRITE_ALWAYS_INLINE claim claim_slot() noexcept {
    // ORDERING: (B4) acquire RMW; pairs with the release store (B20) that opened this lap: the
    // fetch_adds after it continue its release sequence, so the installer's (B19) and the
    // block's header happen before our (B5). No release: a claim publishes nothing.
    const std::uint64_t w = tail_->word.fetch_add(1, std::memory_order_acquire);
    const std::uint64_t offset = w & detail::mpsc_offset_mask;
    if (offset + 1 < BlockSize) [[likely]] {
      // ORDERING: (B5) acquire, as (B16) in find_block().
      block* const b = tail_->blk.load(std::memory_order_acquire);
      // SAFETY: as in find_block(): b is this lap's block or a later one, alive.
      if (lap_of(*b) == w - offset) [[likely]]
        return claim{b, w - offset, offset};
    }
    return claim_slow(w);
  }

  /// Consumer: the front slot, holding a published element, and its position (in `pos`),
  /// after stepping over the slots of failed pushes; or nullptr when there is none, with the
  /// reason in `why`. With Tell (try_pop_state, the settled forms) `why` tells empty from
  /// inconsistent; without (try_pop), it says `empty` for both and the producers' line is not
  /// read.
  template <bool Tell>
  FERRITE_ALWAYS_INLINE slot* front_slot(std::uint64_t& pos, mpsc_pop_result& why) noexcept {
    consumer_side& c = consumer_.value;
    for (;;) {
      pos = c.pos;
      const std::uint64_t offset = pos & detail::mpsc_offset_mask;
      slot& s = c.blk->slots[offset];
      // ORDERING: (B6) acquire; pairs with the release store (B9) of the slot's producer: its
      // element, and everything it did to the block before (the link (B21)), is visible.
      const std::uint64_t state = s.state.load(std::memory_order_acquire);
      if (state == ((pos - offset) | detail::mpsc_slot_full)) [[likely]]
        return &s;
      if (state != ((pos - offset) | detail::mpsc_slot_skip)) {
        // Not published in this lap (yet).
        if constexpr (!Tell) {
          why = mpsc_pop_result::empty;  // or inconsistent: not asked
        } else {
          // ORDERING: (B7) relaxed: only compared with our position, nothing is read through
          // it. It is never behind us: the RMW or store that moved the word to `pos` happened
          // before the (B9) that (B6) acquired for the slot before, so coherence forbids
          // reading an older value.
          why = tail_->word.load(std::memory_order_relaxed) == pos ? mpsc_pop_result::empty
                                                                   : mpsc_pop_result::inconsistent;
        }
        return nullptr;
      }
      advance(pos);  // skip: a push that threw; nothing to read
    }
  }

  /// Consumer: front_slot<true> that waits out the inconsistent state (spinning with backoff,
  /// then yielding); nullptr only when the queue is empty.
  slot* settled_front_slot(std::uint64_t& pos) noexcept {
    backoff b;
    for (;;) {
      mpsc_pop_result why{};
      slot* const s = front_slot<true>(pos, why);
      if (s != nullptr || why == mpsc_pop_result::empty) return s;
      b.snooze();
    }
  }

  /// Consumer: moves the element out of the front slot `s` (at `pos`, from front_slot) into
  /// `out`, destroys it and moves past the slot. If the assignment throws, nothing changes.
  FERRITE_ALWAYS_INLINE void move_out(slot& s, std::uint64_t pos,
                                      T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    s.value.with_mut([&](storage* st) {
      // SAFETY: full in this lap, acquired by (B6) in front_slot: the element is constructed
      // and visible, and only the consumer touches a published slot.
      out = std::move(st->value);
      std::destroy_at(std::addressof(st->value));
    });
    advance(pos);
  }

  /// Consumer: move_out into a new std::optional (constructed in place, not assigned, so
  /// that the caller's return value is built directly). If T's move constructor throws,
  /// nothing changes.
  FERRITE_ALWAYS_INLINE std::optional<T> take_out(slot& s, std::uint64_t pos) noexcept(
      std::is_nothrow_move_constructible_v<T>) {
    std::optional<T> out = s.value.with_mut([](storage* st) {
      // SAFETY: as in move_out.
      std::optional<T> moved(std::move(st->value));
      std::destroy_at(std::addressof(st->value));
      return moved;
    });
    advance(pos);
    return out;
  }

  /// Consumer: moves past the slot at `pos`.
  FERRITE_ALWAYS_INLINE void advance(std::uint64_t pos) noexcept {
    consumer_side& c = consumer_.value;
    std::uint64_t next_pos = pos + 1;
    if ((next_pos & detail::mpsc_offset_mask) == BlockSize) [[unlikely]]
      next_pos = next_block(pos);
    c.pos = next_pos;
    // ORDERING: (B8) relaxed: only empty() reads it, for an estimate.
    c.shown_pos.store(next_pos, std::memory_order_relaxed);
  }

  FERRITE_NOINLINE claim claim_slow(std::uint64_t w) noexcept;
  block* find_block(std::uint64_t lap) noexcept;
  void prepare_next(block& b);
  void install_next(block& b, std::uint64_t lap) noexcept;
  block* link_next(block& b);
  FERRITE_NOINLINE std::uint64_t next_block(std::uint64_t pos) noexcept;
  void retire(block* b) noexcept;
  block* take_free() noexcept;
  void put_free(block* first, block* last) noexcept;

  static void publish(slot& s, std::uint64_t state) noexcept {
    // ORDERING: (B9) release; pairs with (B6) of the consumer: the element constructed in the
    // slot, and all of this producer's accesses to the block, happen before the consumer
    // reads the slot (and so before it frees the block).
    s.state.store(state, std::memory_order_release);
  }

  static std::uint64_t lap_of(const block& b) noexcept {
    return b.lap.with([](const std::uint64_t* lap) { return *lap; });
  }

  static void set_header(block& b, std::uint64_t lap, block* prev) noexcept {
    b.lap.with_mut([&](std::uint64_t* l) { *l = lap; });
    b.prev.with_mut([&](block** p) { *p = prev; });
  }

  block* new_block() {
    block* const b = block_traits::allocate(alloc_, 1);
    // SAFETY: fresh storage for one block; value-initializing atomics and empty cells cannot
    // throw.
    block_traits::construct(alloc_, b);
    return b;
  }

  void delete_block(block* b) noexcept {
    block_traits::destroy(alloc_, b);
    block_traits::deallocate(alloc_, b, 1);
  }

  // Read-only after construction.
  [[no_unique_address]] block_allocator alloc_;
  const bool recycle_all_;
  // The consumer's line: written by every pop, read by producers never (empty() aside).
  cache_padded<consumer_side> consumer_;
  // The producers' line: every push RMWs the word; kept off the consumer's line.
  cache_padded<tail_side> tail_;
  // The free list (a stack linked through `next`): the consumer pushes a block per block
  // used, the preparer of a block takes the whole list; on its own line, touched about once
  // per block by each.
  cache_padded<atomic<block*>> free_{nullptr};
};

}  // namespace ferrite::sync

#include "ferrite/sync/detail/mpsc_queue_impl.hpp"
