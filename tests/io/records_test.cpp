// SPDX-License-Identifier: Apache-2.0
// records<T>: size validation, every element equal to a memcpy reference at every
// misalignment, the range concepts and algorithms it works with, references through as_span
// when aligned, and records<T>::from(mapped_file) with a header check hook, including the
// debug-checked generation after grow().
#include "ferrite/io/records.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <ranges>
#include <vector>

#include "ferrite/io/endian.hpp"
#include "io_test_support.hpp"

namespace {

using ferrite::errc;
using ferrite::io::mapped_file;
using ferrite::io::records;

struct trade {
  std::uint64_t id;
  std::uint32_t price;
  std::uint32_t qty;
};
static_assert(ferrite::pod<trade> && alignof(trade) == 8);

struct wire_trade {  // alignment 1: always viewable by reference
  ferrite::io::be<std::uint64_t> id;
  ferrite::io::be<std::uint32_t> price;
};

static_assert(std::ranges::random_access_range<records<trade>>);
static_assert(std::ranges::sized_range<records<trade>>);
static_assert(std::ranges::borrowed_range<records<trade>>);
static_assert(std::ranges::view<records<trade>>);
static_assert(std::random_access_iterator<records<trade>::iterator>);
static_assert(std::is_trivially_copyable_v<records<trade>>);

trade reference_at(const std::vector<std::byte>& buf, std::size_t offset, std::size_t i) {
  trade t;
  std::memcpy(&t, buf.data() + offset + i * sizeof(trade), sizeof t);
  return t;
}

bool same(const trade& a, const trade& b) {
  return a.id == b.id && a.price == b.price && a.qty == b.qty;
}

TEST(Records, EveryElementMatchesAMemcpyReferenceAtEveryAlignment) {
  std::mt19937_64 rng(3);
  for (std::size_t offset = 0; offset < 16; ++offset) {
    const std::size_t n = rng() % 200;
    std::vector<std::byte> buf(offset + n * sizeof(trade));
    for (auto& b : buf) b = static_cast<std::byte>(rng());
    const auto r = records<trade>::from(std::span(buf).subspan(offset));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), n);
    EXPECT_EQ(r->aligned(),
              n == 0 || (offset % 8 == 0 && ferrite::detail::address_of(buf.data()) % 8 == 0));
    std::size_t i = 0;
    for (const trade t : *r) {
      ASSERT_TRUE(same(t, reference_at(buf, offset, i))) << offset << " " << i;
      ASSERT_TRUE(same((*r)[i], t));
      ++i;
    }
    EXPECT_EQ(i, n);
    EXPECT_FALSE(r->at(n).has_value());
    if (n > 0) {
      EXPECT_TRUE(same(r->back(), reference_at(buf, offset, n - 1)));
      EXPECT_TRUE(same(r->begin()[static_cast<std::ptrdiff_t>(n - 1)], r->back()));
    }
  }
}

TEST(Records, SizeMustBeAWholeNumberOfRecords) {
  std::vector<std::byte> buf(sizeof(trade) * 3 + 5);
  const auto r = records<trade>::from(buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), errc::length_not_multiple);
  EXPECT_EQ(r.error().detail_a(), sizeof(trade));
  EXPECT_EQ(r.error().detail_b(), buf.size());
  const auto empty = records<trade>::from(std::span<const std::byte>());
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(empty->begin(), empty->end());
}

TEST(Records, WorksWithRangesAndAlgorithms) {
  // Sorted ids at a misaligned offset; results compared with the same operations on a vector.
  std::mt19937_64 rng(9);
  std::vector<trade> ref(500);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    ref[i] = trade{i * 3 + rng() % 3, static_cast<std::uint32_t>(rng() % 1000),
                   static_cast<std::uint32_t>(rng() % 50)};
  }
  std::vector<std::byte> buf(1 + ref.size() * sizeof(trade));
  std::memcpy(buf.data() + 1, ref.data(), ref.size() * sizeof(trade));
  const auto r = records<trade>::from(std::span(buf).subspan(1));
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->aligned());
  EXPECT_FALSE(r->as_span().has_value());

  const std::uint64_t probe = ref[321].id;
  const auto it = std::ranges::lower_bound(*r, probe, {}, &trade::id);
  EXPECT_EQ(it - r->begin(), std::ranges::lower_bound(ref, probe, {}, &trade::id) - ref.begin());
  EXPECT_EQ(std::ranges::count_if(*r, [](const trade& t) { return t.qty > 25; }),
            std::ranges::count_if(ref, [](const trade& t) { return t.qty > 25; }));
  EXPECT_EQ(std::accumulate(r->begin(), r->end(), std::uint64_t{0},
                            [](std::uint64_t s, const trade& t) { return s + t.price; }),
            std::accumulate(ref.begin(), ref.end(), std::uint64_t{0},
                            [](std::uint64_t s, const trade& t) { return s + t.price; }));
  // A projection through a member pointer would return a reference into the prvalue
  // element (dangling in transform_view); a lambda returning by value does not.
  const auto price = [](const trade& t) { return t.price; };
  const auto max_r = std::ranges::max(*r | std::views::transform(price));
  EXPECT_EQ(max_r, std::ranges::max(ref | std::views::transform(&trade::price)));
  auto found = std::find_if(r->begin(), r->end(), [&](const trade& t) { return t.id == probe; });
  ASSERT_NE(found, r->end());
  EXPECT_TRUE(same(*found, ref[321]));
  std::vector<std::uint32_t> rev;
  for (const trade t : *r | std::views::reverse | std::views::take(3)) rev.push_back(t.qty);
  EXPECT_EQ(rev, (std::vector<std::uint32_t>{ref[499].qty, ref[498].qty, ref[497].qty}));
  std::vector<trade> copy(r->begin(), r->end());
  EXPECT_TRUE(std::ranges::equal(copy, ref, same));
}

