// SPDX-License-Identifier: Apache-2.0
// wire::parse and wire::frame_reader: views point into the parsed buffer, every error
// reason and offset (also from nested views), and the frame reader reassembling a random
// stream of frames fed in random splits (down to one byte) exactly as a reference splitter
// does, viewing in place exactly the frames that fit in one buffer, copying each byte of the
// others once, and rejecting a hostile length without allocating it.
#include "ferrite/io/wire.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "ferrite/io/endian.hpp"
#include "ferrite/io/frame_reader.hpp"
#include "io_test_support.hpp"

namespace {

using ferrite::io::be;
using ferrite::io::le;
namespace wire = ferrite::io::wire;
using bytes_vec = std::vector<std::byte>;

struct msg {
  be<std::uint32_t> len;
  be<std::uint16_t> type;
  le<std::uint16_t> flags;
  using wire_length = wire::length_field<&msg::len>;
};
static_assert(sizeof(msg) == 8 && wire::length_prefixed<msg>);

struct whole {  // length counts the header too
  be<std::uint16_t> total;
  std::uint8_t version;
  using wire_length = wire::length_field<&whole::total, wire::length_counts::frame>;
  static bool wire_check(const whole& h) { return h.version == 1; }
};

struct tag {  // no length: the payload is the rest
  std::uint8_t kind;
};

void put_msg(bytes_vec& out, std::uint16_t type, const bytes_vec& payload) {
  msg h{};
  h.len = static_cast<std::uint32_t>(payload.size());
  h.type = type;
  h.flags = static_cast<std::uint16_t>(type * 3);
  const auto* p = reinterpret_cast<const std::byte*>(&h);
  out.insert(out.end(), p, p + sizeof h);
  out.insert(out.end(), payload.begin(), payload.end());
}

bytes_vec random_bytes(std::mt19937_64& rng, std::size_t n) {
  bytes_vec v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng());
  return v;
}

bool inside(std::span<const std::byte> inner, std::span<const std::byte> outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST(WireParse, ViewsHeaderAndPayloadInPlace) {
  std::mt19937_64 rng(1);
  bytes_vec buf;
  std::vector<bytes_vec> payloads;
  for (std::uint16_t i = 0; i < 50; ++i) {
    payloads.push_back(random_bytes(rng, rng() % 100));
    put_msg(buf, i, payloads.back());
  }
  std::span<const std::byte> rest = buf;
  for (std::uint16_t i = 0; i < 50; ++i) {
    const auto v = wire::parse<msg>(rest);
    ASSERT_TRUE(v) << v.error().message();
    EXPECT_EQ(v->header().type, i);
    EXPECT_EQ(v->header().flags, i * 3);
    EXPECT_EQ(v->header().len, payloads[i].size());
    EXPECT_TRUE(std::ranges::equal(v->payload(), payloads[i]));
    EXPECT_TRUE(inside(v->payload(), buf));
    EXPECT_EQ(static_cast<const void*>(&v->header()), static_cast<const void*>(rest.data()));
    EXPECT_EQ(v->frame().size(), sizeof(msg) + payloads[i].size());
    rest = v->rest();
  }
  EXPECT_TRUE(rest.empty());
}

TEST(WireParse, ReportsEveryReasonWithItsOffset) {
  bytes_vec buf;
  put_msg(buf, 7, bytes_vec(20));
  auto e = wire::parse<msg>(std::span(buf).first(5));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), (wire::parse_error{0, wire::parse_errc::short_header, 8}));
  e = wire::parse<msg>(std::span(buf).first(27));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), (wire::parse_error{0, wire::parse_errc::short_payload, 28}));
  EXPECT_EQ(e.error().message(), "wire::parse: short payload at byte 0 (frame needs 28 bytes)");
  e = wire::parse<msg>(buf, 19);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error(), (wire::parse_error{0, wire::parse_errc::too_long, 20}));
  EXPECT_EQ(e.error().to_error().code(), ferrite::errc::parse_error);

  const std::byte small[] = {std::byte{0}, std::byte{2}, std::byte{1}};  // total 2 < 3
  const auto b = wire::parse<whole>(small);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().reason, wire::parse_errc::bad_length);
  const std::byte ok[] = {std::byte{0}, std::byte{5}, std::byte{1}, std::byte{9}, std::byte{8}};
  const auto w = wire::parse<whole>(ok);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->payload().size(), 2U);
  const std::byte v2[] = {std::byte{0}, std::byte{3}, std::byte{2}};
  EXPECT_EQ(wire::parse<whole>(v2).error().reason, wire::parse_errc::invalid);

  const auto t = wire::parse<tag>(ok);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->payload().size(), 4U);
  EXPECT_TRUE(t->rest().empty());
}

TEST(WireParse, NestedViewsReportOuterOffsets) {
  bytes_vec inner;
  put_msg(inner, 2, bytes_vec(3));
  bytes_vec buf;
  put_msg(buf, 1, bytes_vec(10));  // a first frame, so the nested one is not at offset 0
  put_msg(buf, 1, inner);
  const auto first = wire::parse<msg>(buf);
  ASSERT_TRUE(first);
  const auto outer = wire::parse_at<msg>(first->rest(), first->frame().size(),
                                         std::numeric_limits<std::size_t>::max());
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->offset(), 18U);
  const auto nested = outer->parse_payload<msg>();
  ASSERT_TRUE(nested) << nested.error().message();
  EXPECT_EQ(nested->offset(), 26U);
  EXPECT_EQ(nested->header().type, 2);
  EXPECT_EQ(nested->payload().size(), 3U);
  const auto too_deep = nested->parse_payload<msg>();
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().offset, 34U);
  EXPECT_EQ(too_deep.error().reason, wire::parse_errc::short_header);
}

