// SPDX-License-Identifier: Apache-2.0
// The timer driver and sleep: arming, disarming and firing timers; the ORDERING labels are
// timer_driver.hpp's.
#include "ferrite/rt/time.hpp"

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/executor.hpp"

namespace ferrite::rt {
namespace detail {

std::uint64_t timer_driver::tick_at_or_after(clock::time_point t) const noexcept {
  if (t <= start_) return 0;
  const auto since = t - start_;
  const auto ticks = std::chrono::ceil<tick_length>(since).count();
  return static_cast<std::uint64_t>(ticks);
}

std::uint64_t timer_driver::tick_before(clock::time_point t) const noexcept {
  if (t <= start_) return 0;
  return static_cast<std::uint64_t>(std::chrono::floor<tick_length>(t - start_).count());
}

bool timer_driver::arm(timer_entry& e, clock::time_point deadline, waker w) noexcept {
  e.deadline = tick_at_or_after(deadline);
  e.driver = this;
  e.wake_me = std::move(w);
  std::lock_guard guard(lock_);
  if (wheel_.insert(e)) return true;
  e.wake_me.reset();  // already due: the caller does not wait
  return false;
}

void timer_driver::disarm(timer_entry& e) noexcept {
  waker dropped;
  {
    std::lock_guard guard(lock_);
    if (!e.armed()) return;
    wheel_.remove(e);
    dropped = std::move(e.wake_me);
  }
}

std::size_t timer_driver::fire_due() noexcept {
  // The wakes run outside the lock (a wake may arm another timer); the list is per thread,
  // and keeps its capacity, so steady state allocates nothing.
  static thread_local std::vector<waker> firing_list;
  std::vector<waker>* const firing = &firing_list;
  const std::size_t base = firing->size();  // re-entered from a wake: on top of the outer
  {
    std::lock_guard guard(lock_);
    if (wheel_.empty()) return 0;
    wheel_.advance(tick_before(clock::now()), [&](wheel_entry& fired_entry) {
      auto& e = static_cast<timer_entry&>(fired_entry);
      firing->push_back(std::move(e.wake_me));
      // ORDERING: (D1) release: see the table.
      e.fired.store(true, std::memory_order_release);
    });
  }
  const std::size_t n = firing->size() - base;
  for (std::size_t i = base; i < firing->size(); ++i) std::move((*firing)[i]).wake();
  firing->resize(base);
  return n;
}

std::optional<clock::time_point> timer_driver::next_deadline() noexcept {
  std::lock_guard guard(lock_);
  const std::optional<std::uint64_t> tick = wheel_.next_expiration();
  if (!tick) return std::nullopt;
  return start_ + tick_length(static_cast<tick_length::rep>(*tick));
}

bool timer_driver::empty() noexcept {
  std::lock_guard guard(lock_);
  return wheel_.empty();
}

/// The timers of the executor driving this thread.
timer_driver& current_timers() noexcept {
  executor_base* const ex = current_executor();
  FERRITE_ASSERT(ex != nullptr, "rt::sleep: awaited outside a task of an executor");
  if (ex->kind == executor_kind::local) return static_cast<local_executor*>(ex)->timers();
  return pool_timers(ex);
}

}  // namespace detail

sleep::~sleep() {
  if (entry_.driver != nullptr) entry_.driver->disarm(entry_);
}

bool sleep::fired(const void* self) noexcept {
  return static_cast<const sleep*>(self)->entry_.has_fired();
}

bool sleep::await_suspend(std::coroutine_handle<> self) noexcept {
  detail::timer_driver& timers = detail::current_timers();
  // Resumed only once the timer fired: a stale wake of the task leaves it asleep.
  detail::suspend_until(self, &fired, this);
  if (timers.arm(entry_, deadline_, current_waker())) return true;
  detail::current_task()->resume_check = nullptr;  // due already: not suspended
  return false;
}

}  // namespace ferrite::rt
