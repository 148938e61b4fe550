// SPDX-License-Identifier: Apache-2.0
// Byte search side by side with glibc (memchr), Highway's Find, std::string_view and the
// plain loops (-O3 -march=native). find_byte, find_any_of and count_byte scan a haystack
// whose only match is its last byte (the whole length is searched); find_crlf splits 64 KiB
// of pipelined RESP traffic into lines, the way ferrite-kv's parser will, against the usual
// memchr('\r') loop and the plain loop, and scans one 4 KiB line.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/simd/find.hpp"
#include "peers.hpp"
#include "simd_bench_support.hpp"

namespace {

namespace simd = ferrite::simd;
using simd_bench::kernels;

constexpr std::size_t not_found = ~std::size_t{0};

/// The bytes at p as text.
std::string_view text_of(const unsigned char* p, std::size_t n) {
  // SAFETY: viewing unsigned char storage as char (both byte types may alias anything).
  return {reinterpret_cast<const char*>(p), n};
}

/// n bytes of 'a'..'z' with `last` as the final byte.
const unsigned char* haystack(std::size_t n, unsigned char last) {
  unsigned char* p = simd_bench::buffer(n, 77);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>('a' + p[i] % 26);
  if (n > 0) p[n - 1] = last;
  return p;
}

enum class impl { ferrite, ferrite_avx2, ferrite_scalar, glibc, highway, std_lib, plain };

// ---- find_byte --------------------------------------------------------------------------------

void BM_find_byte(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const unsigned char* p = haystack(n, '!');
  std::size_t (*fn)(const unsigned char*, std::size_t, unsigned char) = nullptr;
  switch (which) {
    case impl::ferrite:
      fn = [](const unsigned char* q, std::size_t m, unsigned char b) {
        return simd::find_byte(text_of(q, m), static_cast<char>(b));
      };
      break;
    case impl::ferrite_avx2:
      if (const auto* k = kernels(state, simd::target::avx2)) fn = k->find_byte;
      break;
    case impl::glibc:
      fn = [](const unsigned char* q, std::size_t m, unsigned char b) {
        const void* r = std::memchr(q, b, m);
        return r == nullptr ? not_found
                            : static_cast<std::size_t>(static_cast<const unsigned char*>(r) - q);
      };
      break;
    case impl::highway:
      if (!peers::have_highway) state.SkipWithError("Highway not installed");
      fn = peers::highway_find_byte;
      break;
    default: fn = peers::plain_find_byte; break;
  }
  if (fn == nullptr || state.error_occurred()) return;
  for (auto _ : state) benchmark::DoNotOptimize(fn(p, n, '!'));
  simd_bench::set_bytes(state, n);
}
BENCHMARK_CAPTURE(BM_find_byte, ferrite, impl::ferrite)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_find_byte, ferrite_avx2, impl::ferrite_avx2)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_find_byte, glibc_memchr, impl::glibc)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_find_byte, highway, impl::highway)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_find_byte, plain_loop, impl::plain)->Arg(64)->Arg(4096)->Arg(1 << 20);

// ---- find_any_of ------------------------------------------------------------------------------

void BM_find_any_of(benchmark::State& state, impl which, std::string_view set_bytes) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const unsigned char* p = haystack(n, static_cast<unsigned char>(set_bytes.back()));
  const std::string_view text = text_of(p, n);
  const simd::byte_set set(set_bytes);
  bool member[256] = {};
  for (const char c : set_bytes) member[static_cast<unsigned char>(c)] = true;
  switch (which) {
    case impl::ferrite:
      for (auto _ : state) benchmark::DoNotOptimize(simd::find_any_of(text, set));
      break;
    case impl::std_lib:
      for (auto _ : state) benchmark::DoNotOptimize(text.find_first_of(set_bytes));
      break;
    default:
      for (auto _ : state) benchmark::DoNotOptimize(peers::plain_find_any_of(p, n, member));
      break;
  }
  simd_bench::set_bytes(state, n);
}
constexpr std::string_view resp_set = "\r\n$*";
constexpr std::string_view sixteen_set = "\r\n$*+-:_,#!=%~>(";
BENCHMARK_CAPTURE(BM_find_any_of, ferrite_4_bytes, impl::ferrite, resp_set)->Arg(64)->Arg(4096);
BENCHMARK_CAPTURE(BM_find_any_of, string_view_find_first_of_4_bytes, impl::std_lib, resp_set)
    ->Arg(64)
    ->Arg(4096);
BENCHMARK_CAPTURE(BM_find_any_of, plain_loop_4_bytes, impl::plain, resp_set)->Arg(64)->Arg(4096);
BENCHMARK_CAPTURE(BM_find_any_of, ferrite_16_bytes, impl::ferrite, sixteen_set)->Arg(4096);
BENCHMARK_CAPTURE(BM_find_any_of, string_view_find_first_of_16_bytes, impl::std_lib, sixteen_set)
    ->Arg(4096);

// ---- count_byte -------------------------------------------------------------------------------

void BM_count_byte(benchmark::State& state, impl which) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const unsigned char* p = haystack(n, '!');
  switch (which) {
    case impl::ferrite:
      for (auto _ : state) {
        benchmark::DoNotOptimize(simd::count_byte(text_of(p, n), 'e'));
      }
      break;
    default:
      for (auto _ : state) benchmark::DoNotOptimize(peers::plain_count_byte(p, n, 'e'));
      break;
  }
  simd_bench::set_bytes(state, n);
}
BENCHMARK_CAPTURE(BM_count_byte, ferrite, impl::ferrite)->Arg(4096)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_count_byte, plain_loop, impl::plain)->Arg(4096)->Arg(1 << 20);

