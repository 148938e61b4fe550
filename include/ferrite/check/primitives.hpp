// SPDX-License-Identifier: Apache-2.0
// The model checker's instrumented primitives: the names core/atomic.hpp exports when
// FERRITE_CHECK=1 (atomic, cell, fence, compiler_fence, spin_hint, yield_now, thread).
//
// Inside a model execution (check::model) every operation is reported to the engine, which
// schedules the model threads, chooses which store each load reads, tracks happens-before
// with vector clocks and reports races. Outside an execution (a global built before model()
// runs, a single-threaded test phase) they behave as plain sequential objects.
//
// Restrictions: atomic<T> needs a trivially copyable T of at most 8 bytes (every atomic in
// ferrite is a word, pointer, flag or counter). Each operation records its call site
// (std::source_location as a defaulted last parameter), which the failure trace prints.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <source_location>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "ferrite/check/detail/hooks.hpp"

namespace ferrite::check {

namespace detail {

template <class T>
std::uint64_t to_bits(const T& v) noexcept {
  std::uint64_t bits = 0;
  // SAFETY: T is trivially copyable and at most 8 bytes (atomic's static_assert); copying
  // its object representation into the low bytes of a zeroed word is a value-preserving
  // round trip with from_bits. (T may be a pointer: its own bytes are meant.)
  // NOLINTNEXTLINE(bugprone-sizeof-expression)
  std::memcpy(&bits, static_cast<const void*>(std::addressof(v)), sizeof(T));
  return bits;
}

template <class T>
T from_bits(std::uint64_t bits) noexcept {
  T v;
  // SAFETY: the inverse of to_bits: the bytes were produced from a T of the same type.
  // NOLINTNEXTLINE(bugprone-sizeof-expression): T may be a pointer, as in to_bits
  std::memcpy(static_cast<void*>(std::addressof(v)), &bits, sizeof(T));
  return v;
}

/// The arithmetic of fetch_add/fetch_sub on T, in T's own type (wrapping for unsigned,
/// two's complement for signed through the unsigned type, element-scaled for pointers).
template <class T>
struct arith {
  static std::uint64_t add(std::uint64_t old, std::uint64_t arg) noexcept {
    if constexpr (std::is_pointer_v<T>) {
      using E = std::remove_pointer_t<T>;
      auto p = std::bit_cast<std::uintptr_t>(from_bits<T>(old));
      auto d = static_cast<std::uintptr_t>(static_cast<std::ptrdiff_t>(arg) *
                                           static_cast<std::ptrdiff_t>(sizeof(E)));
      return to_bits(std::bit_cast<T>(p + d));
    } else {
      using U = std::make_unsigned_t<T>;
      return to_bits(static_cast<T>(
          static_cast<U>(static_cast<U>(from_bits<T>(old)) + static_cast<U>(from_bits<T>(arg)))));
    }
  }
  static std::uint64_t sub(std::uint64_t old, std::uint64_t arg) noexcept {
    if constexpr (std::is_pointer_v<T>) {
      return add(old, static_cast<std::uint64_t>(-static_cast<std::ptrdiff_t>(arg)));
    } else {
      using U = std::make_unsigned_t<T>;
      return to_bits(static_cast<T>(
          static_cast<U>(static_cast<U>(from_bits<T>(old)) - static_cast<U>(from_bits<T>(arg)))));
    }
  }
  static std::uint64_t bit_and(std::uint64_t old, std::uint64_t arg) noexcept { return old & arg; }
  static std::uint64_t bit_or(std::uint64_t old, std::uint64_t arg) noexcept { return old | arg; }
  static std::uint64_t bit_xor(std::uint64_t old, std::uint64_t arg) noexcept { return old ^ arg; }
  static std::uint64_t replace(std::uint64_t /*old*/, std::uint64_t arg) noexcept { return arg; }
};

}  // namespace detail

using std::memory_order;

/// An instrumented std::atomic<T>. Same interface (explicit orders recommended; the
/// defaulted ones are seq_cst as in the standard).
template <class T>
class atomic {
  // NOLINTNEXTLINE(bugprone-sizeof-expression): T may be a pointer; its size is meant
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "check::atomic<T> models atomics of trivially copyable types up to 8 bytes");
  using src = std::source_location;

