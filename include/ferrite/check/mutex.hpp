// SPDX-License-Identifier: Apache-2.0
// check::mutex and check::condition_variable: blocking primitives the model checker
// schedules (a blocked thread is not runnable; every thread blocked is a deadlock).
// Lockable, so std::lock_guard / std::unique_lock work with them.
#pragma once

#include <mutex>
#include <source_location>

#include "ferrite/check/detail/hooks.hpp"

namespace ferrite::check {

/// A non-recursive mutex. unlock() releases, lock() acquires (happens-before between them).
class mutex {
  using src = std::source_location;

 public:
  mutex() {
    if (detail::in_execution())
      detail::object_created(h_, this, detail::object_kind::mutex, 0, "mutex");
  }
  ~mutex() {
    if (detail::in_execution()) detail::object_destroyed(h_, this);
  }
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock(const src& at = src::current()) { detail::mutex_lock(h_, this, at); }
  bool try_lock(const src& at = src::current()) { return detail::mutex_try_lock(h_, this, at); }
  void unlock(const src& at = src::current()) { detail::mutex_unlock(h_, this, at); }

 private:
  friend class condition_variable;
  detail::handle h_;
};

/// A condition variable for check::mutex. wait() releases the mutex and blocks until a
/// notify; there are no spurious wake-ups, so a missing notify shows up as a deadlock.
class condition_variable {
  using src = std::source_location;

 public:
  condition_variable() {
    if (detail::in_execution())
      detail::object_created(h_, this, detail::object_kind::condvar, 0, "condition_variable");
  }
  ~condition_variable() {
    if (detail::in_execution()) detail::object_destroyed(h_, this);
  }
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  void wait(std::unique_lock<mutex>& lock, const src& at = src::current()) {
    detail::condvar_wait(h_, this, lock.mutex()->h_, lock.mutex(), at);
  }
  template <class Pred>
  void wait(std::unique_lock<mutex>& lock, Pred pred, const src& at = src::current()) {
    while (!pred()) wait(lock, at);
  }
  void notify_one(const src& at = src::current()) { detail::condvar_notify(h_, this, false, at); }
  void notify_all(const src& at = src::current()) { detail::condvar_notify(h_, this, true, at); }

 private:
  detail::handle h_;
};

}  // namespace ferrite::check
