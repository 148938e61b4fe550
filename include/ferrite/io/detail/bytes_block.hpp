// SPDX-License-Identifier: Apache-2.0
// The shared storage of io::bytes and io::bytes_mut: one allocation holding a reference count,
// the capacity, the pool it returns to (or none) and then the bytes. Every bytes/bytes_mut
// that refers to any part of a block holds one reference; the last one to let go frees the
// block or hands it back to its buffer_pool.
//
// ORDERING: the atomic operations on bytes_block::refs, and their pairs
//   (B1) retain:   fetch_add(relaxed). A new reference is made from one the thread already
//                  holds, which keeps the block alive; nothing is published by it.
//   (B2) release:  fetch_sub(acq_rel). Its release half pairs with the acquire half of the
//                  decrement that drops the last reference: every holder's reads and writes
//                  of the bytes happen before the block is freed or reused. (acq_rel rather
//                  than release + an acquire fence on the last one: the same lock xadd on
//                  x86-64, and ThreadSanitizer sees the edge, which it cannot for a fence.)
//   (B3) is_unique: load(acquire) == 1. Pairs with the (B2) of holders that let go, so their
//                  accesses happen before the caller writes into bytes they used to view.
//   (B4) allocate / pool reuse: store(1, relaxed); the block is not shared yet.
//   (B5) bytes::use_count: load(relaxed); a snapshot, orders nothing.
#pragma once

#include <cstddef>
#include <memory>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::io {
class buffer_pool;
}  // namespace ferrite::io

namespace ferrite::io::detail {

/// Header of a storage block; `capacity` bytes follow it in the same allocation.
struct alignas(16) bytes_block {
  ferrite::atomic<std::size_t> refs;
  std::size_t capacity;
  buffer_pool* pool;  // where the block goes when the last reference is dropped; null: heap

  /// The first byte after the header.
  std::byte* data() noexcept {
    // SAFETY: allocate_block made one allocation of sizeof(bytes_block) + capacity bytes, so
    // the bytes after the header are in bounds and belong to this block.
    return reinterpret_cast<std::byte*>(this + 1);
  }
};

/// A new block of `capacity` bytes with one reference. Throws std::bad_alloc.
[[nodiscard]] bytes_block* allocate_block(std::size_t capacity, buffer_pool* pool = nullptr);

/// Frees `b` or returns it to its pool. Preconditions: its reference count reached zero.
void destroy_block(bytes_block* b) noexcept;

FERRITE_ALWAYS_INLINE void retain(bytes_block* b) noexcept {
  // ORDERING: (B1) see the table at the top of this file.
  if (b != nullptr) b->refs.fetch_add(1, std::memory_order_relaxed);
}

FERRITE_ALWAYS_INLINE void release(bytes_block* b) noexcept {
  // ORDERING: (B2) acq_rel decrement; the last one synchronizes with every earlier one.
  if (b != nullptr && b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_block(b);
}

[[nodiscard]] FERRITE_ALWAYS_INLINE bool is_unique(const bytes_block* b) noexcept {
  // ORDERING: (B3) acquire load; pairs with (B2) of the holders that let go.
  return b->refs.load(std::memory_order_acquire) == 1;
}

}  // namespace ferrite::io::detail
