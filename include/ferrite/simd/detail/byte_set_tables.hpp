// SPDX-License-Identifier: Apache-2.0
// The lookup tables of a simd::byte_set, in the plain-data form the find_any_of kernels read.
// Kept apart from find.hpp so that the per-ISA translation units, which include no standard
// header with inline functions (see src/simd/kernels.hpp for why), can include it.
#pragma once

#include <cstdint>

namespace ferrite::simd::detail {

/// Set membership split by nibble, for a vector byte-shuffle lookup (pshufb): byte `c` is in
/// the set exactly when bit `(c >> 4) & 7` of `(c < 128 ? rows_low : rows_high)[c & 15]` is
/// set. Both tables index by the low nibble, so one shuffle of each gives a row per byte and
/// the byte's high bit picks the table. The first few members are kept for the small-set
/// kernels, which compare against each member instead.
struct byte_set_tables {
  std::uint8_t rows_low[16];   ///< members 0x00..0x7f: bit h of [l] is byte (h << 4) | l
  std::uint8_t rows_high[16];  ///< members 0x80..0xff: bit h of [l] is byte ((h + 8) << 4) | l
  std::uint8_t first[3];       ///< the first min(size, 3) distinct members, in insertion order
  std::uint16_t size;          ///< the number of distinct members, 0..256
};

}  // namespace ferrite::simd::detail
