// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for io::wire::parse and io::wire::frame_reader. The input is parsed as a
// chain of `msg` headers (checking every view lies inside the input, matches its length field
// and that each error's reason and offset follow from the bytes), then fed to a frame_reader
// in pieces whose sizes come from the input itself; the frames it returns must be exactly
// those a one-shot reference splitter finds in the whole input, followed by the same error
// (a length over the maximum) or by exactly the leftover bytes buffered. Invariants are
// FERRITE_ASSERTs (abort = finding).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/endian.hpp"
#include "ferrite/io/frame_reader.hpp"
#include "ferrite/io/wire.hpp"

namespace fuzz {

namespace wire = ferrite::io::wire;

struct msg {
  ferrite::io::be<std::uint16_t> len;
  std::uint8_t type;
  using wire_length = wire::length_field<&msg::len>;
};

bool inside(std::span<const std::byte> inner, std::span<const std::byte> outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

void check_parse_chain(std::span<const std::byte> input, std::size_t max_payload) {
  std::span<const std::byte> rest = input;
  std::size_t offset = 0;
  for (;;) {
    const auto v = wire::parse_at<msg>(rest, offset, max_payload);
    if (!v) {
      const auto& e = v.error();
      FERRITE_ASSERT(e.offset == offset);
      if (rest.size() < sizeof(msg)) {
        FERRITE_ASSERT(e.reason == wire::parse_errc::short_header);
      } else {
        const std::size_t len =
            (std::to_integer<std::size_t>(rest[0]) << 8) | std::to_integer<std::size_t>(rest[1]);
        FERRITE_ASSERT(len > max_payload
                           ? e.reason == wire::parse_errc::too_long
                           : e.reason == wire::parse_errc::short_payload &&
                                 len > rest.size() - sizeof(msg) && e.needed == sizeof(msg) + len);
      }
      return;
    }
    FERRITE_ASSERT(v->offset() == offset);
    FERRITE_ASSERT(inside(v->frame(), input) && v->frame().data() == rest.data());
    FERRITE_ASSERT(v->payload().size() == v->header().len);
    FERRITE_ASSERT(v->frame().size() + v->rest().size() == rest.size());
    if (!v->payload().empty()) {  // a nested parse of the payload stays inside it
      const auto inner = v->parse_payload<msg>();
      if (inner)
        FERRITE_ASSERT(inside(inner->frame(), v->payload()));
      else
        FERRITE_ASSERT(inner.error().offset == offset + sizeof(msg));
    }
    offset += v->frame().size();
    rest = v->rest();
  }
}

struct reference_split {
  std::vector<std::span<const std::byte>> payloads;
  bool too_long = false;
  std::size_t leftover = 0;
};

reference_split split_whole(std::span<const std::byte> input, std::size_t max) {
  reference_split r;
  std::span<const std::byte> rest = input;
  while (!rest.empty()) {
    const auto v = wire::parse<wire::length_prefix>(rest, max);
    if (!v) {
      r.too_long = v.error().reason == wire::parse_errc::too_long;
      r.leftover = rest.size();
      break;
    }
    r.payloads.push_back(v->payload());
    rest = v->rest();
  }
  return r;
}

void check_reader(std::span<const std::byte> stream, std::span<const std::byte> cuts,
                  std::size_t max) {
  const reference_split want = split_whole(stream, max);
  wire::frame_reader reader({.max_frame = max});
  std::size_t got = 0;
  std::size_t at = 0;
  std::size_t c = 0;
  bool failed = false;
  while (at < stream.size() && !failed) {
    const std::size_t piece =
        c < cuts.size() ? std::to_integer<std::size_t>(cuts[c++]) % 64 + 1 : stream.size() - at;
    const auto chunk = stream.subspan(at, std::min(piece, stream.size() - at));
    at += chunk.size();
    reader.feed(chunk);
    for (;;) {
      const auto f = reader.next();
      if (!f) {
        FERRITE_ASSERT(want.too_long && got == want.payloads.size());
        FERRITE_ASSERT(f.error().reason == wire::parse_errc::too_long);
        failed = true;
        break;
      }
      if (!*f) break;
      FERRITE_ASSERT(got < want.payloads.size());
      FERRITE_ASSERT(std::ranges::equal((*f)->payload(), want.payloads[got]));
      ++got;
    }
  }
  FERRITE_ASSERT(got == want.payloads.size());
  FERRITE_ASSERT(failed == want.too_long);
  if (!failed) FERRITE_ASSERT(reader.buffered() == want.leftover);
}

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input = std::as_bytes(std::span(data, size));
  if (input.size() < 2) return 0;
  const std::size_t max = std::to_integer<std::size_t>(input[0]) * 16;
  const std::size_t ncuts = std::min(input.size() - 1, std::to_integer<std::size_t>(input[1]) % 16);
  const auto cuts = input.subspan(2, std::min(ncuts, input.size() - 2));
  const auto body = input.subspan(2 + cuts.size());
  // A heap copy: operator new's storage implicitly creates the headers the views name.
  const std::vector<std::byte> copy(body.begin(), body.end());
  fuzz::check_parse_chain(copy, max);
  fuzz::check_parse_chain(copy, SIZE_MAX);
  fuzz::check_reader(copy, cuts, max);
  return 0;
}
