// SPDX-License-Identifier: Apache-2.0
// One target's kernels as a table of function pointers: what the dispatched entry points call
// through, and what tests and benchmarks use to run a target other than the selected one
// (every target the machine supports against the scalar reference). Not for applications:
// the entry points in find.hpp, crc32c.hpp, numeric.hpp and copy.hpp are the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ferrite/simd/detail/byte_set_tables.hpp"
#include "ferrite/simd/target.hpp"

namespace ferrite::simd::detail {

/// The kernels of one target. Raw pointers and lengths: the typed API converts. Every entry
/// has the contract of its public function (find.hpp and the others) on [p, p + n).
struct kernel_table {
  target isa;  ///< the target these kernels are written for
  /// The name of the crc32c implementation ("slicing-by-8", "sse4.2 3-way", "vpclmulqdq").
  const char* crc32c_name;

  std::size_t (*find_byte)(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
  std::size_t (*find_any_of)(const unsigned char* p, std::size_t n,
                             const byte_set_tables& set) noexcept;
  std::size_t (*find_crlf)(const unsigned char* p, std::size_t n) noexcept;
  std::size_t (*find_all_crlf)(const unsigned char* p, std::size_t n, std::size_t* out,
                               std::size_t capacity) noexcept;
  std::size_t (*count_byte)(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
  /// The raw CRC register update: no initial value or final xor (crc32c_extend(c, x) is
  /// ~crc32c_update(~c, x)).
  std::uint32_t (*crc32c_update)(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept;
  float (*dot_f32)(const float* a, const float* b, std::size_t n) noexcept;
  double (*dot_f64)(const double* a, const double* b, std::size_t n) noexcept;
  float (*sum_f32)(const float* x, std::size_t n) noexcept;
  double (*sum_f64)(const double* x, std::size_t n) noexcept;
  void (*axpy_f32)(float a, const float* x, float* y, std::size_t n) noexcept;
  void (*axpy_f64)(double a, const double* x, double* y, std::size_t n) noexcept;
  void (*copy)(void* dst, const void* src, std::size_t n) noexcept;
};

/// The kernels of `t`, or nullptr when target_supported(t) is false.
[[nodiscard]] const kernel_table* kernels_for(target t) noexcept;

/// The kernels of selected_target(): the table the entry points call through.
[[nodiscard]] const kernel_table& active_kernels() noexcept;

/// The target selected_target() resolves to when FERRITE_SIMD is `requested` ("" when unset)
/// and `best` is the best supported target: the named target when it is not above `best`,
/// else `best`; `best` when the name is empty or not a target's. Targets are ordered by
/// their requirements, so every target below a supported one is supported.
[[nodiscard]] target choose_target(std::string_view requested, target best) noexcept;

}  // namespace ferrite::simd::detail
