// SPDX-License-Identifier: Apache-2.0
// writev_all: batches of at most IOV_MAX iovecs, a partial write resumes inside the piece
// where it stopped (the caller's array is never modified: the first piece of a batch is a
// local, adjusted copy).
#include "ferrite/io/writev.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>

namespace ferrite::io {

namespace {
#ifdef IOV_MAX
constexpr std::size_t batch_max = IOV_MAX < 64 ? IOV_MAX : 64;
#else
constexpr std::size_t batch_max = 16;
#endif
}  // namespace

std::expected<std::size_t, error> writev_all(int fd, std::span<const ::iovec> iov) {
  std::size_t written = 0;
  std::size_t piece = 0;  // first piece not completely written
  std::size_t into = 0;   // bytes of it already written
  std::array<::iovec, batch_max> batch{};
  while (piece < iov.size()) {
    if (iov[piece].iov_len == into) {  // done with it (or empty)
      ++piece;
      into = 0;
      continue;
    }
    const std::size_t n = std::min(batch_max, iov.size() - piece);
    std::copy_n(iov.begin() + static_cast<std::ptrdiff_t>(piece), n, batch.begin());
    // SAFETY: into < iov_len, so the adjusted base stays inside the first piece.
    batch[0].iov_base = static_cast<char*>(batch[0].iov_base) + into;
    batch[0].iov_len -= into;
    const ssize_t w = ::writev(fd, batch.data(), static_cast<int>(n));
    if (w < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      const errc code = e == EAGAIN || e == EWOULDBLOCK ? errc::would_block : errc::system;
      return std::unexpected(
          error(ferrite::error(code, "writev_all", static_cast<std::uint64_t>(e), written), ""));
    }
    auto left = static_cast<std::size_t>(w);
    written += left;
    while (left > 0) {  // advance over what was written
      const std::size_t rest = iov[piece].iov_len - into;
      if (left < rest) {
        into += left;
        left = 0;
      } else {
        left -= rest;
        ++piece;
        into = 0;
      }
    }
  }
  return written;
}

}  // namespace ferrite::io
