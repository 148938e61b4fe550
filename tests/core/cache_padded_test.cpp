// SPDX-License-Identifier: Apache-2.0
// cache_padded: alignment, size rounding and value access.
#include "ferrite/core/cache_padded.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

struct big {
  char bytes[200];
};

TEST(CachePadded, AlignmentAndSize) {
  static_assert(ferrite::cache_line_size >= 64);
  static_assert((ferrite::cache_line_size & (ferrite::cache_line_size - 1)) == 0);
#if FERRITE_ARCH_X86_64
  static_assert(ferrite::cache_line_size == 128, "x86-64 pairs lines: pad to 128");
#endif
  static_assert(alignof(ferrite::cache_padded<char>) == ferrite::cache_line_size);
  static_assert(sizeof(ferrite::cache_padded<char>) == ferrite::cache_line_size);
  static_assert(sizeof(ferrite::cache_padded<big>) % ferrite::cache_line_size == 0);
  static_assert(sizeof(ferrite::cache_padded<big>) >= sizeof(big));
}

TEST(CachePadded, NeighboursDoNotShareALine) {
  ferrite::cache_padded<std::uint64_t> pair[2];
  const auto a = reinterpret_cast<std::uintptr_t>(&pair[0].value);
  const auto b = reinterpret_cast<std::uintptr_t>(&pair[1].value);
  EXPECT_EQ(a % ferrite::cache_line_size, 0U);
  EXPECT_GE(b - a, ferrite::cache_line_size);
}

TEST(CachePadded, ForwardsConstructionAndAccess) {
  ferrite::cache_padded<std::string> s{3U, 'x'};
  EXPECT_EQ(*s, "xxx");
  EXPECT_EQ(s->size(), 3U);
  s.get() += "y";
  EXPECT_EQ(s.value, "xxxy");
  const ferrite::cache_padded<int> zero;
  EXPECT_EQ(*zero, 0);
}

}  // namespace
