// SPDX-License-Identifier: Apache-2.0
// The avx512 target's byte search, 64 bytes per compare into a 64-bit mask (AVX-512BW).
// Shape of every kernel: one unaligned vector at the start (masked when the input is
// shorter), then aligned vectors from the next 64-byte boundary (an unaligned 64-byte load
// always splits a cache line), then a masked load for the partial last vector. Masked loads
// read only the lanes their mask selects: no byte outside the input is read, and a masked
// lane never faults. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mbmi -mbmi2
// -mpopcnt; follows kernels.hpp's rule (no inline functions from standard headers).
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::avx512 {

namespace {

constexpr std::size_t not_found = ~std::size_t{0};
constexpr std::size_t width = 64;

/// The mask of lanes [0, n); all lanes for n >= 64 (bzhi keeps the source then).
__mmask64 first_lanes(std::size_t n) noexcept { return _bzhi_u64(~0ULL, n); }

/// Bytes [0, n) of p in lanes [0, n), zeros above. Preconditions: n <= 64.
__m512i load_partial(const unsigned char* p, std::size_t n) noexcept {
  // SAFETY: masked load: only lanes [0, n) are read, and p + n is inside the input.
  return _mm512_maskz_loadu_epi8(first_lanes(n), p);
}

__m512i load(const unsigned char* p) noexcept {
  // SAFETY: the caller passes 64 readable bytes at p.
  return _mm512_loadu_si512(p);
}

/// Aligned load. Preconditions: p is 64-byte aligned, 64 readable bytes.
__m512i load_aligned(const unsigned char* p) noexcept {
  // SAFETY: the callers' loops start at a 64-byte boundary and stop 64 bytes before the end.
  return _mm512_load_si512(p);
}

/// A 16-byte table.
__m128i load16(const std::uint8_t* table) noexcept {
  // SAFETY: byte_set_tables's rows are 16-byte arrays; loadu has no alignment requirement.
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(table));
}

__m512i splat(unsigned char b) noexcept { return _mm512_set1_epi8(static_cast<char>(b)); }

std::size_t lowest(std::uint64_t mask) noexcept { return _tzcnt_u64(mask); }

std::size_t popcount(std::uint64_t mask) noexcept {
  return static_cast<std::size_t>(_mm_popcnt_u64(mask));
}

/// -1 in the bytes of v equal to the needle's, 0 elsewhere.
__m512i equal_bytes(__m512i v, __m512i needle) noexcept {
  return _mm512_movm_epi8(_mm512_cmpeq_epi8_mask(v, needle));
}

/// The offset from p to the next 64-byte boundary strictly after p: 1..64.
std::size_t to_boundary(const unsigned char* p) noexcept {
  // SAFETY: the address is used only for its low bits.
  return width - (reinterpret_cast<std::uintptr_t>(p) & (width - 1));
}

/// The offset from p to the next 64-byte boundary at or after p: 0..63.
std::size_t to_boundary_or_zero(const unsigned char* p) noexcept {
  // SAFETY: the address is used only for its low bits.
  return (width - (reinterpret_cast<std::uintptr_t>(p) & (width - 1))) & (width - 1);
}

// ---- find_any_of's two ways of matching ----------------------------------------------------

/// Members compared one by one: for sets of two or three bytes.
struct small_set {
  __m512i a;
  __m512i b;
  __m512i c;  // a copy of a for a two-byte set

  explicit small_set(const byte_set_tables& s) noexcept
      : a(splat(s.first[0])),
        b(splat(s.first[1])),
        c(splat(s.size > 2 ? s.first[2] : s.first[0])) {}

  __mmask64 match(__m512i v) const noexcept {
    return _mm512_cmpeq_epi8_mask(v, a) | _mm512_cmpeq_epi8_mask(v, b) |
           _mm512_cmpeq_epi8_mask(v, c);
  }
};

/// Nibble lookup (byte_set_tables's layout): rows by the low nibble from the table of the
/// byte's half (pshufb returns 0 for an index with bit 7 set, which picks the half), the
/// bit by the high nibble.
struct nibble_set {
  __m512i low;
  __m512i high;
  __m512i bits;

  explicit nibble_set(const byte_set_tables& s) noexcept
      : low(_mm512_broadcast_i32x4(load16(s.rows_low))),
        high(_mm512_broadcast_i32x4(load16(s.rows_high))),
        bits(_mm512_broadcast_i32x4(
            _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128))) {}

  __mmask64 match(__m512i v) const noexcept {
    const __m512i row = _mm512_or_si512(
        _mm512_shuffle_epi8(low, v), _mm512_shuffle_epi8(high, _mm512_xor_si512(v, splat(0x80))));
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), splat(0x0f));
    return _mm512_test_epi8_mask(row, _mm512_shuffle_epi8(bits, hi));
  }
};

