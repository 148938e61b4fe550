// SPDX-License-Identifier: Apache-2.0
// The slot storage the queues share: slot_storage<T>, uninitialized room for one element that a
// producer constructs and a consumer destroys, and the helpers behind a ring of slots (rounding
// a requested capacity to a power of two that can be allocated, and allocating and freeing the
// slot array aligned to whole cache lines). Not a public header.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>

#include "ferrite/core/bits.hpp"
#include "ferrite/core/cache_padded.hpp"

namespace ferrite::sync::detail {

/// Uninitialized room for one T inside a queue slot: the union keeps `value` unconstructed
/// until a producer constructs it with std::construct_at, and never destroys it on its own
/// (the consumer, or the queue's destructor, does).
template <class T>
union slot_storage {
  constexpr slot_storage() noexcept {}
  constexpr ~slot_storage() {}
  slot_storage(const slot_storage&) = delete;
  slot_storage& operator=(const slot_storage&) = delete;

  T value;
};

/// The alignment of a slot array: at least a cache line, so that no neighbouring heap object
/// shares a line with the first or the last slot.
template <class Slot>
inline constexpr std::size_t ring_alignment = alignof(Slot) > cache_line_size ? alignof(Slot)
                                                                              : cache_line_size;

/// `next_pow2(max(requested, 1))`, the slot count of a ring asked for `requested` slots.
/// Throws std::length_error(`what`) when that is above `max_slots` or its byte size (rounded
/// up to whole lines) would not fit in a size_t.
template <class Slot>
std::size_t round_capacity(std::size_t requested, std::size_t max_slots, const char* what) {
  constexpr std::size_t max_by_bytes =
      (std::numeric_limits<std::size_t>::max() - ring_alignment<Slot>) / sizeof(Slot);
  const std::size_t rounded = next_pow2(requested);  // next_pow2(0) == 1; 0 when too large
  if (rounded == 0 || rounded > max_by_bytes || rounded > max_slots) throw std::length_error(what);
  return rounded;
}

/// The byte size of an array of `count` slots, rounded up to whole lines.
/// Preconditions: `count` came from round_capacity<Slot> (the size does not wrap).
template <class Slot>
constexpr std::size_t slot_bytes(std::size_t count) noexcept {
  return align_up(count * sizeof(Slot), ring_alignment<Slot>);
}

/// An array of `count` default-constructed slots, aligned to ring_alignment<Slot>.
/// Throws std::bad_alloc. Preconditions: `count` came from round_capacity<Slot>, and Slot's
/// default constructor does not throw.
template <class Slot>
Slot* allocate_slots(std::size_t count) {
  // SAFETY: raw storage for `count` slots, aligned for Slot, constructed just below and
  // released by deallocate_slots with the matching aligned operator delete. Constructing a
  // slot (atomics, cells of an empty union) does not throw, so nothing needs rolling back.
  void* const raw = ::operator new(slot_bytes<Slot>(count), std::align_val_t{ring_alignment<Slot>});
  auto* const slots = static_cast<Slot*>(raw);
  std::uninitialized_default_construct_n(slots, count);
  return slots;
}

/// Destroys the `count` slots of an array from allocate_slots<Slot>(count) and frees it. The
/// elements in them must have been destroyed already (a slot does not know whether it holds
/// one).
template <class Slot>
void deallocate_slots(Slot* slots, std::size_t count) noexcept {
  std::destroy_n(slots, count);
  ::operator delete(slots, slot_bytes<Slot>(count), std::align_val_t{ring_alignment<Slot>});
}

}  // namespace ferrite::sync::detail
