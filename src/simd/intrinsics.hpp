// SPDX-License-Identifier: Apache-2.0
// <immintrin.h> for the per-ISA units, with one GCC warning silenced inside it: GCC 12's
// AVX-512 headers build their "undefined" vectors by self-initialization
// (_mm512_undefined_epi32's `__m512i __Y = __Y;`), which -Wuninitialized then reports at
// every intrinsic built on one (extracts, reductions, masked moves), as if in our code.
// The pragma covers only the header's own lines.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