/// The first position where `set.match` holds, scanning as the file comment says.
template <class Set>
std::size_t find_matching(const unsigned char* p, std::size_t n, const Set& set) noexcept {
  if (n == 0) return not_found;
  if (n <= width) {
    const std::uint64_t m = set.match(load_partial(p, n)) & first_lanes(n);
    return m != 0 ? lowest(m) : not_found;
  }
  if (const std::uint64_t m = set.match(load(p)); m != 0) return lowest(m);
  std::size_t i = to_boundary(p);  // [0, i) is searched; i <= 64 < n
  for (; i + width <= n; i += width) {
    if (const std::uint64_t m = set.match(load_aligned(p + i)); m != 0) return i + lowest(m);
  }
  if (i < n) {
    const std::uint64_t m = set.match(load_partial(p + i, n - i)) & first_lanes(n - i);
    if (m != 0) return i + lowest(m);
  }
  return not_found;
}

/// find_crlf's state across vectors. Per vector, cr and lf are the masks of '\r' and '\n';
/// a match at k - 1 is bit k of (cr << 1 | carry) & lf, where carry says that the byte
/// before the vector is a '\r'.
struct crlf_scanner {
  __m512i cr_byte = splat('\r');
  __m512i lf_byte = splat('\n');
  std::uint64_t cr = 0;
  std::uint64_t carry = 0;

  /// The offset of the first match in the vector `v` loaded from offset `at`, or not_found.
  std::size_t step(__m512i v, std::size_t at) noexcept {
    cr = _mm512_cmpeq_epi8_mask(v, cr_byte);
    const std::uint64_t lf = _mm512_cmpeq_epi8_mask(v, lf_byte);
    const std::uint64_t m = ((cr << 1U) | carry) & lf;
    carry = cr >> 63U;
    return m != 0 ? at + lowest(m) - 1 : not_found;  // bit 0 only with carry, when at > 0
  }
};

}  // namespace

std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  if (n == 0) return not_found;
  const __m512i needle = splat(b);
  if (n <= width) {
    const std::uint64_t m = _mm512_mask_cmpeq_epi8_mask(first_lanes(n), load_partial(p, n), needle);
    return m != 0 ? lowest(m) : not_found;
  }
  if (const std::uint64_t m = _mm512_cmpeq_epi8_mask(load(p), needle); m != 0) return lowest(m);
  std::size_t i = to_boundary(p);
  // Four vectors per step: a byte equals the needle where its xor with it is zero, and the
  // minimum of the four xors is zero where any of them is.
  for (; i + 4 * width <= n; i += 4 * width) {
    const __m512i x0 = _mm512_xor_si512(load_aligned(p + i), needle);
    const __m512i x1 = _mm512_xor_si512(load_aligned(p + i + width), needle);
    const __m512i x2 = _mm512_xor_si512(load_aligned(p + i + 2 * width), needle);
    const __m512i x3 = _mm512_xor_si512(load_aligned(p + i + 3 * width), needle);
    const __m512i m = _mm512_min_epu8(_mm512_min_epu8(x0, x1), _mm512_min_epu8(x2, x3));
    if (_mm512_testn_epi8_mask(m, m) == 0) continue;
    if (const std::uint64_t k = _mm512_testn_epi8_mask(x0, x0); k != 0) return i + lowest(k);
    if (const std::uint64_t k = _mm512_testn_epi8_mask(x1, x1); k != 0) {
      return i + width + lowest(k);
    }
    if (const std::uint64_t k = _mm512_testn_epi8_mask(x2, x2); k != 0) {
      return i + 2 * width + lowest(k);
    }
    return i + 3 * width + lowest(_mm512_testn_epi8_mask(x3, x3));
  }
  for (; i + width <= n; i += width) {
    const std::uint64_t m = _mm512_cmpeq_epi8_mask(load_aligned(p + i), needle);
    if (m != 0) return i + lowest(m);
  }
  if (i < n) {
    const std::uint64_t m =
        _mm512_mask_cmpeq_epi8_mask(first_lanes(n - i), load_partial(p + i, n - i), needle);
    if (m != 0) return i + lowest(m);
  }
  return not_found;
}

std::size_t find_any_of(const unsigned char* p, std::size_t n, const byte_set_tables& s) noexcept {
  if (s.size == 0) return not_found;
  if (s.size == 1) return find_byte(p, n, s.first[0]);
  if (s.size <= 3) return find_matching(p, n, small_set(s));
  return find_matching(p, n, nibble_set(s));
}

