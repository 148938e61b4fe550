// SPDX-License-Identifier: Apache-2.0
// The cost of mapped_file::read_checked (pread: safe against a truncation by another process)
// against copying the same bytes straight out of the mapping (what bytes() gives; it dies of
// SIGBUS after such a truncation) and against fstat-then-copy (checks the size first; still
// dies if the truncation lands between the check and the copy), for 64 B, 4 KiB and 64 KiB
// reads at rotating offsets of a cached 64 MiB file.
#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <cstring>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "ferrite/io/mapped_file.hpp"

namespace {

using ferrite::io::mapped_file;
constexpr std::size_t file_size = std::size_t{64} << 20;

const mapped_file& file() {
  static const mapped_file f = [] {
    const std::string path = io_bench::scratch_dir() + "/checked";
    auto m = mapped_file::open(path, mapped_file::mode::read_write);
    if (!m || !m->grow(file_size)) std::abort();
    for (std::size_t i = 0; i < file_size; i += 4096) m->writable_bytes()[i] = std::byte{1};
    return std::move(*m);
  }();
  return f;
}

std::size_t offset_of(std::size_t i, std::size_t n) { return (i * 1048583) % (file_size - n); }

void BM_ReadCheckedPread(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> out(n);
  std::size_t i = 0;
  for (auto _ : state) {
    if (!file().read_checked(offset_of(i++, n), std::span(out))) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(io_bench::times(state, n));
}

void BM_ReadMappedMemcpy(benchmark::State& state) {  // unchecked: SIGBUS after a truncation
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> out(n);
  std::size_t i = 0;
  for (auto _ : state) {
    std::memcpy(out.data(), file().bytes().data() + offset_of(i++, n), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(io_bench::times(state, n));
}

void BM_ReadFstatThenMemcpy(benchmark::State& state) {  // racy: the check does not hold
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> out(n);
  std::size_t i = 0;
  for (auto _ : state) {
    struct stat st{};
    const std::size_t at = offset_of(i++, n);
    if (::fstat(file().native_handle(), &st) != 0 || static_cast<std::size_t>(st.st_size) < at + n)
      std::abort();
    std::memcpy(out.data(), file().bytes().data() + at, n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(io_bench::times(state, n));
}

BENCHMARK(BM_ReadCheckedPread)->Arg(64)->Arg(4096)->Arg(65536);
BENCHMARK(BM_ReadMappedMemcpy)->Arg(64)->Arg(4096)->Arg(65536);
BENCHMARK(BM_ReadFstatThenMemcpy)->Arg(64)->Arg(4096)->Arg(65536);

}  // namespace
