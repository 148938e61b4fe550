// SPDX-License-Identifier: Apache-2.0
// Memory copy with the vector registers of the selected target: memcpy's contract, with
// non-temporal (cache-bypassing) stores for copies of at least non_temporal_threshold()
// bytes, where the destination would be evicted before anyone reads it and writing around
// the caches saves the read-for-ownership of every destination line.
#pragma once

#include <cstddef>

namespace ferrite::simd {

/// Copies `n` bytes from `src` to `dst`, like std::memcpy. Copies of at least
/// non_temporal_threshold() bytes use non-temporal stores (followed by a store fence, so
/// the copy is ordered before later stores like an ordinary one): the destination is then
/// not in the caches afterwards.
///
/// Preconditions: [src, src + n) is readable and [dst, dst + n) writable; they do not
/// overlap (use std::memmove otherwise). Either pointer may be null when n == 0. O(n).
void copy(void* dst, const void* src, std::size_t n) noexcept;

/// The size from which copy() uses non-temporal stores: 16 times the L2 (per-core) cache
/// size the OS reports, at least 1 MiB; 32 MiB when the OS reports none. Computed once. The scalar
/// target's copy is memcpy and ignores it. docs/simd.md has the measurements behind the choice.
[[nodiscard]] std::size_t non_temporal_threshold() noexcept;

}  // namespace ferrite::simd
