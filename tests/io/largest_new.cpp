// SPDX-License-Identifier: Apache-2.0
// A global operator new/delete over malloc/free that remembers the largest request since the
// last reset (see io_test_support.hpp): proves a hostile length is never allocated. In its own
// translation unit so no caller inlines the malloc/free pairing.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "io_test_support.hpp"

namespace {
std::size_t g_largest = 0;  // the tests that read it are single-threaded

void* tracked_malloc(std::size_t n) {
  g_largest = std::max(g_largest, n);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

std::size_t io_test::largest_allocation() noexcept { return g_largest; }
void io_test::reset_largest_allocation() noexcept { g_largest = 0; }

void* operator new(std::size_t n) { return tracked_malloc(n); }
void* operator new[](std::size_t n) { return tracked_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { std::free(p); }
