// SPDX-License-Identifier: Apache-2.0
// Storage blocks of bytes/bytes_mut (one allocation: header then bytes), bytes_mut's slow
// growth path, and buffer_pool's free list. ORDERING labels (B1)-(B4) are tabled in
// include/ferrite/io/detail/bytes_block.hpp.
#include "ferrite/io/bytes.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/buffer_pool.hpp"
#include "ferrite/io/metrics.hpp"

namespace ferrite::io {

namespace detail {

bytes_block* allocate_block(std::size_t capacity, buffer_pool* pool) {
  if (capacity > std::numeric_limits<std::size_t>::max() - sizeof(bytes_block)) {
    throw std::bad_alloc();
  }
  void* raw =
      ::operator new(sizeof(bytes_block) + capacity, std::align_val_t{alignof(bytes_block)});
  // SAFETY: raw is a fresh allocation of sizeof(bytes_block) + capacity bytes aligned for the
  // header; the header is constructed at its start and the bytes after it stay raw storage.
  auto* b = ::new (raw) bytes_block{{}, capacity, pool};
  // ORDERING: (B4) the block is not shared yet.
  b->refs.store(1, std::memory_order_relaxed);
  return b;
}

namespace {
void free_block(bytes_block* b) noexcept {
  b->~bytes_block();
  ::operator delete(static_cast<void*>(b), std::align_val_t{alignof(bytes_block)});
}
}  // namespace

void destroy_block(bytes_block* b) noexcept {
  if (b->pool != nullptr) {
    b->pool->recycle(b);
  } else {
    free_block(b);
  }
}

}  // namespace detail

bytes bytes::copy_from(std::span<const std::byte> src) {
  if (src.empty()) return bytes();
  detail::bytes_block* b = detail::allocate_block(src.size());
  // SAFETY: the block has src.size() bytes of storage after its header.
  std::memcpy(b->data(), src.data(), src.size());
  detail::bytes_copied.add(src.size());
  return bytes(b, b->data(), src.size());
}

bytes_mut::bytes_mut(std::size_t capacity) {
  if (capacity == 0) return;
  block_ = detail::allocate_block(capacity);
  data_ = block_->data();
  cap_ = capacity;
}

void bytes_mut::grow(std::size_t additional) {
  if (additional > std::numeric_limits<std::size_t>::max() / 2 - size_) {
    throw std::length_error("bytes_mut::reserve: size overflow");
  }
  const std::size_t need = size_ + additional;
  if (block_ != nullptr && detail::is_unique(block_) && block_->capacity >= need) {
    // Nobody else views any part of the block: slide the bytes to its front.
    // SAFETY: both ranges lie in the block's storage; memmove allows the overlap.
    std::memmove(block_->data(), data_, size_);
    detail::bytes_copied.add(size_);
    data_ = block_->data();
    cap_ = block_->capacity;
    return;
  }
  const std::size_t new_cap = std::max({need, cap_ * 2, std::size_t{64}});
  detail::bytes_block* b = detail::allocate_block(new_cap);
  if (size_ != 0) {
    // SAFETY: the new block holds new_cap >= size_ bytes; the old range is ours.
    std::memcpy(b->data(), data_, size_);
    detail::bytes_copied.add(size_);
  }
  detail::release(block_);
  block_ = b;
  data_ = b->data();
  cap_ = new_cap;
}

buffer_pool::buffer_pool(std::size_t block_size, std::size_t max_cached)
    : block_size_(block_size), max_cached_(max_cached) {
  FERRITE_ASSERT(block_size > 0, "buffer_pool: block_size must be positive");
}

buffer_pool::~buffer_pool() {
  const std::lock_guard lock(mu_);
  FERRITE_ASSERT(outstanding_ == 0, "buffer_pool destroyed while its buffers are in use");
  for (detail::bytes_block* b : free_) detail::free_block(b);
}

bytes_mut buffer_pool::acquire() {
  detail::bytes_block* b = nullptr;
  {
    const std::lock_guard lock(mu_);
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    }
    ++outstanding_;
  }
  if (b == nullptr) {
    try {
      b = detail::allocate_block(block_size_, this);
    } catch (...) {
      const std::lock_guard lock(mu_);
      --outstanding_;
      throw;
    }
  } else {
    // ORDERING: (B4) reused: not shared yet (the mutex orders it after the last release).
    b->refs.store(1, std::memory_order_relaxed);
  }
  return bytes_mut(b, b->data(), 0, block_size_);
}

void buffer_pool::recycle(detail::bytes_block* b) noexcept {
  bool keep = false;
  {
    const std::lock_guard lock(mu_);
    --outstanding_;
    if (free_.size() < max_cached_) {
      try {
        free_.push_back(b);
        keep = true;
      } catch (...) {  // the free list could not grow: free the block instead
      }
    }
  }
  if (!keep) detail::free_block(b);
}

std::size_t buffer_pool::cached() const {
  const std::lock_guard lock(mu_);
  return free_.size();
}

std::size_t buffer_pool::outstanding() const {
  const std::lock_guard lock(mu_);
  return outstanding_;
}

}  // namespace ferrite::io
