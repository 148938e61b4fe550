// SPDX-License-Identifier: Apache-2.0
// A hierarchical timer wheel (Varghese and Lauck, "Hashed and hierarchical timing wheels",
// SOSP 1987; the layout of tokio's): 6 levels of 64 slots, 1 tick per slot at level 0 and
// 64^L ticks per slot at level L, so 64^6 ticks (2^36 ms, about 2.2 years at 1 ms) ahead.
// Insert and cancel are O(1) (an intrusive list per slot, a bitmap of occupied slots per
// level); advancing visits only occupied slots, moving the entries of a higher level's slot
// down a level when its time comes. Not thread-safe: the timer driver locks around it. Not a
// public header.
//
// An entry sits at the level of the highest 6-bit group in which its deadline differs from
// the wheel's current tick, so every entry of level L is due within the current level-(L+1)
// window, after every slot before its own; advancing in slot order therefore fires entries in
// deadline order, and none early (an entry is fired only once the current tick reached its
// deadline; a too-far deadline is parked in the top level and moved down when it comes up).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>

#include "ferrite/core/contract.hpp"
#include "ferrite/sync/intrusive_list.hpp"

namespace ferrite::rt::detail {

/// One timer in a wheel. Owned by its user (a sleep awaiter); linked while armed.
struct wheel_entry {
  sync::list_hook hook;
  std::uint64_t deadline = 0;  ///< the tick it is due at
  std::uint8_t level = 0;      ///< where it is linked (the wheel's, while armed)
  std::uint8_t slot = 0;
  [[nodiscard]] bool armed() const noexcept { return hook.is_linked(); }
};

class timer_wheel {
 public:
  static constexpr unsigned levels = 6;
  static constexpr unsigned slot_bits = 6;
  static constexpr std::uint64_t slots = 1U << slot_bits;
  static constexpr std::uint64_t horizon = std::uint64_t{1} << (levels * slot_bits);

  /// The wheel's current tick: everything due at or before it has been fired.
  [[nodiscard]] std::uint64_t now() const noexcept { return elapsed_; }
  [[nodiscard]] bool empty() const noexcept { return armed_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return armed_; }

  /// Arms `e` for `e.deadline`. Returns false (and leaves it unarmed) when the deadline is
  /// not after now(): the caller fires it itself. O(1).
  bool insert(wheel_entry& e) noexcept {
    FERRITE_DEBUG_ASSERT(!e.armed(), "timer_wheel: entry already armed");
    if (e.deadline <= elapsed_) return false;
    place(e);
    ++armed_;
    return true;
  }

  /// Disarms `e` if it is armed. O(1).
  void remove(wheel_entry& e) noexcept {
    if (!e.armed()) return;
    e.hook.unlink();
    --armed_;
    if (slots_[e.level][e.slot].empty()) occupied_[e.level] &= ~(std::uint64_t{1} << e.slot);
  }

  /// The tick at which advance() will next have something to do, if any: the start of the
  /// earliest occupied slot (a lower bound on the earliest deadline; advancing to it fires
  /// what is due, or moves entries down a level). O(levels).
  [[nodiscard]] std::optional<std::uint64_t> next_expiration() const noexcept {
    for (unsigned level = 0; level < levels; ++level) {
      if (occupied_[level] == 0) continue;
      return slot_start(level, first_occupied(level));
    }
    return std::nullopt;
  }

  /// Moves the wheel to tick `to` (never backwards), calling `fire(entry&)` for every entry
  /// due by then, in deadline order; entries are disarmed before `fire` sees them, and `fire`
  /// may insert or remove other entries.
  template <class Fire>
  void advance(std::uint64_t to, Fire&& fire) {
    while (true) {
      const std::optional<std::uint64_t> next = next_expiration();
      if (!next || *next > to) break;
      unsigned level = 0;
      while (occupied_[level] == 0) ++level;
      const std::uint64_t slot = first_occupied(level);
      elapsed_ = std::max(elapsed_, *next);
      // Nothing lands in this slot meanwhile: a deadline inside its range is closer to
      // elapsed_ than the slot's level, so fire() and place() link it a level lower.
      auto& list = slots_[level][slot];
      occupied_[level] &= ~(std::uint64_t{1} << slot);
      while (wheel_entry* const popped = list.pop_front()) {
        wheel_entry& e = *popped;
        if (e.deadline <= elapsed_) {
          --armed_;
          fire(e);
        } else {
          place(e);  // not due yet: down to the level its distance now needs
        }
      }
    }
    elapsed_ = std::max(elapsed_, to);
  }

 private:
  /// The level for a deadline: the highest 6-bit group in which it differs from now.
  [[nodiscard]] unsigned level_of(std::uint64_t deadline) const noexcept {
    std::uint64_t masked = (elapsed_ ^ deadline) | (slots - 1);
    if (masked >= horizon) masked = horizon - 1;  // another top window: the top level
    const auto significant = static_cast<unsigned>(63 - std::countl_zero(masked));
    return significant / slot_bits;
  }
  [[nodiscard]] static std::uint64_t slot_of(std::uint64_t deadline, unsigned level) noexcept {
    return (deadline >> (level * slot_bits)) & (slots - 1);
  }
  [[nodiscard]] std::uint64_t first_occupied(unsigned level) const noexcept {
    // The slots after the current one come first, in order, and the current slot last: at
    // levels above 0 it holds only a top-level entry parked past the horizon (due in the
    // next window); at level 0 it is now, which holds nothing (deadlines are after now).
    const std::uint64_t after_now = (slot_of(elapsed_, level) + 1) & (slots - 1);
    const std::uint64_t rotated = std::rotr(occupied_[level], static_cast<int>(after_now));
    return (static_cast<std::uint64_t>(std::countr_zero(rotated)) + after_now) & (slots - 1);
  }
  [[nodiscard]] std::uint64_t slot_start(unsigned level, std::uint64_t slot) const noexcept {
    const unsigned shift = level * slot_bits;
    const std::uint64_t level_range = std::uint64_t{1} << (shift + slot_bits);
    const std::uint64_t window = elapsed_ & ~(level_range - 1);
    std::uint64_t start = window + (slot << shift);
    if (start <= elapsed_) start += level_range;  // the slot of the next window (the top level)
    return start;
  }
  void place(wheel_entry& e) noexcept {
    // Past the horizon: linked where the horizon ends, moved down (or along) when it comes.
    const std::uint64_t target = std::min(e.deadline, elapsed_ + horizon - 1);
    const unsigned level = level_of(target);
    const std::uint64_t slot = slot_of(target, level);
    e.level = static_cast<std::uint8_t>(level);
    e.slot = static_cast<std::uint8_t>(slot);
    slots_[level][slot].push_back(e);
    occupied_[level] |= std::uint64_t{1} << slot;
  }

  std::uint64_t elapsed_ = 0;
  std::size_t armed_ = 0;
  std::array<std::uint64_t, levels> occupied_{};
  std::array<std::array<sync::intrusive_list<wheel_entry, &wheel_entry::hook>, slots>, levels>
      slots_;
};

}  // namespace ferrite::rt::detail