// ---- find_crlf on RESP traffic ------------------------------------------------------------------

/// 64 KiB of pipelined RESP commands (SET key value, GET key), keys of 10..20 bytes, values of
/// 5..100 bytes: lines of 2 to 100 bytes, as a cache server sees them.
const std::string& resp_traffic() {
  static const std::string traffic = [] {
    std::string t;
    unsigned seed = 1;
    const auto next = [&seed](unsigned range) {
      seed = seed * 1103515245U + 12345U;
      return (seed >> 16U) % range;
    };
    while (t.size() < (64U << 10U)) {
      const std::string key = "key:" + std::string(6 + next(11), static_cast<char>('a' + next(26)));
      if (next(2) == 0) {
        const std::string value(5 + next(96), 'v');
        t += "*3\r\n$3\r\nSET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n$" +
             std::to_string(value.size()) + "\r\n" + value + "\r\n";
      } else {
        t += "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
      }
    }
    return t;
  }();
  return traffic;
}

/// The usual line splitter: memchr for '\r', then a look at the next byte.
std::size_t memchr_crlf(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i + 1 < n) {
    const void* r = std::memchr(p + i, '\r', n - i - 1);
    if (r == nullptr) return not_found;
    const auto k = static_cast<std::size_t>(static_cast<const unsigned char*>(r) - p);
    if (p[k + 1] == '\n') return k;
    i = k + 1;
  }
  return not_found;
}

void BM_find_crlf_resp(benchmark::State& state, impl which) {
  const std::string& t = resp_traffic();
  // SAFETY: viewing char storage as unsigned char (both byte types may alias anything).
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  std::size_t (*fn)(const unsigned char*, std::size_t) = nullptr;
  switch (which) {
    case impl::ferrite:
      fn = [](const unsigned char* q, std::size_t m) { return simd::find_crlf(text_of(q, m)); };
      break;
    case impl::ferrite_avx2:
      if (const auto* k = kernels(state, simd::target::avx2)) fn = k->find_crlf;
      break;
    case impl::ferrite_scalar:
      if (const auto* k = kernels(state, simd::target::scalar)) fn = k->find_crlf;
      break;
    case impl::glibc: fn = memchr_crlf; break;
    default: fn = peers::plain_find_crlf; break;
  }
  if (fn == nullptr || state.error_occurred()) return;
  std::size_t lines = 0;
  for (auto _ : state) {
    std::size_t at = 0;
    for (std::size_t k = fn(p, t.size()); k != not_found; k = fn(p + at, t.size() - at)) {
      at += k + 2;
      ++lines;
    }
    benchmark::DoNotOptimize(at);
  }
  simd_bench::set_bytes(state, t.size());
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
}
/// The same traffic split by find_all_crlf: the line ends of up to 1024 lines per call.
void BM_find_all_crlf_resp(benchmark::State& state) {
  const std::string_view t = resp_traffic();
  std::vector<std::size_t> ends(1024);
  std::size_t lines = 0;
  for (auto _ : state) {
    std::size_t at = 0;
    for (;;) {
      const std::size_t got = simd::find_all_crlf(t.substr(at), ends);
      lines += got;
      if (got < ends.size()) break;
      at += ends.back() + 2;
    }
    benchmark::DoNotOptimize(ends.data());
  }
  simd_bench::set_bytes(state, t.size());
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_find_all_crlf_resp)->Name("BM_find_crlf_resp/ferrite_find_all_crlf");

BENCHMARK_CAPTURE(BM_find_crlf_resp, ferrite, impl::ferrite);
BENCHMARK_CAPTURE(BM_find_crlf_resp, ferrite_avx2, impl::ferrite_avx2);
BENCHMARK_CAPTURE(BM_find_crlf_resp, ferrite_scalar, impl::ferrite_scalar);
BENCHMARK_CAPTURE(BM_find_crlf_resp, memchr_cr_loop, impl::glibc);
BENCHMARK_CAPTURE(BM_find_crlf_resp, plain_loop, impl::plain);

/// One 4 KiB line: the scan itself, without the per-call overhead that dominates RESP.
void BM_find_crlf_long_line(benchmark::State& state, impl which) {
  constexpr std::size_t n = 4096;
  unsigned char* p = simd_bench::buffer(n, 99);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>('a' + p[i] % 26);
  p[n - 2] = '\r';
  p[n - 1] = '\n';
  for (auto _ : state) {
    switch (which) {
      case impl::ferrite: benchmark::DoNotOptimize(simd::find_crlf(text_of(p, n))); break;
      case impl::glibc: benchmark::DoNotOptimize(memchr_crlf(p, n)); break;
      default: benchmark::DoNotOptimize(peers::plain_find_crlf(p, n)); break;
    }
  }
  simd_bench::set_bytes(state, n);
}
BENCHMARK_CAPTURE(BM_find_crlf_long_line, ferrite, impl::ferrite);
BENCHMARK_CAPTURE(BM_find_crlf_long_line, memchr_cr_loop, impl::glibc);
BENCHMARK_CAPTURE(BM_find_crlf_long_line, plain_loop, impl::plain);

}  // namespace
