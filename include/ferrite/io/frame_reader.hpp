// SPDX-License-Identifier: Apache-2.0
// wire::frame_reader: splits a byte stream (socket reads, file chunks) into length-prefixed
// frames as the bytes arrive. The caller feeds each buffer it read and takes frames until the
// buffer is used up. A frame wholly inside the fed buffer is returned as a view into it (zero
// copy); a frame split across buffers is copied once, into one buffer sized to the frame
// when its header is complete (so each of its bytes is copied exactly once). A length above
// the configured maximum is rejected as soon as the header is complete, before anything is
// allocated: a hostile peer cannot make the reader reserve 4 GiB.
//
// ```cpp
// io::wire::frame_reader frames({.max_frame = 1 << 20});   // be32 length, then payload
// for (;;) {
//   std::span<const std::byte> got = read_some(sock, buf);  // any size, any split
//   frames.feed(got);
//   while (true) {
//     auto f = frames.next();             // expected<optional<view<length_prefix>>, parse_error>
//     if (!f) return close(sock, f.error().message());
//     if (!*f) break;                      // this buffer is used up: read more
//     handle((*f)->payload());             // valid until the next next()/feed()
//   }
// }
// ```
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/endian.hpp"
#include "ferrite/io/metrics.hpp"
#include "ferrite/io/wire.hpp"

namespace ferrite::io::wire {

/// The default frame header: a 4-byte big-endian payload length.
struct length_prefix {
  be<std::uint32_t> length;
};
template <>
struct frame_length<length_prefix> {
  using type = length_field<&length_prefix::length>;
};

/// Options of a frame reader.
struct frame_reader_options {
  /// The longest payload accepted; a header announcing more is a too_long error.
  std::size_t max_frame = std::size_t{16} << 20;
};

/// Splits a stream into frames of header H (with a length field) and payload. Not
/// thread-safe. After an error the reader stays failed (the stream is out of sync).
template <length_prefixed H>
class basic_frame_reader {
 public:
  explicit basic_frame_reader(frame_reader_options options = {}) noexcept : options_(options) {}

  /// Gives the reader the next bytes of the stream. The bytes must stay valid until next()
  /// returns an empty optional (or an error): frames inside them are views into them.
  /// Preconditions: the previous buffer is used up (next() returned an empty optional);
  /// FERRITE_ASSERT in every build, since frames would otherwise be skipped.
  void feed(std::span<const std::byte> bytes) noexcept {
    FERRITE_ASSERT(chunk_.empty(), "frame_reader::feed before the previous buffer was used up");
    chunk_ = bytes;
  }

  /// The next complete frame, std::nullopt when the fed bytes are used up (a partial frame
  /// is then kept for the next feed), or the stream's error. A returned view is valid until
  /// the next call to next() or feed(). O(frame size) when the frame is assembled, O(1)
  /// otherwise.
  [[nodiscard]] std::expected<std::optional<view<H>>, parse_error> next() {
    if (failed_) return std::unexpected(error_);
    if (assembled_) {  // the frame returned last lived in assembly_; it is done now
      stream_offset_ += assembly_.size();
      assembly_.clear();
      need_ = 0;
      assembled_ = false;
    }
    if (!assembly_.empty()) return continue_assembly();
    if (chunk_.empty()) return std::optional<view<H>>();
    if (chunk_.size() >= sizeof(H)) {
      auto v = parse_at<H>(chunk_, stream_offset_, options_.max_frame);
      if (v) {
        const std::size_t n = v->frame().size();
        chunk_ = v->rest();
        stream_offset_ += n;
        io::detail::bytes_viewed.add(n);
        return std::optional<view<H>>(*v);
      }
      if (v.error().reason != parse_errc::short_payload) return fail(v.error());
      need_ = v.error().needed;  // the header is whole: the frame's size is known and allowed
      assembly_.reserve(need_);
    }
    take(chunk_.size());  // a partial frame: keep what there is
    return std::optional<view<H>>();
  }

  /// Bytes of a partial frame held, waiting for the rest.
  [[nodiscard]] std::size_t buffered() const noexcept { return assembled_ ? 0 : assembly_.size(); }
  /// Stream offset of the next frame's first byte.
  [[nodiscard]] std::uint64_t stream_offset() const noexcept { return stream_offset_; }
  [[nodiscard]] const frame_reader_options& options() const noexcept { return options_; }

 private:
  // Moves n bytes from the front of chunk_ to the assembly buffer (the one copy).
  void take(std::size_t n) {
    assembly_.insert(assembly_.end(), chunk_.begin(),
                     chunk_.begin() + static_cast<std::ptrdiff_t>(n));
    chunk_ = chunk_.subspan(n);
    io::detail::bytes_copied.add(n);
  }

  std::expected<std::optional<view<H>>, parse_error> fail(parse_error e) {
    failed_ = true;
    error_ = e;
    chunk_ = {};  // nothing more is read from the stream; feed() stays callable
    return std::unexpected(e);
  }

  std::expected<std::optional<view<H>>, parse_error> continue_assembly() {
    if (need_ == 0) {  // the header itself is still incomplete
      take(std::min(sizeof(H) - assembly_.size(), chunk_.size()));
      if (assembly_.size() < sizeof(H)) return std::optional<view<H>>();
      auto v = parse_at<H>(assembly_, stream_offset_, options_.max_frame);
      if (v) {  // an empty payload: the header was the whole frame
        assembled_ = true;
        return std::optional<view<H>>(*v);
      }
      if (v.error().reason != parse_errc::short_payload) return fail(v.error());
      need_ = v.error().needed;
      assembly_.reserve(need_);
    }
    take(std::min(need_ - assembly_.size(), chunk_.size()));
    if (assembly_.size() < need_) return std::optional<view<H>>();
    auto v = parse_at<H>(assembly_, stream_offset_, options_.max_frame);
    FERRITE_ASSERT(v.has_value(), "frame_reader: an assembled frame must parse");
    assembled_ = true;
    return std::optional<view<H>>(*v);
  }

  frame_reader_options options_;
  std::span<const std::byte> chunk_;  // the unread part of the buffer fed last
  std::vector<std::byte> assembly_;   // a frame split across buffers, assembled here
  std::size_t need_ = 0;              // that frame's total size, once its header is whole
  bool assembled_ = false;            // the last frame returned lives in assembly_
  bool failed_ = false;
  parse_error error_;
  std::uint64_t stream_offset_ = 0;  // of chunk_'s (or assembly_'s) first byte
};

/// A frame reader for a 4-byte big-endian payload length followed by the payload.
using frame_reader = basic_frame_reader<length_prefix>;

}  // namespace ferrite::io::wire
