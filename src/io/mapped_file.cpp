// SPDX-License-Identifier: Apache-2.0
// mapped_file: open/fstat/mmap, madvise, msync, ftruncate + mremap, and the pread-based
// checked read. Every syscall failure becomes an io::error naming the path and errno.
#include "ferrite/io/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/metrics.hpp"

namespace ferrite::io {

namespace {

std::size_t page_size() noexcept {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

int to_madvise(mapped_file::advice a) noexcept {
  switch (a) {
    case mapped_file::advice::normal: return MADV_NORMAL;
    case mapped_file::advice::sequential: return MADV_SEQUENTIAL;
    case mapped_file::advice::random: return MADV_RANDOM;
    case mapped_file::advice::willneed: return MADV_WILLNEED;
    case mapped_file::advice::dontneed: return MADV_DONTNEED;
  }
  return MADV_NORMAL;
}

std::byte* map(int fd, std::size_t size, mapped_file::mode m) noexcept {
  const int prot = m == mapped_file::mode::read_write ? PROT_READ | PROT_WRITE : PROT_READ;
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

}  // namespace

std::expected<mapped_file, error> mapped_file::open(std::string_view path, mode m) {
  mapped_file f;
  f.path_ = std::string(path);
  f.mode_ = m;
  const int flags = m == mode::read_write ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC;
  f.fd_ = ::open(f.path_.c_str(), flags, 0644);
  if (f.fd_ < 0) {
    return std::unexpected(error::from_errno(errno, "mapped_file::open", path));
  }
  struct stat st{};
  if (::fstat(f.fd_, &st) != 0) {
    return std::unexpected(error::from_errno(errno, "mapped_file::open (fstat)", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(
        error(ferrite::error(errc::unsupported, "mapped_file::open (not a regular file)"), path));
  }
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ != 0) {
    f.data_ = map(f.fd_, f.size_, m);
    if (f.data_ == nullptr) {
      const int err = errno;
      f.size_ = 0;
      return std::unexpected(error::from_errno(err, "mapped_file::open (mmap)", path));
    }
  }
  return f;
}

mapped_file::mapped_file(mapped_file&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      fd_(std::exchange(other.fd_, -1)),
      mode_(other.mode_),
      generation_(other.generation_),
      path_(std::move(other.path_)) {}

mapped_file& mapped_file::operator=(mapped_file&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    fd_ = std::exchange(other.fd_, -1);
    mode_ = other.mode_;
    generation_ = other.generation_;
    path_ = std::move(other.path_);
  }
  return *this;
}

mapped_file::~mapped_file() { reset(); }

void mapped_file::reset() noexcept {
  if (data_ != nullptr) {
    ::munmap(data_, size_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
  data_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

std::span<std::byte> mapped_file::writable_bytes() noexcept {
  FERRITE_ASSERT(mode_ == mode::read_write, "mapped_file::writable_bytes on a read-only file");
  return {data_, size_};
}

std::expected<void, error> mapped_file::check_range(const char* what, std::size_t offset,
                                                    std::size_t length) const {
  if (offset > size_ || length > size_ - offset) {
    return std::unexpected(error(ferrite::error(errc::out_of_range, what, offset, length), path_));
  }
  return {};
}

std::expected<void, error> mapped_file::advise(advice a) const { return advise(a, 0, size_); }

std::expected<void, error> mapped_file::advise(advice a, std::size_t offset,
                                               std::size_t length) const {
  if (auto r = check_range("mapped_file::advise", offset, length); !r) return r;
  if (length == 0) return {};
  const std::size_t start = offset & ~(page_size() - 1);
  // SAFETY: [start, offset + length) lies within the pages of the mapping: start rounds
  // offset down to its page, and the range was checked against size_ above.
  if (::madvise(data_ + start, offset + length - start, to_madvise(a)) != 0) {
    return std::unexpected(error::from_errno(errno, "mapped_file::advise", path_));
  }
  return {};
}

std::expected<void, error> mapped_file::flush(flush_mode m) const { return flush(0, size_, m); }

std::expected<void, error> mapped_file::flush(std::size_t offset, std::size_t length,
                                              flush_mode m) const {
  if (auto r = check_range("mapped_file::flush", offset, length); !r) return r;
  if (length == 0 || mode_ == mode::read_only) return {};
  const std::size_t start = offset & ~(page_size() - 1);
  const int flags = m == flush_mode::sync ? MS_SYNC : MS_ASYNC;
  // SAFETY: as in advise: whole pages of the mapping, range checked above.
  if (::msync(data_ + start, offset + length - start, flags) != 0) {
    return std::unexpected(error::from_errno(errno, "mapped_file::flush", path_));
  }
  return {};
}

std::expected<void, error> mapped_file::grow(std::size_t new_size) {
  if (mode_ != mode::read_write) {
    return std::unexpected(
        error(ferrite::error(errc::unsupported, "mapped_file::grow (read-only file)"), path_));
  }
  if (new_size < size_) {
    return std::unexpected(error(
        ferrite::error(errc::invalid_argument, "mapped_file::grow (smaller size)", new_size, size_),
        path_));
  }
  if (new_size == size_) return {};
  if (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) {
    return std::unexpected(error::from_errno(errno, "mapped_file::grow (ftruncate)", path_));
  }
  std::byte* p = nullptr;
  if (data_ == nullptr) {
    p = map(fd_, new_size, mode_);
  } else {
    void* q = ::mremap(data_, size_, new_size, MREMAP_MAYMOVE);
    p = q == MAP_FAILED ? nullptr : static_cast<std::byte*>(q);
  }
  if (p == nullptr) {
    return std::unexpected(error::from_errno(errno, "mapped_file::grow (mremap)", path_));
  }
  data_ = p;
  size_ = new_size;
  ++generation_;
  return {};
}

std::expected<void, error> mapped_file::read_checked(std::size_t offset,
                                                     std::span<std::byte> out) const {
  if (auto r = check_range("mapped_file::read_checked", offset, out.size()); !r) return r;
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(error::from_errno(errno, "mapped_file::read_checked", path_));
    }
    if (n == 0) {  // end of file: someone truncated it under the mapping
      return std::unexpected(
          error(ferrite::error(errc::size_mismatch, "mapped_file::read_checked (file truncated)",
                               out.size(), done),
                path_));
    }
    done += static_cast<std::size_t>(n);
  }
  detail::bytes_copied.add(out.size());
  return {};
}

std::expected<std::vector<std::byte>, error> mapped_file::read_checked(std::size_t offset,
                                                                       std::size_t n) const {
  if (auto r = check_range("mapped_file::read_checked", offset, n); !r) {
    return std::unexpected(r.error());
  }
  std::vector<std::byte> out(n);
  if (auto r = read_checked(offset, std::span<std::byte>(out)); !r) {
    return std::unexpected(r.error());
  }
  return out;
}

}  // namespace ferrite::io
