// SPDX-License-Identifier: Apache-2.0
// pod.hpp: the pod/zeroable concepts on the types that matter (static_asserts), zeroed(),
// byte views, every error path of try_cast/try_cast_span with its exact code, details and
// message(), the check order (size before alignment), misaligned subspans at every offset,
// empty spans, and unaligned read/write round trips.
#include "ferrite/core/pod.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>

namespace test_types {
struct header {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t kind;
};
struct padded {
  std::uint8_t tag;
  std::uint32_t value;
};
struct vec3 {
  float x, y, z;
};
struct vec3_opted {
  float x, y, z;
};
struct with_ctor {
  with_ctor() : v(1) {}
  int v;
};
struct empty {};
struct with_bool {
  bool b;
};
enum class color : std::uint8_t { red, green };
// No fixed underlying type on purpose: that is what makes it not pod.
enum legacy { legacy_a, legacy_b };  // NOLINT(performance-enum-size)
}  // namespace test_types

template <>
inline constexpr bool ferrite::pod_opt_in<test_types::vec3_opted> = true;

namespace {

using namespace test_types;
using ferrite::errc;

// ---- pod -------------------------------------------------------------------------------
static_assert(ferrite::pod<int> && ferrite::pod<std::uint8_t> && ferrite::pod<std::byte>);
static_assert(ferrite::pod<char> && ferrite::pod<std::uint64_t>);
static_assert(ferrite::pod<float> && ferrite::pod<double>);  // the standard trait says no
static_assert(ferrite::pod<int[4]> && ferrite::pod<float[3]> && ferrite::pod<double[2][2]>);
static_assert(ferrite::pod<header>);
static_assert(ferrite::pod<color>);       // scoped: fixed underlying type
static_assert(ferrite::pod<vec3_opted>);  // opted in
static_assert(!ferrite::pod<vec3>);       // float members: needs the opt-in
static_assert(!ferrite::pod<padded>);     // 3 padding bytes
static_assert(!ferrite::pod<padded[2]>);
static_assert(!ferrite::pod<bool>);  // only 0 and 1 are values
static_assert(!ferrite::pod<int*> && !ferrite::pod<const char*> && !ferrite::pod<void*>);
static_assert(!ferrite::pod<int header::*> && !ferrite::pod<std::nullptr_t>);
static_assert(!ferrite::pod<std::string>);
static_assert(ferrite::pod<with_ctor>);  // a default constructor is irrelevant: pod is bytes
static_assert(!ferrite::pod<empty>);     // its one byte is padding
static_assert(!ferrite::pod<legacy>);    // unscoped, no fixed underlying type
static_assert(!ferrite::pod<const int> && !ferrite::pod<volatile int>);
static_assert(!ferrite::pod<int[]>);
#if defined(__x86_64__)
static_assert(!ferrite::pod<long double>);  // x87: 10 value bytes in 16
#endif
static_assert(ferrite::pod<with_bool>);  // the documented limitation: pod cannot see members

// ---- zeroable --------------------------------------------------------------------------
static_assert(ferrite::zeroable<int> && ferrite::zeroable<bool> && ferrite::zeroable<int*>);
static_assert(ferrite::zeroable<padded> && ferrite::zeroable<vec3> && ferrite::zeroable<float[2]>);
static_assert(!ferrite::zeroable<int header::*> && !ferrite::zeroable<int header::* [2]>);
static_assert(!ferrite::zeroable<with_ctor> && !ferrite::zeroable<std::string>);
static_assert(!ferrite::zeroable<const int>);

// ---- byte views ------------------------------------------------------------------------
static_assert(std::same_as<decltype(ferrite::as_bytes(std::declval<const header&>())),
                           std::span<const std::byte, 8>>);
static_assert(std::same_as<decltype(ferrite::as_writable_bytes(std::declval<header&>())),
                           std::span<std::byte, 8>>);

std::string hex(std::uintptr_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(Pod, Zeroed) {
  // Padding of a returned value is unspecified (GCC -O3 really drops it): members only.
  const auto p = ferrite::zeroed<padded>();
  EXPECT_EQ(p.tag, 0);
  EXPECT_EQ(p.value, 0U);
  // Without padding, every byte.
  const auto h = ferrite::zeroed<header>();
  const std::array<std::byte, sizeof(header)> zero{};
  EXPECT_EQ(std::memcmp(&h, zero.data(), sizeof h), 0);
  EXPECT_EQ(ferrite::zeroed<int*>(), nullptr);
  EXPECT_EQ(ferrite::zeroed<double>(), 0.0);
  EXPECT_EQ(ferrite::zeroed<std::uint64_t>(), 0U);
  EXPECT_FALSE(ferrite::zeroed<bool>());
}

TEST(Pod, AsBytesViewsTheObject) {
  header h{0x0403'0201U, 0x0605U, 0x0807U};
  const auto bytes = ferrite::as_bytes(h);
  EXPECT_EQ(bytes.size(), sizeof(header));
  EXPECT_EQ(static_cast<const void*>(bytes.data()), static_cast<const void*>(&h));
  std::array<std::byte, sizeof(header)> copy{};
  std::memcpy(copy.data(), &h, sizeof h);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), copy.begin()));

