// SPDX-License-Identifier: Apache-2.0
// simd/crc32c.hpp: the published check values ("123456789", RFC 3720 B.4's iSCSI vectors)
// through the dispatch and through every target; every target's register update against a
// bit-at-a-time reference written here (the Castagnoli definition, nothing precomputed) at
// every length 0..300, every misalignment 0..63, random initial registers, and random
// longer lengths around each kernel's block sizes; crc32c_extend and crc32c_combine against
// the CRC of the concatenation.
#include "ferrite/simd/crc32c.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simd_test_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_test::exact_buffer;
using simd_test::rng;

/// The reflected CRC-32C register update, one bit at a time.
std::uint32_t reference_update(std::uint32_t crc, std::span<const unsigned char> bytes) {
  for (const unsigned char b : bytes) {
    crc ^= b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1U) != 0 ? (crc >> 1U) ^ 0x82F63B78U : crc >> 1U;
  }
  return crc;
}

std::uint32_t reference_crc(std::span<const unsigned char> bytes) {
  return ~reference_update(~0U, bytes);
}

std::span<const unsigned char> bytes_of(std::string_view s) {
  // SAFETY: viewing a char range as unsigned char is allowed (both are byte types).
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> v(n);
  std::uniform_int_distribution<int> byte(0, 255);
  for (unsigned char& c : v) c = static_cast<unsigned char>(byte(rng()));
  return v;
}

/// RFC 3720 B.4: the 48-byte iSCSI SCSI Read (10) command PDU.
constexpr std::array<unsigned char, 48> iscsi_read_pdu{
    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/// The RFC 3720 B.4 vectors: (bytes, CRC).
std::vector<std::pair<std::vector<unsigned char>, std::uint32_t>> rfc3720_vectors() {
  std::vector<unsigned char> zeros(32, 0x00);
  std::vector<unsigned char> ones(32, 0xff);
  std::vector<unsigned char> up(32);
  std::vector<unsigned char> down(32);
  for (std::size_t i = 0; i < 32; ++i) {
    up[i] = static_cast<unsigned char>(i);
    down[i] = static_cast<unsigned char>(31 - i);
  }
  return {{zeros, 0x8A9136AAU},
          {ones, 0x62A8AB43U},
          {up, 0x46DD794EU},
          {down, 0x113FDB5CU},
          {std::vector<unsigned char>(iscsi_read_pdu.begin(), iscsi_read_pdu.end()), 0xD9963A56U}};
}

// ---- the public functions ---------------------------------------------------------------------

TEST(Crc32c, CheckValues) {
  EXPECT_EQ(simd::crc32c("123456789"), 0xE3069283U);
  EXPECT_EQ(reference_crc(bytes_of("123456789")), 0xE3069283U);  // the reference itself
  EXPECT_EQ(simd::crc32c(std::string_view()), 0U);
  for (const auto& [bytes, crc] : rfc3720_vectors()) {
    EXPECT_EQ(simd::crc32c(std::as_bytes(std::span(bytes))), crc);
  }
}

TEST(Crc32c, ExtendEqualsTheConcatenation) {
  const std::vector<unsigned char> data = random_bytes(5000);
  const std::uint32_t whole = reference_crc(data);
  for (const std::size_t split :
       {0UL, 1UL, 7UL, 63UL, 64UL, 255UL, 256UL, 1000UL, 4999UL, 5000UL}) {
    const auto bytes = std::as_bytes(std::span(data));
    const std::uint32_t head = simd::crc32c(bytes.first(split));
    EXPECT_EQ(simd::crc32c_extend(head, bytes.subspan(split)), whole) << "split " << split;
  }
  EXPECT_EQ(simd::crc32c_extend(simd::crc32c("hello "), "world"), simd::crc32c("hello world"));
  EXPECT_EQ(simd::crc32c_extend(0, "123456789"), 0xE3069283U);
}

TEST(Crc32c, CombineEqualsTheConcatenation) {
  std::uniform_int_distribution<std::size_t> len(0, 3000);
  for (int round = 0; round < 200; ++round) {
    const std::vector<unsigned char> a = random_bytes(len(rng()));
    const std::vector<unsigned char> b =
        random_bytes(round < 10 ? static_cast<std::size_t>(round) : len(rng()));
    std::vector<unsigned char> ab = a;
    ab.insert(ab.end(), b.begin(), b.end());
    EXPECT_EQ(simd::crc32c_combine(reference_crc(a), reference_crc(b), b.size()), reference_crc(ab))
        << a.size() << " + " << b.size();
  }
  // Long second parts: a run of zeros, whose CRC the reference computes directly.
  for (const std::size_t n :
       {std::size_t{1} << 16U, std::size_t{1'000'003}, std::size_t{1} << 22U}) {
    const std::vector<unsigned char> zeros(n, 0);
    std::vector<unsigned char> ab(iscsi_read_pdu.begin(), iscsi_read_pdu.end());
    ab.insert(ab.end(), zeros.begin(), zeros.end());
    EXPECT_EQ(simd::crc32c_combine(0xD9963A56U, reference_crc(zeros), n), reference_crc(ab)) << n;
  }
}

// ---- every target against the reference ------------------------------------------------------

class Crc32cKernel : public simd_test::per_target {
 protected:
  [[nodiscard]] std::uint32_t crc(std::span<const unsigned char> bytes) const {
    return ~kernels().crc32c_update(~0U, bytes.data(), bytes.size());
  }
};

TEST_P(Crc32cKernel, CheckValues) {
  EXPECT_EQ(crc(bytes_of("123456789")), 0xE3069283U) << kernels().crc32c_name;
  for (const auto& [bytes, value] : rfc3720_vectors()) EXPECT_EQ(crc(bytes), value);
}

TEST_P(Crc32cKernel, EveryLengthAndMisalignment) {
  std::uniform_int_distribution<std::uint32_t> any;
  for (std::size_t n = 0; n <= 300; ++n) {
    for (std::size_t mis = 0; mis < 64; ++mis) {
      exact_buffer buf(n, mis);
      const std::vector<unsigned char> content = random_bytes(n);
      std::ranges::copy(content, buf.data());
      const std::uint32_t initial = any(rng());
      ASSERT_EQ(kernels().crc32c_update(initial, buf.data(), n), reference_update(initial, content))
          << kernels().crc32c_name << " n=" << n << " mis=" << mis;
    }
  }
}

TEST_P(Crc32cKernel, LongLengthsAroundBlockSizes) {
  // The sse42 kernel's rounds of 3 x 4096, 3 x 512 and 3 x 64 bytes, the folding kernel's
  // 256-byte minimum and steps, and random lengths up to 1 MiB.
  std::vector<std::size_t> lengths{191, 192,  193,  255,  256,  257,   319,   320,   511,   512,
                                   513, 1535, 1536, 1537, 4096, 12287, 12288, 12289, 16384, 65536};
  std::uniform_int_distribution<std::size_t> len(300, std::size_t{1} << 20U);
  for (int i = 0; i < 12; ++i) lengths.push_back(len(rng()));
  std::uniform_int_distribution<std::uint32_t> any;
  for (const std::size_t n : lengths) {
    exact_buffer buf(n, n % 64);
    const std::vector<unsigned char> content = random_bytes(n);
    std::ranges::copy(content, buf.data());
    const std::uint32_t initial = any(rng());
    ASSERT_EQ(kernels().crc32c_update(initial, buf.data(), n), reference_update(initial, content))
        << kernels().crc32c_name << " n=" << n;
  }
}

FERRITE_SIMD_INSTANTIATE_TARGETS(Crc32cKernel);

}  // namespace
