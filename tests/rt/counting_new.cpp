// SPDX-License-Identifier: Apache-2.0
// A counting global operator new/delete over malloc/free (see rt_test_support.hpp).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "rt_test_support.hpp"

namespace {
// Relaxed: a count, read by the tests on the thread that allocates or after a join.
std::atomic<std::uint64_t> g_heap_allocations{0};

void* counted_malloc(std::size_t n) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

std::uint64_t ferrite_test::heap_allocations() noexcept {
  return g_heap_allocations.load(std::memory_order_relaxed);
}

void* operator new(std::size_t n) { return counted_malloc(n); }
void* operator new[](std::size_t n) { return counted_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { std::free(p); }