 public:
  using value_type = T;
  static constexpr bool is_always_lock_free = true;

  // constexpr (registration skipped in constant evaluation) so that ferrite's constexpr
  // constructors of types holding atomics stay valid in check builds with GCC 12.
  constexpr atomic() noexcept(std::is_nothrow_default_constructible_v<T>) : atomic(T{}) {}
  constexpr atomic(T v,  // NOLINT(google-explicit-constructor)
                   const src& at = src::current()) noexcept
      : value_(v) {
    static_cast<void>(at);
    if !consteval {
      if (detail::in_execution())
        detail::object_created(h_, this, detail::object_kind::atomic, detail::to_bits(v),
                               typeid(T).name());
    }
  }
  constexpr ~atomic() {
    if !consteval {
      if (detail::in_execution()) detail::object_destroyed(h_, this);
    }
  }
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  [[nodiscard]] bool is_lock_free() const noexcept { return true; }

  T load(memory_order o = memory_order::seq_cst, const src& at = src::current()) const {
    if (!detail::in_execution()) return value_;
    return detail::from_bits<T>(detail::atomic_load(h_, this, raw(), o, at));
  }
  void store(T v, memory_order o = memory_order::seq_cst, const src& at = src::current()) {
    if (detail::in_execution()) detail::atomic_store(h_, this, raw(), detail::to_bits(v), o, at);
    value_ = v;
  }
  operator T() const { return load(); }  // NOLINT(google-explicit-constructor)
  T operator=(T v) {
    store(v);
    return v;
  }

  T exchange(T v, memory_order o = memory_order::seq_cst, const src& at = src::current()) {
    return rmw(&detail::arith<T>::replace, detail::to_bits(v), o, "exchange", at);
  }
  T fetch_add(T d, memory_order o = memory_order::seq_cst, const src& at = src::current())
    requires(std::is_integral_v<T>)
  {
    return rmw(&detail::arith<T>::add, detail::to_bits(d), o, "fetch_add", at);
  }
  T fetch_sub(T d, memory_order o = memory_order::seq_cst, const src& at = src::current())
    requires(std::is_integral_v<T>)
  {
    return rmw(&detail::arith<T>::sub, detail::to_bits(d), o, "fetch_sub", at);
  }
  T fetch_add(std::ptrdiff_t d, memory_order o = memory_order::seq_cst,
              const src& at = src::current())
    requires(std::is_pointer_v<T>)
  {
    return rmw(&detail::arith<T>::add, static_cast<std::uint64_t>(d), o, "fetch_add", at);
  }
  T fetch_sub(std::ptrdiff_t d, memory_order o = memory_order::seq_cst,
              const src& at = src::current())
    requires(std::is_pointer_v<T>)
  {
    return rmw(&detail::arith<T>::sub, static_cast<std::uint64_t>(d), o, "fetch_sub", at);
  }
  T fetch_and(T d, memory_order o = memory_order::seq_cst, const src& at = src::current())
    requires(std::is_integral_v<T>)
  {
    return rmw(&detail::arith<T>::bit_and, detail::to_bits(d), o, "fetch_and", at);
  }
  T fetch_or(T d, memory_order o = memory_order::seq_cst, const src& at = src::current())
    requires(std::is_integral_v<T>)
  {
    return rmw(&detail::arith<T>::bit_or, detail::to_bits(d), o, "fetch_or", at);
  }
  T fetch_xor(T d, memory_order o = memory_order::seq_cst, const src& at = src::current())
    requires(std::is_integral_v<T>)
  {
    return rmw(&detail::arith<T>::bit_xor, detail::to_bits(d), o, "fetch_xor", at);
  }

