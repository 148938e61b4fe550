// SPDX-License-Identifier: Apache-2.0
// Tests of inline_string<N>: constant evaluation, the size-in-last-byte layout, the overflow
// behaviour of every growing member (throw, try_ -> false with no change, append_truncate),
// the NUL terminator after every operation, string_view conversion, comparisons across
// capacities, std::hash in an unordered_set, operator<<, and the to_chars helpers at the
// limits of int64/uint64 and for doubles.
#include "ferrite/mem/inline_string.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

using ferrite::mem::inline_string;
using namespace std::string_view_literals;

// ---- compile-time properties ------------------------------------------------------------

static_assert(sizeof(inline_string<15>) == 16, "15 chars + remaining-capacity byte");
static_assert(sizeof(inline_string<0>) == 1);
static_assert(sizeof(inline_string<255>) == 256);
static_assert(sizeof(inline_string<256>) == 257 + 1 + 2, "separate uint16 size field");
static_assert(std::is_trivially_copyable_v<inline_string<31>>);
static_assert(std::is_convertible_v<inline_string<4>, std::string_view>);
static_assert(!std::is_convertible_v<std::string_view, inline_string<4>>, "explicit, as string");
static_assert(std::ranges::contiguous_range<inline_string<4>>);

constexpr inline_string<8> hello("hello");
static_assert(hello.size() == 5 && hello == "hello" && hello.c_str()[5] == '\0');
static_assert(hello.remaining() == 3 && hello.capacity() == 8);
static_assert(hello < "help"sv && hello > inline_string<2>("he"));

consteval inline_string<6> build() {
  inline_string<6> s;
  s += "ab";
  s.push_back('c');
  s.append(2, 'd');
  const bool fit = s.try_append("xy");  // 5 + 2 > 6
  s.append_truncate("efg");
  if (fit) s.clear();
  return s;
}
static_assert(build() == "abcdde");
static_assert(build().full() && build().c_str()[6] == '\0');

// NUL at data()[size()] and the size byte consistent, in every state.
template <std::size_t N>
void expect_terminated(const inline_string<N>& s) {
  EXPECT_LE(s.size(), N);
  EXPECT_EQ(s.c_str()[s.size()], '\0');
  EXPECT_EQ(std::strlen(s.c_str()),
            s.view().find('\0') == std::string_view::npos ? s.size() : s.view().find('\0'));
}

// ---- construction and overflow ----------------------------------------------------------

TEST(InlineString, ConstructionAndAccess) {
  inline_string<10> s("abc");
  EXPECT_EQ(s.size(), 3U);
  EXPECT_EQ(s.length(), 3U);
  EXPECT_STREQ(s.c_str(), "abc");
  EXPECT_EQ(s.front(), 'a');
  EXPECT_EQ(s.back(), 'c');
  EXPECT_EQ(s[1], 'b');
  EXPECT_EQ(s.at(2), 'c');
  EXPECT_THROW((void)s.at(3), std::out_of_range);
  s.at(0) = 'A';
  s.front() = 'x';
  EXPECT_EQ(s, "xbc");
  EXPECT_EQ(std::string(s.rbegin(), s.rend()), "cbx");
  EXPECT_EQ(inline_string<4>(3, 'z'), "zzz");
  EXPECT_THROW((inline_string<4>(5, 'z')), std::length_error);
  EXPECT_THROW(inline_string<2>("abc"), std::length_error);
  EXPECT_THROW(inline_string<2>(std::string_view("abc")), std::length_error);
  inline_string<3> full("abc");
  EXPECT_TRUE(full.full());
  expect_terminated(full);
  inline_string<0> none;
  EXPECT_TRUE(none.empty() && none.full());
  EXPECT_FALSE(none.try_push_back('a'));
  expect_terminated(none);
}

TEST(InlineString, AssignOverflow) {
  inline_string<4> s("ab");
  EXPECT_THROW(s.assign("abcde"), std::length_error);
  EXPECT_EQ(s, "ab");
  EXPECT_FALSE(s.try_assign("abcde"));
  EXPECT_EQ(s, "ab");
  EXPECT_TRUE(s.try_assign("wxyz"));
  EXPECT_EQ(s, "wxyz");
  expect_terminated(s);
  s = "q";
  EXPECT_EQ(s, "q");
  s = std::string_view("rs");
  EXPECT_EQ(s, "rs");
  s.assign(s.view().substr(1));  // self-view
  EXPECT_EQ(s, "s");
  expect_terminated(s);
}

