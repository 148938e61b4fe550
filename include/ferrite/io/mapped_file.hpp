// SPDX-License-Identifier: Apache-2.0
// mapped_file: a file mapped into memory (mmap, MAP_SHARED), read-only or read-write, owned
// RAII-style. bytes() is the file's contents as a span: reading it is reading memory, no
// copy and no syscall. Empty files are an empty span and are never passed to mmap (which
// rejects a zero length). grow() extends a read-write file for append-only use (ftruncate,
// then mremap), and bumps a generation counter that debug builds check in the views made
// from the file (records<T>::from), since grow() may move the mapping.
//
// The SIGBUS hazard (memmap2 #13, ripgrep #579): if another process truncates the file while
// it is mapped, touching a page past the new end raises SIGBUS and kills the process; no
// check before the access can prevent it, because the truncation can land between the check
// and the load. bytes() is therefore for files nobody else shrinks (your own files, files
// under an exclusive lock, immutable inputs). A reader of a file that others may truncate
// uses read_checked(), which copies through pread() and turns a truncation into an error.
// docs/io.md gives the alternatives considered (a scoped SIGBUS handler, fstat-then-copy)
// and the measured cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/io/error.hpp"

namespace ferrite::io {

/// A file mapped into memory. Move-only: it owns the descriptor and the mapping.
class mapped_file {
 public:
  /// How the file is opened and mapped.
  enum class mode : std::uint8_t {
    read_only,   ///< O_RDONLY, PROT_READ; the file must exist
    read_write,  ///< O_RDWR | O_CREAT (0644), PROT_READ | PROT_WRITE, MAP_SHARED
  };
  /// madvise() hints.
  enum class advice : std::uint8_t { normal, sequential, random, willneed, dontneed };
  /// msync() flavours: sync waits for the write-back, async only schedules it.
  enum class flush_mode : std::uint8_t { sync, async };

  /// Opens and maps `path`. Fails with errc::system (errno, path) when open, fstat or mmap
  /// fails, and with errc::unsupported when `path` is not a regular file. A file of size 0
  /// maps to an empty view without calling mmap. Complexity: three syscalls.
  [[nodiscard]] static std::expected<mapped_file, error> open(std::string_view path,
                                                              mode m = mode::read_only);

  mapped_file() = default;  ///< an empty, closed file (bytes() is empty)
  mapped_file(mapped_file&& other) noexcept;
  mapped_file& operator=(mapped_file&& other) noexcept;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file();

  /// The mapped contents, size() bytes. Valid until the file is moved from, destroyed or
  /// grown. See the SIGBUS warning at the top of this header. O(1).
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

  /// The mapped contents, writable (the writes reach the file; flush() makes them durable).
  /// Preconditions: the file was opened read_write (FERRITE_ASSERT, every build: writing a
  /// PROT_READ page would crash instead). O(1).
  [[nodiscard]] std::span<std::byte> writable_bytes() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] mode open_mode() const noexcept { return mode_; }
  [[nodiscard]] int native_handle() const noexcept { return fd_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Incremented by every grow() that changed the mapping. Views taken at one generation
  /// are invalid at the next: records<T>::from(file) checks this in debug builds.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  /// madvise(`a`) on the whole mapping, or on [offset, offset + length) (widened to whole
  /// pages). No-op on an empty file. Fails with errc::out_of_range outside the mapping.
  std::expected<void, error> advise(advice a) const;
  std::expected<void, error> advise(advice a, std::size_t offset, std::size_t length) const;

  /// msync() of [offset, offset + length) (widened to whole pages), or of the whole mapping:
  /// writes made through writable_bytes() reach the disk (sync) or are scheduled (async).
  /// No-op on an empty or read-only file. Fails with errc::out_of_range outside the mapping.
  std::expected<void, error> flush(flush_mode m = flush_mode::sync) const;
  std::expected<void, error> flush(std::size_t offset, std::size_t length,
                                   flush_mode m = flush_mode::sync) const;

  /// Extends the file to `new_size` bytes (the new bytes read as zero) and the mapping with it
  /// (mmap if it was empty, else mremap, which may move it). Every span and view of the old
  /// mapping is invalid afterwards, even when the address did not change: generation() tells.
  /// Fails with errc::unsupported on a read-only file, errc::invalid_argument when new_size <
  /// size(), errc::system when ftruncate or mremap fails (the mapping is then unchanged, the
  /// file possibly already longer). new_size == size() is a no-op. Blocking (syscalls).
  std::expected<void, error> grow(std::size_t new_size);

  /// Copies the n = out.size() bytes at `offset` into `out`, reading the file with pread(), so
  /// that a concurrent truncation by another process gives an error instead of SIGBUS. Fails
  /// with errc::out_of_range when [offset, offset + n) is not inside the mapping, and with
  /// errc::size_mismatch (a: n, b: bytes available) when the file is now shorter than
  /// offset + n. Blocking: one pread per call (more if interrupted). O(n).
  std::expected<void, error> read_checked(std::size_t offset, std::span<std::byte> out) const;

  /// read_checked into a new vector of n bytes.
  [[nodiscard]] std::expected<std::vector<std::byte>, error> read_checked(std::size_t offset,
                                                                          std::size_t n) const;

 private:
  void reset() noexcept;
  [[nodiscard]] std::expected<void, error> check_range(const char* what, std::size_t offset,
                                                       std::size_t length) const;

  std::byte* data_ = nullptr;  // nullptr exactly when size_ == 0 (no mapping)
  std::size_t size_ = 0;
  int fd_ = -1;
  mode mode_ = mode::read_only;
  std::uint64_t generation_ = 0;
  std::string path_;
};

}  // namespace ferrite::io
