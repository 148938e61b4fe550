// SPDX-License-Identifier: Apache-2.0
// ferrite simd: kernels written once per instruction set, chosen at run time.
//
// What is here
//   target.hpp   the targets (scalar, avx2, avx512), which one this process runs
//                (active_target(), FERRITE_SIMD=scalar|avx2|avx512 to force one)
//   find.hpp     find_byte, find_any_of (with a byte_set), find_crlf, find_all_crlf,
//                count_byte: byte search for protocol parsers, returning offsets (npos when
//                absent)
//   crc32c.hpp   crc32c, crc32c_extend, crc32c_combine: CRC-32C (Castagnoli), bit-exact
//   numeric.hpp  dot, sum, axpy on float and double, with several accumulators
//   copy.hpp     copy: memcpy with non-temporal stores above a cache-derived threshold
//
// How it dispatches: each kernel exists as a scalar version (portable C++, any
// architecture), an AVX2 one and an AVX-512 one, each compiled for its instruction set in its
// own translation unit. On the first call of any kernel the best target the CPU supports (or
// the one FERRITE_SIMD names, if the CPU supports it) is chosen for the whole process; every
// call after that is a load and an indirect call. No kernel reads outside its input.
//
// A taste: splitting a RESP request into lines and checking a log record.
// ```cpp
// #include <ferrite/simd.hpp>
// namespace simd = ferrite::simd;
//
// std::string_view rest = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
// for (std::size_t at = simd::find_crlf(rest); at != simd::npos; at = simd::find_crlf(rest)) {
//   handle_line(rest.substr(0, at));
//   rest.remove_prefix(at + 2);
// }
// std::array<std::size_t, 256> ends;  // or every line end of a read in one pass:
// const std::size_t lines = simd::find_all_crlf(buffer, ends);
// const std::uint32_t crc = simd::crc32c(record_bytes);           // == the stored CRC?
// const float score = simd::dot(std::span<const float>(q), std::span<const float>(v));
// ```
//
// When not to use it: for a handful of bytes a plain loop inlines and wins (a kernel is an
// out-of-line call); a parser that calls find_crlf per line waits for each search before the
// next (find_all_crlf does not); find_any_of answers membership, not a regex; the float
// reductions are not bit-identical across targets (they meet numeric.hpp's error bound; use
// a plain loop where the summation order must be fixed); NEON kernels do not exist yet (ARM
// runs scalar).
#pragma once

#include "ferrite/simd/copy.hpp"
#include "ferrite/simd/crc32c.hpp"
#include "ferrite/simd/find.hpp"
#include "ferrite/simd/numeric.hpp"
#include "ferrite/simd/target.hpp"
