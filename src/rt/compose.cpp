// SPDX-License-Identifier: Apache-2.0
// The type-erased halves of when_all and when_any: waiting for children through join_any,
// fail-fast and the race's cancellation of the losers.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/rt/detail/join_any.hpp"
#include "ferrite/rt/task_scope.hpp"
#include "ferrite/rt/when_all.hpp"
#include "ferrite/rt/when_any.hpp"

namespace ferrite::rt {
namespace detail {
namespace {

/// Waits until every task in `pending` ended (consumes the vector).
task<> wait_all(std::vector<task_header*> pending) {
  while (!pending.empty()) {
    co_await join_any(pending);
    std::erase_if(pending, [](task_header* t) { return t->joinable_now(); });
  }
}

std::size_t random_below(std::size_t n) noexcept {
  FERRITE_THREAD_LOCAL(std::uint64_t, state, 0x2545F4914F6CDD1DULL);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return static_cast<std::size_t>(state % n);
}

}  // namespace

task<std::size_t> join_all(std::span<task_header* const> hs, std::span<const failed_fn> failed) {
  std::vector<std::size_t> pending(hs.size());
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  std::vector<task_header*> waiting;
  std::size_t bad = hs.size();
  while (!pending.empty()) {
    waiting.clear();
    for (const std::size_t i : pending) waiting.push_back(hs[i]);
    co_await join_any(waiting);
    std::erase_if(pending, [&](std::size_t i) {
      if (!hs[i]->joinable_now()) return false;
      if (bad == hs.size() && failed[i](hs[i])) {  // fail fast: cancel the rest
        bad = i;
        for (task_header* const t : hs) abort_task(t);  // no effect on the finished
      }
      return true;
    });
  }
  co_return bad;
}

task<std::size_t> race(std::span<task_header* const> hs, bool in_order) {
  co_await join_any(hs);
  const std::size_t start = in_order ? 0 : random_below(hs.size());
  std::size_t winner = hs.size();
  for (std::size_t k = 0; k < hs.size() && winner == hs.size(); ++k) {
    const std::size_t i = (start + k) % hs.size();
    if (hs[i]->joinable_now()) winner = i;
  }
  std::vector<task_header*> losers;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    if (i == winner) continue;
    abort_task(hs[i]);
    losers.push_back(hs[i]);
  }
  co_await wait_all(std::move(losers));
  co_return winner;
}

}  // namespace detail

task<> sleep_task_until(clock::time_point t) { co_await sleep_until(t); }

}  // namespace ferrite::rt

// ---- task_scope ----------------------------------------------------------------------

namespace ferrite::rt {

void task_scope::state::fail(std::exception_ptr e) noexcept {
  std::lock_guard guard(lock);
  if (first_failure) return;
  first_failure = std::move(e);
  for (join_handle<void>& h : children) detail::abort_task(h.header());  // the siblings
}

task_scope::~task_scope() {
  cancel();
  // The handles go (detaching what still runs): a child's frame holds the state, so the
  // state holding the children's handles would keep both alive forever.
  std::deque<join_handle<void>> children;
  {
    std::lock_guard guard(state_->lock);
    children.swap(state_->children);
  }
}

void task_scope::cancel() noexcept {
  std::lock_guard guard(state_->lock);
  for (join_handle<void>& h : state_->children) detail::abort_task(h.header());
}

std::size_t task_scope::size() const {
  std::lock_guard guard(state_->lock);
  return state_->children.size();
}

task<> task_scope::join() {
  for (std::size_t i = 0;; ++i) {
    join_handle<void>* child = nullptr;
    {
      std::lock_guard guard(state_->lock);
      if (i == state_->children.size()) break;
      child = &state_->children[i];
    }
    try {
      co_await *child;  // a child's own exception went to fail(): this throws only cancelled
    } catch (const cancelled&) {
    }
  }
  std::exception_ptr failure;
  {
    std::lock_guard guard(state_->lock);
    failure = state_->first_failure;
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace ferrite::rt
