// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for pod.hpp's checked casts and flags.hpp's raw-bit conversions. The input
// is cast, at offsets 0..7 and at several lengths, to a few pod types with try_cast and
// try_cast_span (const and mutable), and every result is checked against the rule it must
// follow: success exactly when the size (or length multiple) and alignment conditions hold,
// otherwise the precise error code and details, size checked before alignment. The same
// bytes, read as raw flag bits, go through flags::from_bits / from_bits_truncate, whose
// results must respect the declared bits. Invariants are FERRITE_ASSERTs (abort = finding).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/flags.hpp"
#include "ferrite/core/pod.hpp"

namespace fuzz {

enum class perm : std::uint8_t { read = 1, write = 2, exec = 4, read_write = 3, sticky = 0x40 };
consteval auto ferrite_flags(perm) {
  return std::array{ferrite::flag_def{perm::read, "READ"}, ferrite::flag_def{perm::write, "WRITE"},
                    ferrite::flag_def{perm::exec, "EXEC"},
                    ferrite::flag_def{perm::read_write, "READ_WRITE"},
                    ferrite::flag_def{perm::sticky, "STICKY"}};
}

// Sparse 64-bit flags with a two-bit primary flag (`mode`) and a composite.
enum class wide : std::uint64_t {
  low = 1,
  mode = 0x30,
  high = std::uint64_t{1} << 63,
  mid = std::uint64_t{1} << 31,
  low_mode = 0x31,
};
consteval auto ferrite_flags(wide) {
  return std::array{ferrite::flag_def{wide::low, "LOW"}, ferrite::flag_def{wide::mode, "MODE"},
                    ferrite::flag_def{wide::high, "HIGH"}, ferrite::flag_def{wide::mid, "MID"},
                    ferrite::flag_def{wide::low_mode, "LOW_MODE"}};
}

struct record {
  std::uint32_t id;
  std::uint16_t kind;
  std::uint16_t length;
};
static_assert(ferrite::pod<record>);

struct vec3 {  // floats: pod only through the opt-in below
  float x, y, z;
};
}  // namespace fuzz

template <>
inline constexpr bool ferrite::pod_opt_in<fuzz::vec3> = true;

