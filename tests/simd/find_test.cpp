// SPDX-License-Identifier: Apache-2.0
// simd/find.hpp: every target's find_byte, find_any_of, find_crlf and count_byte against
// plain reference loops written here, on exact-size heap buffers (ASan catches a read one
// byte outside) at every length 0..300 and every misalignment 0..63 from a 64-byte
// boundary, with the match at every position and with none, and on random longer inputs;
// byte_set against a 256-entry table; the typed entry points through the dispatch.
#include "ferrite/simd/find.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simd_test_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_test::exact_buffer;
using simd_test::rng;

constexpr std::size_t npos = simd::npos;
constexpr std::size_t max_short = 300;
constexpr std::size_t max_misalignment = 64;

// ---- reference loops ----------------------------------------------------------------------

std::size_t ref_find(std::span<const unsigned char> s, unsigned char b) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == b) return i;
  }
  return npos;
}

std::size_t ref_find_any(std::span<const unsigned char> s, const std::array<bool, 256>& member) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (member[s[i]]) return i;
  }
  return npos;
}

std::size_t ref_crlf(std::span<const unsigned char> s) {
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == '\r' && s[i + 1] == '\n') return i;
  }
  return npos;
}

std::size_t ref_count(std::span<const unsigned char> s, unsigned char b) {
  std::size_t c = 0;
  for (const unsigned char x : s) c += x == b ? 1U : 0U;
  return c;
}

/// Fills `s` with bytes drawn from `alphabet`.
void fill(std::span<unsigned char> s, std::string_view alphabet) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (unsigned char& c : s) c = static_cast<unsigned char>(alphabet[pick(rng())]);
}

void fill_random(std::span<unsigned char> s) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (unsigned char& c : s) c = static_cast<unsigned char>(byte(rng()));
}

/// Random lengths above the short range, up to 20 vectors of 4 KiB and a few long ones.
std::vector<std::size_t> long_lengths() {
  std::vector<std::size_t> lengths{301, 511, 512, 513, 1023, 1024, 1025, 4095, 4096, 4097, 65536};
  std::uniform_int_distribution<std::size_t> len(301, 100'000);
  for (int i = 0; i < 20; ++i) lengths.push_back(len(rng()));
  return lengths;
}

// ---- find_byte ------------------------------------------------------------------------------

class FindByte : public simd_test::per_target {};

TEST_P(FindByte, EveryLengthMisalignmentAndPosition) {
  const unsigned char needle = 0x2a;
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      fill(buf.span(), "abcdefgh\x80\xff");
      ASSERT_EQ(kernels().find_byte(buf.data(), n, needle), npos) << "n=" << n << " mis=" << mis;
      for (std::size_t k = 0; k < n; ++k) {
        buf.data()[k] = needle;
        ASSERT_EQ(kernels().find_byte(buf.data(), n, needle), k)
            << "n=" << n << " mis=" << mis << " at=" << k;
        buf.data()[k] = 'a';
      }
    }
  }
}