  auto writable = ferrite::as_writable_bytes(h);
  std::ranges::fill(writable, std::byte{0xAB});
  EXPECT_EQ(h.magic, 0xABAB'ABABU);
  EXPECT_EQ(h.kind, 0xABABU);

  const int arr[2] = {1, 2};
  EXPECT_EQ(ferrite::as_bytes(arr).size(), 2 * sizeof(int));
}

class PodCast : public testing::Test {
 protected:
  alignas(16) std::array<std::byte, 64> buf_{};
  std::span<std::byte> bytes() { return buf_; }
  std::span<const std::byte> cbytes() const { return buf_; }
};

TEST_F(PodCast, TryCastSuccessConstAndMutable) {
  const header h{0xFEEDFACEU, 3, 7};
  std::memcpy(buf_.data(), &h, sizeof h);
  const auto c = ferrite::try_cast<header>(cbytes().first(sizeof(header)));
  ASSERT_TRUE(c.has_value());
  static_assert(std::same_as<decltype(*c), const header* const&>);
  EXPECT_EQ(static_cast<const void*>(*c), static_cast<const void*>(buf_.data()));
  EXPECT_EQ((*c)->magic, 0xFEEDFACEU);
  EXPECT_EQ((*c)->kind, 7);

  const auto m = ferrite::try_cast<header>(bytes().first(sizeof(header)));
  ASSERT_TRUE(m.has_value());
  static_assert(std::same_as<decltype(*m), header* const&>);
  (*m)->version = 42;
  EXPECT_EQ(ferrite::read_unaligned<std::uint16_t>(cbytes().subspan(4)), 42);
}

// Buffers from sockets, files and C APIs are char, unsigned char or std::uint8_t: the casts
// take a span of any of them (the review's friction: only std::span<std::byte> compiled).
TEST_F(PodCast, TryCastFromCharacterSpans) {
  const header h{0xFEEDFACEU, 3, 7};
  std::memcpy(buf_.data(), &h, sizeof h);
  const auto* raw = reinterpret_cast<const unsigned char*>(buf_.data());  // SAFETY: byte view
  const auto c = ferrite::try_cast<header>(std::span<const unsigned char>(raw, sizeof(header)));
  ASSERT_TRUE(c.has_value());
  static_assert(std::same_as<decltype(*c), const header* const&>);
  EXPECT_EQ(static_cast<const void*>(*c), static_cast<const void*>(buf_.data()));
  EXPECT_EQ((*c)->magic, 0xFEEDFACEU);

  auto* chars = reinterpret_cast<char*>(buf_.data());  // SAFETY: char may alias any object
  const auto m = ferrite::try_cast<header>(std::span<char, sizeof(header)>(chars, sizeof(header)));
  ASSERT_TRUE(m.has_value());
  static_assert(std::same_as<decltype(*m), header* const&>);
  (*m)->kind = 9;
  EXPECT_EQ(ferrite::read_unaligned<std::uint16_t>(cbytes().subspan(6)), 9);

  auto* u8 = reinterpret_cast<std::uint8_t*>(buf_.data());  // SAFETY: as above
  const auto s = ferrite::try_cast_span<std::uint32_t>(std::span<std::uint8_t>(u8, 16));
  ASSERT_TRUE(s.has_value());
  static_assert(std::same_as<decltype(*s), const std::span<std::uint32_t>&>);
  EXPECT_EQ(s->size(), 4U);
  EXPECT_EQ((*s)[0], 0xFEEDFACEU);

  // The same errors as for the std::byte span of the same memory.
  const auto* u8c = reinterpret_cast<const char8_t*>(buf_.data());  // SAFETY: as above
  const auto bad = ferrite::try_cast_span<std::uint32_t>(std::span<const char8_t>(u8c + 1, 8));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ferrite::errc::misaligned);
  const auto short_one = ferrite::try_cast<header>(std::span<const unsigned char>(raw, 3));
  ASSERT_FALSE(short_one.has_value());
  EXPECT_EQ(short_one.error().code(), ferrite::errc::size_mismatch);
}

