// SPDX-License-Identifier: Apache-2.0
// concurrent_bump: a lock-free bump allocator over a fixed buffer supplied by the user, for
// many threads carving scratch blocks out of one region (a per-batch buffer, a shared
// staging area). One CAS per attempt on a single offset; no free, only a reset when every
// thread is done. Returns nullptr when the buffer is exhausted: it never grows, never wraps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/bits.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"

namespace ferrite::mem {

/// A lock-free, fixed-capacity bump allocator over a user buffer.
///
/// Memory ordering: every operation on the offset is relaxed. The offset only partitions the
/// buffer; that two successful allocations get disjoint ranges follows from the atomicity of
/// the read-modify-write (each successful CAS reads the latest offset in its modification
/// order), whatever the order argument. No data is published through the offset: a thread
/// that hands a block to another thread synchronizes that hand-off itself.
///
/// Progress: allocate() is lock-free (a CAS fails only because another thread's succeeded);
/// used(), capacity() and remaining() are wait-free.
///
/// \warning No per-block free. The buffer is recycled only by reset(), when quiescent.
class concurrent_bump {
 public:
  /// Allocates from `buffer`, whose start need not be aligned: allocate() aligns the
  /// returned address, not the offset.
  /// Preconditions: `buffer` outlives this object and every block handed out from it.
  explicit concurrent_bump(std::span<std::byte> buffer) noexcept
      : base_(buffer.data()), capacity_(buffer.size()), offset_(std::size_t{0}) {}

  concurrent_bump(const concurrent_bump&) = delete;
  concurrent_bump& operator=(const concurrent_bump&) = delete;
  // Not movable: threads allocate through its address, and the offset is an atomic.
  concurrent_bump(concurrent_bump&&) = delete;
  concurrent_bump& operator=(concurrent_bump&&) = delete;

  /// `size` bytes whose address is a multiple of `align`, or nullptr when the rest of the
  /// buffer (after padding) is smaller than `size`. Size 0 returns a non-unique pointer
  /// (possibly one past the buffer's end), or nullptr when even the padding does not fit.
  /// Preconditions: `align` is a power of two (FERRITE_ASSERT).
  /// Complexity: O(1) per attempt, one CAS; progress: lock-free.
  [[nodiscard]] void* allocate(std::size_t size,
                               std::size_t align = alignof(std::max_align_t)) noexcept {
    FERRITE_ASSERT(is_pow2(align), "concurrent_bump: alignment must be a power of two");
    // SAFETY: the base address is read as an integer only to compute padding; the result
    // is derived from base_ by pointer arithmetic.
    const auto base = reinterpret_cast<std::uintptr_t>(base_);
    // ORDERING: (1) relaxed; only the value matters (see the class comment). A stale value
    // makes the CAS (2) fail and retry with the fresh one.
    std::size_t old = offset_->load(std::memory_order_relaxed);
    std::size_t start = 0;
    std::size_t next = 0;
    do {
      // base + old is an address inside the buffer or one past it: no wrap-around.
      const std::size_t pad = static_cast<std::size_t>(0 - (base + old)) & (align - 1);
      const std::size_t room = capacity_ - old;
      if (pad > room || size > room - pad) return nullptr;
      start = old + pad;
      next = start + size;  // <= capacity_ by the check above
      // ORDERING: (2) relaxed CAS, success and failure: atomicity alone makes the claimed
      // range [start, next) exclusive. On failure `old` is refreshed for the next attempt.
    } while (!offset_->compare_exchange_weak(old, next, std::memory_order_relaxed,
                                             std::memory_order_relaxed));
    // SAFETY: start + size <= capacity_ (checked before the CAS that claimed it).
    return base_ + start;
  }

  /// Bytes claimed so far, alignment padding included: a snapshot while threads allocate.
  /// Always <= capacity(). Progress: wait-free.
  [[nodiscard]] std::size_t used() const noexcept {
    // ORDERING: (3) relaxed; a statistic, nothing is read through it.
    return offset_->load(std::memory_order_relaxed);
  }

  /// Size of the buffer in bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  /// capacity() - used(): a snapshot while threads allocate.
  [[nodiscard]] std::size_t remaining() const noexcept { return capacity_ - used(); }

  /// Makes the whole buffer available again; every block handed out becomes invalid.
  ///
  /// Preconditions: quiescent. No allocate() runs concurrently, and every use of a block
  /// handed out before happens-before the reset (join the threads, or pass a barrier);
  /// otherwise the next allocations hand out bytes still in use.
  void reset() noexcept {
    // ORDERING: (4) relaxed; the quiescence precondition provides the happens-before
    // between the old blocks' uses, this store, and later allocations.
    offset_->store(0, std::memory_order_relaxed);
  }

 private:
  // Read-only after construction, read by every allocate().
  std::byte* base_;
  std::size_t capacity_;
  // The only written field, alone on its cache line(s): every CAS takes the line exclusive,
  // so sharing it with base_/capacity_ (or with the user's neighbouring data) would make
  // each allocation miss on those reads in every other thread (false sharing).
  cache_padded<atomic<std::size_t>> offset_;
};

}  // namespace ferrite::mem
