// SPDX-License-Identifier: Apache-2.0
// The peers of bench_simd that need their own compilation (peers_native.cpp, built with
// -O3 -march=native): the plain loops as a compiler would vectorize them for this machine,
// Highway's and xsimd's versions when their headers are installed, and the streaming-read
// loop that measures the memory bandwidth the dot limit row is derived from. Plain
// signatures, so bench sources that include this are compiled for the baseline.
#pragma once

#include <cstddef>
#include <cstdint>

namespace peers {

// The plain loops: what -O3 -march=native makes of the obvious code.
float plain_dot(const float* a, const float* b, std::size_t n) noexcept;
double plain_dot(const double* a, const double* b, std::size_t n) noexcept;
float plain_sum(const float* x, std::size_t n) noexcept;
void plain_axpy(float a, const float* x, float* y, std::size_t n) noexcept;
std::size_t plain_find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
std::size_t plain_find_crlf(const unsigned char* p, std::size_t n) noexcept;
std::size_t plain_count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;
/// find_any_of as a loop over a 256-entry membership table.
std::size_t plain_find_any_of(const unsigned char* p, std::size_t n, const bool* member) noexcept;

/// Highway (static dispatch for -march=native): Dot::Compute and Find. have_highway is false
/// (and the functions return 0) when hwy/highway.h is not installed.
extern const bool have_highway;
float highway_dot(const float* a, const float* b, std::size_t n) noexcept;
double highway_dot(const double* a, const double* b, std::size_t n) noexcept;
std::size_t highway_find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept;

/// xsimd (the widest batch for -march=native): a dot product loop with four accumulators,
/// as its documentation writes one. have_xsimd is false when xsimd.hpp is not installed.
extern const bool have_xsimd;
float xsimd_dot(const float* a, const float* b, std::size_t n) noexcept;
double xsimd_dot(const double* a, const double* b, std::size_t n) noexcept;

/// Reads n bytes (n a multiple of 512) with the widest vector loads, or-ing them into eight
/// accumulators: a read that the load ports and the memory system bound, nothing else.
std::uint64_t stream_read(const void* p, std::size_t n) noexcept;

/// The core clock in GHz, measured: a chain of dependent one-cycle adds, timed with
/// ferrite::cycle_clock (the TSC; its rate is not the core's under turbo).
double measured_core_ghz() noexcept;

/// Aligned vector loads of `width` bytes (64 or 32) per nanosecond from L1, measured: sixteen
/// independent loads per iteration and nothing else; 0 when this build cannot issue them.
double measured_l1_loads_per_ns(int width) noexcept;

/// The loads per nanosecond of a bare AVX-512 dot product loop (load + FMA from memory, eight
/// accumulators, two L1-resident 8 KiB float arrays, no call or reduction); 0 without AVX-512.
double measured_l1_fma_loads_per_ns() noexcept;

}  // namespace peers