  bool compare_exchange_weak(T& expected, T desired, memory_order success, memory_order failure,
                             const src& at = src::current()) {
    return cas(expected, desired, true, success, failure, at);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order o = memory_order::seq_cst,
                             const src& at = src::current()) {
    return cas(expected, desired, true, o, failure_order(o), at);
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success, memory_order failure,
                               const src& at = src::current()) {
    return cas(expected, desired, false, success, failure, at);
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order o = memory_order::seq_cst,
                               const src& at = src::current()) {
    return cas(expected, desired, false, o, failure_order(o), at);
  }

  /// Blocks the model thread until the value differs from `old` (after a notify).
  void wait(T old, memory_order o = memory_order::seq_cst, const src& at = src::current()) const {
    if (!detail::in_execution()) return;
    detail::atomic_wait(h_, this, raw(), detail::to_bits(old), o, at);
  }
  void notify_one(const src& at = src::current()) {
    if (detail::in_execution()) detail::atomic_notify(h_, this, raw(), false, at);
  }
  void notify_all(const src& at = src::current()) {
    if (detail::in_execution()) detail::atomic_notify(h_, this, raw(), true, at);
  }

 private:
  static memory_order failure_order(memory_order o) noexcept {
    if (o == memory_order::acq_rel) return memory_order::acquire;
    if (o == memory_order::release) return memory_order::relaxed;
    return o;
  }
  std::uint64_t raw() const noexcept { return detail::to_bits(value_); }

  T rmw(detail::rmw_fn fn, std::uint64_t arg, memory_order o, const char* name, const src& at) {
    if (!detail::in_execution()) {
      T old = value_;
      value_ = detail::from_bits<T>(fn(detail::to_bits(old), arg));
      return old;
    }
    std::uint64_t old = detail::atomic_rmw(h_, this, raw(), fn, arg, o, name, at);
    value_ = detail::from_bits<T>(fn(old, arg));
    return detail::from_bits<T>(old);
  }

  bool cas(T& expected, T desired, bool weak, memory_order s, memory_order f, const src& at) {
    if (!detail::in_execution()) {
      if (detail::to_bits(value_) == detail::to_bits(expected)) {
        value_ = desired;
        return true;
      }
      expected = value_;
      return false;
    }
    std::uint64_t e = detail::to_bits(expected);
    if (detail::atomic_cas(h_, this, raw(), e, detail::to_bits(desired), weak, s, f, at)) {
      value_ = desired;
      return true;
    }
    expected = detail::from_bits<T>(e);
    return false;
  }

  T value_;  // the newest value in modification order (the engine keeps the history)
  mutable detail::handle h_;
};

/// A thread fence, modelled exactly (release, acquire, acq_rel and seq_cst fences).
// ORDERING: the checker's model of the caller's fence (the caller's comment names its pair).
inline void fence(memory_order o,
                  const std::source_location& at = std::source_location::current()) {
  // ORDERING: the checker's model of the caller's fence (the caller's comment names its pair).
  if (detail::in_execution()) detail::fence(o, at);
}

/// A compiler-only fence orders nothing between threads; the checker models it as a fence of
/// the same order, because ferrite uses it only as the cheap side of an asymmetric pair
/// whose other side (membarrier) it cannot see.
inline void compiler_fence(memory_order o,
                           const std::source_location& at = std::source_location::current()) {
  // ORDERING: modelled as a thread fence of order `o` (see above).
  if (detail::in_execution()) detail::fence(o, at);
}

/// Marks the current model thread as spinning: it runs again only after another thread
/// has made progress (a store), and its next loads read the newest stores.
inline void spin_hint(const std::source_location& at = std::source_location::current()) {
  if (detail::in_execution()) detail::spin_hint(at);
}

/// A scheduling point that prefers other threads (std::this_thread::yield).
inline void yield_now(const std::source_location& at = std::source_location::current()) {
  if (detail::in_execution()) detail::yield_now(at);
}