namespace fuzz {
static_assert(ferrite::pod<vec3>);

std::uintptr_t address(const void* p) {
  // SAFETY: only the numeric address is used, to predict the alignment check.
  return reinterpret_cast<std::uintptr_t>(p);
}

// Bit-exact equality (NaN-safe for floats): pod types have no padding, so bytes are value.
template <class T>
bool same_bytes(const T& a, const T& b) {
  return std::ranges::equal(ferrite::as_bytes(a), ferrite::as_bytes(b));
}

// try_cast<T> on `bytes` (const, and mutable on `writable`, a copy at the same alignment).
template <class T>
void check_one(std::span<const std::byte> bytes, std::span<std::byte> writable) {
  const auto r = ferrite::try_cast<T>(bytes);
  const bool aligned = address(bytes.data()) % alignof(T) == 0;
  if (bytes.size() != sizeof(T)) {
    FERRITE_ASSERT(!r && r.error().code() == ferrite::errc::size_mismatch);
    FERRITE_ASSERT(r.error().detail_a() == sizeof(T) && r.error().detail_b() == bytes.size());
  } else if (!aligned) {
    FERRITE_ASSERT(!r && r.error().code() == ferrite::errc::misaligned);
    FERRITE_ASSERT(r.error().detail_a() == alignof(T));
    FERRITE_ASSERT(r.error().detail_b() == address(bytes.data()));
  } else {
    FERRITE_ASSERT(r.has_value() && static_cast<const void*>(*r) == bytes.data());
    const T copy = ferrite::read_unaligned<T>(bytes);
    FERRITE_ASSERT(same_bytes(**r, copy));
  }
  const auto m = ferrite::try_cast<T>(writable);
  const bool writable_aligned = address(writable.data()) % alignof(T) == 0;
  FERRITE_ASSERT(m.has_value() == (writable.size() == sizeof(T) && writable_aligned));
  if (m) {
    const T before = **m;
    **m = ferrite::read_unaligned<T>(bytes.first(sizeof(T)));  // write through the cast
    FERRITE_ASSERT(std::memcmp(writable.data(), bytes.data(), sizeof(T)) == 0);
    **m = before;
  }
}

// try_cast_span<T> on `bytes`: length multiple first, then alignment; empty always succeeds.
template <class T>
void check_span(std::span<const std::byte> bytes, std::span<std::byte> writable) {
  const auto r = ferrite::try_cast_span<T>(bytes);
  const bool aligned = address(bytes.data()) % alignof(T) == 0;
  if (bytes.size() % sizeof(T) != 0) {
    FERRITE_ASSERT(!r && r.error().code() == ferrite::errc::length_not_multiple);
    FERRITE_ASSERT(r.error().detail_a() == sizeof(T) && r.error().detail_b() == bytes.size());
  } else if (!bytes.empty() && !aligned) {
    FERRITE_ASSERT(!r && r.error().code() == ferrite::errc::misaligned);
    FERRITE_ASSERT(r.error().detail_a() == alignof(T));
    FERRITE_ASSERT(r.error().detail_b() == address(bytes.data()));
  } else {
    FERRITE_ASSERT(r.has_value() && r->size() == bytes.size() / sizeof(T));
    for (std::size_t i = 0; i < r->size(); ++i) {
      const T copy = ferrite::read_unaligned<T>(bytes.subspan(i * sizeof(T)));
      FERRITE_ASSERT(same_bytes((*r)[i], copy));
    }
  }
  const auto m = ferrite::try_cast_span<T>(writable);
  FERRITE_ASSERT(m.has_value() ==
                 (writable.size() % sizeof(T) == 0 &&
                  (writable.empty() || address(writable.data()) % alignof(T) == 0)));
}

template <class T>
void check_type(std::span<const std::byte> input, std::span<std::byte> copy) {
  for (std::size_t offset = 0; offset < 8 && offset <= input.size(); ++offset) {
    const auto rest = input.subspan(offset);
    const auto rest_w = copy.subspan(offset);
    if (rest.size() >= sizeof(T)) {
      check_one<T>(rest.first(sizeof(T)), rest_w.first(sizeof(T)));
    }
    check_one<T>(rest, rest_w);
    check_span<T>(rest, rest_w);
    check_span<T>(rest.first(rest.size() / sizeof(T) * sizeof(T)),
                  rest_w.first(rest.size() / sizeof(T) * sizeof(T)));
  }
}

template <class E>
void check_flags(typename ferrite::flags<E>::bits_type bits) {
  using set = ferrite::flags<E>;
  const auto all = set::all_flags().bits();
  const auto undeclared = static_cast<decltype(bits)>(bits & static_cast<decltype(bits)>(~all));
  const auto r = set::from_bits(bits);
  FERRITE_ASSERT(r.has_value() == (undeclared == 0));
  if (r) {
    FERRITE_ASSERT(r->bits() == bits);
  } else {
    FERRITE_ASSERT(r.error().code() == ferrite::errc::invalid_bits);
    FERRITE_ASSERT(r.error().detail_a() == undeclared);
  }
  const set t = set::from_bits_truncate(bits);
  FERRITE_ASSERT(t.bits() == static_cast<decltype(bits)>(bits & all));
  FERRITE_ASSERT(set::all_flags().contains(t));
  FERRITE_ASSERT((t | ~t) == set::all_flags() && (t & ~t).none() && ~~t == t);
  // Iteration yields exactly the primary flags the set contains, each once, in order.
  set seen;
  std::size_t count = 0;
  for (const E flag : t) {
    FERRITE_ASSERT(t.contains(flag) && !seen.intersects(flag));
    seen |= flag;
    ++count;
  }
  FERRITE_ASSERT(t.contains(seen));
  const std::string text = t.to_string();
  std::size_t bars = 0;
  for (const char c : text) {
    bars += c == '|' ? 1U : 0U;
  }
  FERRITE_ASSERT(count == 0 ? text.empty() : bars + 1 == count);
}

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input = std::as_bytes(std::span(data, size));
  // A heap copy: operator new's storage implicitly creates the objects the casts name.
  std::vector<std::byte> copy(input.begin(), input.end());

  fuzz::check_type<std::uint8_t>(input, copy);
  fuzz::check_type<std::uint16_t>(input, copy);
  fuzz::check_type<std::uint32_t>(input, copy);
  fuzz::check_type<std::uint64_t>(input, copy);
  fuzz::check_type<double>(input, copy);
  fuzz::check_type<fuzz::record>(input, copy);
  fuzz::check_type<fuzz::vec3>(input, copy);

  for (const std::byte b : input) {
    fuzz::check_flags<fuzz::perm>(std::to_integer<std::uint8_t>(b));
  }
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    fuzz::check_flags<fuzz::wide>(ferrite::read_unaligned<std::uint64_t>(input.subspan(i)));
  }
  return 0;
}
