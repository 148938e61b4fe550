// SPDX-License-Identifier: Apache-2.0
// The kernels of every target, one namespace per target (and sse42 for the crc32 instruction
// path the avx2 and avx512 targets share), declared for dispatch.cpp, which puts them into
// kernel tables. Each namespace's functions are defined in translation units compiled for
// that target only: src/simd/CMakeLists.txt gives avx2_*.cpp, sse42_*.cpp and avx512_*.cpp
// their -m flags, so their intrinsics compile without per-function target attributes.
//
// The rule those units follow: they include only this header, intrinsics.hpp (<immintrin.h>)
// and crc32c_math.hpp (consteval only), and their helpers have internal linkage (anonymous
// namespace). A unit compiled with
// -mavx512f may emit an out-of-line copy of any inline function it uses (std::min, a span
// member, a template) built with AVX-512 instructions, and the linker keeps one copy of each
// for the whole program: if it kept that one, baseline code calling it would fault on a CPU
// without AVX-512. Internal-linkage helpers are never shared between units; <immintrin.h>'s
// intrinsics are always inlined (gnu_inline on GCC, static on clang).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ferrite/simd/detail/byte_set_tables.hpp"

namespace ferrite::simd::detail {

/// The sizes at which the vector copies change strategy, derived once from the cache sizes
/// (dispatch.cpp; docs/simd.md has the measurements behind them).
struct copy_thresholds {
  std::size_t rep_movsb;     ///< from here `rep movsb` (ERMS CPUs), below it the vector loop
  std::size_t non_temporal;  ///< from here non-temporal stores: non_temporal_threshold()
};
const copy_thresholds& copy_policy() noexcept;

/// The copies ask copy_policy() only from this size (it is never below): smaller copies
/// make no call.
inline constexpr std::size_t copy_policy_floor = std::size_t{16} << 10U;

namespace scalar {
std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
std::size_t find_any_of(const unsigned char* p, std::size_t n, const byte_set_tables& s) noexcept;
std::size_t find_crlf(const unsigned char* p, std::size_t n) noexcept;
std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept;
std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept;
/// crc * x^(8 n) modulo the CRC-32C polynomial (reflected): the register of `crc`'s data
/// followed by n zero bytes, without the zeros. crc32c_combine's core.
std::uint32_t crc32c_shift(std::uint32_t crc, std::uint64_t n) noexcept;
float dot_f32(const float* a, const float* b, std::size_t n) noexcept;
double dot_f64(const double* a, const double* b, std::size_t n) noexcept;
float sum_f32(const float* x, std::size_t n) noexcept;
double sum_f64(const double* x, std::size_t n) noexcept;
void axpy_f32(float a, const float* x, float* y, std::size_t n) noexcept;
void axpy_f64(double a, const double* x, double* y, std::size_t n) noexcept;
void copy(void* dst, const void* src, std::size_t n) noexcept;
}  // namespace scalar

#if FERRITE_SIMD_X86
namespace sse42 {
/// The crc32 instruction on three interleaved streams, joined with PCLMULQDQ.
std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept;
}  // namespace sse42

namespace avx2 {
std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
std::size_t find_any_of(const unsigned char* p, std::size_t n, const byte_set_tables& s) noexcept;
std::size_t find_crlf(const unsigned char* p, std::size_t n) noexcept;
std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept;
std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
float dot_f32(const float* a, const float* b, std::size_t n) noexcept;
double dot_f64(const double* a, const double* b, std::size_t n) noexcept;
float sum_f32(const float* x, std::size_t n) noexcept;
double sum_f64(const double* x, std::size_t n) noexcept;
void axpy_f32(float a, const float* x, float* y, std::size_t n) noexcept;
void axpy_f64(double a, const double* x, double* y, std::size_t n) noexcept;
void copy(void* dst, const void* src, std::size_t n) noexcept;
}  // namespace avx2

namespace avx512 {
std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
std::size_t find_any_of(const unsigned char* p, std::size_t n, const byte_set_tables& s) noexcept;
std::size_t find_crlf(const unsigned char* p, std::size_t n) noexcept;
std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept;
std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
/// VPCLMULQDQ folding, 256 bytes per step; the sse42 kernel below its minimum length.
/// Preconditions: the CPU has VPCLMULQDQ (cpuid 7 ECX bit 10) besides the avx512 target.
std::uint32_t crc32c_update(std::uint32_t crc, const unsigned char* p, std::size_t n) noexcept;
float dot_f32(const float* a, const float* b, std::size_t n) noexcept;
double dot_f64(const double* a, const double* b, std::size_t n) noexcept;
float sum_f32(const float* x, std::size_t n) noexcept;
double sum_f64(const double* x, std::size_t n) noexcept;
void axpy_f32(float a, const float* x, float* y, std::size_t n) noexcept;
void axpy_f64(double a, const double* x, double* y, std::size_t n) noexcept;
void copy(void* dst, const void* src, std::size_t n) noexcept;
}  // namespace avx512
#endif

}  // namespace ferrite::simd::detail
