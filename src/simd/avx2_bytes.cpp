// SPDX-License-Identifier: Apache-2.0
// The avx2 target's byte search, 32 bytes per compare into a 32-bit mask (vpmovmskb).
// Shape of every kernel: one unaligned vector at the start, then aligned vectors from the
// next 32-byte boundary, then one unaligned vector ending at the input's end (it overlaps
// bytes already searched, which is harmless for a first match and masked off for a count).
// AVX2 has no byte-masked load, so an input shorter than a vector is copied to a zeroed
// local buffer first: no byte outside the input is read. Compiled with -mavx2 -mfma -mbmi
// -mbmi2 -mpopcnt; follows kernels.hpp's rule (no inline functions from standard headers).
#include "intrinsics.hpp"
#include "kernels.hpp"

namespace ferrite::simd::detail::avx2 {

namespace {

constexpr std::size_t not_found = ~std::size_t{0};
constexpr std::size_t width = 32;

__m256i load(const unsigned char* p) noexcept {
  // SAFETY: the caller passes 32 readable bytes at p.
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

/// Aligned load. Preconditions: p is 32-byte aligned, 32 readable bytes.
__m256i load_aligned(const unsigned char* p) noexcept {
  // SAFETY: the callers' loops start at a 32-byte boundary and stop 32 bytes before the end.
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
}

/// Bytes [0, n) of p, zeros above. Preconditions: 0 < n < 32.
__m256i load_short(const unsigned char* p, std::size_t n) noexcept {
  alignas(32) unsigned char buffer[width] = {};
  // SAFETY: n < 32 bytes of the input into a 32-byte local; the builtin, not std::memcpy,
  // per kernels.hpp's rule.
  __builtin_memcpy(buffer, p, n);
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(buffer));
}

/// A 16-byte table, in both 128-bit lanes (vpshufb looks up within each lane).
__m256i load_table(const std::uint8_t* table) noexcept {
  // SAFETY: byte_set_tables's rows are 16-byte arrays; loadu has no alignment requirement.
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
}

__m256i splat(unsigned char b) noexcept { return _mm256_set1_epi8(static_cast<char>(b)); }

std::uint32_t mask_of(__m256i bytes) noexcept {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(bytes));
}

std::uint32_t equal(__m256i v, __m256i needle) noexcept {
  return mask_of(_mm256_cmpeq_epi8(v, needle));
}

/// Bits [0, n) set, n <= 32.
std::uint32_t low_bits(std::size_t n) noexcept { return _bzhi_u32(~0U, static_cast<unsigned>(n)); }

std::size_t lowest(std::uint32_t mask) noexcept { return _tzcnt_u32(mask); }

std::size_t popcount(std::uint32_t mask) noexcept {
  return static_cast<std::size_t>(_mm_popcnt_u32(mask));
}

/// The offset from p to the next 32-byte boundary strictly after p: 1..32.
std::size_t to_boundary(const unsigned char* p) noexcept {
  // SAFETY: the address is used only for its low bits.
  return width - (reinterpret_cast<std::uintptr_t>(p) & (width - 1));
}

// ---- find_any_of's two ways of matching ----------------------------------------------------

/// Members compared one by one: for sets of two or three bytes.
struct small_set {
  __m256i a;
  __m256i b;
  __m256i c;  // a copy of a for a two-byte set

  explicit small_set(const byte_set_tables& s) noexcept
      : a(splat(s.first[0])),
        b(splat(s.first[1])),
        c(splat(s.size > 2 ? s.first[2] : s.first[0])) {}

  std::uint32_t match(__m256i v) const noexcept {
    return mask_of(
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, a), _mm256_cmpeq_epi8(v, b)),
                        _mm256_cmpeq_epi8(v, c)));
  }
};

/// Nibble lookup (byte_set_tables's layout): rows by the low nibble from the table of the
/// byte's half (pshufb returns 0 for an index with bit 7 set, which picks the half), the
/// bit by the high nibble.
struct nibble_set {
  __m256i low;
  __m256i high;
  __m256i bits;

  explicit nibble_set(const byte_set_tables& s) noexcept
      : low(load_table(s.rows_low)),
        high(load_table(s.rows_high)),
        bits(_mm256_broadcastsi128_si256(
            _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128))) {}

  std::uint32_t match(__m256i v) const noexcept {
    const __m256i row = _mm256_or_si256(
        _mm256_shuffle_epi8(low, v), _mm256_shuffle_epi8(high, _mm256_xor_si256(v, splat(0x80))));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), splat(0x0f));
    const __m256i hit = _mm256_and_si256(row, _mm256_shuffle_epi8(bits, hi));
    return ~mask_of(_mm256_cmpeq_epi8(hit, _mm256_setzero_si256()));
  }
};

