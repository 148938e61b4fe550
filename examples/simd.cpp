// SPDX-License-Identifier: Apache-2.0
// examples/simd: what ferrite-kv's request path does with ferrite::simd. A receive buffer of
// pipelined RESP commands is split into lines with find_all_crlf (one pass) and checked line
// by line with find_crlf; argument lengths are read with find_any_of; the log record of each
// SET is framed with crc32c, its CRC extended over a second part and combined from two
// halves; a score is a dot product. Every result is checked against a plain computation;
// exits non-zero when one is wrong. Prints the target the dispatch chose (FERRITE_SIMD=scalar
// runs the same program on the portable kernels).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ferrite/simd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace simd = ferrite::simd;

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "simd example: %s is wrong\n", what);
    ++failures;
  }
}

/// Three pipelined commands, as a socket read might return them.
constexpr std::string_view requests =
    "*3\r\n$3\r\nSET\r\n$5\r\nfruit\r\n$6\r\nbanana\r\n"
    "*2\r\n$3\r\nGET\r\n$5\r\nfruit\r\n"
    "*3\r\n$3\r\nSET\r\n$3\r\nveg\r\n$4\r\nleek\r\n";

/// The lines of `buffer`, by find_crlf per line.
std::vector<std::string_view> lines_one_by_one(std::string_view buffer) {
  std::vector<std::string_view> lines;
  for (std::size_t at = simd::find_crlf(buffer); at != simd::npos; at = simd::find_crlf(buffer)) {
    lines.push_back(buffer.substr(0, at));
    buffer.remove_prefix(at + 2);
  }
  return lines;
}

/// The lines of `buffer`, from find_all_crlf's offsets.
std::vector<std::string_view> lines_in_one_pass(std::string_view buffer) {
  std::array<std::size_t, 64> ends{};
  const std::size_t count = simd::find_all_crlf(buffer, ends);
  std::vector<std::string_view> lines;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < count; ++i) {
    lines.push_back(buffer.substr(begin, ends[i] - begin));
    begin = ends[i] + 2;
  }
  return lines;
}

}  // namespace

int main() {
  std::printf("simd target: %.*s\n", static_cast<int>(simd::active_target().size()),
              simd::active_target().data());

  // Lines, two ways; they must agree, and there are 7 + 5 + 7 of them.
  const std::vector<std::string_view> lines = lines_in_one_pass(requests);
  check(lines == lines_one_by_one(requests), "find_all_crlf against find_crlf");
  check(lines.size() == 19, "the line count");
  check(simd::count_byte(requests, '\n') == 19, "count_byte");

  // Each command: "*<argc>", then "$<len>" and argument lines. A line whose first byte is a
  // type byte is a header; the others are arguments.
  const simd::byte_set type_bytes("*$");
  std::size_t commands = 0;
  std::size_t sets = 0;
  for (const std::string_view line : lines) {
    if (simd::find_any_of(line, type_bytes) == 0) {
      commands += line[0] == '*' ? 1U : 0U;
    } else {
      sets += line == "SET" ? 1U : 0U;
    }
  }
  check(commands == 3 && sets == 2, "the command structure");

  // The log record of a SET, framed with its CRC-32C; the check value first.
  check(simd::crc32c("123456789") == 0xE3069283U, "the crc32c check value");
  const std::string key = "fruit";
  const std::string value = "banana";
  const std::string record = key + '\0' + value;
  const std::uint32_t crc = simd::crc32c(record);
  check(simd::crc32c_extend(simd::crc32c(key + '\0'), value) == crc, "crc32c_extend");
  check(simd::crc32c_combine(simd::crc32c(key + '\0'), simd::crc32c(value), value.size()) == crc,
        "crc32c_combine");
  std::string log(record.size() + 4, '\0');
  simd::copy(log.data(), record.data(), record.size());
  check(std::string_view(log).substr(0, record.size()) == record, "copy");

  // A similarity score: dot product against the plain loop, within numeric.hpp's bound.
  std::vector<float> a(1000);
  std::vector<float> b(1000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 7) * 0.25F;
    b[i] = static_cast<float>(i % 5) * 0.5F;
  }
  double plain = 0;
  for (std::size_t i = 0; i < a.size(); ++i) plain += static_cast<double>(a[i]) * b[i];
  const float score = simd::dot(std::span<const float>(a), std::span<const float>(b));
  check(score == static_cast<float>(plain), "dot");  // every product and sum is exact here
  check(simd::sum(std::span<const float>(a)) == 749.25F, "sum");  // 142 x 5.25 + 3.75

  if (failures == 0) std::printf("simd example: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
