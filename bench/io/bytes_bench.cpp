// SPDX-License-Identifier: Apache-2.0
// io::bytes against std::shared_ptr<std::vector<char>> (plus an offset and a length, the usual
// hand-rolled shared slice): clone + drop, and slice + drop, of a 4 KiB buffer; and building a
// bytes_mut from a buffer_pool against a fresh std::vector per read.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "ferrite/io/buffer_pool.hpp"
#include "ferrite/io/bytes.hpp"

namespace {

using ferrite::io::bytes;

// libstdc++ skips shared_ptr's atomic count updates while the process has one thread
// (__libc_single_threaded); a server has many, so start one before measuring.
const bool multi_threaded = [] {
  std::thread([] {}).join();
  return true;
}();

struct shared_slice {  // the peer: a shared vector and a window into it
  std::shared_ptr<std::vector<char>> data;
  std::size_t offset = 0;
  std::size_t size = 0;
  shared_slice slice(std::size_t b, std::size_t e) const { return {data, offset + b, e - b}; }
};

void BM_BytesClone(benchmark::State& state) {
  const bytes b = bytes::copy_from(std::vector<std::byte>(4096));
  for (auto _ : state) {
    bytes c = b;
    benchmark::DoNotOptimize(c);
  }
}

void BM_SharedPtrVectorClone(benchmark::State& state) {
  const shared_slice b{std::make_shared<std::vector<char>>(4096), 0, 4096};
  for (auto _ : state) {
    shared_slice c = b;
    benchmark::DoNotOptimize(c);
  }
}

void BM_BytesSlice(benchmark::State& state) {
  const bytes b = bytes::copy_from(std::vector<std::byte>(4096));
  std::size_t i = 0;
  for (auto _ : state) {
    bytes s = b.slice(i & 1023, 2048 + (i & 1023));
    benchmark::DoNotOptimize(s);
    ++i;
  }
}

void BM_SharedPtrVectorSlice(benchmark::State& state) {
  const shared_slice b{std::make_shared<std::vector<char>>(4096), 0, 4096};
  std::size_t i = 0;
  for (auto _ : state) {
    shared_slice s = b.slice(i & 1023, 2048 + (i & 1023));
    benchmark::DoNotOptimize(s);
    ++i;
  }
}

void BM_BufferPoolAcquireFreeze(benchmark::State& state) {  // a read buffer, from the pool
  ferrite::io::buffer_pool pool(4096);
  for (auto _ : state) {
    ferrite::io::bytes_mut m = pool.acquire();
    m.commit(100);  // as if read() filled 100 bytes
    bytes frozen = std::move(m).freeze();
    benchmark::DoNotOptimize(frozen);
  }
}

void BM_SharedPtrVectorNewBuffer(benchmark::State& state) {  // the peer: a new vector per read
  for (auto _ : state) {
    auto v = std::make_shared<std::vector<char>>(4096);
    benchmark::DoNotOptimize(v);
  }
}

BENCHMARK(BM_BytesClone);
BENCHMARK(BM_SharedPtrVectorClone);
BENCHMARK(BM_BytesSlice);
BENCHMARK(BM_SharedPtrVectorSlice);
BENCHMARK(BM_BufferPoolAcquireFreeze);
BENCHMARK(BM_SharedPtrVectorNewBuffer);

}  // namespace