/// The first position where `set.match` holds, scanning as the file comment says.
template <class Set>
std::size_t find_matching(const unsigned char* p, std::size_t n, const Set& set) noexcept {
  if (n == 0) return not_found;
  if (n < width) {
    const std::uint32_t m = set.match(load_short(p, n)) & low_bits(n);
    return m != 0 ? lowest(m) : not_found;
  }
  if (const std::uint32_t m = set.match(load(p)); m != 0) return lowest(m);
  std::size_t i = to_boundary(p);  // [0, i) is searched
  for (; i + width <= n; i += width) {
    if (const std::uint32_t m = set.match(load_aligned(p + i)); m != 0) return i + lowest(m);
  }
  if (i < n) {  // the last vector; its bytes below i hold no match
    if (const std::uint32_t m = set.match(load(p + n - width)); m != 0) {
      return n - width + lowest(m);
    }
  }
  return not_found;
}

/// find_crlf's state across vectors. Per vector, cr and lf are the masks of '\r' and '\n';
/// a match at k - 1 is bit k of (cr << 1 | carry) & lf, where carry says that the byte
/// before the vector is a '\r'.
struct crlf_scanner {
  __m256i cr_byte = splat('\r');
  __m256i lf_byte = splat('\n');
  std::uint32_t cr = 0;
  std::uint32_t carry = 0;

  /// The offset of the first match in the vector `v` loaded from offset `at`, or not_found.
  std::size_t step(__m256i v, std::size_t at) noexcept {
    cr = equal(v, cr_byte);
    const std::uint32_t m = ((cr << 1U) | carry) & equal(v, lf_byte);
    carry = cr >> 31U;
    return m != 0 ? at + lowest(m) - 1 : not_found;  // bit 0 only with carry, when at > 0
  }
};

}  // namespace

