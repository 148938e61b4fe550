// SPDX-License-Identifier: Apache-2.0
// flags<E>: set algebra staying inside the declared bits, iteration over primary flags only
// (composites such as READ_WRITE skipped), to_string/operator<<, checked and truncating
// conversion from raw bits with the exact error, the raw-enum operators of
// FERRITE_FLAG_OPERATORS, and the flag_enum concept. Most properties are also static_asserts.
#include "ferrite/core/flags.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <sstream>
#include <vector>

namespace app {

enum class perm : std::uint8_t { read = 1, write = 2, exec = 4, read_write = 3, sticky = 0x40 };
consteval auto ferrite_flags(perm) {
  return std::array{ferrite::flag_def{perm::read_write, "READ_WRITE"},  // composite, first
                    ferrite::flag_def{perm::read, "READ"}, ferrite::flag_def{perm::write, "WRITE"},
                    ferrite::flag_def{perm::exec, "EXEC"},
                    ferrite::flag_def{perm::sticky, "STICKY"}};
}
FERRITE_FLAG_OPERATORS(perm);

// A 64-bit enum with a multi-bit primary flag (not a composite: nothing declared inside it)
// and a nested composite made of a primary and a composite.
enum class wide : std::uint64_t {
  low = 1,
  mode = 0b110,  // two bits, one flag
  high = std::uint64_t{1} << 63,
  low_mode = 0b111,
  edges = (std::uint64_t{1} << 63) | 0b111,
};
consteval auto ferrite_flags(wide) {
  return std::array{ferrite::flag_def{wide::low, "LOW"}, ferrite::flag_def{wide::mode, "MODE"},
                    ferrite::flag_def{wide::high, "HIGH"},
                    ferrite::flag_def{wide::low_mode, "LOW_MODE"},
                    ferrite::flag_def{wide::edges, "EDGES"}};
}

enum class undeclared : std::uint8_t { a = 1 };
enum class signed_flags : std::int8_t { a = 1 };
consteval auto ferrite_flags(signed_flags) {
  return std::array{ferrite::flag_def{signed_flags::a, "A"}};
}
enum unscoped : std::uint8_t { unscoped_a = 1 };
consteval auto ferrite_flags(unscoped) { return std::array{ferrite::flag_def{unscoped_a, "A"}}; }

}  // namespace app

