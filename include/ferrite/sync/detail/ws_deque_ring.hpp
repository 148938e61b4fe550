// SPDX-License-Identifier: Apache-2.0
// The circular array behind ws_deque: a power-of-two ring of slots, each slot a row of relaxed
// atomic 64-bit words holding one trivially copyable value, so that a thief's speculative read
// of a slot the owner is overwriting is not a data race (the value read is then discarded).
// Outgrown rings are kept, linked from their successor, until the deque is destroyed. Not a
// public header.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/bits.hpp"
#include "ferrite/sync/detail/ring_storage.hpp"

namespace ferrite::sync::detail {

/// One element's worth of relaxed atomic words.
template <class S>
struct ws_slot {
  static_assert(std::is_trivially_copyable_v<S>, "slots hold bytes: S must be trivially copyable");
  /// Bytes of S. S is a box pointer in boxed mode: its own size is meant.
  static constexpr std::size_t size = sizeof(S);  // NOLINT(bugprone-sizeof-expression)
  static constexpr std::size_t word_count =
      (size + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);
  using word_array = std::array<std::uint64_t, word_count>;

  /// Writes `value` word by word. Only the owner writes slots.
  void store(const S& value) noexcept {
    word_array w{};
    // SAFETY: S is trivially copyable and size <= sizeof(w): copying its bytes into words
    // (padding included) is how it is meant to be copied.
    std::memcpy(w.data(), static_cast<const void*>(std::addressof(value)), size);
    for (std::size_t i = 0; i < word_count; ++i) {
      // ORDERING: (S1) relaxed; published by the release store of bottom (D3) that follows,
      // or by the release store of a grown ring (D16).
      words[i].store(w[i], std::memory_order_relaxed);
    }
  }

  /// Reads the value word by word. A read that overlaps the owner's store of a later lap may
  /// mix two values; callers discard it then (their CAS on top fails).
  [[nodiscard]] S load() const noexcept {
    word_array w;
    for (std::size_t i = 0; i < word_count; ++i) {
      // ORDERING: (S2) relaxed; ordered after the slot's store (S1) by the acquire load of
      // bottom (D13) or of the ring (D14) in steal, or by program order in the owner.
      w[i] = words[i].load(std::memory_order_relaxed);
    }
    if constexpr (size == sizeof(word_array)) {
      return std::bit_cast<S>(w);
    } else {
      std::array<std::byte, size> bytes;
      // SAFETY: the first `size` bytes of `w` are the object representation store() wrote.
      std::memcpy(bytes.data(), w.data(), size);
      return std::bit_cast<S>(bytes);
    }
  }

  atomic<std::uint64_t> words[word_count];
};

/// A ring of 2^k slots. Position p lives in slot p & mask.
template <class S>
struct ws_ring {
  /// The largest ring: 2^40 slots (positions are signed 64-bit and never wrap).
  static constexpr std::size_t max_slots = std::size_t{1} << 40U;

  explicit ws_ring(std::size_t count)
      : mask(static_cast<std::int64_t>(count) - 1), slots(allocate_slots<ws_slot<S>>(count)) {}
  ~ws_ring() { deallocate_slots(slots, static_cast<std::size_t>(mask) + 1); }
  // Not copyable or movable: thieves hold the ring's address.
  ws_ring(const ws_ring&) = delete;
  ws_ring& operator=(const ws_ring&) = delete;

  ws_slot<S>& at(std::int64_t pos) noexcept { return slots[static_cast<std::size_t>(pos & mask)]; }

  /// next_pow2(max(requested, 1)); throws std::length_error above max_slots.
  static std::size_t round(std::size_t requested) {
    return round_capacity<ws_slot<S>>(requested, max_slots,
                                      "ferrite::sync::ws_deque: capacity too large");
  }

  /// A new ring of `count` slots (a power of two). Throws std::bad_alloc.
  static ws_ring* create(std::size_t count) { return new ws_ring(count); }

  const std::int64_t mask;
  ws_slot<S>* const slots;  // from allocate_slots: cache-line aligned, freed by ~ws_ring
  /// The ring this one replaced, kept for thieves that may still read it (owner writes it
  /// before publishing this ring; freed with this ring by the deque's destructor).
  std::unique_ptr<ws_ring> older;
};

}  // namespace ferrite::sync::detail