TEST_P(FindByte, RandomContentsMatchReference) {
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      fill_random(buf.span());
      const auto needle = static_cast<unsigned char>(n * 31 + mis);
      ASSERT_EQ(kernels().find_byte(buf.data(), n, needle), ref_find(buf.span(), needle))
          << "n=" << n << " mis=" << mis;
    }
  }
  for (const std::size_t n : long_lengths()) {
    exact_buffer buf(n, n % max_misalignment);
    fill(buf.span(), "abcdefghijklmnopqrstuvwxyz0123456789");
    ASSERT_EQ(kernels().find_byte(buf.data(), n, '!'), npos) << "n=" << n;
    for (const std::size_t k : {std::size_t{0}, n / 3, n - 200, n - 65, n - 64, n - 1}) {
      buf.data()[k] = '!';
      ASSERT_EQ(kernels().find_byte(buf.data(), n, '!'), k) << "n=" << n << " at=" << k;
      buf.data()[k] = 'a';
    }
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(FindByte);

// ---- find_any_of ----------------------------------------------------------------------------

class FindAnyOf : public simd_test::per_target {};

/// The sets the tests search for: empty, 1, 2, 3 (compared per member), 4, 16 and 40 members
/// (nibble lookup), with high bytes and zero among them.
std::vector<std::string> test_sets() {
  return {std::string(),
          std::string("\r"),
          std::string("\r\n"),
          std::string("\r\n ", 3),
          std::string("$*+:"),
          std::string("\0\x01\x7f\x80\xfe\xff\r\n:$*+-_,;", 16),
          std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#%&'()=?~^|\\\x90\xa0"),
          std::string("zz")};  // a duplicate: one member
}

std::array<bool, 256> members(std::string_view set) {
  std::array<bool, 256> m{};
  for (const char c : set) m[static_cast<unsigned char>(c)] = true;
  return m;
}

TEST_P(FindAnyOf, EveryLengthMisalignmentAndPosition) {
  for (const std::string& set_bytes : test_sets()) {
    const simd::byte_set set(set_bytes);
    const std::array<bool, 256> member = members(set_bytes);
    for (std::size_t n = 0; n <= max_short; ++n) {
      for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
        exact_buffer buf(n, mis);
        fill(buf.span(), "abcdefgh");  // no test set holds these
        ASSERT_EQ(kernels().find_any_of(buf.data(), n, set.tables()), npos)
            << "set size " << set.size() << " n=" << n << " mis=" << mis;
        if (set_bytes.empty() || mis % 8 != 0) continue;  // positions: every 8th misalignment
        for (std::size_t k = 0; k < n; ++k) {
          buf.data()[k] = static_cast<unsigned char>(set_bytes[k % set_bytes.size()]);
          ASSERT_EQ(kernels().find_any_of(buf.data(), n, set.tables()), k)
              << "set size " << set.size() << " n=" << n << " mis=" << mis << " at=" << k;
          buf.data()[k] = 'a';
        }
      }
    }
    ASSERT_TRUE(
        std::ranges::equal(member, std::views::iota(0, 256) | std::views::transform([&](int c) {
                                     return set.contains(static_cast<unsigned char>(c));
                                   })));
  }
}

TEST_P(FindAnyOf, RandomContentsMatchReference) {
  for (const std::string& set_bytes : test_sets()) {
    const simd::byte_set set(set_bytes);
    const std::array<bool, 256> member = members(set_bytes);
    for (std::size_t n = 0; n <= max_short; ++n) {
      for (std::size_t mis = 0; mis < max_misalignment; mis += 3) {
        exact_buffer buf(n, mis);
        fill_random(buf.span());
        ASSERT_EQ(kernels().find_any_of(buf.data(), n, set.tables()),
                  ref_find_any(buf.span(), member))
            << "set size " << set.size() << " n=" << n << " mis=" << mis;
      }
    }
    for (const std::size_t n : long_lengths()) {
      exact_buffer buf(n, n % max_misalignment);
      fill(buf.span(), "abcdefgh");
      if (n > 1000 && !set_bytes.empty())
        buf.data()[n - 1 - n % 977] = static_cast<unsigned char>(set_bytes.back());
      ASSERT_EQ(kernels().find_any_of(buf.data(), n, set.tables()),
                ref_find_any(buf.span(), member))
          << "set size " << set.size() << " n=" << n;
    }
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(FindAnyOf);

TEST(ByteSet, MembershipAndSize) {
  constexpr simd::byte_set crlf("\r\n");
  static_assert(crlf.size() == 2 && crlf.contains('\r') && crlf.contains('\n') &&
                !crlf.contains(' '));
  simd::byte_set all;
  for (int c = 0; c < 256; ++c) all.insert(static_cast<unsigned char>(c));
  EXPECT_EQ(all.size(), 256U);
  const simd::byte_set dup("aaab");
  EXPECT_EQ(dup.size(), 2U);
  EXPECT_TRUE(simd::byte_set().size() == 0 && !simd::byte_set().contains(0));
}

// ---- find_crlf ------------------------------------------------------------------------------

class FindCrlf : public simd_test::per_target {};

TEST_P(FindCrlf, EveryLengthMisalignmentAndPosition) {
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      // Lone '\r's and '\n's, "\n\r", but never "\r\n".
      for (std::size_t i = 0; i < n; ++i)
        buf.data()[i] = static_cast<unsigned char>("\n\r\ra\n"[(i * 7 + mis) % 5]);
      for (std::size_t i = 0; i + 1 < n; ++i) {
        if (buf.data()[i] == '\r' && buf.data()[i + 1] == '\n') buf.data()[i + 1] = 'x';
      }
      ASSERT_EQ(kernels().find_crlf(buf.data(), n), npos) << "n=" << n << " mis=" << mis;
      for (std::size_t k = 0; k + 1 < n; ++k) {
        const unsigned char a = buf.data()[k];
        const unsigned char b = buf.data()[k + 1];
        buf.data()[k] = '\r';
        buf.data()[k + 1] = '\n';
        ASSERT_EQ(kernels().find_crlf(buf.data(), n), ref_crlf(buf.span()))
            << "n=" << n << " mis=" << mis << " at=" << k;
        buf.data()[k] = a;
        buf.data()[k + 1] = b;
      }
    }
  }
}

