// SPDX-License-Identifier: Apache-2.0
// examples/core: reading a length-prefixed message off a socket-style char buffer with
// ferrite's core. The header is a pod, so try_cast views it in place (no copy) and reports a
// short or misaligned buffer as an error value; the flags are a typed set, not an int; the
// counters are per-thread and free when FERRITE_METRICS=OFF. Exits non-zero if a check fails.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ferrite/core.hpp>
#include <span>
#include <string>

namespace {

enum class msg_flag : std::uint16_t { compressed = 1, urgent = 2, last = 4 };
consteval auto ferrite_flags(msg_flag /*tag*/) {
  return std::array{ferrite::flag_def{msg_flag::compressed, "COMPRESSED"},
                    ferrite::flag_def{msg_flag::urgent, "URGENT"},
                    ferrite::flag_def{msg_flag::last, "LAST"}};
}
FERRITE_FLAG_OPERATORS(msg_flag);

struct msg_header {  // little-endian on the wire, like the host: no padding, any bits valid
  std::uint32_t length;
  std::uint16_t kind;
  std::uint16_t flag_bits;
};
static_assert(ferrite::pod<msg_header>);

ferrite::metrics::counter g_messages{"example.messages", "messages parsed"};
ferrite::metrics::counter g_rejected{"example.rejected", "buffers rejected"};

// What a parser does with the bytes a read() returned: view, validate, never copy.
bool parse(std::span<const char> wire) {
  const auto header =
      ferrite::try_cast<msg_header>(wire.first(std::min(wire.size(), sizeof(msg_header))));
  if (!header) {
    g_rejected.add();
    std::printf("  rejected: %s\n", header.error().message().c_str());
    return false;
  }
  const msg_header& h = **header;
  const auto flags = ferrite::flags<msg_flag>::from_bits(h.flag_bits);
  if (!flags) {
    g_rejected.add();
    std::printf("  rejected: %s\n", flags.error().message().c_str());
    return false;
  }
  g_messages.add();
  std::printf("  message kind %u, %u payload bytes, flags %s\n", h.kind, h.length,
              flags->to_string().c_str());
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  // A receive buffer as a socket API gives it: chars, aligned for the header.
  alignas(msg_header) std::array<char, 64> buf{};
  const msg_header h{.length = 42, .kind = 7, .flag_bits = 0x5};  // COMPRESSED | LAST
  ferrite::write_unaligned(buf.data(), h);

  std::puts("core: parse messages in place");
  expect(parse(buf), "a well-formed header parses");
  expect(!parse(std::span<const char>(buf).first(5)), "a short read is an error, not a crash");
  expect(!parse(std::span<const char>(buf).subspan(1)), "a misaligned view is an error");
  buf[6] = 0x40;  // a flag bit the protocol does not define
  expect(!parse(buf), "undefined flag bits are rejected");

  // Sizing a buffer: round the payload up to the next cache line, then to a power of two.
  const std::size_t padded = ferrite::align_up(std::size_t{h.length} + 8, 64);
  std::printf("  a %u-byte payload takes a %zu-byte slot, %zu in a power-of-two pool\n", h.length,
              padded, ferrite::next_pow2(padded));
  expect(padded == 64 && ferrite::next_pow2(std::size_t{65}) == 128, "bit arithmetic");

  const std::string text = ferrite::metrics::take_snapshot("example").to_text();
  std::printf("core: metrics\n%s", text.c_str());
#if FERRITE_METRICS
  expect(text.find("example_messages_total 1\n") != std::string::npos, "one message counted");
  expect(text.find("example_rejected_total 3\n") != std::string::npos, "three rejections");
#endif
  return failures == 0 ? 0 : 1;
}
