// SPDX-License-Identifier: Apache-2.0
// Parse 10M small frames (8-byte header: be32 length, be16 type, be16 flags; 8-24 payload
// bytes) laid end to end, touching the type, the flags and the payload's first byte of each:
// wire::parse (views in place), a parser that memcpy's the header into a native struct and
// the payload into a buffer, and FlatBuffers (size-prefixed tables {type, flags, payload},
// verified then read, the way untrusted input must be read) when <flatbuffers/flatbuffers.h>
// is installed. Frames/s is the figure (SetItemsProcessed).
//
// A scan over frames laid end to end is a pointer chase (the next header's address is in the
// current one), so over a buffer larger than the caches each loop waits for memory once per
// line. Each parser runs twice: as written (Arg 0) and with a software prefetch 2 KiB ahead
// (Arg 2048), the idiom for such a scan; the prefetch is applied the same way to every peer.
// The second argument splits the 10M frames into that many passes over a prefix of the buffer:
// 1 pass streams 240 MB from memory, 200 passes re-read 50k frames (1.2 MB, cache-resident),
// which is where frames just read from a socket are.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "bench_support.hpp"
#include "ferrite/io/endian.hpp"
#include "ferrite/io/wire.hpp"

#if __has_include(<flatbuffers/flatbuffers.h>)
#include <flatbuffers/flatbuffers.h>
#define FERRITE_BENCH_HAVE_FLATBUFFERS 1
#endif

