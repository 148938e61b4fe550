// SPDX-License-Identifier: Apache-2.0
// Zero-copy wire parsing: a protocol header is a plain struct of io::be / io::le fields
// (alignment 1, so it can be viewed in place at any offset), and wire::parse<H>(bytes)
// returns a view<H> of the header and its payload without copying a byte, or a parse_error
// with the offset and the reason. A header whose length field gives the payload size
// declares it once, `using wire_length = wire::length_field<&H::len>;`, and parse bounds-checks
// it against the buffer and an optional maximum (a hostile length is an error, never an
// allocation). A payload that is itself a header plus payload parses as a nested view whose
// errors carry offsets from the start of the outer buffer.
//
// ```cpp
// struct msg {                                   // 8-byte header, then `len` payload bytes
//   io::be<std::uint32_t> len;
//   io::be<std::uint16_t> type;
//   io::be<std::uint16_t> flags;
//   using wire_length = io::wire::length_field<&msg::len>;
// };
// auto v = io::wire::parse<msg>(buffer);          // std::expected<view<msg>, parse_error>
// if (!v) return reject(v.error().offset, v.error().message());
// dispatch(v->header().type, v->payload());      // both point into `buffer`
// buffer = v->rest();                            // the next message
// ```
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

#include "ferrite/core/error.hpp"
#include "ferrite/core/pod.hpp"

namespace ferrite::io::wire {

/// Why a parse failed.
enum class parse_errc : std::uint8_t {
  short_header,   ///< fewer bytes than the header
  short_payload,  ///< the length field runs past the end of the bytes
  too_long,       ///< the length field exceeds the maximum allowed
  bad_length,     ///< a whole-frame length smaller than the header itself
  invalid,        ///< the header's own check (H::wire_check) rejected it
};

/// "short header", "short payload", ...
[[nodiscard]] const char* to_string(parse_errc e) noexcept;

/// A failed parse: where (byte offset of the header from the start of the outermost buffer)
/// and why, with the bytes a complete frame would need when the reason is a short one.
struct parse_error {
  std::size_t offset = 0;
  parse_errc reason = parse_errc::short_header;
  std::size_t needed = 0;  ///< short_*: bytes the frame needs; too_long: the length read

  /// E.g. "wire::parse: short payload at byte 16 (frame needs 40 bytes)".
  [[nodiscard]] std::string message() const;
  /// As a ferrite::error: errc::parse_error, detail_a = offset, detail_b = needed.
  [[nodiscard]] ferrite::error to_error() const noexcept {
    return ferrite::error(errc::parse_error, "wire::parse", offset, needed);
  }
  friend bool operator==(const parse_error&, const parse_error&) = default;
};

/// What a length field counts.
enum class length_counts : std::uint8_t {
  payload,  ///< the bytes after the header
  frame,    ///< header and payload together (length >= sizeof(H))
};

namespace detail {
template <class M>
struct member_of;
template <class C, class F>
struct member_of<F C::*> {
  using class_type = C;
  using field_type = F;
};
}  // namespace detail

/// Declares that header field `Member` (an unsigned integer or an io::be/io::le of one)
/// holds the frame's length, counting `Counts`. Used as `using wire_length =
/// length_field<&H::len>;` in H, or by specializing wire::frame_length<H>.
template <auto Member, length_counts Counts = length_counts::payload>
struct length_field {
  using header_type = typename detail::member_of<decltype(Member)>::class_type;
  static constexpr length_counts counts = Counts;
  /// The length field's value.
  [[nodiscard]] static constexpr std::uint64_t read(const header_type& h) noexcept {
    return static_cast<std::uint64_t>(h.*Member);
  }
};

/// The length_field of H: H::wire_length by default; specialize for headers you cannot edit.
template <class H>
struct frame_length {};
template <class H>
  requires requires { typename H::wire_length; }
struct frame_length<H> {
  using type = typename H::wire_length;
};

/// A header type: pod (every byte pattern valid) with alignment 1, so it can be viewed in
/// place at any offset of any buffer.
template <class H>
concept header = pod<H> && alignof(H) == 1;

/// A header with a declared length field.
template <class H>
concept length_prefixed = header<H> && requires { typename frame_length<H>::type; };

/// An optional check a header type may declare: `static bool wire_check(const H&)`.
template <class H>
concept self_checking = requires(const H& h) {
  { H::wire_check(h) } -> std::same_as<bool>;
};

/// A parsed frame: the header, its payload and what follows, all spans into the parsed
/// bytes (zero copy). Valid as long as those bytes are. Trivially copyable.
template <header H>
class view {
 public:
  /// The header, in place.
  [[nodiscard]] const H& header() const noexcept { return *header_; }
  [[nodiscard]] const H* operator->() const noexcept { return header_; }
  /// The payload: the declared length's bytes after the header, or, for a header without a
  /// length field, every byte after it.
  [[nodiscard]] std::span<const std::byte> payload() const noexcept { return payload_; }
  /// Header and payload.
  [[nodiscard]] std::span<const std::byte> frame() const noexcept {
    // SAFETY: the header's bytes and the payload are adjacent in the parsed buffer.
    return {reinterpret_cast<const std::byte*>(header_), sizeof(H) + payload_.size()};
  }
  /// The bytes after this frame in the parsed buffer (the next frame, if any).
  [[nodiscard]] std::span<const std::byte> rest() const noexcept { return rest_; }
  /// Offset of the header from the start of the outermost parsed buffer.
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