namespace {

// A flag enum local to this file whose operators are not all used: compiling this file with
// clang's -Wunused-function (on with -Wall) under -Werror checks that the macro's operators
// do not warn (examples/core.cpp hit that under clang).
enum class local_flag : std::uint8_t { x = 1, y = 2 };
consteval auto ferrite_flags(local_flag /*tag*/) {
  return std::array{ferrite::flag_def{local_flag::x, "X"}, ferrite::flag_def{local_flag::y, "Y"}};
}
FERRITE_FLAG_OPERATORS(local_flag);
static_assert((local_flag::x | local_flag::y).bits() == 3);

using app::perm;
using app::wide;
using pf = ferrite::flags<perm>;
using wf = ferrite::flags<wide>;

// ---- concept and compile-time behaviour ---------------------------------------------------
static_assert(ferrite::flag_enum<perm>);
static_assert(ferrite::flag_enum<wide>);
static_assert(!ferrite::flag_enum<app::undeclared>);    // no ferrite_flags
static_assert(!ferrite::flag_enum<app::signed_flags>);  // signed underlying type
static_assert(!ferrite::flag_enum<app::unscoped>);      // not an enum class
static_assert(!ferrite::flag_enum<unsigned>);
static_assert(std::ranges::forward_range<pf>);
static_assert(std::forward_iterator<pf::iterator>);
static_assert(std::is_trivially_copyable_v<pf> && sizeof(pf) == 1);
static_assert(std::same_as<decltype(perm::read | perm::write), pf>);

static_assert(pf::all_flags().bits() == 0x47);
static_assert((perm::read | perm::write) == pf(perm::read_write));
static_assert((~pf(perm::read)).bits() == 0x46);  // complement within the declared bits
static_assert((~perm::read).bits() == 0x46);
static_assert(pf{perm::read, perm::exec}.bits() == 0x05);
static_assert(pf::from_bits(0x80).error().detail_a() == 0x80);
static_assert(pf::from_bits_truncate(0xFF) == pf::all_flags());
static_assert((pf::all_flags() - perm::read_write) == (perm::exec | perm::sticky));
static_assert(pf(perm::read_write).contains(perm::read));

TEST(Flags, Construction) {
  EXPECT_TRUE(pf().none());
  EXPECT_EQ(pf().bits(), 0);
  const pf r = perm::read;
  EXPECT_EQ(r.bits(), 1);
  const pf list{perm::read, perm::exec, perm::read};
  EXPECT_EQ(list.bits(), 5);
  EXPECT_EQ(pf({}).bits(), 0);
  EXPECT_EQ(pf(perm::read_write).bits(), 3);
}

TEST(Flags, Operators) {
  const pf rw = perm::read | perm::write;
  EXPECT_EQ(rw.bits(), 3);
  EXPECT_EQ((rw & perm::write).bits(), 2);
  EXPECT_EQ((rw ^ perm::read_write).bits(), 0);
  EXPECT_EQ((rw ^ perm::exec).bits(), 7);
  EXPECT_EQ((rw - perm::read).bits(), 2);
  EXPECT_EQ((rw - perm::exec), rw);
  EXPECT_EQ((~rw).bits(), 0x44);
  EXPECT_EQ(~pf::all_flags(), pf());
  EXPECT_EQ(~pf(), pf::all_flags());
  EXPECT_EQ((perm::read & perm::write), pf());
  EXPECT_EQ((perm::read ^ perm::read_write), pf(perm::write));

  pf f;
  f |= perm::exec;
  EXPECT_EQ(f.bits(), 4);
  f ^= pf::all_flags();
  EXPECT_EQ(f.bits(), 0x43);
  f &= perm::read_write | perm::exec;
  EXPECT_EQ(f.bits(), 3);
  f -= perm::write;
  EXPECT_EQ(f, perm::read);
  EXPECT_NE(f, perm::write);
}

TEST(Flags, Queries) {
  const pf rw = perm::read_write;
  EXPECT_TRUE(rw.contains(perm::read));
  EXPECT_TRUE(rw.contains(perm::read_write));
  EXPECT_TRUE(rw.contains(pf()));
  EXPECT_FALSE(rw.contains(perm::read | perm::exec));
  EXPECT_TRUE(rw.intersects(perm::read | perm::exec));
  EXPECT_FALSE(rw.intersects(perm::exec | perm::sticky));
  EXPECT_FALSE(rw.intersects(pf()));
  EXPECT_TRUE(rw.any());
  EXPECT_FALSE(rw.none());
  EXPECT_FALSE(rw.all());
  EXPECT_TRUE(pf::all_flags().all());
  EXPECT_TRUE(pf().none());
  EXPECT_FALSE(pf().any());
  EXPECT_FALSE(pf().all());
}

TEST(Flags, Mutators) {
  pf f;
  f.insert(perm::read).insert(perm::exec);
  EXPECT_EQ(f.bits(), 5);
  f.remove(perm::read_write);
  EXPECT_EQ(f, perm::exec);
  f.toggle(perm::exec | perm::sticky);
  EXPECT_EQ(f, perm::sticky);
  f.set(perm::write, true);
  EXPECT_EQ(f, perm::sticky | perm::write);
  f.set(perm::sticky, false);
  EXPECT_EQ(f, perm::write);
  f.set(perm::write, true);  // idempotent
  EXPECT_EQ(f, perm::write);
}

std::vector<perm> collect(pf f) { return {f.begin(), f.end()}; }

TEST(Flags, IterationSkipsCompositesInDeclarationOrder) {
  EXPECT_EQ(collect(pf()), std::vector<perm>{});
  EXPECT_EQ(collect(perm::read_write), (std::vector<perm>{perm::read, perm::write}));
  EXPECT_EQ(collect(pf::all_flags()),
            (std::vector<perm>{perm::read, perm::write, perm::exec, perm::sticky}));
  EXPECT_EQ(collect(perm::sticky | perm::read), (std::vector<perm>{perm::read, perm::sticky}));
  std::vector<perm> seen;
  for (const perm p : perm::exec | perm::write) {
    seen.push_back(p);
  }
  EXPECT_EQ(seen, (std::vector<perm>{perm::write, perm::exec}));
  EXPECT_EQ(std::ranges::distance(pf::all_flags()), 4);
  // Forward: iterators are copyable and re-traversable, post-increment returns the old one.
  const pf all = pf::all_flags();
  auto it = all.begin();
  const auto copy = it++;
  EXPECT_EQ(*copy, perm::read);
  EXPECT_EQ(*it, perm::write);
  EXPECT_EQ(std::ranges::next(copy), it);
}

TEST(Flags, IterationMultiBitPrimary) {
  // MODE is one flag of two bits: present only when both bits are set.
  EXPECT_EQ(wf::all_flags().bits(), (std::uint64_t{1} << 63) | 7U);
  const wf only_one_mode_bit = wf::from_bits_truncate(0b010);
  EXPECT_EQ(only_one_mode_bit.bits(), 0b010U);
  EXPECT_TRUE(std::ranges::empty(only_one_mode_bit));
  EXPECT_EQ(only_one_mode_bit.to_string(), "");
  std::vector<wide> seen(wf::all_flags().begin(), wf::all_flags().end());
  EXPECT_EQ(seen, (std::vector<wide>{wide::low, wide::mode, wide::high}));
  EXPECT_EQ(wf(wide::edges), wf::all_flags());
  EXPECT_EQ((~wf(wide::high)), wf(wide::low_mode));
}

TEST(Flags, ToStringAndStream) {
  EXPECT_EQ(pf().to_string(), "");
  EXPECT_EQ(pf(perm::read).to_string(), "READ");
  EXPECT_EQ(pf(perm::read_write).to_string(), "READ|WRITE");  // composite name not used
  EXPECT_EQ(pf::all_flags().to_string(), "READ|WRITE|EXEC|STICKY");
  EXPECT_EQ((perm::sticky | perm::exec).to_string(), "EXEC|STICKY");
  EXPECT_EQ(wf::all_flags().to_string(), "LOW|MODE|HIGH");
  std::ostringstream os;
  os << pf(perm::read_write) << ' ' << pf();
  EXPECT_EQ(os.str(), "READ|WRITE (empty)");
}

TEST(Flags, FromBitsAcceptsDeclaredBits) {
  for (unsigned b = 0; b < 256; ++b) {
    const auto bits = static_cast<std::uint8_t>(b);
    const auto r = pf::from_bits(bits);
    const auto undeclared = static_cast<std::uint8_t>(bits & ~0x47U);
    if (undeclared == 0) {
      ASSERT_TRUE(r.has_value()) << b;
      EXPECT_EQ(r->bits(), bits);
    } else {
      ASSERT_FALSE(r.has_value()) << b;
      EXPECT_EQ(r.error().code(), ferrite::errc::invalid_bits);
      EXPECT_EQ(r.error().detail_a(), undeclared);
      EXPECT_EQ(r.error().detail_b(), 0U);
    }
    EXPECT_EQ(pf::from_bits_truncate(bits).bits(), bits & 0x47U);
  }
}

TEST(Flags, FromBitsErrorMessage) {
  const auto r = pf::from_bits(0xB9);  // 0x80 | 0x20 | 0x10 | 0x08 undeclared
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), ferrite::errc::invalid_bits);
  EXPECT_EQ(r.error().detail_a(), 0xB8U);
  EXPECT_EQ(r.error().what(), "flags::from_bits");
  EXPECT_EQ(r.error().message(), "flags::from_bits: undeclared bits set (bits 0xb8)");

  const auto w = wf::from_bits(std::uint64_t{1} << 62);
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().detail_a(), std::uint64_t{1} << 62);
  EXPECT_EQ(wf::from_bits(~std::uint64_t{0}).error().detail_a(), ~((std::uint64_t{1} << 63) | 7U));
}

TEST(Flags, AlgebraPropertiesExhaustive) {
  // Every pair of subsets of the declared bits (2^5 x 2^5 after truncation of 256 x 256).
  for (unsigned x = 0; x < 256; ++x) {
    for (unsigned y = 0; y < 256; y += 3) {
      const pf a = pf::from_bits_truncate(static_cast<std::uint8_t>(x));
      const pf b = pf::from_bits_truncate(static_cast<std::uint8_t>(y));
      ASSERT_EQ(~~a, a);
      ASSERT_EQ(a | ~a, pf::all_flags());
      ASSERT_EQ(a & ~a, pf());
      ASSERT_EQ(a - b, a & ~b);
      ASSERT_EQ(~(a | b), ~a & ~b);
      ASSERT_EQ(a ^ b, (a - b) | (b - a));
      ASSERT_EQ((a | b).contains(a), true);
      ASSERT_EQ(a.intersects(b), (a & b).any());
      ASSERT_EQ(a.contains(b), (b - a).none());
      // The primary flags present cover exactly the bits (no composite or partial leftover).
      pf rebuilt;
      for (const perm p : a) {
        rebuilt |= p;
      }
      ASSERT_EQ(rebuilt, a);
    }
  }
}

#if FERRITE_DEBUG
TEST(FlagsDeath, UndeclaredEnumValue) {
  EXPECT_DEATH((void)pf(static_cast<perm>(0x80)), "undeclared bits");
}
#endif

}  // namespace