TEST(Records, AlignedRegionsGiveReferences) {
  std::vector<trade> ref(10, trade{1, 2, 3});
  const auto r = records<trade>::from(std::as_bytes(std::span(ref)));
  ASSERT_TRUE(r && r->aligned());
  const auto s = r->as_span();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(static_cast<const void*>(s->data()), static_cast<const void*>(ref.data()));
  // alignof 1: every offset is aligned.
  std::vector<std::byte> buf(3 + 4 * sizeof(wire_trade));
  const auto w = records<wire_trade>::from(std::span(buf).subspan(3));
  ASSERT_TRUE(w && w->aligned() && w->as_span().has_value());
}

// A file of trades after a 16-byte header: "TRDS", u32 version, u64 count.
struct file_header {
  char magic[4];
  ferrite::io::le<std::uint32_t> version;
  ferrite::io::le<std::uint64_t> count;
};

std::expected<std::size_t, ferrite::error> check_header(std::span<const std::byte> all) {
  auto h = ferrite::try_cast<file_header>(all.first(std::min(all.size(), sizeof(file_header))));
  if (!h) return std::unexpected(h.error());
  if (std::memcmp((*h)->magic, "TRDS", 4) != 0 || (*h)->version != 1) {
    return std::unexpected(ferrite::error(errc::parse_error, "trade file header", 0));
  }
  if ((all.size() - sizeof(file_header)) / sizeof(trade) != (*h)->count) {
    return std::unexpected(ferrite::error(errc::size_mismatch, "trade file count", (*h)->count,
                                          (all.size() - sizeof(file_header)) / sizeof(trade)));
  }
  return sizeof(file_header);
}

std::vector<std::byte> trade_file(const std::vector<trade>& ts, const char* magic) {
  file_header h{};
  std::memcpy(h.magic, magic, 4);
  h.version = 1;
  h.count = ts.size();
  std::vector<std::byte> out(sizeof h + ts.size() * sizeof(trade));
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + sizeof h, ts.data(), ts.size() * sizeof(trade));
  return out;
}

TEST(Records, FromMappedFileRunsTheHeaderCheck) {
  io_test::temp_dir dir;
  const auto path = dir.file("trades");
  std::vector<trade> ts;
  for (std::uint64_t i = 0; i < 1000; ++i)
    ts.push_back(trade{i, static_cast<std::uint32_t>(i * 2), 1});
  ASSERT_TRUE(io_test::write_file(path, trade_file(ts, "TRDS")));
  {
    const auto f = mapped_file::open(path);
    ASSERT_TRUE(f);
    const auto r = records<trade>::from(*f, check_header);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), ts.size());
    EXPECT_TRUE(std::ranges::equal(*r, ts, same));
    EXPECT_TRUE(r->aligned());  // page-aligned mapping + 16-byte header
  }
  ASSERT_TRUE(io_test::write_file(path, trade_file(ts, "XXXX")));
  {
    const auto f = mapped_file::open(path);
    const auto r = records<trade>::from(*f, check_header);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::parse_error);
    EXPECT_EQ(r.error().path(), path);
  }
  auto bytes = trade_file(ts, "TRDS");
  bytes.resize(bytes.size() - 3);  // a torn last record
  ASSERT_TRUE(io_test::write_file(path, bytes));
  {
    const auto f = mapped_file::open(path);
    const auto r = records<trade>::from(*f);  // no header: the whole file must be records
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::length_not_multiple);
    const auto past = records<trade>::from(
        *f, [](std::span<const std::byte> all) -> std::expected<std::size_t, ferrite::error> {
          return all.size() + 1;
        });
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code(), errc::out_of_range);
  }
}

#if FERRITE_DEBUG
TEST(RecordsDeathTest, UseAfterGrowFailsTheGenerationCheck) {
  io_test::temp_dir dir;
  const auto path = dir.file("grow");
  ASSERT_TRUE(io_test::write_file(path, io_test::pattern(sizeof(trade) * 4)));
  auto f = mapped_file::open(path, mapped_file::mode::read_write);
  ASSERT_TRUE(f);
  const auto r = records<trade>::from(*f);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 4U);
  ASSERT_TRUE(f->grow(1 << 20));
  EXPECT_DEATH({ [[maybe_unused]] auto t = (*r)[0]; }, "grown");
}
#endif

}  // namespace
