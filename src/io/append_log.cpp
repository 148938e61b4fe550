// SPDX-License-Identifier: Apache-2.0
// append_log: the scanner over the record format, open (create, lock, header check),
// replay (map, scan, truncate the damaged tail), append (one pwritev at the end, cut back on
// failure) and sync (fdatasync).
#include "ferrite/io/append_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/pod.hpp"
#include "ferrite/io/detail/crc32c.hpp"
#include "ferrite/io/mapped_file.hpp"

namespace ferrite::io {

const char* to_string(log_damage d) noexcept {
  switch (d) {
    case log_damage::none: return "none";
    case log_damage::torn: return "torn";
    case log_damage::too_long: return "too long";
    case log_damage::checksum: return "checksum mismatch";
  }
  return "unknown";
}

namespace detail {

namespace {
std::uint32_t le32_at(const std::byte* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8U | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
void put_le32(std::byte* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
}  // namespace

log_scan scan_log(std::span<const std::byte> body, std::size_t max_record, log_record_fn fn,
                  void* context) {
  log_scan out;
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t left = body.size() - at;
    if (left < frame_header_size) {
      out.damage = log_damage::torn;
      break;
    }
    const std::span<const std::byte> frame = body.subspan(at);
    const std::uint32_t length = le32_at(frame.data());
    const std::uint32_t crc = le32_at(frame.data() + 4);
    if (length > max_record) {
      out.damage = log_damage::too_long;
      break;
    }
    if (length > left - frame_header_size) {
      out.damage = log_damage::torn;
      break;
    }
    const auto payload = frame.subspan(frame_header_size, length);
    if (crc32c(payload, crc32c(frame.first(4))) != crc) {
      out.damage = log_damage::checksum;
      break;
    }
    if (fn != nullptr) fn(context, payload);
    ++out.records;
    at += frame_header_size + length;
    out.valid_end = at;
  }
  return out;
}

void encode_frame_header(std::span<const std::byte> payload,
                         std::span<std::byte, frame_header_size> out) noexcept {
  FERRITE_ASSERT(payload.size() <= std::numeric_limits<std::uint32_t>::max());
  put_le32(out.data(), static_cast<std::uint32_t>(payload.size()));
  put_le32(out.data() + 4, crc32c(payload, crc32c(std::span<const std::byte>(out.first(4)))));
}

}  // namespace detail

namespace {

constexpr std::size_t small_record = 512;  // records up to this size go out in one pwrite

// Writes all of `bytes` at `offset` (retrying partial writes and EINTR). 0 or an errno.
int pwrite_all(int fd, std::span<const std::byte> header, std::span<const std::byte> payload,
               std::uint64_t offset) noexcept {
  std::size_t done = 0;
  const std::size_t total = header.size() + payload.size();
  while (done < total) {
    iovec iov[2];
    int n = 0;
    if (done < header.size()) {
      // SAFETY: iovec's base is void* for both directions; pwritev only reads through it.
      iov[n++] = {const_cast<std::byte*>(header.data() + done), header.size() - done};
    }
    const std::size_t in_payload = done > header.size() ? done - header.size() : 0;
    if (in_payload < payload.size()) {
      // SAFETY: as above.
      iov[n++] = {const_cast<std::byte*>(payload.data() + in_payload), payload.size() - in_payload};
    }
    const ssize_t w = ::pwritev(fd, iov, n, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;  // no progress on a regular file: treat as an I/O error
    done += static_cast<std::size_t>(w);
  }
  return 0;
}

int fsync_parent_dir(const std::string& path) noexcept {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int r = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return r;
}

}  // namespace

std::expected<append_log, error> append_log::open(std::string_view path,
                                                  append_log_options options) {
  FERRITE_ASSERT(options.max_record <= std::numeric_limits<std::uint32_t>::max(),
                 "append_log_options::max_record must fit the 32-bit length field");
  append_log log;
  log.path_ = std::string(path);
  log.options_ = options;
  log.fd_ = ::open(log.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (log.fd_ < 0) return std::unexpected(error::from_errno(errno, "append_log::open", path));
  if (::flock(log.fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return std::unexpected(error(
          ferrite::error(errc::would_block, "append_log::open (locked by another process)"), path));
    }
    return std::unexpected(error::from_errno(errno, "append_log::open (flock)", path));
  }
  struct stat st{};
  if (::fstat(log.fd_, &st) != 0) {
    return std::unexpected(error::from_errno(errno, "append_log::open (fstat)", path));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  std::array<std::byte, detail::log_header_size> head{};
  const std::size_t have = std::min(size, head.size());
  if (have > 0 && ::pread(log.fd_, head.data(), have, 0) != static_cast<ssize_t>(have)) {
    return std::unexpected(error::from_errno(errno, "append_log::open (read header)", path));
  }
  const bool prefix = std::equal(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(have),
                                 detail::log_magic.begin());
  if (!prefix) {
    return std::unexpected(
        error(ferrite::error(errc::parse_error, "append_log::open (not an append_log)", 0), path));
  }
  if (size < detail::log_header_size) {  // new, or a creation cut short: write the header
    if (::ftruncate(log.fd_, 0) != 0 || pwrite_all(log.fd_, detail::log_magic, {}, 0) != 0 ||
        ::fdatasync(log.fd_) != 0) {
      return std::unexpected(error::from_errno(errno, "append_log::open (write header)", path));
    }
    if (const int e = fsync_parent_dir(log.path_); e != 0) {
      return std::unexpected(error::from_errno(e, "append_log::open (fsync directory)", path));
    }
  }
  log.end_ = detail::log_header_size;
  return log;
}

append_log::append_log(append_log&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      recovered_(other.recovered_),
      broken_(other.broken_),
      end_(other.end_),
      options_(other.options_),
      path_(std::move(other.path_)) {}

append_log& append_log::operator=(append_log&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    recovered_ = other.recovered_;
    broken_ = other.broken_;
    end_ = other.end_;
    options_ = other.options_;
    path_ = std::move(other.path_);
  }
  return *this;
}

append_log::~append_log() { close(); }

void append_log::close() noexcept {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
  fd_ = -1;
}

std::expected<replay_result, error> append_log::replay_erased(detail::log_record_fn fn,
                                                              void* context) {
  FERRITE_ASSERT(fd_ >= 0, "append_log::replay on a moved-from log");
  auto file = mapped_file::open(path_);
  if (!file) return std::unexpected(file.error());
  const std::span<const std::byte> all = file->bytes();
  FERRITE_ASSERT(all.size() >= detail::log_header_size, "append_log: header checked by open");
  // SAFETY of reading the mapping: this process holds the log's exclusive flock, and ferrite
  // truncates the log only below, after the scan; another process that ignores the lock and
  // truncates the file is outside the contract (documented in mapped_file.hpp).
  (void)file->advise(mapped_file::advice::sequential);
  const detail::log_scan scan =
      detail::scan_log(all.subspan(detail::log_header_size), options_.max_record, fn, context);
  replay_result r;
  r.records = scan.records;
  r.valid_bytes = detail::log_header_size + scan.valid_end;
  r.damage = scan.damage;
  if (scan.damage != log_damage::none) {
    r.damage_offset = r.valid_bytes;
    r.truncated_bytes = all.size() - r.valid_bytes;
    if (::ftruncate(fd_, static_cast<off_t>(r.valid_bytes)) != 0 || ::fdatasync(fd_) != 0) {
      return std::unexpected(error::from_errno(errno, "append_log::replay (truncate)", path_));
    }
  }
  end_ = r.valid_bytes;
  recovered_ = true;
  return r;
}

std::expected<std::uint64_t, error> append_log::append(std::span<const std::byte> payload) {
  FERRITE_ASSERT(fd_ >= 0, "append_log::append on a moved-from log");
  if (broken_) {
    return std::unexpected(
        error(ferrite::error(errc::closed, "append_log::append (broken by a failed write: reopen)"),
              path_));
  }
  if (payload.size() > options_.max_record) {
    return std::unexpected(
        error(ferrite::error(errc::invalid_argument, "append_log::append (record too long)",
                             payload.size(), options_.max_record),
              path_));
  }
  if (!recovered_) {
    if (auto r = replay_erased(nullptr, nullptr); !r) return std::unexpected(r.error());
  }
  const std::uint64_t at = end_;
  int e = 0;
  if (payload.size() <= small_record) {
    // One contiguous pwrite for a small record: cheaper than a two-piece pwritev, and the
    // copy is a few hundred bytes at most.
    std::array<std::byte, detail::frame_header_size + small_record> frame;
    detail::encode_frame_header(payload, std::span(frame).first<detail::frame_header_size>());
    // SAFETY: payload.size() <= small_record (this branch), so it fits after the header.
    if (!payload.empty())
      std::memcpy(frame.data() + detail::frame_header_size, payload.data(), payload.size());
    e = pwrite_all(fd_, std::span(frame).first(detail::frame_header_size + payload.size()), {}, at);
  } else {
    std::array<std::byte, detail::frame_header_size> header{};
    detail::encode_frame_header(payload, header);
    e = pwrite_all(fd_, header, payload, at);
  }
  if (e != 0) {
    // Cut back whatever part of the frame reached the file, so no later record follows it.
    if (::ftruncate(fd_, static_cast<off_t>(at)) != 0) broken_ = true;
    return std::unexpected(error::from_errno(e, "append_log::append", path_));
  }
  end_ = at + detail::frame_header_size + payload.size();
  return at;
}

std::expected<void, error> append_log::sync() {
  FERRITE_ASSERT(fd_ >= 0, "append_log::sync on a moved-from log");
  if (::fdatasync(fd_) != 0)
    return std::unexpected(error::from_errno(errno, "append_log::sync", path_));
  return {};
}

}  // namespace ferrite::io
