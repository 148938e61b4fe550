// SPDX-License-Identifier: Apache-2.0
// ws_deque<T>: the Chase-Lev work-stealing deque (D. Chase, Y. Lev, "Dynamic Circular
// Work-Stealing Deque", SPAA 2005) with the C11 memory orderings of N. M. Lê, A. Pop, A. Cohen,
// F. Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models" (PPoPP 2013).
// One owner thread pushes and pops at the bottom (LIFO, no RMW unless one element is left);
// any thread steals from the top (FIFO, one CAS). The ring grows by doubling; outgrown rings
// stay allocated until the deque is destroyed, so a thief holding an old ring pointer never
// reads freed memory and no reclamation scheme is needed.
//
// ```cpp
// ferrite::sync::ws_deque<task*> dq;          // owned by one worker thread
// dq.push(t);                                 // owner
// std::optional<task*> mine = dq.pop();       // owner: newest first
// auto r = dq.steal();                        // any other thread: oldest first
// if (r.is_success()) run(r.value());         // else r.is_empty() or r.is_retry()
// ```
//
// When not to use it: as a general MPMC queue (one thread owns the bottom end), or for
// elements that are not trivially copyable when allocation per push matters (they are boxed,
// see below): store pointers or small handles instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/detail/ws_deque_ring.hpp"

namespace ferrite::sync {

/// What a steal attempt found (crossbeam's Steal).
enum class steal_status : unsigned char {
  empty,    ///< the deque was empty
  success,  ///< an element was taken
  retry,    ///< lost a race with another thief or the owner for the top element: try again
};

/// The outcome of ws_deque::steal(): a status, and the element when it is `success`.
template <class T>
class steal_result {
 public:
  /// An empty or retry result. Preconditions: `status != steal_status::success`.
  explicit steal_result(steal_status status) noexcept : status_(status) {
    FERRITE_DEBUG_ASSERT(status != steal_status::success, "a success needs a value");
  }
  /// A success holding `value`.
  explicit steal_result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(value)), status_(steal_status::success) {}

  [[nodiscard]] steal_status status() const noexcept { return status_; }
  [[nodiscard]] bool is_empty() const noexcept { return status_ == steal_status::empty; }
  [[nodiscard]] bool is_success() const noexcept { return status_ == steal_status::success; }
  [[nodiscard]] bool is_retry() const noexcept { return status_ == steal_status::retry; }

  /// The stolen element. Preconditions: is_success() (FERRITE_DEBUG_ASSERT).
  [[nodiscard]] T& value() & noexcept {
    FERRITE_DEBUG_ASSERT(is_success());
    return *value_;  // NOLINT(bugprone-unchecked-optional-access): the precondition
  }
  [[nodiscard]] T&& value() && noexcept {
    FERRITE_DEBUG_ASSERT(is_success());
    return std::move(*value_);  // NOLINT(bugprone-unchecked-optional-access): the precondition
  }

 private:
  std::optional<T> value_;
  steal_status status_;
};