/// Plain data shared under an algorithm's protocol, race-checked: every access is checked
/// against the clocks of the conflicting accesses before it (a write must happen after every
/// earlier read and write; a read after every earlier write).
template <class T>
class cell {
 public:
  constexpr cell() : value_() { created(); }
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  constexpr explicit cell(std::in_place_t /*tag*/, Args&&... args)
      : value_(std::forward<Args>(args)...) {
    created();
  }
  constexpr explicit cell(const T& value)
    requires std::is_copy_constructible_v<T>
      : value_(value) {
    created();
  }
  constexpr ~cell() {
    if !consteval {
      if (detail::in_execution()) detail::object_destroyed(h_, this);
    }
  }
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  template <class F>
  decltype(auto) with(F&& fn,
                      const std::source_location& at = std::source_location::current()) const {
    if (detail::in_execution()) detail::cell_access(h_, this, false, at);
    return std::forward<F>(fn)(std::addressof(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& fn,
                          const std::source_location& at = std::source_location::current()) {
    if (detail::in_execution()) detail::cell_access(h_, this, true, at);
    return std::forward<F>(fn)(std::addressof(value_));
  }
  T& get_mut(const std::source_location& at = std::source_location::current()) {
    if (detail::in_execution()) detail::cell_access(h_, this, true, at);
    return value_;
  }

 private:
  constexpr void created() {
    if !consteval {
      if (detail::in_execution())
        detail::object_created(h_, this, detail::object_kind::cell, 0, typeid(T).name());
    }
  }
  T value_;
  mutable detail::handle h_;
};

/// A model thread (std::thread's shape): runs `fn` on a fiber under the checker's scheduler.
/// Must be created and joined inside a model execution.
/// What `thread_local` is in a model test (through FERRITE_THREAD_LOCAL in core/atomic.hpp):
/// one value per model thread, each starting at `init` in every execution (model threads are
/// fibers on one OS thread, so a real thread_local would be shared by all of them and would
/// carry values from one execution into the next).
template <class T>
class thread_local_slot {
  static_assert(std::is_trivially_copyable_v<T>, "thread_local_slot holds plain values");

 public:
  constexpr explicit thread_local_slot(T init) noexcept : init_(init) {}
  thread_local_slot(const thread_local_slot&) = delete;
  thread_local_slot& operator=(const thread_local_slot&) = delete;

  /// The calling model thread's value (stable for the execution).
  T& get() noexcept {
    const std::uint32_t serial = detail::execution_serial();
    if (serial != serial_) {
      serial_ = serial;
      for (T& v : values_) v = init_;
    }
    return values_[detail::thread_slot()];
  }

 private:
  T init_;
  std::uint32_t serial_ = UINT32_MAX;
  T values_[detail::thread_slots] = {};
};

class thread {
 public:
  thread() noexcept = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, thread>)
  explicit thread(F&& fn, const std::source_location& at = std::source_location::current()) {
    using fn_type = std::decay_t<F>;
    auto* boxed = new fn_type(std::forward<F>(fn));
    id_ = detail::thread_spawn([](void* p) { (*static_cast<fn_type*>(p))(); }, boxed,
                               [](void* p) { delete static_cast<fn_type*>(p); }, at);
    joinable_ = true;
  }
  thread(thread&& o) noexcept : id_(o.id_), joinable_(std::exchange(o.joinable_, false)) {}
  thread& operator=(thread&& o) noexcept {
    if (joinable_) detail::fail("thread", "a joinable thread was assigned to", {});
    id_ = o.id_;
    joinable_ = std::exchange(o.joinable_, false);
    return *this;
  }
  ~thread() {
    if (joinable_) detail::fail("thread", "a joinable thread was destroyed (join it)", {});
  }
  [[nodiscard]] bool joinable() const noexcept { return joinable_; }
  void join(const std::source_location& at = std::source_location::current()) {
    if (!joinable_) detail::fail("thread", "join of a thread that is not joinable", at);
    detail::thread_join(id_, at);
    joinable_ = false;
  }
  void detach() noexcept { joinable_ = false; }
  [[nodiscard]] unsigned id() const noexcept { return id_; }

 private:
  unsigned id_ = 0;
  bool joinable_ = false;
};

}  // namespace ferrite::check