struct split_stats {
  std::size_t frames = 0;
  std::size_t in_place = 0;
  std::size_t copied_bytes = 0;
};

// Feeds `stream` to a reader in `cuts` pieces and collects the payloads; checks zero copy.
std::vector<bytes_vec> read_all(const bytes_vec& stream, const std::vector<std::size_t>& cuts,
                                split_stats& stats) {
  wire::frame_reader reader({.max_frame = 1 << 16});
  std::vector<bytes_vec> out;
  std::size_t at = 0;
  for (std::size_t c = 0; c <= cuts.size(); ++c) {
    const std::size_t end = c < cuts.size() ? cuts[c] : stream.size();
    const auto chunk = std::span(stream).subspan(at, end - at);
    reader.feed(chunk);
    for (;;) {
      const auto f = reader.next();
      EXPECT_TRUE(f) << f.error().message();
      if (!f || !*f) break;
      out.emplace_back((*f)->payload().begin(), (*f)->payload().end());
      ++stats.frames;
      if (inside((*f)->frame(), chunk)) {
        ++stats.in_place;
      } else {
        stats.copied_bytes += (*f)->frame().size();
      }
    }
    at = end;
  }
  EXPECT_EQ(reader.buffered(), 0U);
  EXPECT_EQ(reader.stream_offset(), stream.size());
  return out;
}

TEST(FrameReader, ReassemblesRandomSplitsLikeAReferenceSplitter) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    bytes_vec stream;
    std::vector<bytes_vec> expect;
    std::vector<std::size_t> starts;
    const std::size_t frames = 1 + rng() % 30;
    for (std::size_t i = 0; i < frames; ++i) {
      expect.push_back(random_bytes(rng, rng() % 4 == 0 ? 0 : rng() % 300));
      starts.push_back(stream.size());
      const be<std::uint32_t> len(static_cast<std::uint32_t>(expect.back().size()));
      const auto* p = reinterpret_cast<const std::byte*>(&len);
      stream.insert(stream.end(), p, p + 4);
      stream.insert(stream.end(), expect.back().begin(), expect.back().end());
    }
    std::vector<std::size_t> cuts;
    const std::size_t pieces = round % 10 == 0 ? stream.size() : rng() % 12;  // 1-byte feeds too
    for (std::size_t i = 0; i < pieces; ++i) cuts.push_back(rng() % (stream.size() + 1));
    if (round % 10 == 0) {
      cuts.clear();
      for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
    }
    std::ranges::sort(cuts);
    // Reference: a frame is viewed in place iff no cut falls strictly inside it.
    std::size_t want_in_place = 0;
    std::size_t want_copied = 0;
    for (std::size_t i = 0; i < frames; ++i) {
      const std::size_t b = starts[i];
      const std::size_t e = b + 4 + expect[i].size();
      const bool split = std::ranges::any_of(cuts, [&](std::size_t c) { return c > b && c < e; });
      want_in_place += split ? 0 : 1;
      want_copied += split ? e - b : 0;
    }
    split_stats stats;
    const std::uint64_t copied_before = ferrite::io::detail::bytes_copied.value();
    ASSERT_EQ(read_all(stream, cuts, stats), expect) << round;
    EXPECT_EQ(stats.in_place, want_in_place) << round;
    EXPECT_EQ(stats.copied_bytes, want_copied) << round;
    if constexpr (FERRITE_METRICS) {  // each byte of a split frame was copied exactly once
      EXPECT_EQ(ferrite::io::detail::bytes_copied.value() - copied_before, want_copied);
    }
  }
}

TEST(FrameReader, RejectsAHostileLengthWithoutAllocatingIt) {
  for (const std::size_t split : {0UL, 1UL, 2UL, 3UL}) {  // header whole, or split at each byte
    wire::frame_reader reader({.max_frame = 1 << 20});
    const std::byte hostile[] = {std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF},
                                 std::byte{0xF0}, std::byte{1},    std::byte{2}};
    io_test::reset_largest_allocation();
    std::expected<std::optional<wire::view<wire::length_prefix>>, wire::parse_error> f;
    if (split == 0) {
      reader.feed(hostile);
      f = reader.next();
    } else {
      reader.feed(std::span(hostile).first(split));
      ASSERT_TRUE(reader.next());  // partial header: nothing yet
      reader.feed(std::span(hostile).subspan(split));
      f = reader.next();
    }
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().reason, wire::parse_errc::too_long);
    EXPECT_EQ(f.error().needed, 0xFFFFFFF0U);
    EXPECT_LT(io_test::largest_allocation(), 64U) << split;  // at most the 4-byte header buffer
    EXPECT_FALSE(reader.next());                             // the reader stays failed
    reader.feed(hostile);  // feeding a failed reader is allowed; it stays failed
    EXPECT_EQ(reader.next().error().reason, wire::parse_errc::too_long);
  }
}

TEST(FrameReader, CustomHeadersAndEmptyPayloads) {
  ferrite::io::wire::basic_frame_reader<msg> reader;
  bytes_vec stream;
  put_msg(stream, 1, {});
  put_msg(stream, 2, bytes_vec(5, std::byte{7}));
  put_msg(stream, 3, {});
  std::vector<std::uint16_t> types;
  for (std::size_t i = 0; i < stream.size(); ++i) {  // one byte at a time
    reader.feed(std::span(stream).subspan(i, 1));
    while (auto f = reader.next()) {
      if (!*f) break;
      types.push_back((*f)->header().type);
    }
  }
  EXPECT_EQ(types, (std::vector<std::uint16_t>{1, 2, 3}));
}

}  // namespace