TEST_F(PodCast, TryCastSizeMismatch) {
  for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{7}, std::size_t{9}}) {
    const auto r = ferrite::try_cast<std::uint64_t>(cbytes().first(n));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), errc::size_mismatch);
    EXPECT_EQ(r.error().detail_a(), 8U);
    EXPECT_EQ(r.error().detail_b(), n);
    EXPECT_EQ(r.error().what(), "try_cast");
  }
  EXPECT_EQ(ferrite::try_cast<std::uint64_t>(cbytes().first(5)).error().message(),
            "try_cast: size mismatch (expected 8 bytes, got 5)");
  EXPECT_EQ(ferrite::try_cast<std::uint64_t>(bytes().first(9)).error().message(),
            "try_cast: size mismatch (expected 8 bytes, got 9)");
  // An empty span (null data) is a size mismatch too.
  EXPECT_EQ(ferrite::try_cast<int>(std::span<const std::byte>()).error(),
            ferrite::error(errc::size_mismatch, "", sizeof(int), 0));
}

TEST_F(PodCast, TryCastMisaligned) {
  const auto sub = cbytes().subspan(2, sizeof(std::uint32_t));
  const auto r = ferrite::try_cast<std::uint32_t>(sub);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), errc::misaligned);
  EXPECT_EQ(r.error().detail_a(), alignof(std::uint32_t));
  EXPECT_EQ(r.error().detail_b(), address(sub.data()));
  EXPECT_EQ(r.error().message(),
            "try_cast: misaligned (address " + hex(address(sub.data())) + " is not aligned to 4)");
  const auto m = ferrite::try_cast<std::uint32_t>(bytes().subspan(1, 4));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), errc::misaligned);
}

TEST_F(PodCast, TryCastChecksSizeBeforeAlignment) {
  const auto r = ferrite::try_cast<std::uint64_t>(cbytes().subspan(3, 5));  // both wrong
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), errc::size_mismatch);
}

TEST_F(PodCast, AlignmentAtEveryOffset) {
  for (std::size_t off = 0; off < 16; ++off) {
    const auto r64 = ferrite::try_cast<std::uint64_t>(cbytes().subspan(off, 8));
    EXPECT_EQ(r64.has_value(), off % 8 == 0) << off;
    const auto r16 = ferrite::try_cast<std::uint16_t>(cbytes().subspan(off, 2));
    EXPECT_EQ(r16.has_value(), off % 2 == 0) << off;
    EXPECT_TRUE(ferrite::try_cast<std::uint8_t>(cbytes().subspan(off, 1)).has_value()) << off;
    const auto rv = ferrite::try_cast<vec3_opted>(cbytes().subspan(off, 12));
    EXPECT_EQ(rv.has_value(), off % 4 == 0) << off;
    const auto rs = ferrite::try_cast_span<std::uint32_t>(cbytes().subspan(off, 16));
    EXPECT_EQ(rs.has_value(), off % 4 == 0) << off;
    if (!rs) {
      EXPECT_EQ(rs.error(),
                ferrite::error(errc::misaligned, "", 4, address(cbytes().subspan(off).data())));
    }
  }
}

TEST_F(PodCast, TryCastSpanSuccess) {
  for (std::uint32_t i = 0; i < 16; ++i) {
    ferrite::write_unaligned(bytes().subspan(std::size_t{4} * i), i * 3);
  }
  const auto r = ferrite::try_cast_span<std::uint32_t>(cbytes());
  ASSERT_TRUE(r.has_value());
  static_assert(std::same_as<decltype(*r), const std::span<const std::uint32_t>&>);
  ASSERT_EQ(r->size(), 16U);
  EXPECT_EQ(static_cast<const void*>(r->data()), static_cast<const void*>(buf_.data()));
  for (std::uint32_t i = 0; i < 16; ++i) {
    EXPECT_EQ((*r)[i], i * 3);
  }
  const auto m = ferrite::try_cast_span<std::uint64_t>(bytes().subspan(8, 24));
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 3U);
  (*m)[0] = ~std::uint64_t{0};
  EXPECT_EQ(ferrite::read_unaligned<std::uint32_t>(cbytes().subspan(12)), 0xFFFF'FFFFU);
  const auto arrays = ferrite::try_cast_span<float[2]>(cbytes().first(32));
  ASSERT_TRUE(arrays.has_value());
  EXPECT_EQ(arrays->size(), 4U);
}

