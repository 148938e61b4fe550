// SPDX-License-Identifier: Apache-2.0
// bits.hpp against obviously-correct references: exhaustively over every 8- and 16-bit value
// (next_pow2 also against std::bit_ceil where that is defined), with ~1M fixed-seed random
// draws on 32- and 64-bit types biased towards all magnitudes, plus the edges (0, 1, the
// largest power of two, one above it, the maximum). Compile-time results are static_asserts.
#include "ferrite/core/bits.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <vector>

namespace {

using ferrite::digits_v;
using ferrite::max_pow2_v;

// ---- the concept -----------------------------------------------------------------------
static_assert(ferrite::unsigned_integer<std::uint8_t>);
static_assert(ferrite::unsigned_integer<std::uint16_t>);
static_assert(ferrite::unsigned_integer<std::uint32_t>);
static_assert(ferrite::unsigned_integer<std::uint64_t>);
static_assert(ferrite::unsigned_integer<std::size_t>);
static_assert(!ferrite::unsigned_integer<bool>);
static_assert(!ferrite::unsigned_integer<char8_t>);
static_assert(!ferrite::unsigned_integer<char16_t>);
static_assert(!ferrite::unsigned_integer<char32_t>);
static_assert(!ferrite::unsigned_integer<int>);
static_assert(!ferrite::unsigned_integer<const unsigned>);
static_assert(!ferrite::unsigned_integer<float>);

// ---- constexpr results -----------------------------------------------------------------
static_assert(ferrite::next_pow2(0U) == 1U);
static_assert(ferrite::next_pow2(1U) == 1U);
static_assert(ferrite::next_pow2(3U) == 4U);
static_assert(ferrite::next_pow2(std::uint8_t{128}) == 128);
static_assert(ferrite::next_pow2(std::uint8_t{129}) == 0);
static_assert(ferrite::next_pow2(std::uint64_t{1} << 63) == std::uint64_t{1} << 63);
static_assert(ferrite::next_pow2((std::uint64_t{1} << 63) + 1) == 0);
static_assert(ferrite::is_pow2(64U) && !ferrite::is_pow2(0U) && !ferrite::is_pow2(6U));
static_assert(ferrite::align_up(13U, 8U) == 16U && ferrite::align_up(16U, 8U) == 16U);
static_assert(ferrite::align_up(std::uint8_t{250}, std::uint8_t{16}) == 0);  // wraps
static_assert(ferrite::align_down(13U, 8U) == 8U);
// The alignment converts to the address's type (the review's friction: both used to deduce T).
static_assert(ferrite::align_up(std::uintptr_t{13}, 8) == 16);
static_assert(ferrite::align_down(std::uintptr_t{13}, 8) == 8);
static_assert(ferrite::checked_align_up(std::uint8_t{250}, 16) == std::nullopt);
static_assert(ferrite::align_up(std::size_t{4097}, alignof(std::max_align_t)) == 4112);
static_assert(ferrite::checked_align_up(std::uint8_t{250}, std::uint8_t{16}) == std::nullopt);
static_assert(ferrite::checked_align_up(std::uint8_t{239}, std::uint8_t{16}) == 240);
static_assert(ferrite::log2_floor(0U) == -1 && ferrite::log2_floor(1U) == 0);
static_assert(ferrite::log2_floor(std::uint64_t{~0ULL}) == 63);
static_assert(ferrite::log2_ceil(0U) == 0 && ferrite::log2_ceil(1U) == 0);
static_assert(ferrite::log2_ceil(5U) == 3 && ferrite::log2_ceil(8U) == 3);
static_assert(ferrite::popcount(std::uint16_t{0xF0F0}) == 8);
static_assert(ferrite::parity(7U) == 1 && ferrite::parity(6U) == 0);
static_assert(ferrite::isolate_lowest(std::uint8_t{0b1011'0100}) == 0b100);
static_assert(ferrite::clear_lowest(std::uint8_t{0b1011'0100}) == 0b1011'0000);
static_assert(ferrite::low_mask<std::uint8_t>(0) == 0);
static_assert(ferrite::low_mask<std::uint8_t>(3) == 0b111);
static_assert(ferrite::low_mask<std::uint8_t>(8) == 0xFF);
static_assert(ferrite::low_mask<std::uint64_t>(64) == ~0ULL);
static_assert(max_pow2_v<std::uint16_t> == 0x8000);

// ---- references: loops a reader can check at a glance -------------------------------------
template <class T>
T ref_next_pow2(T x) {
  for (int k = 0; k < digits_v<T>; ++k) {
    const auto p = static_cast<T>(T{1} << k);
    if (p >= x) {
      return p;
    }
  }
  return 0;  // not representable: the documented wrap
}

template <class T>
int ref_popcount(T x) {
  int n = 0;
  for (int k = 0; k < digits_v<T>; ++k) {
    n += static_cast<int>((x >> k) & 1U);
  }
  return n;
}

template <class T>
int ref_log2_floor(T x) {
  int r = -1;
  for (int k = 0; k < digits_v<T>; ++k) {
    if (((x >> k) & 1U) != 0) {
      r = k;
    }
  }
  return r;
}

template <class T>
int ref_log2_ceil(T x) {
  for (int k = 0; k < digits_v<T>; ++k) {
    if (static_cast<T>(T{1} << k) >= x) {
      return k;
    }
  }
  return digits_v<T>;
}

template <class T>
T ref_isolate_lowest(T x) {
  for (int k = 0; k < digits_v<T>; ++k) {
    const auto bit = static_cast<T>(T{1} << k);
    if ((x & bit) != 0) {
      return bit;
    }
  }
  return 0;
}

template <class T>
T ref_low_mask(int n) {
  T m = 0;
  for (int k = 0; k < n; ++k) {
    m = static_cast<T>(m | static_cast<T>(T{1} << k));
  }
  return m;
}

// align_up by division; std::nullopt when the multiple exceeds the maximum of T.
template <class T>
std::optional<T> ref_checked_align_up(T x, T a) {
  const T q = static_cast<T>(x / a);
  if (static_cast<T>(x % a) == 0) {
    return x;
  }
  if (q >= static_cast<T>(std::numeric_limits<T>::max() / a)) {
    return std::nullopt;  // (q + 1) * a > max
  }
  return static_cast<T>(static_cast<T>(q + 1U) * a);
}

template <class T>
T ref_align_down(T x, T a) {
  return static_cast<T>(x - static_cast<T>(x % a));
}

// Checks every function at one value (and align_* at one alignment) against the references.
template <class T>
void check_value(T x) {
  const auto v = static_cast<std::uint64_t>(x);  // streamed only when a check fails
  ASSERT_EQ(ferrite::next_pow2(x), ref_next_pow2(x)) << "x = " << v;
  if (x <= max_pow2_v<T>) {
    ASSERT_EQ(ferrite::next_pow2(x), std::bit_ceil(x)) << "x = " << v;
  }
  ASSERT_EQ(ferrite::is_pow2(x), ref_popcount(x) == 1) << "x = " << v;
  ASSERT_EQ(ferrite::popcount(x), ref_popcount(x)) << "x = " << v;
  ASSERT_EQ(ferrite::parity(x), ref_popcount(x) % 2) << "x = " << v;
  ASSERT_EQ(ferrite::log2_floor(x), ref_log2_floor(x)) << "x = " << v;
  ASSERT_EQ(ferrite::log2_ceil(x), ref_log2_ceil(x)) << "x = " << v;
  ASSERT_EQ(ferrite::isolate_lowest(x), ref_isolate_lowest(x)) << "x = " << v;
  ASSERT_EQ(ferrite::clear_lowest(x), static_cast<T>(x - ref_isolate_lowest(x))) << "x = " << v;
}

template <class T>
void check_align(T x, T a) {
  const auto v = static_cast<std::uint64_t>(x);
  const auto va = static_cast<std::uint64_t>(a);
  const std::optional<T> expected = ref_checked_align_up(x, a);
  ASSERT_EQ(ferrite::checked_align_up(x, a), expected) << "x = " << v << ", a = " << va;
  if (expected) {
    ASSERT_EQ(ferrite::align_up(x, a), *expected) << "x = " << v << ", a = " << va;
  } else {
    // Unchecked align_up wraps: the true multiple minus 2^digits.
    ASSERT_LT(ferrite::align_up(x, a), x) << "x = " << v << ", a = " << va;
    ASSERT_EQ(ferrite::align_up(x, a), static_cast<T>(ref_align_down(x, a) + a))
        << "x = " << v << ", a = " << va;
  }
  ASSERT_EQ(ferrite::align_down(x, a), ref_align_down(x, a)) << "x = " << v << ", a = " << va;
}

template <class T>
void check_exhaustive() {
  for (std::uint32_t v = 0; v <= std::numeric_limits<T>::max(); ++v) {
    const auto x = static_cast<T>(v);
    check_value(x);
    for (int k = 0; k < digits_v<T>; ++k) {
      check_align(x, static_cast<T>(T{1} << k));
    }
    if (testing::Test::HasFatalFailure()) {
      return;
    }
  }
}

TEST(Bits, ExhaustiveUint8) { check_exhaustive<std::uint8_t>(); }
TEST(Bits, ExhaustiveUint16) { check_exhaustive<std::uint16_t>(); }

TEST(Bits, LowMaskEveryWidth) {
  for (int n = 0; n <= 8; ++n) {
    EXPECT_EQ(ferrite::low_mask<std::uint8_t>(n), ref_low_mask<std::uint8_t>(n)) << n;
  }
  for (int n = 0; n <= 16; ++n) {
    EXPECT_EQ(ferrite::low_mask<std::uint16_t>(n), ref_low_mask<std::uint16_t>(n)) << n;
  }
  for (int n = 0; n <= 32; ++n) {
    EXPECT_EQ(ferrite::low_mask<std::uint32_t>(n), ref_low_mask<std::uint32_t>(n)) << n;
  }
  for (int n = 0; n <= 64; ++n) {
    EXPECT_EQ(ferrite::low_mask<std::uint64_t>(n), ref_low_mask<std::uint64_t>(n)) << n;
  }
}

// The edges named in the spec, then random values spread over every magnitude: a raw 64-bit
// draw shifted right by a random amount, so small values are as likely as large ones.
template <class T>
void check_edges_and_random(std::uint64_t seed, int draws) {
  constexpr T max = std::numeric_limits<T>::max();
  constexpr T top = max_pow2_v<T>;
  const std::vector<T> edges{0, 1, 2, 3, top - 1U, top, top + 1U, max - 1U, max};
  for (const T x : edges) {
    check_value(x);
    for (int k = 0; k < digits_v<T>; ++k) {
      check_align(x, static_cast<T>(T{1} << k));
    }
  }
  EXPECT_EQ(ferrite::next_pow2(top), top);
  EXPECT_EQ(ferrite::next_pow2(static_cast<T>(top + 1U)), T{0});
  EXPECT_EQ(ferrite::next_pow2(max), T{0});
  EXPECT_EQ(ferrite::log2_floor(max), digits_v<T> - 1);
  EXPECT_EQ(ferrite::log2_ceil(max), digits_v<T>);

  std::mt19937_64 rng(seed);
  for (int i = 0; i < draws && !testing::Test::HasFatalFailure(); ++i) {
    const std::uint64_t raw = rng();
    const auto shift = static_cast<int>(rng() % 64U);
    const auto x = static_cast<T>(raw >> shift);
    check_value(x);
    check_align(x, static_cast<T>(T{1} << (rng() % static_cast<unsigned>(digits_v<T>))));
  }
}

TEST(Bits, RandomUint32) { check_edges_and_random<std::uint32_t>(0x5eed'0032U, 1'000'000); }
TEST(Bits, RandomUint64) { check_edges_and_random<std::uint64_t>(0x5eed'0064U, 1'000'000); }

TEST(Bits, UnsignedLongAndSizeT) {
  EXPECT_EQ(ferrite::next_pow2(std::size_t{1000}), std::size_t{1024});
  EXPECT_EQ(ferrite::align_up(std::size_t{4097}, std::size_t{4096}), std::size_t{8192});
  EXPECT_EQ(ferrite::next_pow2(1000UL), 1024UL);
  EXPECT_EQ(ferrite::next_pow2(1000ULL), 1024ULL);
}

#if FERRITE_DEBUG
TEST(BitsDeath, AlignPrecondition) {
  EXPECT_DEATH((void)ferrite::align_up(10U, 6U), "power of two");
  EXPECT_DEATH((void)ferrite::align_down(10U, 0U), "power of two");
  EXPECT_DEATH((void)ferrite::low_mask<std::uint8_t>(9), "digits");
}
#endif

}  // namespace
