// SPDX-License-Identifier: Apache-2.0
// What when_all, when_any and task_scope share: the result type of a task in a tuple or
// variant (void becomes std::monostate), taking a finished child's result, and asking whether
// it failed without taking it. Not a public header.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <variant>

#include "ferrite/rt/detail/executor_impl.hpp"
#include "ferrite/rt/executor.hpp"

namespace ferrite::rt::detail {

/// T, or std::monostate for void: what a task<T> contributes to a tuple or a variant.
template <class T>
using nonvoid_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// The result of a finished child (rethrows its exception, or rt::cancelled).
template <class T>
nonvoid_t<T> take_nonvoid(join_handle<T>& h) {
  if constexpr (std::is_void_v<T>) {
    h.take_finished();
    return std::monostate{};
  } else {
    return h.take_finished();
  }
}

/// Whether a finished child ended with an exception or was cancelled (its result not taken).
template <class T>
bool finished_badly(task_header* h) noexcept {
  if (h->has(task_cancelled)) return true;
  // SAFETY: the header of a join_handle<T> is a spawned_task<T> (made by spawn<T>).
  return static_cast<spawned_task<T>*>(h)->body.handle().promise().failed();
}

using failed_fn = bool (*)(task_header*) noexcept;

/// Cancels the children it names if it is destroyed before release(): when the task awaiting
/// when_all / when_any is itself cancelled, its frame goes, and its children are cancelled
/// with it instead of being detached. Declared after the handles, so it runs first.
class abort_guard {
 public:
  explicit abort_guard(std::span<task_header* const> children) noexcept : children_(children) {}
  abort_guard(const abort_guard&) = delete;
  abort_guard& operator=(const abort_guard&) = delete;
  ~abort_guard() {
    if (!armed_) return;
    for (task_header* const t : children_) {
      if (!t->joinable_now()) abort_task(t);
    }
  }
  void release() noexcept { armed_ = false; }

 private:
  std::span<task_header* const> children_;
  bool armed_ = true;
};

}  // namespace ferrite::rt::detail
