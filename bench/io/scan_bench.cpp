// SPDX-License-Identifier: Apache-2.0
// Scan a file of 64-byte records (FERRITE_IO_BENCH_SCAN_MB, default 1024 MiB), summing one
// field, with the file in the page cache: records<T> over a mapped_file (mapping kept; and
// opened + mapped + unmapped per pass), read() into a 1 MiB buffer, std::ifstream into the
// same buffer, and, as the floor, the same loop over the same bytes already in heap memory.
// Bytes/s is the figure (SetBytesProcessed).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "bench_support.hpp"
#include "ferrite/io/mapped_file.hpp"
#include "ferrite/io/records.hpp"

namespace {

using ferrite::io::mapped_file;
using ferrite::io::records;
using io_bench::record64;

std::size_t scan_bytes() {
  const char* mb = std::getenv("FERRITE_IO_BENCH_SCAN_MB");
  return static_cast<std::size_t>(mb != nullptr ? std::atol(mb) : 1024) << 20;
}

// The file, written once, then read once so it is in the page cache.
const std::string& scan_file() {
  static const std::string path = [] {
    std::string p = io_bench::scratch_dir() + "/records";
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<record64> chunk(1 << 14);
    std::uint64_t k = 0;
    for (std::size_t done = 0; done < scan_bytes(); done += chunk.size() * sizeof(record64)) {
      for (auto& r : chunk) r = record64{k, k * 7 + 1, {}}, ++k;
      if (::write(fd, chunk.data(), chunk.size() * sizeof(record64)) < 0) std::abort();
    }
    ::close(fd);
    return p;
  }();
  return path;
}

std::uint64_t sum_values(records<record64> r) {
  std::uint64_t s = 0;
  for (const record64 x : r) s += x.value;
  return s;
}

void BM_ScanMemory(benchmark::State& state) {  // the floor: same bytes, same loop, in the heap
  const auto f = mapped_file::open(scan_file());
  std::unique_ptr<std::byte[]> mem(new std::byte[f->size()]);
  std::memcpy(mem.get(), f->bytes().data(), f->size());
  const auto r = *records<record64>::from(std::span<const std::byte>(mem.get(), f->size()));
  for (auto _ : state) benchmark::DoNotOptimize(sum_values(r));
  state.SetBytesProcessed(io_bench::times(state, f->size()));
}

void BM_ScanMappedRecords(benchmark::State& state) {  // mapping made once, pages faulted once
  const auto f = mapped_file::open(scan_file());
  (void)f->advise(mapped_file::advice::sequential);
  const auto r = *records<record64>::from(*f);
  benchmark::DoNotOptimize(sum_values(r));  // fault the pages in before timing
  for (auto _ : state) benchmark::DoNotOptimize(sum_values(r));
  state.SetBytesProcessed(io_bench::times(state, f->size()));
}

void BM_ScanMappedRecordsOpenEachPass(benchmark::State& state) {  // open, map, fault, unmap
  std::size_t size = 0;
  for (auto _ : state) {
    const auto f = mapped_file::open(scan_file());
    (void)f->advise(mapped_file::advice::sequential);
    size = f->size();
    benchmark::DoNotOptimize(sum_values(*records<record64>::from(*f)));
  }
  state.SetBytesProcessed(io_bench::times(state, size));
}

void BM_ScanRead(benchmark::State& state) {  // read() into a 1 MiB buffer
  std::vector<record64> buf((1 << 20) / sizeof(record64));
  std::size_t total = 0;
  for (auto _ : state) {
    const int fd = ::open(scan_file().c_str(), O_RDONLY);
    std::uint64_t s = 0;
    total = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size() * sizeof(record64));
      if (n <= 0) break;
      for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(record64); ++i)
        s += buf[i].value;
      total += static_cast<std::size_t>(n);
    }
    ::close(fd);
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(io_bench::times(state, total));
}

void BM_ScanIfstream(benchmark::State& state) {  // std::ifstream::read into a 1 MiB buffer
  std::vector<record64> buf((1 << 20) / sizeof(record64));
  std::size_t total = 0;
  for (auto _ : state) {
    std::ifstream in(scan_file(), std::ios::binary);
    std::uint64_t s = 0;
    total = 0;
    while (in) {
      in.read(reinterpret_cast<char*>(buf.data()),
              static_cast<std::streamsize>(buf.size() * sizeof(record64)));
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      for (std::size_t i = 0; i < n / sizeof(record64); ++i) s += buf[i].value;
      total += n;
    }
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(io_bench::times(state, total));
}

BENCHMARK(BM_ScanMemory)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanMappedRecords)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanMappedRecordsOpenEachPass)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanRead)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanIfstream)->Unit(benchmark::kMillisecond);

}  // namespace
