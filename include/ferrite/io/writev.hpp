// SPDX-License-Identifier: Apache-2.0
// Scatter-gather writes: iovec_list collects the pieces of a reply (headers, bytes slices,
// payloads) without copying them, and writev_all writes them to a descriptor completely,
// continuing after partial writes and EINTR, IOV_MAX pieces per call.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <expected>
#include <span>
#include <string_view>

#include "ferrite/io/bytes.hpp"
#include "ferrite/io/error.hpp"
#include "ferrite/mem/small_vector.hpp"

namespace ferrite::io {

/// Writes every byte of `iov` to `fd`, in order, with as many writev calls as it takes:
/// partial writes continue where they stopped, EINTR retries, more than IOV_MAX pieces go
/// in batches. Returns the bytes written (the sum of the lengths). Fails with errc::system
/// (errno; detail_b of base() = bytes written before the failure), errc::would_block for a
/// non-blocking descriptor that is full (EAGAIN; again with the bytes written). `iov` is not
/// modified. Blocking; O(pieces) besides the syscalls.
std::expected<std::size_t, error> writev_all(int fd, std::span<const ::iovec> iov);

/// A list of iovecs, 16 inline before it allocates. The pieces are not copied: each must
/// stay alive and unchanged until the write is done.
class iovec_list {
 public:
  void push(std::span<const std::byte> piece) {
    // SAFETY: iovec's base is void* for both directions; a write only reads through it.
    if (!piece.empty()) list_.push_back({const_cast<std::byte*>(piece.data()), piece.size()});
    total_ += piece.size();
  }
  void push(std::string_view piece) { push(std::as_bytes(std::span(piece))); }
  void push(const bytes& piece) { push(piece.span()); }

  [[nodiscard]] std::span<const ::iovec> span() const noexcept {
    return {list_.data(), list_.size()};
  }
  [[nodiscard]] std::size_t pieces() const noexcept { return list_.size(); }
  [[nodiscard]] std::size_t total_bytes() const noexcept { return total_; }
  void clear() noexcept {
    list_.clear();
    total_ = 0;
  }

 private:
  mem::small_vector<::iovec, 16> list_;
  std::size_t total_ = 0;
};

}  // namespace ferrite::io
