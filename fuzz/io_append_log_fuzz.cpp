// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the append_log reader (io::detail::scan_log, what replay() runs over
// the file). The input is a log body. The scan must agree with an independent reference
// reader (bit-at-a-time crc32c, its own length decoding) on every record, on where it
// stopped and why; it must never read outside the input; and a valid record appended at the
// point it stopped must be read back after the intact prefix. Invariants are FERRITE_ASSERTs.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/append_log.hpp"
#include "ferrite/io/detail/crc32c.hpp"
#include "ferrite/io/detail/log_format.hpp"

namespace fuzz {

namespace io = ferrite::io;

struct collected {
  std::vector<std::span<const std::byte>> records;
};

void collect(void* ctx, std::span<const std::byte> payload) {
  static_cast<collected*>(ctx)->records.push_back(payload);
}

std::uint32_t le32(std::span<const std::byte> b) {
  return std::to_integer<std::uint32_t>(b[0]) | std::to_integer<std::uint32_t>(b[1]) << 8 |
         std::to_integer<std::uint32_t>(b[2]) << 16 | std::to_integer<std::uint32_t>(b[3]) << 24;
}

// The reference reader: the format of log_format.hpp, written out plainly.
io::detail::log_scan reference(std::span<const std::byte> body, std::size_t max, collected& out) {
  io::detail::log_scan s;
  std::size_t at = 0;
  while (at != body.size()) {
    if (body.size() - at < 8) {
      s.damage = io::log_damage::torn;
      break;
    }
    const std::uint32_t len = le32(body.subspan(at, 4));
    const std::uint32_t crc = le32(body.subspan(at + 4, 4));
    if (len > max) {
      s.damage = io::log_damage::too_long;
      break;
    }
    if (body.size() - at - 8 < len) {
      s.damage = io::log_damage::torn;
      break;
    }
    std::vector<std::byte> covered(body.begin() + static_cast<std::ptrdiff_t>(at),
                                   body.begin() + static_cast<std::ptrdiff_t>(at + 4));
    covered.insert(covered.end(), body.begin() + static_cast<std::ptrdiff_t>(at + 8),
                   body.begin() + static_cast<std::ptrdiff_t>(at + 8 + len));
    if (io::detail::crc32c_reference(covered) != crc) {
      s.damage = io::log_damage::checksum;
      break;
    }
    out.records.push_back(body.subspan(at + 8, len));
    ++s.records;
    at += 8 + len;
    s.valid_end = at;
  }
  return s;
}

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::byte> body(reinterpret_cast<const std::byte*>(data),
                                    reinterpret_cast<const std::byte*>(data) + size);
  const std::size_t max = size > 0 ? std::to_integer<std::size_t>(body[0]) * 64 + 1 : 4096;
  fuzz::collected got;
  fuzz::collected want;
  const auto s = ferrite::io::detail::scan_log(body, max, fuzz::collect, &got);
  const auto r = fuzz::reference(body, max, want);
  FERRITE_ASSERT(s.valid_end == r.valid_end && s.records == r.records && s.damage == r.damage);
  FERRITE_ASSERT(got.records.size() == want.records.size());
  for (std::size_t i = 0; i < got.records.size(); ++i) {
    FERRITE_ASSERT(got.records[i].data() == want.records[i].data() &&
                   got.records[i].size() == want.records[i].size());
  }
  FERRITE_ASSERT((s.damage == ferrite::io::log_damage::none) == (s.valid_end == body.size()));

  // Truncate at the damage, append one good record (what replay + append do): it reads back.
  std::vector<std::byte> fixed(body.begin(),
                               body.begin() + static_cast<std::ptrdiff_t>(s.valid_end));
  const std::span<const std::byte> payload =
      std::span(body).first(std::min<std::size_t>(size, max));
  std::array<std::byte, ferrite::io::detail::frame_header_size> header{};
  ferrite::io::detail::encode_frame_header(payload, header);
  fixed.insert(fixed.end(), header.begin(), header.end());
  fixed.insert(fixed.end(), payload.begin(), payload.end());
  fuzz::collected again;
  const auto t = ferrite::io::detail::scan_log(fixed, max, fuzz::collect, &again);
  FERRITE_ASSERT(t.damage == ferrite::io::log_damage::none && t.records == s.records + 1);
  FERRITE_ASSERT(std::ranges::equal(again.records.back(), payload));
  return 0;
}
