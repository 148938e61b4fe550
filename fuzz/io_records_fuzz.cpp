// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for io::records<T>: the input, at offsets 0..7 and trimmed to several
// lengths, viewed as records of a few pod types. Success exactly when the length is a
// multiple of sizeof(T) (any alignment); every element, through operator[], the iterator and
// as_span (offered exactly when aligned), equals a memcpy of its bytes; iterator arithmetic
// agrees with indexing. Invariants are FERRITE_ASSERTs (abort = finding).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "ferrite/core/contract.hpp"
#include "ferrite/io/endian.hpp"
#include "ferrite/io/records.hpp"

namespace fuzz {

struct trade {
  std::uint64_t id;
  std::uint32_t price;
  std::uint16_t qty;
  std::uint16_t side;
};
struct wire_quote {
  ferrite::io::be<std::uint32_t> px;
  ferrite::io::le<std::uint16_t> sz;
  std::uint8_t flags;
};

template <class T>
bool same(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T>
void check(std::span<const std::byte> bytes) {
  const auto r = ferrite::io::records<T>::from(bytes);
  if (bytes.size() % sizeof(T) != 0) {
    FERRITE_ASSERT(!r && r.error().code() == ferrite::errc::length_not_multiple);
    return;
  }
  FERRITE_ASSERT(r.has_value() && r->size() == bytes.size() / sizeof(T));
  const bool aligned = bytes.empty() || ferrite::detail::address_of(bytes.data()) % alignof(T) == 0;
  FERRITE_ASSERT(r->aligned() == aligned && r->as_span().has_value() == aligned);
  auto it = r->begin();
  for (std::size_t i = 0; i < r->size(); ++i, ++it) {
    T ref;
    std::memcpy(&ref, bytes.data() + i * sizeof(T), sizeof(T));
    FERRITE_ASSERT(same((*r)[i], ref) && same(*it, ref));
    FERRITE_ASSERT(same(r->begin()[static_cast<std::ptrdiff_t>(i)], ref));
    if (aligned) FERRITE_ASSERT(same((*r->as_span())[i], ref));
  }
  FERRITE_ASSERT(it == r->end() && r->end() - r->begin() == static_cast<std::ptrdiff_t>(r->size()));
  FERRITE_ASSERT(!r->at(r->size()).has_value());
}

template <class T>
void check_type(std::span<const std::byte> input) {
  for (std::size_t offset = 0; offset < 8 && offset <= input.size(); ++offset) {
    const auto rest = input.subspan(offset);
    check<T>(rest);
    check<T>(rest.first(rest.size() / sizeof(T) * sizeof(T)));
  }
}

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::byte> copy(reinterpret_cast<const std::byte*>(data),
                                    reinterpret_cast<const std::byte*>(data) + size);
  fuzz::check_type<std::uint32_t>(copy);
  fuzz::check_type<double>(copy);
  fuzz::check_type<fuzz::trade>(copy);
  fuzz::check_type<fuzz::wire_quote>(copy);
  return 0;
}
