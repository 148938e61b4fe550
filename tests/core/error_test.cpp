// SPDX-License-Identifier: Apache-2.0
// ferrite::error: every code has a description and messages render the details.
#include "ferrite/core/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <expected>
#include <string>
#include <type_traits>

namespace {

TEST(Error, IsSmallAndTriviallyCopyable) {
  static_assert(std::is_trivially_copyable_v<ferrite::error>);
  static_assert(sizeof(ferrite::error) <= 32);
  constexpr ferrite::error e(ferrite::errc::overflow, "align_up");
  static_assert(e.code() == ferrite::errc::overflow);
}

TEST(Error, EveryCodeHasADescription) {
  for (int c = 0; c <= static_cast<int>(ferrite::errc::system); ++c) {
    const std::string s = ferrite::to_string(static_cast<ferrite::errc>(c));
    EXPECT_FALSE(s.empty());
    EXPECT_NE(s, "unknown error") << "code " << c;
  }
  EXPECT_STREQ(ferrite::to_string(static_cast<ferrite::errc>(200)), "unknown error");
}

TEST(Error, MessagesCarryTheDetails) {
  using ferrite::errc;
  using ferrite::error;
  EXPECT_EQ(error(errc::size_mismatch, "try_cast", 8, 5).message(),
            "try_cast: size mismatch (expected 8 bytes, got 5)");
  EXPECT_EQ(error(errc::misaligned, "try_cast", 8, 0x1003).message(),
            "try_cast: misaligned (address 0x1003 is not aligned to 8)");
  EXPECT_EQ(error(errc::length_not_multiple, "try_cast_span", 4, 10).message(),
            "try_cast_span: length not a multiple of the element size (length 10 is not a "
            "multiple of 4)");
  EXPECT_EQ(error(errc::invalid_bits, "from_bits", 0x30).message(),
            "from_bits: undeclared bits set (bits 0x30)");
  EXPECT_EQ(error(errc::closed).message(), "closed");
  EXPECT_EQ(error::from_errno(ENOENT, "open").message(),
            "open: system error (No such file or directory, errno 2)");
}

TEST(Error, WorksInExpected) {
  auto half = [](int x) -> std::expected<int, ferrite::error> {
    if (x % 2 != 0) return std::unexpected(ferrite::error(ferrite::errc::invalid_argument, "half"));
    return x / 2;
  };
  EXPECT_EQ(half(4).value(), 2);
  ASSERT_FALSE(half(3).has_value());
  EXPECT_EQ(half(3).error(), ferrite::errc::invalid_argument);
  EXPECT_EQ(half(3).error().message(), "half: invalid argument");
}

}  // namespace
