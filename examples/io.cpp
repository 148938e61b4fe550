// SPDX-License-Identifier: Apache-2.0
// examples/io: a tiny order gateway on ferrite::io.
//   - Orders arrive as a byte stream of frames (an 8-byte big-endian header, then the order),
//     read in arbitrary pieces. A frame_reader cuts them out: views when a frame lies inside
//     one read, one copy when it straddles two.
//   - Each order is appended to an append_log (synced every 64), and its symbol, a slice of
//     a frozen bytes buffer, is echoed to a file with writev_all.
//   - The log is then replayed after a simulated crash that tore its last record, and the
//     day's fills are written as a file of fixed-size records, mapped and summed in place.
// Checks every order survives exactly once, the torn record is reported and cut, and the
// sums agree; exits non-zero otherwise.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ferrite/io.hpp>
#include <string>
#include <vector>

namespace io = ferrite::io;

namespace {

struct order_header {            // the wire header: 8 bytes, alignment 1
  io::be<std::uint32_t> length;  // payload bytes
  io::be<std::uint16_t> kind;
  io::be<std::uint16_t> version;
  using wire_length = io::wire::length_field<&order_header::length>;
  static bool wire_check(const order_header& h) { return h.version == 1; }
};

struct order {  // the payload: 16 bytes
  io::le<std::uint64_t> id;
  io::le<std::uint32_t> quantity;
  char symbol[4];
};

struct fill {  // a record of the fills file: native, 16 bytes, alignment 8
  std::uint64_t id;
  std::uint64_t quantity;
};

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "examples/io: FAILED: %s\n", what);
    ++failures;
  }
}

io::bytes_mut make_stream(int count) {
  io::bytes_mut out(64);
  const char* symbols[] = {"ACME", "INIT", "FERR", "BYTE"};
  for (int i = 0; i < count; ++i) {
    order_header h{};
    h.length = sizeof(order);
    h.kind = 1;
    h.version = 1;
    order o{};
    o.id = static_cast<std::uint64_t>(1000 + i);
    o.quantity = static_cast<std::uint32_t>(10 + i % 7);
    std::memcpy(o.symbol, symbols[i % 4], 4);
    out.extend(std::as_bytes(std::span(&h, 1)));
    out.extend(std::as_bytes(std::span(&o, 1)));
  }
  return out;
}

}  // namespace

int main() {
  char dir_template[] = "/tmp/ferrite-example-io-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return 1;
  const std::string log_path = std::string(dir) + "/orders.aof";
  const std::string echo_path = std::string(dir) + "/symbols.txt";
  const std::string fills_path = std::string(dir) + "/fills.bin";
  constexpr int order_count = 1000;

  // 1. The stream, frozen into shareable bytes, read back in pieces of 1..97 bytes.
  const io::bytes stream = make_stream(order_count).freeze();
  io::wire::basic_frame_reader<order_header> frames({.max_frame = 4096});
  auto log = io::append_log::open(log_path);
  if (!log) return std::fprintf(stderr, "%s\n", log.error().message().c_str()), 1;
  (void)log->replay([](std::span<const std::byte>) {});
  const int echo = ::open(echo_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  io::iovec_list symbols;
  // Copies of the symbols: a frame split across pieces lives in the reader's assembly buffer,
  // which its next next() reuses, so what outlives the loop is copied out.
  std::vector<io::bytes> kept;
  int seen = 0;
  for (std::size_t at = 0, step = 1; at < stream.size(); at += step, step = step % 97 + 13) {
    const io::bytes piece = stream.slice(at, std::min(stream.size(), at + step));
    frames.feed(piece.span());
    for (;;) {
      auto f = frames.next();
      if (!f) return std::fprintf(stderr, "%s\n", f.error().message().c_str()), 1;
      if (!*f) break;
      const auto payload = (*f)->payload();
      check(payload.size() == sizeof(order), "payload size");
      check(log->append(payload).has_value(), "append");
      if (++seen % 64 == 0) check(log->sync().has_value(), "sync");
      const auto* o = *ferrite::try_cast<order>(payload);
      kept.push_back(io::bytes::copy_from(std::string_view(o->symbol, 4)));
    }
  }
  for (const io::bytes& s : kept) symbols.push(s);
  check(io::writev_all(echo, symbols.span()).value_or(0) == 4U * order_count, "writev_all");
  ::close(echo);
  check(seen == order_count, "every frame was read");
  check(stream.use_count() == 1, "pieces released the stream's block");

  // 2. A crash tears the last record; replay keeps the others, reports and cuts the tail.
  const std::uint64_t end = log->end_offset();
  log = io::append_log::open(std::string(dir) + "/unused.aof");  // closes orders.aof
  check(::truncate(log_path.c_str(), static_cast<off_t>(end - 5)) == 0, "tear the tail");
  auto reopened = io::append_log::open(log_path);
  if (!reopened) return 1;
  std::vector<fill> fills;
  auto r = reopened->replay([&](std::span<const std::byte> rec) {
    const order o = ferrite::read_unaligned<order>(rec);
    fills.push_back(fill{o.id, o.quantity});
  });
  check(r.has_value() && r->damage == io::log_damage::torn, "torn tail reported");
  check(r.has_value() && r->records == order_count - 1, "the intact records survive");
  check(r.has_value() && r->damage_offset == r->valid_bytes, "cut at the torn record");

  // 3. The fills as a file of records, mapped and summed in place.
  {
    auto out = io::mapped_file::open(fills_path, io::mapped_file::mode::read_write);
    if (!out || !out->grow(fills.size() * sizeof(fill))) return 1;
    std::memcpy(out->writable_bytes().data(), fills.data(), fills.size() * sizeof(fill));
    check(out->flush().has_value(), "flush");
  }
  const auto in = io::mapped_file::open(fills_path);
  if (!in) return std::fprintf(stderr, "%s\n", in.error().message().c_str()), 1;
  const auto view = io::records<fill>::from(*in);
  if (!view) return std::fprintf(stderr, "%s\n", view.error().message().c_str()), 1;
  std::uint64_t want = 0;
  for (int i = 0; i < order_count - 1; ++i) want += static_cast<std::uint64_t>(10 + i % 7);
  std::uint64_t got = 0;
  for (const fill f : *view) got += f.quantity;
  check(got == want, "sum of the mapped fills");
  check(view->size() == static_cast<std::size_t>(order_count - 1), "record count");

  std::printf("examples/io: %d orders framed, %llu replayed after a torn tail, %llu units\n", seen,
              static_cast<unsigned long long>(view->size()), static_cast<unsigned long long>(got));
  for (const char* f : {"orders.aof", "unused.aof", "symbols.txt", "fills.bin"}) {
    ::unlink((std::string(dir) + "/" + f).c_str());
  }
  ::rmdir(dir);
  return failures == 0 ? 0 : 1;
}