TEST(InlineString, AppendOverflowLeavesStringUnchanged) {
  inline_string<5> s("abc");
  EXPECT_THROW(s.append("xyz"), std::length_error);
  EXPECT_THROW(s.append(3, 'x'), std::length_error);
  EXPECT_THROW(s += "xyz", std::length_error);
  EXPECT_FALSE(s.try_append("xyz"));
  EXPECT_EQ(s, "abc");
  expect_terminated(s);
  s += 'd';
  s += "e";
  EXPECT_TRUE(s.full());
  EXPECT_THROW(s.push_back('f'), std::length_error);
  EXPECT_THROW(s += 'f', std::length_error);
  EXPECT_FALSE(s.try_push_back('f'));
  EXPECT_EQ(s, "abcde");
  expect_terminated(s);
  s.pop_back();
  EXPECT_EQ(s.append_truncate("XYZ"), 1U);
  EXPECT_EQ(s, "abcdX");
  EXPECT_EQ(s.append_truncate("more"), 0U);
  expect_terminated(s);
  s.clear();
  s.append(s.view());  // empty self-append
  EXPECT_TRUE(s.empty());
  s = "ab";
  s.append(s.view());  // self-append
  EXPECT_EQ(s, "abab");
}

TEST(InlineString, ResizeAndEmbeddedNul) {
  inline_string<6> s("ab");
  s.resize(4, 'c');
  EXPECT_EQ(s, "abcc");
  s.resize(5);
  EXPECT_EQ(s.size(), 5U);
  EXPECT_EQ(s.view(), std::string_view("abcc\0", 5));
  expect_terminated(s);
  s.resize(1);
  EXPECT_EQ(s, "a");
  EXPECT_THROW(s.resize(7), std::length_error);
  EXPECT_EQ(s, "a");
  s.resize(6, 'z');
  EXPECT_EQ(s, "azzzzz");
  expect_terminated(s);
}

TEST(InlineString, LargeCapacityKeepsSizeField) {
  inline_string<300> s;
  s.append(300, 'x');
  EXPECT_TRUE(s.full());
  expect_terminated(s);
  EXPECT_FALSE(s.try_push_back('y'));
  s.pop_back();
  EXPECT_EQ(s.size(), 299U);
  expect_terminated(s);
}

// ---- conversion and comparison ----------------------------------------------------------

TEST(InlineString, StringViewConversion) {
  const inline_string<8> s("view");
  const std::string_view v = s;
  EXPECT_EQ(v, "view");
  EXPECT_EQ(v.data(), s.data());
  const std::string str(s.view());
  EXPECT_EQ(str, "view");
  const inline_string<4> narrowed(inline_string<16>("abcd"));
  EXPECT_EQ(narrowed, "abcd");
}

TEST(InlineString, ComparisonsAcrossCapacities) {
  const inline_string<4> a("abc");
  const inline_string<32> b("abc");
  const inline_string<8> c("abd");
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(b == a);
  EXPECT_TRUE(a != c);
  EXPECT_TRUE(a < c);
  EXPECT_TRUE(c > b);
  EXPECT_EQ(a <=> b, std::strong_ordering::equal);
  EXPECT_EQ(a <=> c, std::strong_ordering::less);
  EXPECT_TRUE(a == "abc");
  EXPECT_TRUE("abc" == a);
  EXPECT_TRUE(a == "abc"sv);
  EXPECT_TRUE("abc"sv == a);
  EXPECT_TRUE(a < "abd"sv);
  EXPECT_TRUE("abd"sv > a);
  EXPECT_TRUE(a == std::string("abc"));
  EXPECT_TRUE(inline_string<3>("ab") < inline_string<2>("b"));
}

TEST(InlineString, HashInUnorderedSet) {
  std::unordered_set<inline_string<16>> set;
  set.insert(inline_string<16>("one"));
  set.insert(inline_string<16>("two"));
  set.insert(inline_string<16>("one"));
  EXPECT_EQ(set.size(), 2U);
  EXPECT_TRUE(set.contains(inline_string<16>("two")));
  EXPECT_EQ(std::hash<inline_string<16>>{}(inline_string<16>("x")),
            std::hash<std::string_view>{}("x"));
}

