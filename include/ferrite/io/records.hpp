// SPDX-License-Identifier: Apache-2.0
// records<T>: a typed, zero-copy, random-access range over a byte region holding consecutive
// pod T (a mapped file of fixed-size records, a received batch). It validates once that the
// region is a whole number of T; it never fails on alignment (bytemuck #82's panic): element
// i is read with read_unaligned, which is one plain load on x86-64 and AArch64 whether or
// not the address is aligned, so the aligned and the misaligned region share one type and
// one loop. Code that wants references gets them from as_span() when the region is aligned
// (and always for alignof(T) == 1, e.g. structs of io::be / io::le fields).
//
// The elements are read-only values: the iterator's reference type is T (a prvalue, like
// std::views::transform's), so std::ranges algorithms see a random-access range and the
// classic <algorithm> functions see an input range (std::find, std::accumulate, std::count_if;
// prefer std::ranges::lower_bound over std::lower_bound, which walks an input range).
// Warning: views::transform(&T::member) over records dangles (the member pointer yields a
// reference into the prvalue element); project with a lambda that returns by value.
#pragma once

#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <iterator>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/error.hpp"
#include "ferrite/core/pod.hpp"
#include "ferrite/io/error.hpp"
#include "ferrite/io/mapped_file.hpp"
#include "ferrite/io/metrics.hpp"

namespace ferrite::io {

namespace detail {
/// Debug builds: the file a view came from and its generation, checked on access so that a
/// view used after mapped_file::grow() fails an assertion instead of reading unmapped memory.
/// Release builds: empty.
struct generation_guard {
#if FERRITE_DEBUG
  const mapped_file* file = nullptr;
  std::uint64_t generation = 0;
  void check() const noexcept {
    FERRITE_DEBUG_ASSERT(file == nullptr || file->generation() == generation,
                         "view used after its mapped_file was grown (remapped)");
  }
#else
  void check() const noexcept {}
#endif
};
}  // namespace detail

/// A header check for records<T>::from(file, hook): given the whole file, it validates the
/// header (magic, version, counts) and returns the header's size, after which the records
/// start; or an error, which from() returns with the file's path.
template <class F>
concept header_check = std::invocable<F&, std::span<const std::byte>> &&
                       std::same_as<std::invoke_result_t<F&, std::span<const std::byte>>,
                                    std::expected<std::size_t, ferrite::error>>;

/// A read-only, random-access range of the pod T stored in a byte region. Trivially copyable
/// view (two words, plus the debug guard); it does not own the bytes, which must outlive it.
template <pod T>
  requires(!std::is_array_v<T>)
class records {
 public:
  /// Random-access iterator yielding T by value (read_unaligned).
  class iterator {
   public:
    using iterator_concept = std::random_access_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // reference is not T&: see the header
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T;

    iterator() = default;
    [[nodiscard]] T operator*() const noexcept { return read_unaligned<T>(p_); }
    [[nodiscard]] T operator[](difference_type n) const noexcept { return *(*this + n); }
    iterator& operator++() noexcept { return *this += 1; }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    iterator& operator--() noexcept { return *this -= 1; }
    iterator operator--(int) noexcept {
      iterator old = *this;
      --*this;
      return old;
    }
    iterator& operator+=(difference_type n) noexcept {
      // SAFETY: iterator arithmetic stays within [begin, end] of one records view (the caller's
      // precondition, as for any random-access iterator); sizeof(T) steps within its bytes.
      p_ += n * static_cast<difference_type>(sizeof(T));
      return *this;
    }
    iterator& operator-=(difference_type n) noexcept { return *this += -n; }
    [[nodiscard]] friend iterator operator+(iterator i, difference_type n) noexcept {
      return i += n;
    }
    [[nodiscard]] friend iterator operator+(difference_type n, iterator i) noexcept {
      return i += n;
    }
    [[nodiscard]] friend iterator operator-(iterator i, difference_type n) noexcept {
      return i -= n;
    }
    [[nodiscard]] friend difference_type operator-(iterator a, iterator b) noexcept {
      return (a.p_ - b.p_) / static_cast<difference_type>(sizeof(T));
    }
    friend bool operator==(iterator a, iterator b) noexcept = default;
    friend auto operator<=>(iterator a, iterator b) noexcept = default;

   private:
    friend class records;
    explicit iterator(const std::byte* p) noexcept : p_(p) {}
    const std::byte* p_ = nullptr;
  };

  records() = default;  ///< an empty range