TEST_F(PodCast, TryCastSpanLengthNotMultiple) {
  const auto r = ferrite::try_cast_span<std::uint32_t>(cbytes().first(10));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), errc::length_not_multiple);
  EXPECT_EQ(r.error().detail_a(), 4U);
  EXPECT_EQ(r.error().detail_b(), 10U);
  EXPECT_EQ(r.error().message(),
            "try_cast_span: length not a multiple of the element size (length 10 is not a "
            "multiple of 4)");
  // Length is checked before alignment.
  const auto both = ferrite::try_cast_span<std::uint32_t>(bytes().subspan(1, 7));
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error(), ferrite::error(errc::length_not_multiple, "", 4, 7));
}

TEST_F(PodCast, TryCastSpanMisalignedMessage) {
  const auto sub = cbytes().subspan(4, 16);
  const auto r = ferrite::try_cast_span<std::uint64_t>(sub);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), errc::misaligned);
  EXPECT_EQ(r.error().detail_a(), 8U);
  EXPECT_EQ(r.error().detail_b(), address(sub.data()));
  EXPECT_EQ(r.error().message(), "try_cast_span: misaligned (address " + hex(address(sub.data())) +
                                     " is not aligned to 8)");
}

TEST_F(PodCast, TryCastSpanEmptySucceeds) {
  const auto a = ferrite::try_cast_span<std::uint64_t>(std::span<const std::byte>());
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->empty());
  const auto misaligned_empty = ferrite::try_cast_span<std::uint64_t>(cbytes().subspan(3, 0));
  ASSERT_TRUE(misaligned_empty.has_value());
  EXPECT_TRUE(misaligned_empty->empty());
  const auto m = ferrite::try_cast_span<header>(bytes().subspan(1, 0));
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->empty());
}

TEST_F(PodCast, UnalignedRoundTripsAtEveryOffset) {
  const header h{0x1122'3344U, 0x5566U, 0x7788U};
  const vec3_opted v{1.5F, -2.0F, std::numeric_limits<float>::infinity()};
  for (std::size_t off = 0; off < 16; ++off) {
    ferrite::write_unaligned(buf_.data() + off, h);
    const auto back = ferrite::read_unaligned<header>(buf_.data() + off);
    EXPECT_EQ(back.magic, h.magic);
    EXPECT_EQ(back.version, h.version);
    EXPECT_EQ(back.kind, h.kind);

    ferrite::write_unaligned(bytes().subspan(off), v);
    const auto vb = ferrite::read_unaligned<vec3_opted>(cbytes().subspan(off));
    EXPECT_EQ(vb.x, v.x);
    EXPECT_EQ(vb.z, v.z);

    const std::uint64_t x = 0x0102'0304'0506'0708ULL + off;
    ferrite::write_unaligned(buf_.data() + off, x);
    EXPECT_EQ(ferrite::read_unaligned<std::uint64_t>(cbytes().subspan(off, 8)), x);
    std::uint64_t via_memcpy = 0;
    std::memcpy(&via_memcpy, buf_.data() + off, 8);
    EXPECT_EQ(via_memcpy, x);
  }
}

TEST_F(PodCast, BytesToObjectToBytes) {
  const double d = -0.0;
  ferrite::write_unaligned(buf_.data(), d);
  const auto r = ferrite::try_cast<double>(cbytes().first(8));
  ASSERT_TRUE(r.has_value());
  const auto back = ferrite::as_bytes(**r);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), buf_.begin()));
}

TEST(PodDeath, ReadUnalignedShortSpan) {
  const std::array<std::byte, 3> small{};
  EXPECT_DEATH((void)ferrite::read_unaligned<std::uint32_t>(std::span<const std::byte>(small)),
               "fewer than sizeof");
  std::array<std::byte, 3> out{};
  EXPECT_DEATH(ferrite::write_unaligned(std::span<std::byte>(out), std::uint32_t{1}),
               "fewer than sizeof");
}

}  // namespace