TEST(InlineString, StreamOutput) {
  std::ostringstream os;
  os << inline_string<8>("hi") << '|' << std::setw(5) << std::left << inline_string<2>("ab") << '|';
  EXPECT_EQ(os.str(), "hi|ab   |");
}

// ---- numbers ----------------------------------------------------------------------------

TEST(InlineString, AppendIntLimits) {
  inline_string<40> s;
  EXPECT_TRUE(s.try_append_int(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(s, "-9223372036854775808");
  s.clear();
  EXPECT_TRUE(s.try_append_int(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(s, "9223372036854775807");
  s.clear();
  EXPECT_TRUE(s.try_append_int(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(s, "18446744073709551615");
  s.clear();
  EXPECT_TRUE(s.try_append_int(std::uint64_t{0}));
  EXPECT_TRUE(s.try_append_int(255, 16));
  EXPECT_TRUE(s.try_append_int(-5, 2));
  EXPECT_EQ(s, "0ff-101");
  expect_terminated(s);
}

TEST(InlineString, AppendIntOverflowLeavesStringUnchanged) {
  inline_string<20> s("x");  // 19 free: int64 min needs 20
  EXPECT_FALSE(s.try_append_int(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(s, "x");
  expect_terminated(s);
  EXPECT_FALSE(s.try_append_int(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(s, "x");
  EXPECT_TRUE(s.try_append_int(std::numeric_limits<std::int64_t>::max()));  // 19: exact fit
  EXPECT_TRUE(s.full());
  EXPECT_EQ(s, "x9223372036854775807");
  expect_terminated(s);
  EXPECT_FALSE(s.try_append_int(0));
  expect_terminated(s);
}

TEST(InlineString, AppendFloat) {
  inline_string<64> s;
  EXPECT_TRUE(s.try_append_float(0.1));
  EXPECT_EQ(s, "0.1");
  s.clear();
  EXPECT_TRUE(s.try_append_float(std::numeric_limits<double>::max()));
  EXPECT_EQ(s, "1.7976931348623157e+308");
  s.clear();
  EXPECT_TRUE(s.try_append_float(std::numeric_limits<double>::lowest()));
  EXPECT_EQ(s, "-1.7976931348623157e+308");
  s.clear();
  EXPECT_TRUE(s.try_append_float(std::numeric_limits<double>::denorm_min()));
  EXPECT_EQ(s, "5e-324");
  s.clear();
  EXPECT_TRUE(s.try_append_float(2.5f));
  EXPECT_TRUE(s.try_append_float(3.14159, std::chars_format::fixed, 2));
  EXPECT_EQ(s, "2.53.14");
  // Round trip of the shortest form.
  s.clear();
  const double x = 1.0 / 3.0;
  ASSERT_TRUE(s.try_append_float(x));
  double back = 0;
  std::from_chars(s.data(), s.data() + s.size(), back);
  EXPECT_EQ(back, x);
}

TEST(InlineString, AppendFloatOverflowLeavesStringUnchanged) {
  inline_string<10> s("abcd");
  EXPECT_FALSE(s.try_append_float(std::numeric_limits<double>::max()));
  EXPECT_EQ(s, "abcd");
  expect_terminated(s);
  EXPECT_FALSE(s.try_append_float(1.0, std::chars_format::fixed, 10));
  EXPECT_EQ(s, "abcd");
  EXPECT_TRUE(s.try_append_float(0.5));
  EXPECT_EQ(s, "abcd0.5");
}

TEST(InlineString, AppendAllIsAllOrNothing) {
  inline_string<32> s;
  const std::string name = "x";
  EXPECT_TRUE(s.try_append_all("id=", 42, ' ', name, '=', 1.5, ' ', true, ' ', -7L, "sv"sv));
  EXPECT_EQ(s, "id=42 x=1.5 true -7sv");
  const auto before = s;
  EXPECT_FALSE(s.try_append_all(" more=", std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(s, before);
  expect_terminated(s);
  EXPECT_TRUE(s.try_append_all(inline_string<4>("end")));
  EXPECT_EQ(s, "id=42 x=1.5 true -7svend");
}

}  // namespace
