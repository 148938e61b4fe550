// SPDX-License-Identifier: Apache-2.0
// A stub model checker for core_check_indirection_test: the same names the real checker
// (ferrite::check) exports, implemented over the standard types but counting every
// operation, so the test can prove that ferrite's code routes through the indirection.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

namespace ferrite::check {

/// Operation counters of the stub (thread-local: the test is single-threaded per check).
struct stub_counts {
  std::uint64_t atomic_ops = 0;
  std::uint64_t fences = 0;
  std::uint64_t cell_reads = 0;
  std::uint64_t cell_writes = 0;
  std::uint64_t spin_hints = 0;
  std::uint64_t yields = 0;
};
inline thread_local stub_counts counts;

template <class T>
class atomic {
 public:
  constexpr atomic() noexcept = default;
  constexpr atomic(T v) noexcept : v_(v) {}  // NOLINT(google-explicit-constructor)
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(std::memory_order o) const noexcept {
    ++counts.atomic_ops;
    return v_.load(o);
  }
  void store(T v, std::memory_order o) noexcept {
    ++counts.atomic_ops;
    v_.store(v, o);
  }
  T exchange(T v, std::memory_order o) noexcept {
    ++counts.atomic_ops;
    return v_.exchange(v, o);
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    ++counts.atomic_ops;
    return v_.compare_exchange_strong(e, d, s, f);
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    ++counts.atomic_ops;
    return v_.compare_exchange_weak(e, d, s, f);
  }
  T fetch_add(T d, std::memory_order o) noexcept {
    ++counts.atomic_ops;
    return v_.fetch_add(d, o);
  }

 private:
  std::atomic<T> v_{};
};

// The stub only counts: its tests are single-threaded, so no fence is needed.
inline void fence(std::memory_order /*order*/) noexcept { ++counts.fences; }
inline void compiler_fence(std::memory_order /*order*/) noexcept { ++counts.fences; }
inline void spin_hint() noexcept { ++counts.spin_hints; }
inline void yield_now() noexcept { ++counts.yields; }
using thread = std::thread;

template <class T>
class cell {
 public:
  cell() = default;
  explicit cell(const T& v) : v_(v) {}
  template <class F>
  decltype(auto) with(F&& fn) const {
    ++counts.cell_reads;
    return std::forward<F>(fn)(std::addressof(v_));
  }
  template <class F>
  decltype(auto) with_mut(F&& fn) {
    ++counts.cell_writes;
    return std::forward<F>(fn)(std::addressof(v_));
  }
  T& get_mut() noexcept {
    ++counts.cell_writes;
    return v_;
  }

 private:
  T v_{};
};

}  // namespace ferrite::check