  /// Parses the payload as a header H2 plus payload: a nested view. Errors and the nested
  /// view's offset() count from the outermost buffer. `max_payload` as for parse().
  template <wire::header H2>
  [[nodiscard]] std::expected<view<H2>, parse_error> parse_payload(
      std::size_t max_payload = std::numeric_limits<std::size_t>::max()) const noexcept;

 private:
  template <wire::header H2>
  friend std::expected<view<H2>, parse_error> parse_at(std::span<const std::byte>, std::size_t,
                                                       std::size_t) noexcept;
  const H* header_ = nullptr;
  std::span<const std::byte> payload_;
  std::span<const std::byte> rest_;
  std::size_t offset_ = 0;
};

/// parse() of `bytes` that sit at `base_offset` of an outer buffer (errors and offsets are
/// reported from there). parse<H>(b) is parse_at<H>(b, 0).
template <header H>
[[nodiscard]] std::expected<view<H>, parse_error> parse_at(std::span<const std::byte> bytes,
                                                           std::size_t base_offset,
                                                           std::size_t max_payload) noexcept {
  if (bytes.size() < sizeof(H)) {
    return std::unexpected(parse_error{base_offset, parse_errc::short_header, sizeof(H)});
  }
  view<H> v;
  // SAFETY: sizeof(H) bytes are in bounds (checked above) and alignof(H) == 1 (header<H>);
  // try_cast does the lifetime start of the pod H over the buffer's bytes.
  v.header_ = *try_cast<H>(bytes.first(sizeof(H)));
  v.offset_ = base_offset;
  const std::span<const std::byte> after = bytes.subspan(sizeof(H));
  if constexpr (self_checking<H>) {
    if (!H::wire_check(*v.header_)) {
      return std::unexpected(parse_error{base_offset, parse_errc::invalid, 0});
    }
  }
  if constexpr (length_prefixed<H>) {
    using field = typename frame_length<H>::type;
    std::uint64_t n = field::read(*v.header_);
    if constexpr (field::counts == length_counts::frame) {
      if (n < sizeof(H))
        return std::unexpected(parse_error{base_offset, parse_errc::bad_length, n});
      n -= sizeof(H);
    }
    if (n > max_payload) {
      return std::unexpected(parse_error{base_offset, parse_errc::too_long, n});
    }
    if (n > after.size()) {
      return std::unexpected(parse_error{base_offset, parse_errc::short_payload,
                                         sizeof(H) + static_cast<std::size_t>(n)});
    }
    v.payload_ = after.first(static_cast<std::size_t>(n));
    v.rest_ = after.subspan(static_cast<std::size_t>(n));
  } else {
    if (after.size() > max_payload) {
      return std::unexpected(parse_error{base_offset, parse_errc::too_long, after.size()});
    }
    v.payload_ = after;
  }
  return v;
}

/// Parses a header H and its payload from the front of `bytes`, in place. Fails with
/// short_header, short_payload, too_long (payload longer than `max_payload`), bad_length or
/// invalid (see parse_errc). O(1): no byte of the payload is read.
template <header H>
[[nodiscard]] std::expected<view<H>, parse_error> parse(
    std::span<const std::byte> bytes,
    std::size_t max_payload = std::numeric_limits<std::size_t>::max()) noexcept {
  return parse_at<H>(bytes, 0, max_payload);
}

template <header H>
template <header H2>
std::expected<view<H2>, parse_error> view<H>::parse_payload(
    std::size_t max_payload) const noexcept {
  return parse_at<H2>(payload_, offset_ + sizeof(H), max_payload);
}

}  // namespace ferrite::io::wire