std::size_t find_crlf(const unsigned char* p, std::size_t n) noexcept {
  if (n == 0) return not_found;
  crlf_scanner scan;
  if (n <= width) return scan.step(load_partial(p, n), 0);  // lanes past n are zero
  // The first 32 bytes with AVX2's compare and vpmovmskb: a shorter dependency chain than a
  // 64-byte load (which splits a cache line unless aligned) and opmask moves. Protocol lines
  // are mostly short, and a parser's next search waits for this one's result.
  {
    // SAFETY: n > 64, so the 32 bytes at p are in the input.
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const auto cr = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\r'))));
    const auto lf = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\n'))));
    if (const std::uint32_t m = (cr << 1U) & lf; m != 0) return lowest(m) - 1;
    scan.carry = cr >> 31U;
  }
  std::size_t i = 32;  // matches starting below 31 are ruled out
  if (n - i <= width) return scan.step(load_partial(p + i, n - i), i);
  if (const std::size_t r = scan.step(load(p + i), i); r != not_found) return r;
  const std::size_t next = i + to_boundary(p + i);  // in (i, i + 64]
  scan.carry = (scan.cr >> (next - i - 1)) & 1U;    // is p[next - 1] a '\r'?
  i = next;
  // Four aligned vectors per step, screened for any '\r' first (the minimum of the bytes'
  // xors with '\r' is zero where one is); the masks are computed only where there is one.
  const __m512i cr_byte = splat('\r');
  for (; i + 4 * width <= n; i += 4 * width) {
    const __m512i v0 = load_aligned(p + i);
    const __m512i v1 = load_aligned(p + i + width);
    const __m512i v2 = load_aligned(p + i + 2 * width);
    const __m512i v3 = load_aligned(p + i + 3 * width);
    const __m512i x = _mm512_min_epu8(
        _mm512_min_epu8(_mm512_xor_si512(v0, cr_byte), _mm512_xor_si512(v1, cr_byte)),
        _mm512_min_epu8(_mm512_xor_si512(v2, cr_byte), _mm512_xor_si512(v3, cr_byte)));
    if (_mm512_testn_epi8_mask(x, x) == 0) {  // no '\r': only a carried one can match
      if (scan.carry != 0 && p[i] == '\n') return i - 1;
      scan.carry = 0;
      continue;
    }
    if (const std::size_t r = scan.step(v0, i); r != not_found) return r;
    if (const std::size_t r = scan.step(v1, i + width); r != not_found) return r;
    if (const std::size_t r = scan.step(v2, i + 2 * width); r != not_found) return r;
    if (const std::size_t r = scan.step(v3, i + 3 * width); r != not_found) return r;
  }
  for (; i + width <= n; i += width) {
    if (const std::size_t r = scan.step(load_aligned(p + i), i); r != not_found) return r;
  }
  if (i < n) return scan.step(load_partial(p + i, n - i), i);
  return not_found;
}

std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept {
  // Every match of a vector from its mask, lowest first (bit-scan, clear the lowest bit);
  // the scanner's carry joins a '\r' ending one vector to a '\n' starting the next.
  crlf_scanner scan;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n && count < capacity; i += width) {
    const __m512i v = n - i >= width ? load(p + i) : load_partial(p + i, n - i);
    const std::uint64_t carried = scan.carry;
    scan.cr = _mm512_cmpeq_epi8_mask(v, scan.cr_byte);
    std::uint64_t m = ((scan.cr << 1U) | carried) & _mm512_cmpeq_epi8_mask(v, scan.lf_byte);
    scan.carry = scan.cr >> 63U;
    for (; m != 0 && count < capacity; m = _blsr_u64(m)) out[count++] = i + lowest(m) - 1;
  }
  return count;
}

std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  if (n == 0) return 0;
  const __m512i needle = splat(b);
  const std::size_t to_aligned = to_boundary_or_zero(p);
  const std::size_t head = to_aligned < n ? to_aligned : n;
  std::size_t count =
      popcount(_mm512_mask_cmpeq_epi8_mask(first_lanes(head), load_partial(p, head), needle));
  std::size_t i = head;
  // Per-byte counters, one vector of them per vector of a step (a compare's 0/-1 bytes are
  // subtracted), summed with psadbw before any can pass 255.
  while (n - i >= 4 * width) {
    __m512i c0 = _mm512_setzero_si512();
    __m512i c1 = _mm512_setzero_si512();
    __m512i c2 = _mm512_setzero_si512();
    __m512i c3 = _mm512_setzero_si512();
    const std::size_t steps_left = (n - i) / (4 * width);
    const std::size_t steps = steps_left < 255 ? steps_left : 255;
    for (std::size_t s = 0; s < steps; ++s, i += 4 * width) {
      c0 = _mm512_sub_epi8(c0, equal_bytes(load_aligned(p + i), needle));
      c1 = _mm512_sub_epi8(c1, equal_bytes(load_aligned(p + i + width), needle));
      c2 = _mm512_sub_epi8(c2, equal_bytes(load_aligned(p + i + 2 * width), needle));
      c3 = _mm512_sub_epi8(c3, equal_bytes(load_aligned(p + i + 3 * width), needle));
    }
    const __m512i zero = _mm512_setzero_si512();
    const __m512i sums =
        _mm512_add_epi64(_mm512_add_epi64(_mm512_sad_epu8(c0, zero), _mm512_sad_epu8(c1, zero)),
                         _mm512_add_epi64(_mm512_sad_epu8(c2, zero), _mm512_sad_epu8(c3, zero)));
    count += static_cast<std::size_t>(_mm512_reduce_add_epi64(sums));
  }
  for (; i + width <= n; i += width) {
    count += popcount(_mm512_cmpeq_epi8_mask(load_aligned(p + i), needle));
  }
  if (i < n) {
    count += popcount(
        _mm512_mask_cmpeq_epi8_mask(first_lanes(n - i), load_partial(p + i, n - i), needle));
  }
  return count;
}

}  // namespace ferrite::simd::detail::avx512
