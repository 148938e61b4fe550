// SPDX-License-Identifier: Apache-2.0
// io::be / io::le: pod, alignment 1, constexpr, and bit-exact against a reference encoder
// (shifts over the value's bits) for random values of every supported type, including
// NaN payloads, negative integers and scoped enums; a header struct read in place at every
// byte offset.
#include "ferrite/io/endian.hpp"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "ferrite/core/pod.hpp"

namespace {

using ferrite::io::be;
using ferrite::io::le;

enum class kind : std::uint16_t { ping = 1, data = 0x1234 };

struct header {
  be<std::uint32_t> length;
  be<std::uint16_t> code;
  le<std::uint16_t> flags;
  be<float> weight;
  le<std::int64_t> offset;
  be<kind> k;
};

static_assert(ferrite::pod<be<std::uint32_t>> && ferrite::pod<le<double>>);
static_assert(ferrite::pod<header>);
static_assert(alignof(header) == 1 && sizeof(header) == 22);
static_assert(sizeof(be<std::uint64_t>) == 8 && alignof(be<std::uint64_t>) == 1);
static_assert(std::is_trivially_copyable_v<le<float>>);
static_assert(std::is_trivially_default_constructible_v<be<std::uint16_t>>);

// Constant evaluation: both directions, both orders.
static_assert(be<std::uint32_t>(0x01020304U) == 0x01020304U);
static_assert(le<std::uint16_t>(0xBEEF).value() == 0xBEEF);
static_assert(be<double>(-2.5) == -2.5);
static_assert(le<std::int32_t>(-7) == -7);
static_assert(be<kind>(kind::data) == kind::data);
constexpr header make_header() {
  header h{};
  h.length = 100;
  h.code = 3;
  return h;
}
static_assert(make_header().length == 100U && make_header().code == 3 && make_header().flags == 0);

// Reference: the bytes of `bits` in big- (or little-) endian order, by shifting.
template <class U>
std::array<unsigned char, sizeof(U)> encode(U bits, bool big) {
  std::array<unsigned char, sizeof(U)> out{};
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    const auto byte = static_cast<unsigned char>((bits >> (8 * i)) & 0xFFU);
    out[big ? sizeof(U) - 1 - i : i] = byte;
  }
  return out;
}

template <class T, class U>
void check_type(std::mt19937_64& rng) {
  for (int i = 0; i < 2000; ++i) {
    const auto bits = static_cast<U>(rng());
    const T v = std::bit_cast<T>(bits);
    const be<T> b(v);
    const le<T> l(v);
    using raw = std::array<unsigned char, sizeof(T)>;
    ASSERT_EQ(std::bit_cast<raw>(b), encode(bits, true));
    ASSERT_EQ(std::bit_cast<raw>(l), encode(bits, false));
    ASSERT_EQ(std::bit_cast<U>(static_cast<T>(b)), bits);  // NaN payloads survive
    ASSERT_EQ(std::bit_cast<U>(l.value()), bits);
    be<T> assigned{};
    assigned = v;
    ASSERT_EQ(std::bit_cast<U>(assigned.value()), bits);
  }
}

TEST(Endian, MatchesAReferenceEncoderForEveryType) {
  std::mt19937_64 rng(42);
  check_type<std::uint8_t, std::uint8_t>(rng);
  check_type<std::uint16_t, std::uint16_t>(rng);
  check_type<std::uint32_t, std::uint32_t>(rng);
  check_type<std::uint64_t, std::uint64_t>(rng);
  check_type<std::int16_t, std::uint16_t>(rng);
  check_type<std::int32_t, std::uint32_t>(rng);
  check_type<std::int64_t, std::uint64_t>(rng);
  check_type<float, std::uint32_t>(rng);
  check_type<double, std::uint64_t>(rng);
  check_type<kind, std::uint16_t>(rng);
}

TEST(Endian, NetworkOrderIsBigEndian) {
  const be<std::uint32_t> x(0x0A0B0C0DU);
  const auto bytes = std::bit_cast<std::array<unsigned char, 4>>(x);
  EXPECT_EQ(bytes, (std::array<unsigned char, 4>{0x0A, 0x0B, 0x0C, 0x0D}));
  EXPECT_EQ(static_cast<float>(be<float>(1.0F)), 1.0F);
  const auto one = std::bit_cast<std::array<unsigned char, 4>>(be<float>(1.0F));
  EXPECT_EQ(one, (std::array<unsigned char, 4>{0x3F, 0x80, 0x00, 0x00}));
}

TEST(Endian, HeaderReadsInPlaceAtEveryOffset) {
  std::mt19937_64 rng(7);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::vector<unsigned char> buf(offset + sizeof(header));
    for (auto& c : buf) c = static_cast<unsigned char>(rng());
    const unsigned char* p = buf.data() + offset;
    // Reference decode, byte by byte.
    auto be_at = [p](std::size_t at, std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = v << 8 | p[at + i];
      return v;
    };
    auto le_at = [p](std::size_t at, std::size_t n) {
      std::uint64_t v = 0;
      for (std::size_t i = n; i-- > 0;) v = v << 8 | p[at + i];
      return v;
    };
    const auto span = std::as_bytes(std::span(buf)).subspan(offset, sizeof(header));
    // alignof(header) == 1: try_cast succeeds at any offset, the fields read in place.
    const auto h = ferrite::try_cast<header>(span);
    ASSERT_TRUE(h) << h.error().message();
    const header& r = **h;
    EXPECT_EQ(r.length, be_at(0, 4));
    EXPECT_EQ(r.code, be_at(4, 2));
    EXPECT_EQ(r.flags, le_at(6, 2));
    EXPECT_EQ(std::bit_cast<std::uint32_t>(r.weight.value()), be_at(8, 4));
    EXPECT_EQ(static_cast<std::uint64_t>(r.offset.value()), le_at(12, 8));
    EXPECT_EQ(static_cast<std::uint16_t>(r.k.value()), be_at(20, 2));
  }
}

}  // namespace
