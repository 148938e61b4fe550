// SPDX-License-Identifier: Apache-2.0
// io::bytes and io::bytes_mut: reference-counted byte buffers after Rust's bytes crate.
// bytes_mut is a growable buffer that one owner writes (extend, reserve, a read() into its
// spare capacity); split_to / split_off cut it into two bytes_mut over disjoint parts of the
// same storage, and std::move(b).freeze() turns it into bytes: an immutable view that copies
// in O(1) (a reference-count increment) and slices without copying. A request read into a
// bytes_mut can thus be parsed in place, its parts kept (as bytes) by whatever needs them
// after the read buffer moved on, and written out with writev without a copy.
//
// ```cpp
// io::bytes_mut buf(4096);
// buf.extend("GET /a HTTP/1.1\r\n"sv);
// io::bytes line = buf.split_to(17).freeze();  // the first 17 bytes, storage shared
// io::bytes path = line.slice(4, 6);           // "/a": no copy
// io::bytes keep = path;                       // one increment; thread-safe
// ```
//
// Ownership: every bytes/bytes_mut holds one reference to its block; the last to go frees
// it (or returns it to its buffer_pool). docs/io.md draws who owns what when.
// Honest warnings: bytes from from_static() own nothing (the caller keeps the memory alive).
// A bytes_mut is not thread-safe; bytes are (copies may be made and dropped on any thread).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/detail/bytes_block.hpp"

namespace ferrite::io {

class bytes_mut;

/// An immutable, reference-counted view of bytes. Copy: O(1), one relaxed increment.
class bytes {
 public:
  bytes() = default;  ///< empty, no storage

  /// A new buffer holding a copy of `src`. O(n); one allocation (none when empty).
  [[nodiscard]] static bytes copy_from(std::span<const std::byte> src);
  [[nodiscard]] static bytes copy_from(std::string_view src) {
    return copy_from(std::as_bytes(std::span(src)));
  }
  /// A view of memory the caller keeps alive and unchanged for as long as any copy or slice
  /// of the result exists (string literals, static tables). No allocation, no count.
  [[nodiscard]] static bytes from_static(std::span<const std::byte> src) noexcept {
    return bytes(nullptr, src.data(), src.size());
  }

