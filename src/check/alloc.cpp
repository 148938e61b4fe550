// SPDX-License-Identifier: Apache-2.0
// Tracked allocations: in a model-test binary, the global operator new/delete are replaced.
// While a model thread runs the test's code, every allocation is recorded; a delete marks it
// freed (double free is a failure), marks the atomics and cells inside it dead (a later use
// is a use-after-free) and keeps the memory until the execution ends, so an address is never
// reused within one execution (which would hide ABA and use-after-free bugs). What is still
// alive at the end is a leak. Outside executions these are malloc and free.
#include <cstdlib>
#include <new>

#include "engine.hpp"

namespace ferrite::check::detail {

namespace {

// True while the allocation map itself allocates or frees (a rehash): those blocks are
// never tracked, and the map must not be searched while it is being rebuilt.
bool g_map_busy = false;

bool tracking() noexcept {
  return g_engine != nullptr && g_engine->model_thread_running() && g_depth == 0;
}

void* allocate(std::size_t size, std::size_t align) {
  if (size == 0) size = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  if (tracking()) {
    engine_scope scope;
    g_map_busy = true;
    g_engine->track_allocation(p, size);
    g_map_busy = false;
  }
  return p;
}

void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  engine* e = g_engine;
  if (e != nullptr && e->model_thread_running() && !g_map_busy && e->track_free(p)) return;
  std::free(p);
}

}  // namespace

void engine::track_allocation(void* p, std::size_t size) {
  exec_.allocs[p] = alloc_rec{size, true, exec_.events, static_cast<std::uint8_t>(exec_.current)};
}

bool engine::track_free(void* p) {
  auto it = exec_.allocs.find(p);
  if (it == exec_.allocs.end()) return false;
  if (!it->second.alive) fail(failure_kind::double_free, "delete of memory that was already freed");
  it->second.alive = false;
  const auto* lo = static_cast<const char*>(p);
  const auto* hi = lo + it->second.size;
  for (location& l : exec_.locs) {
    const auto* a = static_cast<const char*>(l.addr);
    if (a >= lo && a < hi) location_died(l);
  }
  return true;  // quarantined until the execution ends
}

void untracked_enter() noexcept { ++g_depth; }
void untracked_exit() noexcept { --g_depth; }

}  // namespace ferrite::check::detail

using ferrite::check::detail::allocate;
using ferrite::check::detail::deallocate;

// SAFETY: the replacements keep the standard contracts: allocate() returns malloc or
// aligned_alloc memory of at least n bytes (aligned as asked) or throws bad_alloc, and
// deallocate() frees exactly such memory, later (quarantine) when the block is tracked.
void* operator new(std::size_t n) { return allocate(n, 0); }
void* operator new[](std::size_t n) { return allocate(n, 0); }
// SAFETY: as above; aligned blocks come from aligned_alloc with the size rounded up.
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a));
}
// SAFETY: as above; the nothrow forms turn bad_alloc into nullptr.
void* operator new(std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  try {
    return allocate(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  try {
    return allocate(n, 0);
  } catch (...) {
    return nullptr;
  }
}
// SAFETY: every delete form frees a block from allocate() (malloc and aligned_alloc blocks
// are both released by free()); size and alignment hints are not needed.
void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t /*a*/) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t /*a*/) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t /*n*/, std::align_val_t /*a*/) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t /*n*/, std::align_val_t /*a*/) noexcept {
  deallocate(p);
}
