// SPDX-License-Identifier: Apache-2.0
// buffer_pool: fixed-size blocks for network reads, recycled instead of freed. acquire()
// gives an empty bytes_mut of block_size() capacity; when the last bytes/bytes_mut referring
// to the block goes (on any thread), the block returns to the pool's free list (up to
// max_cached blocks; beyond that it is freed). A read loop that parses in place and keeps
// only slices of what it needs thus allocates nothing in steady state.
//
// Honest warning: the free list is guarded by a mutex (uncontended it costs an uncontended
// lock per acquire and per return). Give each thread or connection group its own pool if
// that shows up. The pool must outlive every buffer taken from it: its destructor checks
// that none is outstanding (FERRITE_ASSERT).
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "ferrite/io/bytes.hpp"

namespace ferrite::io {

/// A pool of `block_size`-byte storage blocks for bytes_mut. Thread-safe. Non-movable:
/// outstanding blocks point back at it.
class buffer_pool {
 public:
  /// Preconditions: block_size > 0.
  explicit buffer_pool(std::size_t block_size, std::size_t max_cached = 256);
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;
  /// Frees the cached blocks. Preconditions: no block is outstanding (FERRITE_ASSERT).
  ~buffer_pool();

  /// An empty bytes_mut with capacity block_size(), from the free list when it has one.
  /// Growing it past block_size() moves it to a heap block (the pool block returns).
  /// Throws std::bad_alloc. Blocking (the pool's mutex); O(1).
  [[nodiscard]] bytes_mut acquire();

  [[nodiscard]] std::size_t block_size() const noexcept { return block_size_; }
  /// Blocks on the free list.
  [[nodiscard]] std::size_t cached() const;
  /// Blocks handed out and not yet returned.
  [[nodiscard]] std::size_t outstanding() const;

 private:
  friend void detail::destroy_block(detail::bytes_block* b) noexcept;
  void recycle(detail::bytes_block* b) noexcept;

  std::size_t block_size_;
  std::size_t max_cached_;
  mutable std::mutex mu_;
  std::vector<detail::bytes_block*> free_;  // guarded by mu_
  std::size_t outstanding_ = 0;             // guarded by mu_
};

}  // namespace ferrite::io