/// A growable work-stealing deque: owner-only push/pop at the bottom, steal() from any thread.
///
/// Storage: elements live in relaxed atomic 64-bit words (detail::ws_slot), never in plain
/// memory. A thief reads its slot *before* the CAS that decides whether the element is its to
/// take, and that read may overlap the owner's overwrite of the slot a lap later (the CAS then
/// fails and the copy is thrown away): with atomic words this is not a data race by the C++
/// model (crossbeam's Buffer uses volatile accesses there and notes that, technically, they
/// race).
/// Hence two modes, chosen by T:
///   - trivially copyable T is stored inline, ceil(sizeof(T) / 8) words per slot;
///   - any other T (move-only, with a destructor: std::unique_ptr, std::function) is boxed:
///     push allocates a T on the heap and the slot stores the pointer; the winner of pop or
///     steal moves the element out and deletes the box. Requires nothrow move construction.
///
/// Ring growth and retirement: push doubles the ring when it is full, copying the live
/// positions [top, bottom) and publishing the new ring with a release store. The outgrown ring
/// is linked from the new one and freed only by the destructor (the paper's code never frees
/// an outgrown array either): a thief that loaded the old pointer may still read it, and its
/// slots still hold the values of the positions it could win. Memory kept: the outgrown rings
/// sum to less than the current one, so at most twice the peak capacity; the ring never
/// shrinks. crossbeam retires old buffers through epochs instead, at the price of a pin per
/// steal and a check that the buffer did not change; growth is rare enough in a
/// scheduler (it stops at the peak number of queued tasks) that keeping them is cheaper.
///
/// Orderings, numbered as in the ORDERING comments of ws_deque_impl.hpp (reading order, which
/// is the paper's C11 code's order; the table of pairs is at the top of that file):
/// ```
///   push (owner)                   pop (owner)                     steal (any thread)
///   (D1) b = bottom (relaxed)      (D4) b = bottom - 1 (relaxed)   (D11) t = top (acquire)
///   (D2) t = top (acquire)*        (D5) bottom = b (release)       (D12) fence(seq_cst)
///        grow if full: (D16)       (D6) fence(seq_cst)             (D13) b = bottom (acquire)
///        slot[b] = x (relaxed)     (D7) t = top (relaxed)                empty if t >= b
///   (D3) bottom = b + 1 (release)       t > b: empty, (D8) restore (D14) ring (acquire)
///                                       t == b: (D9) CAS top        x = slot[t] (relaxed)
///                                       seq_cst, (D10) restore     (D15) CAS top t -> t+1
///                                                                        seq_cst; retry if lost
///   * push reloads top only when a cached copy says the ring may be full.
/// ```
/// (D6)/(D12) are the store-buffering pair that keeps the owner and a thief from both taking
/// position b without a CAS between them. The paper's release fence before push's relaxed
/// store of bottom is folded into a release store of bottom (D3), and pop's bottom stores
/// (D5)/(D8)/(D10) are release too: every bottom value a thief acquires then carries the writes of
/// all pushes before it, which is what the fence gave, and ThreadSanitizer can see it (it does
/// not model fences; crossbeam does the same in its TSan builds). On x86-64 the code is the
/// same: every one of them is a plain store.
///
/// Progress: push and pop are wait-free (pop makes at most one CAS; push is amortized O(1),
/// O(n) when it grows, and allocates when it grows or boxes). steal is wait-free per call
/// (one attempt: a `retry` means another thread took the element) and lock-free as a loop.
///
/// \warning push, emplace, pop and capacity belong to the owner: calling them from two threads
/// at once (or from a thief) is a data race. Thieves and the owner may run concurrently.
template <class T>
class ws_deque {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "ws_deque stores non-const, non-volatile object types");
  static_assert(std::is_trivially_copyable_v<T> ||
                    (std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>),
                "ws_deque boxes non-trivially-copyable elements and moves them out of the box "
                "after winning them: T must move and destroy without throwing");

 public:
  using value_type = T;
  using size_type = std::size_t;

  /// True when elements are boxed (T is not trivially copyable): one allocation per push.
  static constexpr bool boxed = !std::is_trivially_copyable_v<T>;

  /// An empty deque with room for next_pow2(max(capacity, 1)) elements before it first grows.
  /// Throws std::length_error above 2^40 slots, std::bad_alloc.
  explicit ws_deque(size_type capacity = 64);

  /// Destroys the elements left (boxed mode) and frees every ring.
  /// Preconditions: no thread uses the deque, and this thread happens-after every operation.
  ~ws_deque();

  // Non-copyable and non-movable: thieves hold its address.
  ws_deque(const ws_deque&) = delete;
  ws_deque& operator=(const ws_deque&) = delete;

  /// Owner only. Constructs a T from `args` at the bottom. Throws what T's constructor
  /// throws, std::bad_alloc (boxing, growth) and std::length_error (growth past 2^40 slots);
  /// then the deque is unchanged. Complexity: amortized O(1). Progress: wait-free.
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  void emplace(Args&&... args);

  /// Owner only. emplace(value) / emplace(std::move(value)).
  void push(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    emplace(value);
  }
  void push(T&& value) { emplace(std::move(value)); }

  /// Owner only. Removes and returns the most recently pushed element still present, or
  /// std::nullopt when the deque is empty (or a thief won its last element).
  /// Complexity: O(1). Progress: wait-free (one CAS, only for the last element).
  std::optional<T> pop() noexcept;

  /// Any thread. Takes the oldest element: success(value), empty, or retry when another thief
  /// or the owner won it first. Complexity: O(sizeof(T)). Progress: wait-free per attempt.
  steal_result<T> steal() noexcept;

  /// bottom - top, clamped at 0: exact when no operation is in flight. Any thread; wait-free.
  [[nodiscard]] size_type size_approx() const noexcept;

  /// Whether size_approx() is 0.
  [[nodiscard]] bool empty() const noexcept { return size_approx() == 0; }

  /// Owner only. Elements the current ring holds before push grows it.
  [[nodiscard]] size_type capacity() const noexcept {
    return static_cast<size_type>(owner_->cached_array->mask + 1);
  }

 private:
  using stored = std::conditional_t<boxed, T*, T>;
  using ring = detail::ws_ring<stored>;

  template <class... Args>
  static stored make_stored(Args&&... args);
  static T unbox(stored s) noexcept;
  ring* grow(ring* old, std::int64_t t, std::int64_t b);

  // Thieves' line: top is CAS-ed by every steal (and by pop for the last element).
  cache_padded<atomic<std::int64_t>> top_{0};
  // Owner's line: bottom and the ring pointer, written by the owner, read by thieves (one miss
  // brings both); plus owner-only caches that no other thread touches.
  struct owner_side {
    atomic<std::int64_t> bottom{0};
    atomic<ring*> array{nullptr};
    ring* cached_array = nullptr;  // == array, without the atomic load (owner only)
    std::int64_t cached_top = 0;   // a lower bound of top, last read by (D2) (owner only)
  };
  cache_padded<owner_side> owner_;
};

}  // namespace ferrite::sync

#include "ferrite/sync/detail/ws_deque_impl.hpp"
