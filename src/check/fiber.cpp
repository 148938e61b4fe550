// SPDX-License-Identifier: Apache-2.0
// Context switching over Boost.Context's fcontext, and the stack pool.
#include "fiber.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>

namespace ferrite::check::detail {

namespace bctx = boost::context::detail;

namespace {

// The engine starts every fiber at the same entry function; fcontext's entry takes Boost's
// transfer type, so a trampoline converts.
void (*g_entry)(transfer) = nullptr;

void trampoline(bctx::transfer_t t) { g_entry(transfer{t.fctx, t.data}); }

}  // namespace

fcontext make_context(void* base, std::size_t size, void (*fn)(transfer)) {
  g_entry = fn;
  // SAFETY: `base` .. `base + size` is a mapped, writable stack owned by the caller for the
  // lifetime of the context; make_fcontext wants its top (stacks grow down).
  return bctx::make_fcontext(static_cast<char*>(base) + size, size, &trampoline);
}

transfer jump_context(fcontext to, void* data) {
  bctx::transfer_t t = bctx::jump_fcontext(to, data);
  return {t.fctx, t.data};
}

stack_pool::~stack_pool() {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (stack s : all_) munmap(static_cast<char*>(s.base) - page, s.size + page);
}

stack_pool::stack stack_pool::take() {
  if (!free_.empty()) {
    stack s = free_.back();
    free_.pop_back();
    if (s.size == size_) return s;
    free_.push_back(s);  // a different size: keep it for later, map a new one
  }
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, size_ + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::fputs("ferrite::check: cannot map a fiber stack\n", stderr);
    std::abort();
  }
  mprotect(p, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting
  stack s{static_cast<char*>(p) + page, size_};
  all_.push_back(s);
  return s;
}

}  // namespace ferrite::check::detail