std::size_t find_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  if (n == 0) return not_found;
  const __m256i needle = splat(b);
  if (n < width) {
    const std::uint32_t m = equal(load_short(p, n), needle) & low_bits(n);
    return m != 0 ? lowest(m) : not_found;
  }
  if (const std::uint32_t m = equal(load(p), needle); m != 0) return lowest(m);
  std::size_t i = to_boundary(p);
  for (; i + 4 * width <= n; i += 4 * width) {
    const __m256i e0 = _mm256_cmpeq_epi8(load_aligned(p + i), needle);
    const __m256i e1 = _mm256_cmpeq_epi8(load_aligned(p + i + width), needle);
    const __m256i e2 = _mm256_cmpeq_epi8(load_aligned(p + i + 2 * width), needle);
    const __m256i e3 = _mm256_cmpeq_epi8(load_aligned(p + i + 3 * width), needle);
    const __m256i any = _mm256_or_si256(_mm256_or_si256(e0, e1), _mm256_or_si256(e2, e3));
    if (_mm256_testz_si256(any, any) != 0) continue;
    if (const std::uint32_t m = mask_of(e0); m != 0) return i + lowest(m);
    if (const std::uint32_t m = mask_of(e1); m != 0) return i + width + lowest(m);
    if (const std::uint32_t m = mask_of(e2); m != 0) return i + 2 * width + lowest(m);
    return i + 3 * width + lowest(mask_of(e3));
  }
  for (; i + width <= n; i += width) {
    if (const std::uint32_t m = equal(load_aligned(p + i), needle); m != 0) return i + lowest(m);
  }
  if (i < n) {
    if (const std::uint32_t m = equal(load(p + n - width), needle); m != 0) {
      return n - width + lowest(m);
    }
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
  if (n < width) return scan.step(load_short(p, n), 0);  // the zeros past n match nothing
  if (const std::size_t r = scan.step(load(p), 0); r != not_found) return r;
  std::size_t i = to_boundary(p);          // matches starting below i - 1 are ruled out
  scan.carry = (scan.cr >> (i - 1)) & 1U;  // is p[i - 1] a '\r'?
  // Four aligned vectors per step, screened for any '\r' first (the minimum of the bytes'
  // xors with '\r' is zero where one is); the masks are computed only where there is one.
  const __m256i cr_byte = splat('\r');
  for (; i + 4 * width <= n; i += 4 * width) {
    const __m256i v0 = load_aligned(p + i);
    const __m256i v1 = load_aligned(p + i + width);
    const __m256i v2 = load_aligned(p + i + 2 * width);
    const __m256i v3 = load_aligned(p + i + 3 * width);
    const __m256i x = _mm256_min_epu8(
        _mm256_min_epu8(_mm256_xor_si256(v0, cr_byte), _mm256_xor_si256(v1, cr_byte)),
        _mm256_min_epu8(_mm256_xor_si256(v2, cr_byte), _mm256_xor_si256(v3, cr_byte)));
    if (equal(x, _mm256_setzero_si256()) == 0) {  // no '\r': only a carried one can match
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
  if (i < n) {  // the last vector, from t = n - 32 < i; its matches below i - 1 are ruled out
    const std::size_t t = n - width;
    scan.carry = t > 0 && p[t - 1] == '\r' ? 1U : 0U;
    return scan.step(load(p + t), t);
  }
  return not_found;
}

std::size_t find_all_crlf(const unsigned char* p, std::size_t n, std::size_t* out,
                          std::size_t capacity) noexcept {
  // 64 bytes per step as one 64-bit mask from two vectors; every match from it, lowest first
  // (bit-scan, clear the lowest bit); the carry joins a '\r' ending a step to a '\n' after it.
  const __m256i cr_byte = splat('\r');
  const __m256i lf_byte = splat('\n');
  std::uint64_t carry = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n && count < capacity; i += 2 * width) {
    const std::size_t left = n - i;
    const __m256i lo = left >= width ? load(p + i) : load_short(p + i, left);
    const __m256i hi = left >= 2 * width ? load(p + i + width)
                       : left > width    ? load_short(p + i + width, left - width)
                                         : _mm256_setzero_si256();
    const std::uint64_t cr = equal(lo, cr_byte) | (std::uint64_t{equal(hi, cr_byte)} << 32U);
    const std::uint64_t lf = equal(lo, lf_byte) | (std::uint64_t{equal(hi, lf_byte)} << 32U);
    std::uint64_t m = ((cr << 1U) | carry) & lf;
    carry = cr >> 63U;
    for (; m != 0 && count < capacity; m = _blsr_u64(m)) {
      out[count++] = i + static_cast<std::size_t>(_tzcnt_u64(m)) - 1;
    }
  }
  return count;
}

std::size_t count_byte(const unsigned char* p, std::size_t n, unsigned char b) noexcept {
  if (n == 0) return 0;
  const __m256i needle = splat(b);
  if (n < width) return popcount(equal(load_short(p, n), needle) & low_bits(n));
  const std::size_t head = to_boundary(p) & (width - 1);  // 0..31 bytes to the boundary
  std::size_t count = popcount(equal(load(p), needle) & low_bits(head));
  std::size_t i = head;
  // Per-byte counters, one vector of them per vector of a step (a compare's 0/-1 bytes are
  // subtracted), summed with psadbw before any can pass 255.
  while (n - i >= 4 * width) {
    __m256i c0 = _mm256_setzero_si256();
    __m256i c1 = _mm256_setzero_si256();
    __m256i c2 = _mm256_setzero_si256();
    __m256i c3 = _mm256_setzero_si256();
    const std::size_t steps_left = (n - i) / (4 * width);
    const std::size_t steps = steps_left < 255 ? steps_left : 255;
    for (std::size_t s = 0; s < steps; ++s, i += 4 * width) {
      c0 = _mm256_sub_epi8(c0, _mm256_cmpeq_epi8(load_aligned(p + i), needle));
      c1 = _mm256_sub_epi8(c1, _mm256_cmpeq_epi8(load_aligned(p + i + width), needle));
      c2 = _mm256_sub_epi8(c2, _mm256_cmpeq_epi8(load_aligned(p + i + 2 * width), needle));
      c3 = _mm256_sub_epi8(c3, _mm256_cmpeq_epi8(load_aligned(p + i + 3 * width), needle));
    }
    const __m256i zero = _mm256_setzero_si256();
    const __m256i sums =
        _mm256_add_epi64(_mm256_add_epi64(_mm256_sad_epu8(c0, zero), _mm256_sad_epu8(c1, zero)),
                         _mm256_add_epi64(_mm256_sad_epu8(c2, zero), _mm256_sad_epu8(c3, zero)));
    const __m128i half =
        _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
    count += static_cast<std::size_t>(_mm_cvtsi128_si64(half)) +
             static_cast<std::size_t>(_mm_extract_epi64(half, 1));
  }
  for (; i + width <= n; i += width) count += popcount(equal(load_aligned(p + i), needle));
  if (i < n) {  // the last vector, from n - 32; its bytes below i are counted already
    count += popcount(equal(load(p + n - width), needle) >> (width - (n - i)));
  }
  return count;
}

}  // namespace ferrite::simd::detail::avx2