namespace {

namespace wire = ferrite::io::wire;
constexpr std::size_t frame_count = 10'000'000;

struct msg {
  ferrite::io::be<std::uint32_t> len;
  ferrite::io::be<std::uint16_t> type;
  ferrite::io::be<std::uint16_t> flags;
  using wire_length = wire::length_field<&msg::len>;
};

std::size_t payload_size(std::size_t i) { return 8 + (i * 2654435761U) % 17; }

const std::vector<std::byte>& frames() {
  static const std::vector<std::byte> buf = [] {
    std::vector<std::byte> out;
    out.reserve(frame_count * 24);
    for (std::size_t i = 0; i < frame_count; ++i) {
      msg h{};
      h.len = static_cast<std::uint32_t>(payload_size(i));
      h.type = static_cast<std::uint16_t>(i & 0xFF);
      h.flags = static_cast<std::uint16_t>(i >> 8);
      const auto* p = reinterpret_cast<const std::byte*>(&h);
      out.insert(out.end(), p, p + sizeof h);
      for (std::size_t k = 0; k < payload_size(i); ++k)
        out.push_back(static_cast<std::byte>(i + k));
    }
    return out;
  }();
  return buf;
}

// The first `n` frames of `buf`, whose i-th payload is payload_size(i) bytes after an 8-byte
// header.
std::span<const std::byte> first_frames(const std::vector<std::byte>& buf, std::size_t n) {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += 8 + payload_size(i);
  return std::span(buf).first(bytes);
}

void BM_ParseFramesView(benchmark::State& state) {
  const auto ahead = static_cast<std::size_t>(state.range(0));
  const auto passes = static_cast<std::size_t>(state.range(1));
  const auto buf = first_frames(frames(), frame_count / passes);
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::size_t pass = 0; pass < passes; ++pass) {
      std::span<const std::byte> rest = buf;
      while (!rest.empty()) {
        const auto v = wire::parse<msg>(rest);
        if (!v) break;
        sum +=
            v->header().type + v->header().flags + std::to_integer<std::uint64_t>(v->payload()[0]);
        rest = v->rest();
        if (ahead != 0)
          __builtin_prefetch(rest.data() + ahead);  // may point past the end: harmless
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(io_bench::times(state, frame_count));
}

// The copying parser: header bytes into a native struct (byte-swapped), payload into a buffer.
struct native_msg {
  std::uint32_t len;
  std::uint16_t type;
  std::uint16_t flags;
  std::array<std::byte, 64> payload;
};

bool parse_copy(const std::byte*& p, const std::byte* end, native_msg& m) {
  if (end - p < 8) return false;
  std::memcpy(&m.len, p, 4);
  std::memcpy(&m.type, p + 4, 2);
  std::memcpy(&m.flags, p + 6, 2);
  m.len = ntohl(m.len);
  m.type = ntohs(m.type);
  m.flags = ntohs(m.flags);
  if (m.len > m.payload.size() || static_cast<std::size_t>(end - p - 8) < m.len) return false;
  std::memcpy(m.payload.data(), p + 8, m.len);
  p += 8 + m.len;
  return true;
}

void BM_ParseFramesMemcpy(benchmark::State& state) {
  const auto ahead = static_cast<std::size_t>(state.range(0));
  const auto passes = static_cast<std::size_t>(state.range(1));
  const auto buf = first_frames(frames(), frame_count / passes);
  native_msg m{};
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::size_t pass = 0; pass < passes; ++pass) {
      const std::byte* p = buf.data();
      const std::byte* end = buf.data() + buf.size();
      while (parse_copy(p, end, m)) {
        benchmark::DoNotOptimize(m);
        if (ahead != 0) __builtin_prefetch(p + ahead);
        sum += m.type + m.flags + std::to_integer<std::uint64_t>(m.payload[0]);
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(io_bench::times(state, frame_count));
}

BENCHMARK(BM_ParseFramesView)
    ->Args({0, 1})
    ->Args({2048, 1})
    ->Args({0, 200})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseFramesMemcpy)
    ->Args({0, 1})
    ->Args({2048, 1})
    ->Args({0, 200})
    ->Unit(benchmark::kMillisecond);

#if FERRITE_BENCH_HAVE_FLATBUFFERS
// What flatc generates for `table Msg { type: ushort; flags: ushort; payload: [ubyte]; }`,
// written out (the benchmark needs no flatc): fields at vtable slots 4, 6, 8.
struct fb_msg : private flatbuffers::Table {
  std::uint16_t type() const { return GetField<std::uint16_t>(4, 0); }
  std::uint16_t flags() const { return GetField<std::uint16_t>(6, 0); }
  const flatbuffers::Vector<std::uint8_t>* payload() const {
    return GetPointer<const flatbuffers::Vector<std::uint8_t>*>(8);
  }
  bool Verify(flatbuffers::Verifier& v) const {
    return VerifyTableStart(v) && VerifyField<std::uint16_t>(v, 4, 2) &&
           VerifyField<std::uint16_t>(v, 6, 2) && VerifyOffset(v, 8) && v.VerifyVector(payload()) &&
           v.EndTable();
  }
};

const std::vector<std::uint8_t>& fb_frames() {
  static const std::vector<std::uint8_t> buf = [] {
    std::vector<std::uint8_t> out;
    flatbuffers::FlatBufferBuilder b(128);
    std::array<std::uint8_t, 32> payload{};
    for (std::size_t i = 0; i < frame_count; ++i) {
      b.Clear();
      for (std::size_t k = 0; k < payload_size(i); ++k)
        payload[k] = static_cast<std::uint8_t>(i + k);
      const auto vec = b.CreateVector(payload.data(), payload_size(i));
      const auto start = b.StartTable();
      b.AddElement<std::uint16_t>(4, static_cast<std::uint16_t>(i & 0xFF), 0);
      b.AddElement<std::uint16_t>(6, static_cast<std::uint16_t>(i >> 8), 0);
      b.AddOffset(8, vec);
      b.FinishSizePrefixed(flatbuffers::Offset<fb_msg>(b.EndTable(start)));
      out.insert(out.end(), b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
    }
    return out;
  }();
  return buf;
}

void BM_ParseFramesFlatBuffers(benchmark::State& state) {
  const auto ahead = static_cast<std::size_t>(state.range(0));
  const auto passes = static_cast<std::size_t>(state.range(1));
  const auto& all = fb_frames();
  std::size_t prefix = 0;
  for (std::size_t i = 0; i < frame_count / passes; ++i) {
    prefix += flatbuffers::GetPrefixedSize(all.data() + prefix) + sizeof(flatbuffers::uoffset_t);
  }
  const auto buf = std::span(all).first(prefix);
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::size_t pass = 0; pass < passes; ++pass) {
      const std::uint8_t* p = buf.data();
      const std::uint8_t* end = buf.data() + buf.size();
      while (end - p >= 4) {
        const std::size_t size = flatbuffers::GetPrefixedSize(p) + sizeof(flatbuffers::uoffset_t);
        if (size > static_cast<std::size_t>(end - p)) break;
        flatbuffers::Verifier v(p, size);
        if (!v.VerifySizePrefixedBuffer<fb_msg>(nullptr)) break;
        const auto* m = flatbuffers::GetSizePrefixedRoot<fb_msg>(p);
        sum += static_cast<std::uint64_t>(m->type() + m->flags() + m->payload()->Get(0));
        p += size;
        if (ahead != 0) __builtin_prefetch(p + ahead);
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(io_bench::times(state, frame_count));
}
BENCHMARK(BM_ParseFramesFlatBuffers)
    ->Args({0, 1})
    ->Args({2048, 1})
    ->Args({0, 200})
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace
