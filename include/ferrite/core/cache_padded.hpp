// SPDX-License-Identifier: Apache-2.0
// cache_padded<T>: a value alone on its own cache line(s), so that writes to it never
// invalidate a neighbour's line (false sharing). Like crossbeam's CachePadded and folly's
// hardware_destructive_interference_size padding.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "ferrite/core/platform.hpp"

namespace ferrite {

namespace detail {
// The standard's figure is the compiler's guess for the target (GCC: 64 on x86-64) and is
// ABI-unstable, which GCC warns about (-Winterference-size) when it is used in a header.
#ifdef __cpp_lib_hardware_interference_size
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winterference-size"
#endif
inline constexpr std::size_t std_destructive_size = std::hardware_destructive_interference_size;
inline constexpr std::size_t std_constructive_size = std::hardware_constructive_interference_size;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
inline constexpr std::size_t std_destructive_size = 64;
inline constexpr std::size_t std_constructive_size = 64;
#endif

// The platform's own minimum for separating two hot values: x86-64's spatial prefetcher
// pulls cache lines in 128-byte aligned pairs, and Apple's AArch64 cores have 128-byte
// lines, so 128 there (as crossbeam and folly choose); the standard's figure elsewhere.
#if FERRITE_ARCH_X86_64 || FERRITE_ARCH_AARCH64
inline constexpr std::size_t platform_destructive_size = 128;
#else
inline constexpr std::size_t platform_destructive_size = 64;
#endif
}  // namespace detail

/// Minimum distance between two objects to avoid false sharing, in bytes (128 on x86-64
/// and AArch64, otherwise std::hardware_destructive_interference_size).
inline constexpr std::size_t cache_line_size =
    detail::std_destructive_size > detail::platform_destructive_size
        ? detail::std_destructive_size
        : detail::platform_destructive_size;

/// Maximum size of contiguous memory likely to share one cache line (64 on x86-64).
inline constexpr std::size_t constructive_cache_size = detail::std_constructive_size;

/// A T aligned to and padded out to a multiple of `cache_line_size`.
/// `sizeof(cache_padded<T>)` is a multiple of cache_line_size and at least sizeof(T).
template <class T>
struct alignas(cache_line_size) cache_padded {
  T value;

  constexpr cache_padded() noexcept(std::is_nothrow_default_constructible_v<T>)
    requires std::is_default_constructible_v<T>
      : value() {}
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  constexpr explicit(sizeof...(Args) == 1)
      cache_padded(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
      : value(std::forward<Args>(args)...) {}

  constexpr T& get() noexcept { return value; }
  constexpr const T& get() const noexcept { return value; }
  constexpr T& operator*() noexcept { return value; }
  constexpr const T& operator*() const noexcept { return value; }
  constexpr T* operator->() noexcept { return &value; }
  constexpr const T* operator->() const noexcept { return &value; }
};

}  // namespace ferrite
