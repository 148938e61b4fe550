// SPDX-License-Identifier: Apache-2.0
// Fibers for model threads: Boost.Context's fcontext (make_fcontext / jump_fcontext, the
// assembly switch under boost::context::fiber, tens of nanoseconds per switch) over stacks
// that are pooled and reused across executions.
#pragma once

#include <cstddef>
#include <vector>

namespace ferrite::check::detail {

using fcontext = void*;

struct transfer {
  fcontext ctx;
  void* data;
};

/// Starts `fn` on a fresh context over [base, base + size): returns the context to jump to.
fcontext make_context(void* base, std::size_t size, void (*fn)(transfer));
/// Suspends the running context and resumes `to`; returns when something jumps back, with
/// the context that did.
transfer jump_context(fcontext to, void* data);

/// mmap'd stacks with a guard page below each, reused across executions.
class stack_pool {
 public:
  struct stack {
    void* base = nullptr;  // lowest usable address
    std::size_t size = 0;
  };
  stack_pool() = default;
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;
  ~stack_pool();

  void set_size(std::size_t size) noexcept { size_ = size; }
  stack take();
  void give(stack s) { free_.push_back(s); }

 private:
  std::size_t size_ = 256 * 1024;
  std::vector<stack> free_;
  std::vector<stack> all_;
};

}  // namespace ferrite::check::detail
