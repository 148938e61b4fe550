// SPDX-License-Identifier: Apache-2.0
// The lock-free state machine behind rt::oneshot<T>: one atomic byte of five flags, a cell
// for the value and a cell for the receiver's waker, shared by exactly one sender and one
// receiver. Sending is one CAS (plus the wake when the receiver waits); receiving a value
// that is there is one load. Who frees the state: whoever clears the last of the two
// `alive` flags. Driven by plain wakers, so the model tests run sender and receiver as model
// threads (tests/model/rt_oneshot_model_test.cpp). Not a public header. tokio's oneshot has
// the same shape (a state word with VALUE_SENT / RX_TASK_SET / CLOSED bits).
//
// Who owns the cells when:
//  - value_: the sender's until its completing CAS (O2) sets `complete`; then the
//    receiver's (it takes the value out). If the receiver is gone, the sender keeps it.
//  - waker_: the receiver's while `rx_waiting` is clear. Setting `rx_waiting` (O5)
//    publishes it to the sender; the sender takes it if its completing CAS saw the flag; the
//    receiver takes it back only by clearing the flag before completion (O6), or after a
//    completion that did not see it.
//
// ORDERING table:
//  (O1) acquire load of the state (the sender's first look, is_closed): pairs with the
//       receiver's release (O7), so a sender that sees the receiver gone may free the state.
//  (O2) acq_rel CAS completing the send or the sender's drop: release publishes the value
//       to the receiver's acquires (O4) and (O5); acquire pairs with (O5), so a sender that
//       sees `rx_waiting` reads the waker the receiver stored.
//  (O3) acq_rel fetch_and clearing `tx_alive` after the wake: release orders the sender's
//       last use of waker_ before a receiver that frees; acquire orders a receiver's last
//       accesses before the free when the sender is last.
//  (O4) acquire load of the state by the receiver's poll: pairs with (O2).
//  (O5) acq_rel fetch_or setting `rx_waiting`: release publishes the waker to (O2); acquire
//       pairs with (O2) when the send completed first (the value is then read).
//  (O6) acquire CAS clearing `rx_waiting` before completion (a stop, or the awaiter
//       destroyed): pairs with (O5) when a stop callback on another thread takes the waker
//       the receiver stored.
//  (O7) acq_rel fetch_and clearing `rx_alive` (receiver dropped): as (O3), for the other
//       side.
//  (O8) relaxed fetch_and clearing `rx_waiting` after a completion that did not see it:
//       nobody else writes the flag any more; the receiver owns the waker again.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/waker.hpp"

namespace ferrite::rt::detail {

/// What a oneshot receiver's poll found.
enum class oneshot_poll : std::uint8_t {
  value,    ///< the value is there: take_value()
  closed,   ///< the sender was dropped without sending
  pending,  ///< nothing yet
};

/// The shared state of one oneshot<T>. Created with both sides alive; every member names
/// the side that may call it. Whoever is told it was last (`true` from the drop functions)
/// destroys the state. Non-copyable and non-movable: both handles point at it.
template <class T>
class oneshot_core {
  static_assert(std::is_move_constructible_v<T>, "rt::oneshot<T>: T must be movable");

 public:
  oneshot_core() noexcept = default;
  oneshot_core(const oneshot_core&) = delete;
  oneshot_core& operator=(const oneshot_core&) = delete;
  ~oneshot_core() = default;

  // -- sender side -----------------------------------------------------------------------

  /// What send() did: whether the value went, and whether the sender's handle is gone
  /// (`done`; with `last`, it must destroy the state).
  struct send_outcome {
    bool sent;
    bool last;
  };

  /// Stores `v` for the receiver and wakes it if it waits. On success the sender is done
  /// (it must not call anything else; `last` says whether to destroy the state). If the
  /// receiver is gone, nothing is sent: the value waits for take_back(), and the sender is
  /// still alive. Progress: lock-free (one CAS loop), plus the wake.
  [[nodiscard]] send_outcome send(T&& v) {
    value_.with_mut([&](std::optional<T>* o) { o->emplace(std::move(v)); });
    // ORDERING: (O1) acquire; see the table.
    std::uint8_t s = state_.load(std::memory_order_acquire);
    if (!complete_sender(s, true)) return {false, false};
    return {true, s & rx_waiting ? wake_receiver() : false};
  }

  /// After a send() that did not happen: the value, back.
  [[nodiscard]] T take_back() {
    return value_.with_mut([](std::optional<T>* o) {
      T v = std::move(**o);
      o->reset();
      return v;
    });
  }

  /// The sender is dropped without sending: completes with no value (waking a waiting
  /// receiver). Returns whether the caller must destroy the state.
  [[nodiscard]] bool drop_sender() noexcept {
    // ORDERING: (O1) acquire; see the table.
    std::uint8_t s = state_.load(std::memory_order_acquire);
    const bool completed = complete_sender(s, false);
    FERRITE_DEBUG_ASSERT(completed, "rt::oneshot: a sender without value cannot fail");
    static_cast<void>(completed);
    if ((s & rx_waiting) != 0) return wake_receiver();
    return (s & rx_alive) == 0;  // the CAS cleared the last alive flag
  }

  /// The sender dropped after a send() that did not happen. Returns whether to destroy.
  [[nodiscard]] bool release_sender() noexcept { return clear_tx_alive(); }

