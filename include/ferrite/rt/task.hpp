// SPDX-License-Identifier: Apache-2.0
// rt::task<T>: a lazy C++20 coroutine that produces a T (or nothing, task<>), started by the
// first co_await and resumed back into its awaiter by symmetric transfer, so a chain of any
// depth of nested co_awaits runs in constant stack. A result or an exception travels to the
// awaiter. Frames come from the recycling frame allocator (frame_allocator.hpp), so steady
// creation and completion of tasks does not reach operator new. The shape of cppcoro's and
// libunifex's task; Lewis Baker, "C++ Coroutines: Understanding Symmetric Transfer" (2020).
//
// ```cpp
// ferrite::rt::task<int> answer() { co_return 42; }
// ferrite::rt::task<int> twice() { co_return 2 * co_await answer(); }  // runs answer inline
// int v = ferrite::rt::block_on(twice());                               // 84
// ```
//
// When not to use it: a task does nothing until awaited or spawned; a function that must
// start work at once and return later wants spawn() (executor.hpp) and a join_handle. A
// task is single-shot and move-only; awaiting one twice is a precondition violation.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/frame_allocator.hpp"

namespace ferrite::rt {

template <class T = void>
class task;

namespace detail {

/// What every task's promise has: the awaiter to resume at the end (the continuation), the
/// exception, and frame allocation through the recycling allocator (recycled_frame: its
/// operator new and delete are versioned with the allocator's build setting).
class task_promise_base : public recycled_frame {
 public:
  /// Lazy: nothing runs until the task is awaited (or driven by block_on or spawn).
  std::suspend_always initial_suspend() noexcept { return {}; }

  /// At the end, transfer to the awaiter (no stack growth); a task nobody awaits (driven
  /// by its owner) transfers to noop and returns control to whoever resumed it.
  struct final_awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      const std::coroutine_handle<> next = self.promise().continuation_;
      set_leaf(next);  // the awaiter is the innermost coroutine again
      return next;
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  /// The coroutine to resume when this one finishes.
  void set_continuation(std::coroutine_handle<> awaiter) noexcept { continuation_ = awaiter; }
  /// Whether it ended with an exception (when_all's fail-fast looks without taking it).
  [[nodiscard]] bool failed() const noexcept { return exception_ != nullptr; }

 protected:
  void rethrow_if_failed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  std::exception_ptr exception_;
};

/// The promise of task<T> for an object type T: the result lives in the frame until the
/// awaiter moves it out.
template <class T>
class task_promise final : public task_promise_base {
 public:
  task_promise() noexcept {}  // the union member starts empty
  ~task_promise() {
    if (has_value_) std::destroy_at(std::addressof(value_));
  }
  task_promise(const task_promise&) = delete;
  task_promise& operator=(const task_promise&) = delete;

  task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    // SAFETY: return_value runs at most once per coroutine (a co_return ends it), and the
    // union member is empty until now.
    std::construct_at(std::addressof(value_), std::forward<U>(v));
    has_value_ = true;
  }

  /// The result, moved out; rethrows the task's exception.
  T take() {
    rethrow_if_failed();
    FERRITE_ASSERT(has_value_, "rt::task: result taken twice or the task did not finish");
    return std::move(value_);
  }

 private:
  union {
    T value_;
  };
  bool has_value_ = false;
};

/// task<T&>: the frame keeps the address.
template <class T>
class task_promise<T&> final : public task_promise_base {
 public:
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { value_ = std::addressof(v); }
  T& take() {
    rethrow_if_failed();
    FERRITE_ASSERT(value_ != nullptr, "rt::task: the task did not finish");
    return *value_;
  }

 private:
  T* value_ = nullptr;
};

/// task<>.
template <>
class task_promise<void> final : public task_promise_base {
 public:
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() { rethrow_if_failed(); }
};

}  // namespace detail

/// A lazy coroutine producing a T. Move-only; destroying a task that has not run (or has
/// finished) destroys its frame. `co_await std::move(t)` (or `co_await t`) runs it inline,
/// transferring control to it and back without growing the stack, and yields its result or
/// rethrows its exception.
/// Preconditions: a task is awaited at most once, and not destroyed while it is running
/// (its awaiter is suspended in it).
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() noexcept = default;
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  /// Whether this task holds a coroutine (false after a move or for a default task).
  [[nodiscard]] bool valid() const noexcept { return handle_ != nullptr; }
  /// Whether the coroutine ran to its end (its result or exception is ready).
  [[nodiscard]] bool done() const noexcept { return handle_ != nullptr && handle_.done(); }

  /// The awaiter of `co_await task`: starts the task with the awaiter as its continuation.
  struct awaiter {
    handle_type handle;
    [[nodiscard]] bool await_ready() const noexcept { return handle.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      handle.promise().set_continuation(caller);
      detail::set_leaf(handle);  // a wake of the spawned task resumes the innermost coroutine
      return handle;             // symmetric transfer: resume the task in place of the caller
    }
    decltype(auto) await_resume() { return handle.promise().take(); }
  };
  awaiter operator co_await() && noexcept {
    FERRITE_ASSERT(handle_ != nullptr, "rt::task: co_await on an empty task");
    return awaiter{handle_};
  }
  awaiter operator co_await() & noexcept { return std::move(*this).operator co_await(); }

  /// For drivers (spawn): the coroutine, still owned by this task.
  [[nodiscard]] handle_type handle() const noexcept { return handle_; }

 private:
  friend promise_type;
  explicit task(handle_type h) noexcept : handle_(h) {}
  void reset() noexcept {
    if (handle_ != nullptr) std::exchange(handle_, nullptr).destroy();
  }

  handle_type handle_ = nullptr;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}
}  // namespace detail

}  // namespace ferrite::rt
