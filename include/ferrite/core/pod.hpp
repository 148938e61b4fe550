// SPDX-License-Identifier: Apache-2.0
// Plain-old-data casting, bytemuck-style: the concepts pod<T> (every byte is value, every bit
// pattern is a valid T) and zeroable<T> (all-zero bytes are a valid T), zeroed<T>(), viewing
// an object as bytes (as_bytes, as_writable_bytes), checked casts from bytes to an object or a
// span of objects (try_cast, try_cast_span) that report the exact size or alignment problem
// as a ferrite::error, and unaligned loads and stores (read_unaligned, write_unaligned).
//
// Honest warning: pod<T> cannot look inside a class. A struct holding a bool, a pointer or an
// unscoped enum passes the check (it is trivially copyable, standard layout and has no
// padding) although not every bit pattern is a valid value of such a member. Keep such
// members out of the structs you cast, or validate them after the cast.
#pragma once

#include <array>
#include <bit>
#include <climits>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/error.hpp"

namespace ferrite {

/// Opt-in for class types pod<T> cannot verify, typically a struct with float or double
/// members (std::has_unique_object_representations is false for those). Specialize it as
///   template <> inline constexpr bool ferrite::pod_opt_in<vec3> = true;
/// By doing so you promise that T has no padding and that every bit pattern of its
/// sizeof(T) bytes is a valid T. T must still be trivially copyable and standard layout.
template <class T>
inline constexpr bool pod_opt_in = false;

namespace detail {
// IEEE-754 binary formats have no invalid bit pattern (NaNs included). The storage must be
// exactly sign + exponent + fraction bits: this rejects x87's 80-bit long double, which
// lives in 12 or 16 bytes (padding) and has invalid encodings.
template <class T>
consteval bool is_dense_iec559() {
  using lim = std::numeric_limits<T>;
  const int exponent_bits = std::bit_width(static_cast<unsigned>(lim::max_exponent));
  return lim::is_iec559 && lim::digits + exponent_bits == static_cast<int>(sizeof(T) * CHAR_BIT);
}

template <class T>
consteval bool is_pod() {
  // cv-qualified: not castable to/from bytes as such. bool: only 0 and 1 are values.
  // Pointers of every kind: not every bit pattern is an address the program may use.
  if constexpr (std::is_const_v<T> || std::is_volatile_v<T> || std::is_same_v<T, bool> ||
                std::is_pointer_v<T> || std::is_member_pointer_v<T> || std::is_null_pointer_v<T>) {
    return false;
  } else if constexpr (std::is_array_v<T>) {
    return std::extent_v<T> > 0 && is_pod<std::remove_extent_t<T>>();
  } else if constexpr (std::is_floating_point_v<T>) {
    return is_dense_iec559<T>();
  } else if constexpr (std::is_enum_v<T>) {
    // A scoped enum has a fixed underlying type, so every value of it is a valid enum
    // value; an unscoped enum without one may have a narrower range (opt in if fixed).
    return std::is_scoped_enum_v<T> || pod_opt_in<T>;
  } else {
    return std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> &&
           (std::has_unique_object_representations_v<T> || pod_opt_in<T>);
  }
}
}  // namespace detail

/// A cv-unqualified type whose sizeof(T) bytes are all value (no padding) and for which
/// every bit pattern is a valid value: integers (not bool), dense IEEE floating-point types,
/// scoped enums, bounded arrays of pods, and trivially copyable standard-layout classes with
/// unique object representations, plus the types opted in through pod_opt_in. Pointers,
/// member pointers and bool are excluded. See the warning at the top of this header.
template <class T>
concept pod = detail::is_pod<T>();

/// A cv-unqualified type for which all-zero bytes are a valid value: trivially copyable and
/// trivially default constructible, and not a member pointer (a null data member pointer is
/// -1 in the Itanium ABI, so zero bytes are not null). Pointers are accepted: all-zero bytes
/// are the null pointer on every platform ferrite supports.
template <class T>
concept zeroable =
    !std::is_const_v<T> && !std::is_volatile_v<T> && std::is_trivially_copyable_v<T> &&
    std::is_trivially_default_constructible_v<T> &&
    !std::is_member_pointer_v<std::remove_all_extents_t<T>>;

/// A T whose value bytes are all zero: every member is 0, 0.0, false or null. Padding bytes
/// are not promised: the language lets a copy (this return) leave them unspecified, and
/// optimizers do. For a T without padding (pod<T>) every byte is zero.
/// Complexity: O(sizeof(T)).
template <zeroable T>
  requires(!std::is_array_v<T>)
[[nodiscard]] T zeroed() noexcept {
  T value;  // trivial default initialization: no code, no value yet
  // SAFETY: T is trivially copyable, so its object representation may be written directly;
  // zeroable<T> guarantees all-zero bytes form a valid T.
  std::memset(static_cast<void*>(std::addressof(value)), 0, sizeof(T));
  return value;
}

/// The object representation of `value`, read-only. Complexity: O(1).
template <pod T>
[[nodiscard]] std::span<const std::byte, sizeof(T)> as_bytes(const T& value) noexcept {
  // SAFETY: any object may be read through std::byte glvalues; its sizeof(T) bytes from its
  // address are its object representation, and pod<T> (no padding) makes each determinate.
  const auto* first = reinterpret_cast<const std::byte*>(std::addressof(value));
  return std::span<const std::byte, sizeof(T)>(first, sizeof(T));
}

/// The object representation of `value`, writable. Any bytes written leave a valid T
/// (pod<T>: every bit pattern is a value). Complexity: O(1).
template <pod T>
[[nodiscard]] std::span<std::byte, sizeof(T)> as_writable_bytes(T& value) noexcept {
  // SAFETY: as in as_bytes; writing through std::byte glvalues is equally allowed, and any
  // byte values written form a valid T because pod<T> admits every bit pattern.
  auto* first = reinterpret_cast<std::byte*>(std::addressof(value));
  return std::span<std::byte, sizeof(T)>(first, sizeof(T));
}

namespace detail {
// The numeric address of `p`, for alignment checks and error details.
inline std::uintptr_t address_of(const void* p) noexcept {
  // SAFETY: only the integer value of the address is used; nothing is accessed through it.
  return reinterpret_cast<std::uintptr_t>(p);
}

// errc::ok when `length` bytes at `data` hold exactly one object of `size` and `align`.
// Size is checked first, then alignment.
inline error check_one(const char* what, std::size_t size, std::size_t align, const void* data,
                       std::size_t length) noexcept {
  if (length != size) {
    return error(errc::size_mismatch, what, size, length);
  }
  if (const std::uintptr_t address = address_of(data); (address & (align - 1)) != 0) {
    return error(errc::misaligned, what, align, address);
  }
  return error();
}

// errc::ok when `length` bytes at `data` hold a whole number of such objects (the empty
// range always does). Length is checked first, then alignment.
inline error check_many(const char* what, std::size_t size, std::size_t align, const void* data,
                        std::size_t length) noexcept {
  if (length % size != 0) {
    return error(errc::length_not_multiple, what, size, length);
  }
  if (const std::uintptr_t address = address_of(data);
      length != 0 && (address & (align - 1)) != 0) {
    return error(errc::misaligned, what, align, address);
  }
  return error();
}

// The bytes of a span of another byte-like type, as std::byte (which may alias any object),
// so the casts below have one body each.
template <class B, std::size_t E>
std::span<const std::byte> bytes_of(std::span<const B, E> bytes) noexcept {
  return std::as_bytes(bytes);
}
template <class B, std::size_t E>
std::span<std::byte> bytes_of(std::span<B, E> bytes) noexcept {
  return std::as_writable_bytes(bytes);
}

// A pointer to the T (or to the first of `count` T) that the bytes at `p` represent.
// SAFETY (for every caller): `p` is aligned for T and `count * sizeof(T)` bytes are in
// bounds, both checked by check_one/check_many. T is pod, hence trivially copyable, hence an
// implicit-lifetime type. With std::start_lifetime_as the T objects begin their lifetime here,
// keeping the bytes as their value. Without it we rely on implicit object creation: the
// storage came from an operation that implicitly creates objects (malloc, operator new, an
// array of std::byte or unsigned char, a mapping the OS provides), so a T array exists there
// as if created with it, and std::launder yields a pointer to it. Precondition left to the
// caller of try_cast: the bytes are not already typed as another object the program uses.
template <class T>
T* start_lifetime(void* p, [[maybe_unused]] std::size_t count) noexcept {
#if defined(__cpp_lib_start_lifetime_as)
  return std::start_lifetime_as_array<T>(p, count);
#else
  return std::launder(static_cast<T*>(p));  // SAFETY: see above
#endif
}
template <class T>
const T* start_lifetime(const void* p, [[maybe_unused]] std::size_t count) noexcept {
#if defined(__cpp_lib_start_lifetime_as)
  return std::start_lifetime_as_array<T>(p, count);
#else
  return std::launder(static_cast<const T*>(p));  // SAFETY: see above
#endif
}
}  // namespace detail

/// A character type whose spans the casts below accept besides std::byte: buffers from
/// sockets, files and C APIs arrive as char, unsigned char (std::uint8_t) or char8_t.
/// (signed char is left out: it is not one of the types that may alias an object.)
template <class B>
concept byte_like = std::same_as<std::remove_const_t<B>, char> ||
                    std::same_as<std::remove_const_t<B>, unsigned char> ||
                    std::same_as<std::remove_const_t<B>, char8_t>;

/// Views `bytes` as one T, in place (zero copy). Fails, checking in this order, with
/// errc::size_mismatch (detail_a = sizeof(T), detail_b = bytes.size()) unless the length is
/// exactly sizeof(T), then errc::misaligned (detail_a = alignof(T), detail_b = the address)
/// unless bytes.data() is aligned for T.
/// Preconditions: the bytes are not the storage of another live object the program will
/// keep using as that type (they are a byte buffer: a read, an mmap, a std::byte array).
/// Complexity: O(1).
template <pod T>
[[nodiscard]] std::expected<const T*, error> try_cast(std::span<const std::byte> bytes) noexcept {
  const error e = detail::check_one("try_cast", sizeof(T), alignof(T), bytes.data(), bytes.size());
  if (e.code() != errc::ok) {
    return std::unexpected(e);
  }
  // SAFETY: size and alignment checked just above; see detail::start_lifetime.
  return detail::start_lifetime<T>(static_cast<const void*>(bytes.data()), 1);
}

/// Mutable overload of try_cast: the same checks, a pointer through which the bytes can be
/// changed as a T.
template <pod T>
[[nodiscard]] std::expected<T*, error> try_cast(std::span<std::byte> bytes) noexcept {
  const error e = detail::check_one("try_cast", sizeof(T), alignof(T), bytes.data(), bytes.size());
  if (e.code() != errc::ok) {
    return std::unexpected(e);
  }
  // SAFETY: size and alignment checked just above; see detail::start_lifetime.
  return detail::start_lifetime<T>(static_cast<void*>(bytes.data()), 1);
}

/// Views `bytes` as bytes.size() / sizeof(T) consecutive T, in place. Fails, checking in
/// this order, with errc::length_not_multiple (detail_a = sizeof(T), detail_b =
/// bytes.size()) unless the length is a multiple of sizeof(T), then errc::misaligned
/// (detail_a = alignof(T), detail_b = the address) unless bytes.data() is aligned for T.
/// An empty `bytes` succeeds with an empty span, whatever its address.
/// Preconditions: as for try_cast. Complexity: O(1).
template <pod T>
[[nodiscard]] std::expected<std::span<const T>, error> try_cast_span(
    std::span<const std::byte> bytes) noexcept {
  const error e =
      detail::check_many("try_cast_span", sizeof(T), alignof(T), bytes.data(), bytes.size());
  if (e.code() != errc::ok) {
    return std::unexpected(e);
  }
  if (bytes.empty()) {
    return std::span<const T>();
  }
  const std::size_t count = bytes.size() / sizeof(T);
  // SAFETY: length and alignment checked just above; see detail::start_lifetime.
  return std::span<const T>(
      detail::start_lifetime<T>(static_cast<const void*>(bytes.data()), count), count);
}

/// Mutable overload of try_cast_span.
template <pod T>
[[nodiscard]] std::expected<std::span<T>, error> try_cast_span(
    std::span<std::byte> bytes) noexcept {
  const error e =
      detail::check_many("try_cast_span", sizeof(T), alignof(T), bytes.data(), bytes.size());
  if (e.code() != errc::ok) {
    return std::unexpected(e);
  }
  if (bytes.empty()) {
    return std::span<T>();
  }
  const std::size_t count = bytes.size() / sizeof(T);
  // SAFETY: length and alignment checked just above; see detail::start_lifetime.
  return std::span<T>(detail::start_lifetime<T>(static_cast<void*>(bytes.data()), count), count);
}

/// try_cast and try_cast_span over a span of char, unsigned char (std::uint8_t) or char8_t:
/// the same checks and results as for the std::byte span of the same memory; a span of const
/// bytes gives a pointer (span) to const T.
template <pod T, byte_like B, std::size_t E>
[[nodiscard]] auto try_cast(std::span<B, E> bytes) noexcept {
  return try_cast<T>(detail::bytes_of(bytes));
}
template <pod T, byte_like B, std::size_t E>
[[nodiscard]] auto try_cast_span(std::span<B, E> bytes) noexcept {
  return try_cast_span<T>(detail::bytes_of(bytes));
}

/// A copy of the T whose bytes start at `source`, which need not be aligned.
/// Preconditions: `source` points to at least sizeof(T) readable bytes (non-null is
/// FERRITE_DEBUG_ASSERTed). Complexity: O(sizeof(T)); one unaligned load for scalars.
template <pod T>
  requires(!std::is_array_v<T>)
[[nodiscard]] T read_unaligned(const void* source) noexcept {
  FERRITE_DEBUG_ASSERT(source != nullptr, "read_unaligned from null");
  std::array<std::byte, sizeof(T)> raw;
  // SAFETY: the caller guarantees sizeof(T) readable bytes at `source`; the destination is a
  // byte array of that size, and copying bytes into bytes is always valid.
  std::memcpy(raw.data(), source, sizeof(T));
  return std::bit_cast<T>(raw);  // pod<T>: any bytes are a valid T
}

/// A copy of the T held by the first sizeof(T) bytes of `bytes` (at any alignment).
/// Preconditions: bytes.size() >= sizeof(T) (FERRITE_ASSERT: checked in every build).
template <pod T>
  requires(!std::is_array_v<T>)
[[nodiscard]] T read_unaligned(std::span<const std::byte> bytes) noexcept {
  FERRITE_ASSERT(bytes.size() >= sizeof(T), "read_unaligned: fewer than sizeof(T) bytes");
  return read_unaligned<T>(static_cast<const void*>(bytes.data()));
}

/// Copies the bytes of `value` to `dest`, which need not be aligned.
/// Preconditions: `dest` points to at least sizeof(T) writable bytes (non-null is
/// FERRITE_DEBUG_ASSERTed). Complexity: O(sizeof(T)); one unaligned store for scalars.
template <pod T>
void write_unaligned(void* dest, const T& value) noexcept {
  FERRITE_DEBUG_ASSERT(dest != nullptr, "write_unaligned to null");
  // SAFETY: the caller guarantees sizeof(T) writable bytes at `dest`; T is trivially
  // copyable and has no padding, so no indeterminate byte is copied out.
  std::memcpy(dest, std::addressof(value), sizeof(T));
}

/// Copies the bytes of `value` to the first sizeof(T) bytes of `bytes`.
/// Preconditions: bytes.size() >= sizeof(T) (FERRITE_ASSERT: checked in every build).
template <pod T>
void write_unaligned(std::span<std::byte> bytes, const T& value) noexcept {
  FERRITE_ASSERT(bytes.size() >= sizeof(T), "write_unaligned: fewer than sizeof(T) bytes");
  write_unaligned(static_cast<void*>(bytes.data()), value);
}

}  // namespace ferrite
