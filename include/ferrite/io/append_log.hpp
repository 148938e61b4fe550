// SPDX-License-Identifier: Apache-2.0
// append_log: an append-only file of framed records (length + crc32c, see
// detail/log_format.hpp for the bytes), the persistence of ferrite-kv. One process owns a log
// at a time (an exclusive flock taken by open()). replay() hands every intact record to the
// caller in order and stops at the first torn or corrupt one, which it reports (offset and
// kind) and truncates away, so the next append continues right after the last good record.
//
// Durability: append() returns once the record is in the page cache (it survives the process
// being killed, not the machine losing power); sync() (fdatasync) makes every record appended
// before it durable. Creating a log fsyncs the header and the directory, so a new log is not
// lost with its directory entry. Call sync() per record for one-record-at-a-time durability,
// or every N records (group commit) for throughput: docs/io.md has the measured rates.
//
// Never half-written: a record is written with one pwritev at the log's end; if the write
// fails part-way (ENOSPC, EIO), append() cuts the file back to where the record began before
// reporting the error, and if even that fails the log refuses further appends (reopen to
// recover). A crash mid-write can leave a torn tail, which the next replay() removes.
//
// ```cpp
// auto log = io::append_log::open("/var/lib/kv/aof");          // std::expected
// auto r = log->replay([&](std::span<const std::byte> rec) { apply(rec); });
// if (r->damage != io::log_damage::none) warn(r->damage_offset);  // truncated there
// log->append(as_bytes(command));                             // std::expected<offset>
// log->sync();                                                // fdatasync
// ```
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "ferrite/io/detail/log_format.hpp"
#include "ferrite/io/error.hpp"

namespace ferrite::io {

/// Options of append_log::open.
struct append_log_options {
  /// The largest payload append() accepts and replay() believes; a longer length field in
  /// the file is corruption. At most 2^32 - 1 (the length field is 32 bits).
  std::size_t max_record = std::size_t{64} << 20;
};

/// What replay() found.
struct replay_result {
  std::uint64_t records = 0;      ///< intact records passed to the callback
  std::uint64_t valid_bytes = 0;  ///< file size after replay (header + intact records)
  log_damage damage = log_damage::none;
  std::uint64_t damage_offset = 0;    ///< file offset of the first damaged record (if any)
  std::uint64_t truncated_bytes = 0;  ///< bytes cut from the end (0 when undamaged)
};

/// An append-only log of records. Move-only (owns the descriptor and its lock). Not
/// thread-safe: one thread appends at a time.
class append_log {
 public:
  /// Opens (creating if missing) the log at `path` and takes an exclusive flock on it.
  /// Fails with errc::system (errno, path), errc::would_block when another process holds the
  /// lock, errc::parse_error when the file is not an append_log (wrong magic or version).
  /// A file shorter than the header that is a prefix of it (a creation cut short) is
  /// re-initialized. Does not read the records: replay() does. Blocking.
  [[nodiscard]] static std::expected<append_log, error> open(std::string_view path,
                                                             append_log_options options = {});

  append_log(append_log&& other) noexcept;
  append_log& operator=(append_log&& other) noexcept;
  append_log(const append_log&) = delete;
  append_log& operator=(const append_log&) = delete;
  ~append_log();

  /// Calls fn(std::span<const std::byte>) for each intact record in file order, then, if a
  /// record is torn or corrupt, truncates the file at it (fdatasync'ed) and reports it. The
  /// spans are valid during the call only. May be called again (it rereads the file).
  /// If fn throws, the exception propagates and nothing is truncated. Blocking; O(file size).
  template <class F>
    requires std::invocable<F&, std::span<const std::byte>>
  std::expected<replay_result, error> replay(F&& fn) {
    auto call = [](void* ctx, std::span<const std::byte> payload) {
      std::invoke(*static_cast<std::remove_reference_t<F>*>(ctx), payload);
    };
    return replay_erased(call, static_cast<void*>(std::addressof(fn)));
  }

  /// Appends one record; returns the file offset at which its frame starts. Replays first
  /// (without a callback) if replay() was never called, so a torn tail never precedes it.
  /// Fails with errc::invalid_argument when payload.size() > max_record, errc::system on a
  /// write error (the file is cut back: nothing of the record remains), errc::closed once
  /// the log is broken (a write error that could not be cut back). Blocking: one pwritev
  /// (more on a partial write). O(payload.size()) for the checksum.
  std::expected<std::uint64_t, error> append(std::span<const std::byte> payload);

  /// fdatasync: every record appended before returns durable. Blocking.
  std::expected<void, error> sync();

  /// The file size the log continues at (header + every record appended or replayed).
  /// Valid after replay() or append().
  [[nodiscard]] std::uint64_t end_offset() const noexcept { return end_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const append_log_options& options() const noexcept { return options_; }

 private:
  append_log() = default;
  std::expected<replay_result, error> replay_erased(detail::log_record_fn fn, void* context);
  void close() noexcept;

  int fd_ = -1;
  bool recovered_ = false;  // replay() ran: end_ is the end of the last intact record
  bool broken_ = false;     // a failed append could not be cut back
  std::uint64_t end_ = 0;
  append_log_options options_;
  std::string path_;
};

}  // namespace ferrite::io
