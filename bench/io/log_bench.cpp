// SPDX-License-Identifier: Apache-2.0
// append_log appends/s of 100-byte records with fdatasync every N records (N = 1, 16, 256,
// and never), against a plain write() loop of the same 108-byte frames with the same
// fdatasync cadence (what the log costs over raw I/O: the crc32c and the frame). The files
// live in $TMPDIR: its filesystem decides the fdatasync cost, so say which one with the
// figures. Appends/s is the figure (items_per_second).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "ferrite/io/append_log.hpp"

namespace {

constexpr std::size_t record_size = 100;

void BM_AppendLog(benchmark::State& state) {
  const auto every = static_cast<std::uint64_t>(state.range(0));  // 0: never sync
  const std::string path = io_bench::scratch_dir() + "/log-" + std::to_string(every);
  ::unlink(path.c_str());
  auto log = ferrite::io::append_log::open(path);
  if (!log) {
    state.SkipWithError(log.error().message().c_str());
    return;
  }
  (void)log->replay([](std::span<const std::byte>) {});
  const std::vector<std::byte> payload(record_size, std::byte{0x5A});
  std::uint64_t n = 0;
  for (auto _ : state) {
    if (!log->append(payload)) std::abort();
    if (every != 0 && ++n % every == 0 && !log->sync()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PlainWrite(benchmark::State& state) {
  const auto every = static_cast<std::uint64_t>(state.range(0));
  const std::string path = io_bench::scratch_dir() + "/plain-" + std::to_string(every);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  const std::vector<std::byte> frame(record_size + 8, std::byte{0x5A});
  std::uint64_t n = 0;
  for (auto _ : state) {
    if (::write(fd, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) std::abort();
    if (every != 0 && ++n % every == 0 && ::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_AppendLog)->Arg(1)->Arg(16)->Arg(256)->Arg(0)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PlainWrite)->Arg(1)->Arg(16)->Arg(256)->Arg(0)->Unit(benchmark::kMicrosecond);

}  // namespace