  /// Views `bytes` as bytes.size() / sizeof(T) records. Fails with errc::length_not_multiple
  /// (a: sizeof(T), b: bytes.size()) when the size is not a multiple of sizeof(T). Any
  /// alignment is accepted. O(1).
  [[nodiscard]] static std::expected<records, ferrite::error> from(
      std::span<const std::byte> bytes) noexcept {
    if (bytes.size() % sizeof(T) != 0) {
      return std::unexpected(
          ferrite::error(errc::length_not_multiple, "records::from", sizeof(T), bytes.size()));
    }
    detail::bytes_viewed.add(bytes.size());
    return records(bytes.data(), bytes.size() / sizeof(T));
  }

  /// Views the records of a mapped file that has no header (the whole file). Errors carry
  /// the file's path. Debug builds check, on access, that the file was not grown since.
  [[nodiscard]] static std::expected<records, error> from(const mapped_file& file) {
    return from(file, [](std::span<const std::byte>) -> std::expected<std::size_t, ferrite::error> {
      return std::size_t{0};
    });
  }

  /// Views the records that follow a header: `check(file.bytes())` validates the header and
  /// returns its size (see header_check); the rest of the file must be a whole number of T.
  /// A header size past the end of the file is errc::out_of_range.
  template <header_check Check>
  [[nodiscard]] static std::expected<records, error> from(const mapped_file& file, Check check) {
    const std::span<const std::byte> all = file.bytes();
    const std::expected<std::size_t, ferrite::error> header = check(all);
    if (!header) return std::unexpected(error(header.error(), file.path()));
    if (*header > all.size()) {
      return std::unexpected(
          error(ferrite::error(errc::out_of_range, "records::from (header)", *header, all.size()),
                file.path()));
    }
    auto r = from(all.subspan(*header));
    if (!r) return std::unexpected(error(r.error(), file.path()));
#if FERRITE_DEBUG
    r->guard_ = detail::generation_guard{&file, file.generation()};
#endif
    return *r;
  }

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

  [[nodiscard]] iterator begin() const noexcept {
    guard_.check();
    return iterator(data_);
  }
  [[nodiscard]] iterator end() const noexcept {
    // SAFETY: one past the last record, inside (at the end of) the viewed bytes.
    return iterator(data_ + count_ * sizeof(T));
  }

  /// Record i. Preconditions: i < size() (FERRITE_DEBUG_ASSERT). O(1).
  [[nodiscard]] T operator[](std::size_t i) const noexcept {
    FERRITE_DEBUG_ASSERT(i < count_, "records: index out of range");
    guard_.check();
    // SAFETY: i < count_ (precondition), so the sizeof(T) bytes at i * sizeof(T) are viewed.
    return read_unaligned<T>(data_ + i * sizeof(T));
  }
  /// Record i, or std::nullopt when i >= size(). O(1).
  [[nodiscard]] std::optional<T> at(std::size_t i) const noexcept {
    if (i >= count_) return std::nullopt;
    return (*this)[i];
  }
  [[nodiscard]] T front() const noexcept { return (*this)[0]; }
  [[nodiscard]] T back() const noexcept { return (*this)[count_ - 1]; }

  /// True when the region is aligned for T (always for alignof(T) == 1 and for empty views).
  [[nodiscard]] bool aligned() const noexcept {
    return count_ == 0 || ferrite::detail::address_of(data_) % alignof(T) == 0;
  }

  /// The records as a span of references when the region is aligned for T; std::nullopt
  /// otherwise. O(1).
  [[nodiscard]] std::optional<std::span<const T>> as_span() const noexcept {
    guard_.check();
    auto s = try_cast_span<T>(bytes());
    if (!s) return std::nullopt;
    return *s;
  }

  /// The viewed bytes: size() * sizeof(T) of them.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return {data_, count_ * sizeof(T)};
  }

 private:
  records(const std::byte* data, std::size_t count) noexcept : data_(data), count_(count) {}

  const std::byte* data_ = nullptr;
  std::size_t count_ = 0;
  [[no_unique_address]] detail::generation_guard guard_;
};

}  // namespace ferrite::io

/// records<T> is a view: it refers to bytes it does not own, copies in O(1), and its
/// iterators stay valid when the records object is gone.
template <class T>
inline constexpr bool std::ranges::enable_borrowed_range<ferrite::io::records<T>> = true;
template <class T>
inline constexpr bool std::ranges::enable_view<ferrite::io::records<T>> = true;