TEST_P(FindCrlf, RandomContentsMatchReference) {
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      fill(buf.span(), "\r\n\r\nabcdefghijklmnopqrstuvwxyz");
      ASSERT_EQ(kernels().find_crlf(buf.data(), n), ref_crlf(buf.span()))
          << "n=" << n << " mis=" << mis;
    }
  }
  for (const std::size_t n : long_lengths()) {
    exact_buffer buf(n, n % max_misalignment);
    fill(buf.span(), "\r\rab\ncdefgh\n");
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (buf.data()[i] == '\r' && buf.data()[i + 1] == '\n') buf.data()[i + 1] = 'x';
    }
    ASSERT_EQ(kernels().find_crlf(buf.data(), n), npos) << "n=" << n;
    // A match across every vector boundary near the end, and the last possible position.
    for (const std::size_t k : {n - 2, n - 33, n - 64, n - 65, n / 2}) {
      const unsigned char a = buf.data()[k];
      const unsigned char b = buf.data()[k + 1];
      buf.data()[k] = '\r';
      buf.data()[k + 1] = '\n';
      ASSERT_EQ(kernels().find_crlf(buf.data(), n), ref_crlf(buf.span()))
          << "n=" << n << " at=" << k;
      buf.data()[k] = a;
      buf.data()[k + 1] = b;
    }
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(FindCrlf);

// ---- find_all_crlf ---------------------------------------------------------------------------

class FindAllCrlf : public simd_test::per_target {};

std::vector<std::size_t> ref_all_crlf(std::span<const unsigned char> s) {
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == '\r' && s[i + 1] == '\n') all.push_back(i);
  }
  return all;
}

