// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the io benchmarks: a scratch directory under $TMPDIR (default /tmp) that
// lives for the process, and the 64-byte record the scans read.
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace io_bench {

/// A directory for the benchmark files, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ferrite-io-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  static const struct cleanup {
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } at_exit;
  return dir;
}

/// state.iterations() * n, for SetBytesProcessed / SetItemsProcessed.
inline std::int64_t times(const benchmark::State& state, std::size_t n) {
  return state.iterations() * static_cast<std::int64_t>(n);
}

/// The record of the scans: 64 bytes, a key and a value to sum, the rest payload.
struct record64 {
  std::uint64_t key;
  std::uint64_t value;
  std::uint64_t pad[6];
};
static_assert(sizeof(record64) == 64);

}  // namespace io_bench
