// SPDX-License-Identifier: Apache-2.0
// Differential libFuzzer target for simd's byte search (and crc32c, which reads the same
// bytes): every target the machine supports against plain reference loops written here, on
// an exact-size heap copy of the input (ASan reports any read outside it). The input's first
// byte picks the set size (0..16) for find_any_of, the next bytes are the set's members, the
// rest is the haystack; find_byte and count_byte search for the set's first member, and
// find_all_crlf's capacity is taken from the second byte. A mismatch is a FERRITE_ASSERT
// (abort = finding).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/simd/crc32c.hpp"
#include "ferrite/simd/detail/kernel_table.hpp"
#include "ferrite/simd/find.hpp"
#include "ferrite/simd/target.hpp"

namespace {

namespace simd = ferrite::simd;
constexpr std::size_t npos = simd::npos;

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

std::vector<std::size_t> ref_all_crlf(std::span<const unsigned char> s) {
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] == '\r' && s[i + 1] == '\n') all.push_back(i);
  }
  return all;
}

std::uint32_t ref_crc_update(std::uint32_t crc, std::span<const unsigned char> s) {
  for (const unsigned char b : s) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1U) != 0 ? (crc >> 1U) ^ 0x82F63B78U : crc >> 1U;
  }
  return crc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t set_size = std::min<std::size_t>(data[0] % 17, size - 1);
  const std::span<const unsigned char> members(data + 1, set_size);
  const std::size_t capacity = size > 1 ? data[1] % 8 : 0;
  // The haystack on the heap at its exact size: ASan's redzone follows its last byte.
  const std::vector<unsigned char> hay(data + 1 + set_size, data + size);
  const std::span<const unsigned char> s(hay);

  simd::byte_set set;
  std::array<bool, 256> member{};
  for (const unsigned char c : members) {
    set.insert(c);
    member[c] = true;
  }
  const unsigned char needle = set_size > 0 ? members[0] : '\r';
  const std::size_t want_find = ref_find(s, needle);
  const std::size_t want_any = ref_find_any(s, member);
  const std::vector<std::size_t> want_all = ref_all_crlf(s);
  const std::size_t want_crlf = want_all.empty() ? npos : want_all.front();
  const auto want_count = static_cast<std::size_t>(std::ranges::count(s, needle));
  const std::uint32_t want_crc = ref_crc_update(0x1234'5678U, s);

  for (const simd::target t : {simd::target::scalar, simd::target::avx2, simd::target::avx512}) {
    const simd::detail::kernel_table* k = simd::detail::kernels_for(t);
    if (k == nullptr) continue;
    FERRITE_ASSERT(k->find_byte(hay.data(), hay.size(), needle) == want_find);
    FERRITE_ASSERT(k->find_any_of(hay.data(), hay.size(), set.tables()) == want_any);
    FERRITE_ASSERT(k->find_crlf(hay.data(), hay.size()) == want_crlf);
    FERRITE_ASSERT(k->count_byte(hay.data(), hay.size(), needle) == want_count);
    FERRITE_ASSERT(k->crc32c_update(0x1234'5678U, hay.data(), hay.size()) == want_crc);
    std::vector<std::size_t> all(capacity + 1, npos);
    const std::size_t got = k->find_all_crlf(hay.data(), hay.size(), all.data(), capacity);
    FERRITE_ASSERT(got == std::min(capacity, want_all.size()));
    FERRITE_ASSERT(
        std::equal(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(got), want_all.begin()));
    FERRITE_ASSERT(all[capacity] == npos);  // nothing written past the capacity
  }
  // The entry point, whose first 16 positions are tested inline.
  // SAFETY: viewing unsigned char storage as char (both byte types may alias anything).
  const std::string_view text(reinterpret_cast<const char*>(hay.data()), hay.size());
  FERRITE_ASSERT(simd::find_crlf(text) == want_crlf);
  return 0;
}
