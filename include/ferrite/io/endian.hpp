// SPDX-License-Identifier: Apache-2.0
// Endian-aware field types, zerocopy's byteorder types for C++: io::be<T> and io::le<T> hold
// a T as sizeof(T) bytes in big- or little-endian order, with alignment 1 and no padding, so a
// wire or file header is declared as a plain struct of them and read in place from any byte
// offset (records<H>, wire::parse<H>): there is no misaligned access and no copy-in step.
// They convert to and from T on access (a load and a bswap when the order is not the
// machine's), are pod, trivially copyable and usable in constant expressions.
//
// ```cpp
// struct header {                 // 12 bytes, alignof 1, any offset
//   io::be<std::uint32_t> length;
//   io::be<std::uint16_t> kind;
//   io::le<std::uint16_t> flags;
//   io::be<float> weight;
// };
// static_assert(ferrite::pod<header> && alignof(header) == 1);
// std::uint32_t n = h.length;     // converts: big-endian bytes -> host order
// h.kind = 7;                     // converts back
// ```
#pragma once

#include <bit>
#include <climits>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ferrite::io {

namespace detail {
template <std::size_t N>
struct uint_of;
template <>
struct uint_of<1> {
  using type = std::uint8_t;
};
template <>
struct uint_of<2> {
  using type = std::uint16_t;
};
template <>
struct uint_of<4> {
  using type = std::uint32_t;
};
template <>
struct uint_of<8> {
  using type = std::uint64_t;
};
}  // namespace detail

/// The value types an endian field can hold: integers other than bool, IEEE-754 float and
/// double (whose bit patterns are all values), and scoped enums over such integers.
template <class T>
concept endian_value = (std::integral<T> && !std::same_as<T, bool> && sizeof(T) <= 8) ||
                       (std::floating_point<T> && std::numeric_limits<T>::is_iec559 &&
                        (sizeof(T) == 4 || sizeof(T) == 8)) ||
                       (std::is_scoped_enum_v<T> && std::integral<std::underlying_type_t<T>>);

/// A T stored as sizeof(T) bytes in `Order`, alignment 1. Default construction leaves the
/// bytes uninitialized, as for T itself (value-initialize, `be<u32>{}`, for zero).
/// Complexity of every conversion: O(1), a load (store) and at most one byte swap.
template <endian_value T, std::endian Order>
class endian_field {
 public:
  using value_type = T;
  static constexpr std::endian order = Order;

  endian_field() = default;
  /// Stores `v` in `Order`. Implicit: a field is assigned from and compared with plain T.
  constexpr endian_field(T v) noexcept { store(v); }  // NOLINT(google-explicit-constructor)
  constexpr endian_field& operator=(T v) noexcept {
    store(v);
    return *this;
  }

  /// The value, in host order. Implicit, so a field reads like a T.
  constexpr operator T() const noexcept { return load(); }  // NOLINT(google-explicit-constructor)
  [[nodiscard]] constexpr T value() const noexcept { return load(); }

 private:
  using bits = typename detail::uint_of<sizeof(T)>::type;

  constexpr T load() const noexcept {
    bits u = 0;
    if consteval {
      for (std::size_t i = 0; i < sizeof(T); ++i) {
        const std::size_t at = Order == std::endian::big ? i : sizeof(T) - 1 - i;
        u = static_cast<bits>((sizeof(T) > 1 ? u << CHAR_BIT : 0) | bytes_[at]);
      }
    } else {
      // SAFETY: bytes_ is exactly sizeof(bits) bytes; copying bytes into an integer is valid.
      std::memcpy(&u, bytes_, sizeof u);
      if constexpr (Order != std::endian::native && sizeof(T) > 1) u = std::byteswap(u);
    }
    return std::bit_cast<T>(u);
  }

  constexpr void store(T v) noexcept {
    bits u = std::bit_cast<bits>(v);
    if consteval {
      for (std::size_t i = 0; i < sizeof(T); ++i) {
        const std::size_t at = Order == std::endian::big ? sizeof(T) - 1 - i : i;
        bytes_[at] = static_cast<unsigned char>(u & 0xFFU);
        if constexpr (sizeof(T) > 1) u = static_cast<bits>(u >> CHAR_BIT);
      }
    } else {
      if constexpr (Order != std::endian::native && sizeof(T) > 1) u = std::byteswap(u);
      // SAFETY: as in load, in the other direction.
      std::memcpy(bytes_, &u, sizeof u);
    }
  }

  unsigned char bytes_[sizeof(T)];
};

/// T stored big-endian (network order), alignment 1.
template <endian_value T>
using be = endian_field<T, std::endian::big>;
/// T stored little-endian, alignment 1.
template <endian_value T>
using le = endian_field<T, std::endian::little>;

}  // namespace ferrite::io