  bytes(const bytes& other) noexcept
      : block_(other.block_), data_(other.data_), size_(other.size_) {
    detail::retain(block_);
  }
  bytes(bytes&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  bytes& operator=(const bytes& other) noexcept {
    bytes(other).swap(*this);
    return *this;
  }
  bytes& operator=(bytes&& other) noexcept {
    bytes(std::move(other)).swap(*this);
    return *this;
  }
  ~bytes() { detail::release(block_); }

  void swap(bytes& other) noexcept {
    std::swap(block_, other.block_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  [[nodiscard]] const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<const std::byte> span() const noexcept { return {data_, size_}; }
  [[nodiscard]] std::string_view as_string_view() const noexcept {
    // SAFETY: reading bytes as char is always allowed; the view covers exactly our bytes.
    return {reinterpret_cast<const char*>(data_), size_};
  }
  [[nodiscard]] const std::byte* begin() const noexcept { return data_; }
  [[nodiscard]] const std::byte* end() const noexcept { return data_ + size_; }

  /// Bytes [first, last) of this view, sharing the storage (no copy).
  /// Preconditions: first <= last <= size() (FERRITE_ASSERT). O(1).
  [[nodiscard]] bytes slice(std::size_t first, std::size_t last) const noexcept {
    FERRITE_ASSERT(first <= last && last <= size_, "bytes::slice out of range");
    detail::retain(block_);
    // SAFETY: first <= size_ (asserted), so data_ + first is within or one past our bytes.
    return bytes(block_, data_ + first, last - first);
  }
  /// Removes and returns the first n bytes (shared). Preconditions: n <= size(). O(1).
  [[nodiscard]] bytes split_to(std::size_t n) noexcept {
    bytes front = slice(0, n);
    data_ += n;  // SAFETY: n <= size_, checked by slice
    size_ -= n;
    return front;
  }
  /// Removes and returns the bytes from `at` on (shared). Preconditions: at <= size(). O(1).
  [[nodiscard]] bytes split_off(std::size_t at) noexcept {
    bytes back = slice(at, size_);
    size_ = at;
    return back;
  }

  /// The iovec of these bytes, for writev.
  [[nodiscard]] ::iovec as_iovec() const noexcept {
    // SAFETY: iovec's base is void* for both directions; a write only reads through it.
    return {const_cast<std::byte*>(data_), size_};
  }

  /// References held on the storage (1 when only this view has it); 0 without storage.
  [[nodiscard]] std::size_t use_count() const noexcept {
    if (block_ == nullptr) return 0;
    // ORDERING: (B5) a relaxed snapshot, for tests and diagnostics.
    return block_->refs.load(std::memory_order_relaxed);
  }

  friend bool operator==(const bytes& a, const bytes& b) noexcept {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  friend class bytes_mut;
  bytes(detail::bytes_block* block, const std::byte* data, std::size_t size) noexcept
      : block_(block), data_(data), size_(size) {}

  detail::bytes_block* block_ = nullptr;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A growable, uniquely owned byte buffer over (part of) a shared block. Move-only: it is
/// the one writer of its bytes. Invariant: size() <= capacity(), and the bytes_mut that share
/// a block cover disjoint ranges of it.
class bytes_mut {
 public:
  bytes_mut() = default;  ///< empty, no storage
  /// An empty buffer with room for `capacity` bytes (one allocation when capacity > 0).
  explicit bytes_mut(std::size_t capacity);

  bytes_mut(bytes_mut&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        cap_(std::exchange(other.cap_, 0)) {}
  bytes_mut& operator=(bytes_mut&& other) noexcept {
    bytes_mut(std::move(other)).swap(*this);
    return *this;
  }
  bytes_mut(const bytes_mut&) = delete;
  bytes_mut& operator=(const bytes_mut&) = delete;
  ~bytes_mut() { detail::release(block_); }

  void swap(bytes_mut& other) noexcept {
    std::swap(block_, other.block_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(cap_, other.cap_);
  }

  [[nodiscard]] std::byte* data() noexcept { return data_; }
  [[nodiscard]] const std::byte* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<std::byte> span() noexcept { return {data_, size_}; }
  [[nodiscard]] std::span<const std::byte> span() const noexcept { return {data_, size_}; }

  /// Makes room for `additional` more bytes: a no-op when there is room; otherwise it moves
  /// the bytes to the front of the block when no other buffer refers to it and that is
  /// enough, else copies them into a new block of at least twice the capacity. Throws
  /// std::bad_alloc (nothing changes then). Amortized O(1) per byte.
  void reserve(std::size_t additional) {
    if (cap_ - size_ < additional) grow(additional);
  }

  /// Appends a copy of `src`. Amortized O(src.size()).
  void extend(std::span<const std::byte> src) {
    reserve(src.size());
    if (!src.empty()) {
      // SAFETY: reserve made cap_ - size_ >= src.size() writable bytes at data_ + size_.
      std::memcpy(data_ + size_, src.data(), src.size());
      size_ += src.size();
    }
  }
  void extend(std::string_view src) { extend(std::as_bytes(std::span(src))); }

  /// The writable bytes past size(), up to capacity(): read() into them, then commit(n).
  [[nodiscard]] std::span<std::byte> spare_capacity() noexcept {
    // SAFETY: data_ + size_ is within (or one past) our cap_ bytes.
    return {data_ + size_, cap_ - size_};
  }
  /// Marks n bytes of spare_capacity() as written. Preconditions: n <= capacity() - size().
  void commit(std::size_t n) noexcept {
    FERRITE_ASSERT(n <= cap_ - size_, "bytes_mut::commit past the capacity");
    size_ += n;
  }
  /// Drops the contents, keeps the capacity.
  void clear() noexcept { size_ = 0; }

  /// Removes and returns the first n bytes, as a bytes_mut over the same storage (no copy);
  /// this buffer keeps the rest and the capacity after it. Preconditions: n <= size()
  /// (FERRITE_ASSERT). O(1).
  [[nodiscard]] bytes_mut split_to(std::size_t n) noexcept {
    FERRITE_ASSERT(n <= size_, "bytes_mut::split_to past the end");
    detail::retain(block_);
    bytes_mut front(block_, data_, n, n);
    data_ += n;  // SAFETY: n <= size_ (asserted)
    size_ -= n;
    cap_ -= n;
    return front;
  }
  /// Removes and returns the bytes from `at` on with the capacity after them, as a bytes_mut
  /// over the same storage; this buffer keeps [0, at) with no spare capacity.
  /// Preconditions: at <= size() (FERRITE_ASSERT). O(1).
  [[nodiscard]] bytes_mut split_off(std::size_t at) noexcept {
    FERRITE_ASSERT(at <= size_, "bytes_mut::split_off past the end");
    detail::retain(block_);
    // SAFETY: at <= size_ (asserted), so data_ + at is within our bytes.
    bytes_mut back(block_, data_ + at, size_ - at, cap_ - at);
    size_ = at;
    cap_ = at;
    return back;
  }

  /// Turns the buffer into immutable bytes (its reference moves over; no copy). O(1).
  [[nodiscard]] bytes freeze() && noexcept {
    bytes out(std::exchange(block_, nullptr), std::exchange(data_, nullptr),
              std::exchange(size_, 0));
    cap_ = 0;
    return out;
  }

 private:
  friend class buffer_pool;
  bytes_mut(detail::bytes_block* block, std::byte* data, std::size_t size, std::size_t cap) noexcept
      : block_(block), data_(data), size_(size), cap_(cap) {}
  void grow(std::size_t additional);

  detail::bytes_block* block_ = nullptr;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

}  // namespace ferrite::io