TEST_P(FindAllCrlf, EveryLengthMisalignmentAndCapacity) {
  std::vector<std::size_t> out(400);
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      fill(buf.span(), "\r\n\r\nab\r");
      const std::vector<std::size_t> want = ref_all_crlf(buf.span());
      const std::size_t got = kernels().find_all_crlf(buf.data(), n, out.data(), out.size());
      ASSERT_EQ(
          std::vector<std::size_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(got)),
          want)
          << "n=" << n << " mis=" << mis;
      // A capacity below the count stops after that many, the first ones.
      for (const std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        if (cap >= want.size()) continue;
        std::vector<std::size_t> few(cap + 1, 7777);
        ASSERT_EQ(kernels().find_all_crlf(buf.data(), n, few.data(), cap), cap);
        ASSERT_TRUE(
            std::equal(few.begin(), few.begin() + static_cast<std::ptrdiff_t>(cap), want.begin()));
        ASSERT_EQ(few[cap], 7777U) << "wrote past the capacity";
      }
    }
  }
  for (const std::size_t n : long_lengths()) {
    exact_buffer buf(n, n % max_misalignment);
    fill(buf.span(), "\r\nabcdefghijklmnopqrstuvwxyz\r");
    const std::vector<std::size_t> want = ref_all_crlf(buf.span());
    std::vector<std::size_t> all(want.size() + 1);
    ASSERT_EQ(kernels().find_all_crlf(buf.data(), n, all.data(), all.size()), want.size());
    all.pop_back();
    ASSERT_EQ(all, want) << "n=" << n;
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(FindAllCrlf);

// The entry point tests its first 16 positions inline before calling the kernel.
TEST(SimdFindCrlf, EntryPointEveryLengthAndPosition) {
  for (std::size_t n = 0; n <= 80; ++n) {
    for (std::size_t mis = 0; mis < 16; ++mis) {
      exact_buffer buf(n, mis);
      for (std::size_t i = 0; i < n; ++i)
        buf.data()[i] = static_cast<unsigned char>("\r\rab\n"[i % 5]);
      for (std::size_t i = 0; i + 1 < n; ++i) {
        if (buf.data()[i] == '\r' && buf.data()[i + 1] == '\n') buf.data()[i + 1] = 'x';
      }
      // SAFETY: viewing unsigned char storage as char (both byte types may alias anything).
      const std::string_view text(reinterpret_cast<const char*>(buf.data()), n);
      ASSERT_EQ(simd::find_crlf(text), npos) << "n=" << n;
      for (std::size_t k = 0; k + 1 < n; ++k) {
        const unsigned char a = buf.data()[k];
        const unsigned char b = buf.data()[k + 1];
        buf.data()[k] = '\r';
        buf.data()[k + 1] = '\n';
        ASSERT_EQ(simd::find_crlf(text), ref_crlf(buf.span())) << "n=" << n << " at=" << k;
        ASSERT_EQ(simd::find_crlf(std::as_bytes(std::span(buf.data(), n))), ref_crlf(buf.span()));
        buf.data()[k] = a;
        buf.data()[k + 1] = b;
      }
    }
  }
}

// ---- count_byte -----------------------------------------------------------------------------

class CountByte : public simd_test::per_target {};

TEST_P(CountByte, RandomContentsMatchReference) {
  for (std::size_t n = 0; n <= max_short; ++n) {
    for (std::size_t mis = 0; mis < max_misalignment; ++mis) {
      exact_buffer buf(n, mis);
      fill(buf.span(), std::string_view("\0\0ab\xff", 5));
      for (const int b : {0x00, 0xff, int{'a'}, int{'z'}}) {
        const auto c = static_cast<unsigned char>(b);
        ASSERT_EQ(kernels().count_byte(buf.data(), n, c), ref_count(buf.span(), c))
            << "n=" << n << " mis=" << mis << " byte=" << b;
      }
    }
  }
  for (const std::size_t n : long_lengths()) {
    exact_buffer buf(n, n % max_misalignment);
    fill(buf.span(), std::string_view("\0a\nb", 4));
    for (const char ch : {'\0', '\n'}) {
      const auto b = static_cast<unsigned char>(ch);
      ASSERT_EQ(kernels().count_byte(buf.data(), n, b), ref_count(buf.span(), b)) << "n=" << n;
    }
  }
}

// The vector kernels count in bytes and must sum them before 255 steps: all bytes match.
TEST_P(CountByte, EveryByteMatchingOverflowsNoCounter) {
  for (const std::size_t n : {std::size_t{65'535}, std::size_t{300'000}, std::size_t{1} << 20U}) {
    exact_buffer buf(n, 5);
    std::ranges::fill(buf.span(), 0x7f);
    EXPECT_EQ(kernels().count_byte(buf.data(), n, 0x7f), n);
    EXPECT_EQ(kernels().count_byte(buf.data(), n, 0x7e), 0U);
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(CountByte);

// ---- the typed entry points, through the dispatch ------------------------------------------

TEST(SimdFind, TypedEntryPoints) {
  const std::string_view resp = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
  EXPECT_EQ(simd::find_crlf(resp), 2U);
  EXPECT_EQ(simd::find_crlf(resp.substr(4)), 2U);
  EXPECT_EQ(simd::find_crlf(std::string_view("no line end\r")), npos);
  EXPECT_EQ(simd::find_crlf(std::string_view()), npos);
  EXPECT_EQ(simd::find_byte(resp, 'G'), 8U);
  EXPECT_EQ(simd::find_byte(std::as_bytes(std::span(resp)), std::byte{'$'}), 4U);
  EXPECT_EQ(simd::find_byte(resp, '!'), npos);
  EXPECT_EQ(simd::find_any_of(resp, simd::byte_set("GK")), 8U);
  EXPECT_EQ(simd::find_any_of(std::as_bytes(std::span(resp)), simd::byte_set("$")), 4U);
  EXPECT_EQ(simd::count_byte(resp, '\n'), 5U);
  std::array<std::size_t, 8> ends{};
  ASSERT_EQ(simd::find_all_crlf(resp, ends), 5U);
  EXPECT_EQ(ends[0], 2U);
  EXPECT_EQ(ends[4], resp.size() - 2);
  ASSERT_EQ(simd::find_all_crlf(std::as_bytes(std::span(resp)), std::span(ends).first(2)), 2U);
  EXPECT_EQ(ends[1], 6U);
  EXPECT_EQ(simd::count_byte(std::as_bytes(std::span(resp)), std::byte{'$'}), 2U);
}

}  // namespace
