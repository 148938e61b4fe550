// SPDX-License-Identifier: Apache-2.0
// What the simd tests share: a fixture parameterized over the targets (a target the machine
// cannot run is reported as skipped, never passed), and exact-size heap buffers at a chosen
// misalignment from a 64-byte boundary, with the bytes before the data poisoned under ASan,
// so that a kernel reading one byte before its input or after its end is an ASan report.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <ostream>
#include <random>
#include <span>
#include <string>

#include "ferrite/core/platform.hpp"
#include "ferrite/simd/detail/kernel_table.hpp"
#include "ferrite/simd/target.hpp"

#if FERRITE_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ferrite::simd {
/// GoogleTest prints a target parameter by name.
inline void PrintTo(target t, std::ostream* os) { *os << to_string(t); }
}  // namespace ferrite::simd

namespace simd_test {

namespace simd = ferrite::simd;

/// A fixture run once per target: kernels() is that target's table.
class per_target : public ::testing::TestWithParam<simd::target> {
 protected:
  void SetUp() override {
    table_ = simd::detail::kernels_for(GetParam());
    if (table_ == nullptr) {
      GTEST_SKIP() << "target " << simd::to_string(GetParam()) << " is not supported here";
    }
  }
  [[nodiscard]] const simd::detail::kernel_table& kernels() const { return *table_; }

 private:
  const simd::detail::kernel_table* table_ = nullptr;
};

inline std::string target_name(const ::testing::TestParamInfo<simd::target>& info) {
  return std::string(simd::to_string(info.param));
}

#define FERRITE_SIMD_INSTANTIATE_TARGETS(suite)                                     \
  INSTANTIATE_TEST_SUITE_P(                                                         \
      Targets, suite,                                                               \
      ::testing::Values(ferrite::simd::target::scalar, ferrite::simd::target::avx2, \
                        ferrite::simd::target::avx512),                             \
      ::simd_test::target_name)

/// `size` elements of T on the heap, starting `misalignment` bytes after a 64-byte boundary,
/// with the allocation ending exactly at the last element (ASan's redzone follows it) and the
/// misalignment's bytes before the data poisoned under ASan. Not copyable.
template <class T = unsigned char>
class exact_buffer {
 public:
  exact_buffer(std::size_t size, std::size_t misalignment)
      : misalignment_(misalignment),
        bytes_(misalignment + size * sizeof(T)),
        base_(static_cast<std::byte*>(
            ::operator new(bytes_ == 0 ? 1 : bytes_, std::align_val_t{64}))),
        size_(size) {
#if FERRITE_ASAN
    __asan_poison_memory_region(base_, misalignment_);
#endif
  }
  ~exact_buffer() {
#if FERRITE_ASAN
    __asan_unpoison_memory_region(base_, misalignment_);
#endif
    ::operator delete(base_, std::align_val_t{64});
  }
  exact_buffer(const exact_buffer&) = delete;
  exact_buffer& operator=(const exact_buffer&) = delete;

  [[nodiscard]] T* data() {
    // SAFETY: [base_ + misalignment_, base_ + bytes_) is size_ elements of storage from
    // operator new, which implicitly creates the (implicit-lifetime) T objects; the
    // misalignment is a multiple of alignof(T) (the callers pass one).
    return reinterpret_cast<T*>(base_ + misalignment_);
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::span<T> span() { return {data(), size_}; }

 private:
  std::size_t misalignment_;
  std::size_t bytes_;
  std::byte* base_;
  std::size_t size_;
};

/// The tests' random source: fixed seed, so a failure reproduces.
inline std::mt19937_64& rng() {
  static std::mt19937_64 engine(0x5eed'f322'17e5ULL);
  return engine;
}

}  // namespace simd_test