  /// Whether the receiver is gone (a hint for the sender: a send now would fail).
  [[nodiscard]] bool receiver_gone() const noexcept {
    // ORDERING: (O1) acquire; see the table.
    return (state_.load(std::memory_order_acquire) & rx_alive) == 0;
  }

  // -- receiver side ---------------------------------------------------------------------

  /// Looks without waiting. Progress: wait-free (one load).
  [[nodiscard]] oneshot_poll poll() const noexcept {
    // ORDERING: (O4) acquire; see the table.
    return outcome(state_.load(std::memory_order_acquire));
  }

  /// The value, after a poll that found it. Preconditions: poll() gave value, and the value
  /// was not taken before.
  [[nodiscard]] T take_value() { return take_back(); }

  /// Stores `to_wake` for the sender to wake, unless the send already completed (then
  /// gives the outcome and keeps nothing). Preconditions: no waker is registered.
  [[nodiscard]] oneshot_poll register_waker(waker&& to_wake) noexcept {
    waker_.with_mut([&](waker* w) { *w = std::move(to_wake); });
    // ORDERING: (O5) acq_rel; see the table.
    const std::uint8_t prev = state_.fetch_or(rx_waiting, std::memory_order_acq_rel);
    if ((prev & complete) == 0) return oneshot_poll::pending;
    // The sender completed without seeing the flag and will not touch the waker.
    // ORDERING: (O8) relaxed; see the table.
    state_.fetch_and(static_cast<std::uint8_t>(~rx_waiting), std::memory_order_relaxed);
    waker_.with_mut([](waker* w) { w->reset(); });
    return outcome(prev);
  }

  /// Takes the registered waker back if the sender has not completed (returns it: the
  /// caller wakes it for a stop, drops it when its awaiter is destroyed); returns an empty
  /// waker if the sender completed (it wakes, or woke, the receiver) or nothing is
  /// registered.
  [[nodiscard]] waker unregister() noexcept {
    // ORDERING: relaxed: only a first guess for the CAS below (O6), which acquires.
    std::uint8_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((s & rx_waiting) == 0 || (s & complete) != 0) return waker();
      // ORDERING: (O6) acquire; see the table.
      if (state_.compare_exchange_weak(s, static_cast<std::uint8_t>(s & ~rx_waiting),
                                       std::memory_order_acquire, std::memory_order_relaxed)) {
        return waker_.with_mut([](waker* w) { return std::move(*w); });
      }
    }
  }

  /// The receiver is dropped. Returns whether the caller must destroy the state.
  /// Preconditions: no waker is registered unless the send completed.
  [[nodiscard]] bool drop_receiver() noexcept {
    // ORDERING: (O7) acq_rel; see the table.
    const std::uint8_t prev =
        state_.fetch_and(static_cast<std::uint8_t>(~rx_alive), std::memory_order_acq_rel);
    return (prev & tx_alive) == 0;
  }

 private:
  static constexpr std::uint8_t tx_alive = 1U << 0;
  static constexpr std::uint8_t rx_alive = 1U << 1;
  static constexpr std::uint8_t complete = 1U << 2;
  static constexpr std::uint8_t has_value = 1U << 3;
  static constexpr std::uint8_t rx_waiting = 1U << 4;

  static oneshot_poll outcome(std::uint8_t s) noexcept {
    if ((s & complete) == 0) return oneshot_poll::pending;
    return (s & has_value) != 0 ? oneshot_poll::value : oneshot_poll::closed;
  }

  /// The sender's completing CAS (with or without the value), from the observed state `s`
  /// (updated to the state it replaced). Keeps `tx_alive` when the receiver waits (the
  /// sender still has to take the waker), clears it otherwise. Fails (returns false,
  /// changing nothing) if the receiver is gone and a value was to be sent.
  bool complete_sender(std::uint8_t& s, bool with_value) noexcept {
    for (;;) {
      if (with_value && (s & rx_alive) == 0) return false;
      auto desired = static_cast<std::uint8_t>(s | complete | (with_value ? has_value : 0));
      if ((s & rx_waiting) == 0) desired = static_cast<std::uint8_t>(desired & ~tx_alive);
      // ORDERING: (O2) acq_rel; see the table.
      if (state_.compare_exchange_weak(s, desired, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        return true;
      }
    }
  }

  /// After a completing CAS that saw `rx_waiting`: takes the waker, wakes the receiver,
  /// then lets go. Returns whether the sender was last (destroys the state).
  bool wake_receiver() noexcept {
    waker w = waker_.with_mut([](waker* p) { return std::move(*p); });
    std::move(w).wake();
    return clear_tx_alive();
  }

  bool clear_tx_alive() noexcept {
    // ORDERING: (O3) acq_rel; see the table.
    const std::uint8_t prev =
        state_.fetch_and(static_cast<std::uint8_t>(~tx_alive), std::memory_order_acq_rel);
    return (prev & rx_alive) == 0;
  }

  /// tx_alive, rx_alive: the handle exists. complete: the sender sent or was dropped (it
  /// changes nothing more but tx_alive). has_value: complete with a value. rx_waiting: waker_
  /// holds the receiver's waker, published to the sender.
  /// Invariant: has_value implies complete; after complete, only tx_alive, rx_alive and
  /// rx_waiting (cleared) change; the state is destroyed once both alive flags are clear.
  atomic<std::uint8_t> state_{tx_alive | rx_alive};
  cell<std::optional<T>> value_;
  cell<waker> waker_;
};

}  // namespace ferrite::rt::detail
