// SPDX-License-Identifier: Apache-2.0
// The check indirection (DESIGN.md): every piece of shared-memory concurrency in ferrite
// goes through the names declared here, never through <atomic> or <thread> directly.
//
//   ferrite::atomic<T>        std::atomic<T>            | check: instrumented atomic
//   ferrite::fence(o)         std::atomic_thread_fence  | check: modelled fence
//   ferrite::compiler_fence   std::atomic_signal_fence  | check: modelled fence
//   ferrite::cell<T>          plain T, zero cost        | check: race-detected cell
//   ferrite::spin_hint()      cpu pause                 | check: deprioritize spinner
//   ferrite::thread           std::thread               | check: model thread (fiber)
//   ferrite::yield_now()      std::this_thread::yield   | check: scheduling point
//
// In a normal build these are aliases and inline wrappers that compile to exactly what
// the standard names would. With FERRITE_CHECK=1 they come from <ferrite/check/primitives.hpp>
// (the model checker), so the same algorithm source is explored under every interleaving and
// weak-memory outcome. tests/core/atomic_bypass_test.cmake fails the build's tests if library
// code reaches around this header.
#pragma once

#include "ferrite/core/platform.hpp"

#if FERRITE_CHECK

#if __has_include(<ferrite/check/primitives.hpp>)
#include <ferrite/check/primitives.hpp>
#else
#error "FERRITE_CHECK=1 needs the model checker: link ferrite::check (ferrite_add_model_test)"
#endif

namespace ferrite {
using check::atomic;
using check::cell;
using check::compiler_fence;
using check::fence;
using check::spin_hint;
using check::thread;
using check::yield_now;
}  // namespace ferrite

#else  // normal build

#include <atomic>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include "ferrite/core/detail/pause.hpp"

namespace ferrite {

/// std::atomic<T> in a normal build; the checker's instrumented atomic with FERRITE_CHECK=1.
/// Use the full std::atomic interface, always with an explicit memory order.
template <class T>
using atomic = std::atomic<T>;

#if FERRITE_TSAN
namespace detail {
/// ThreadSanitizer does not model standalone fences (GCC rejects them under
/// -fsanitize=thread; clang's TSan ignores them and reports false races). In TSan builds a
/// fence is an RMW on this one word instead: RMWs continue release sequences, so a release
/// "fence" followed in time by an acquire "fence" in another thread gives TSan the
/// happens-before edge the real fence pair gives. This is stronger than the C++ fence (it
/// may hide a missing-fence bug from TSan, never invent a race); the model checker, which
/// models fences exactly, is what verifies fence placement.
inline std::atomic<unsigned> tsan_fence_word{0};
}  // namespace detail
#endif

/// A thread fence. `fence(std::memory_order_seq_cst)` is a full barrier.
FERRITE_ALWAYS_INLINE void fence(std::memory_order order) noexcept {
#if FERRITE_TSAN
  // ORDERING: see detail::tsan_fence_word; every fence of the program RMWs this word.
  if (order != std::memory_order_relaxed) detail::tsan_fence_word.fetch_add(0, order);
#else
  std::atomic_thread_fence(order);
#endif
}

/// A fence against the compiler only (no instruction); the cheap side of an asymmetric
/// fence pair (the other side being a process-wide barrier such as membarrier).
FERRITE_ALWAYS_INLINE void compiler_fence(std::memory_order order) noexcept {
  std::atomic_signal_fence(order);
}

/// Tells the CPU (and, under the checker, the scheduler) that this thread is spinning.
FERRITE_ALWAYS_INLINE void spin_hint() noexcept { detail::cpu_relax(); }

/// Gives up the rest of this thread's time slice.
inline void yield_now() noexcept { std::this_thread::yield(); }

/// The thread type tests and runtimes spawn; std::thread in a normal build.
using thread = std::thread;

/// Plain data shared between threads under an algorithm's protocol (a ring slot, a seqlock
/// payload): the analogue of Rust's UnsafeCell / loom's UnsafeCell. Access goes through
/// `with` (shared read), `with_mut` (exclusive write) or `get_mut` so that the model checker
/// can observe every access and report a data race. Zero cost: `sizeof(cell<T>) ==
/// sizeof(T)` and each accessor inlines to a pointer.
///
/// Preconditions (caller's protocol): no `with_mut`/`get_mut` access runs concurrently
/// with any other access to the same cell.
template <class T>
class cell {
 public:
  constexpr cell() noexcept(std::is_nothrow_default_constructible_v<T>)
    requires std::is_default_constructible_v<T>
  = default;
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  constexpr explicit cell(std::in_place_t /*tag*/,
                          Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
      : value_(std::forward<Args>(args)...) {}
  constexpr explicit cell(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires std::is_copy_constructible_v<T>
      : value_(value) {}

  // A cell is a location: copying one would copy unsynchronized data.
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  /// Calls `fn(const T*)` for a shared (read) access and returns its result.
  template <class F>
  FERRITE_ALWAYS_INLINE constexpr decltype(auto) with(F&& fn) const {
    return std::forward<F>(fn)(std::addressof(value_));
  }

  /// Calls `fn(T*)` for an exclusive (write) access and returns its result.
  template <class F>
  FERRITE_ALWAYS_INLINE constexpr decltype(auto) with_mut(F&& fn) {
    return std::forward<F>(fn)(std::addressof(value_));
  }

  /// Direct reference, for when the caller owns the cell exclusively (construction,
  /// destruction, single-threaded phases). The checker records it as a write access.
  FERRITE_ALWAYS_INLINE constexpr T& get_mut() noexcept { return value_; }

 private:
  T value_;
};

}  // namespace ferrite

#endif  // FERRITE_CHECK

/// FERRITE_THREAD_LOCAL(T, name, init): in a function body, declares `name`, the calling
/// thread's value of a constant-initialized thread-local `T` starting at `init`: a real
/// `static constinit thread_local` in a normal build, and with FERRITE_CHECK=1 a reference to
/// the calling model thread's value (check::thread_local_slot: one per model thread, reset at
/// every execution). Every thread_local of code the checker explores goes through it.
#if FERRITE_CHECK
#define FERRITE_THREAD_LOCAL(T, name, init)                                  \
  static constinit ::ferrite::check::thread_local_slot<T> name##_slot{init}; \
  T& name = name##_slot.get()
#else
#define FERRITE_THREAD_LOCAL(T, name, init) static constinit thread_local T name = init
#endif
