// SPDX-License-Identifier: Apache-2.0
// The storage layer of inline_vector<T, N> (included by ferrite/mem/inline_vector.hpp; do not
// include it directly): the size field's type, the slot storage for each element kind (plain
// array, union, none) and the cold throw helpers. Nothing here knows the vector's interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "ferrite/core/platform.hpp"

namespace ferrite::mem {

namespace detail {

/// The smallest unsigned type holding every size in [0, N].
template <std::size_t N>
using inline_size_t = std::conditional_t<
    N <= UINT8_MAX, std::uint8_t,
    std::conditional_t<N <= UINT16_MAX, std::uint16_t,
                       std::conditional_t<N <= UINT32_MAX, std::uint32_t, std::size_t>>>;

/// The unsigned type of exactly `Bytes` bytes (1, 2, 4 or 8).
template <std::size_t Bytes>
using inline_uint_t = std::conditional_t<
    Bytes == 1, std::uint8_t,
    std::conditional_t<Bytes == 2, std::uint16_t,
                       std::conditional_t<Bytes == 4, std::uint32_t, std::uint64_t>>>;

/// inline_vector's size field: inline_size_t<N>, widened up to alignof(T) (at most 8 bytes)
/// when N > 0. The widening is free, since the object is padded to a multiple of alignof(T)
/// anyway, and it matters: with a one-byte size next to int elements, GCC keeps the size in
/// two registers (a byte for the store, a word for the index), one more instruction per
/// push_back (measured in bench/mem/container_bench.cpp).
template <class T, std::size_t N>
using inline_stored_size_t =
    std::conditional_t<(N > 0 && alignof(T) > sizeof(inline_size_t<N>)),
                       inline_uint_t<(alignof(T) < 8 ? alignof(T) : 8)>, inline_size_t<N>>;

/// Element types kept in a plain array: every slot is a live object at all times, so no
/// lifetime tracking is needed and constant evaluation works.
template <class T>
inline constexpr bool inline_trivial =
    std::is_trivially_default_constructible_v<T> && std::is_trivially_copyable_v<T>;

[[noreturn]] FERRITE_COLD inline void throw_bad_alloc() { throw std::bad_alloc(); }
[[noreturn]] FERRITE_COLD inline void throw_out_of_range(const char* what) {
  throw std::out_of_range(what);
}

/// How an inline_vector keeps its slots.
enum class inline_layout { none, array, union_array };
template <class T, std::size_t N>
inline constexpr inline_layout inline_layout_of =
    N == 0 ? inline_layout::none
           : (inline_trivial<T> ? inline_layout::array : inline_layout::union_array);

/// Raw slots of an inline_vector. Trivial T: a plain array (every slot always alive).
template <class T, std::size_t N, inline_layout Layout = inline_layout_of<T, N>>
struct inline_storage {
  T slots_[N];
  constexpr T* ptr() noexcept { return slots_; }
  constexpr const T* ptr() const noexcept { return slots_; }
};

/// Non-trivial T: a union, so slots hold no object until one is constructed in them.
template <class T, std::size_t N>
struct inline_storage<T, N, inline_layout::union_array> {
  union {
    T slots_[N];
  };
  constexpr inline_storage() noexcept {}
  constexpr inline_storage(const inline_storage&) noexcept {}
  constexpr inline_storage& operator=(const inline_storage&) noexcept { return *this; }
  ~inline_storage()
    requires std::is_trivially_destructible_v<T>
  = default;
  constexpr ~inline_storage() {}  // the owner destroys the live elements
  constexpr T* ptr() noexcept { return slots_; }
  constexpr const T* ptr() const noexcept { return slots_; }
};

/// N == 0: no slots at all.
template <class T, std::size_t N>
struct inline_storage<T, N, inline_layout::none> {
  constexpr T* ptr() noexcept { return nullptr; }
  constexpr const T* ptr() const noexcept { return nullptr; }
};

}  // namespace detail

}  // namespace ferrite::mem
