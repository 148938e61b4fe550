// SPDX-License-Identifier: Apache-2.0
// ferrite::metrics: named counters, gauges and histograms cheap enough for hot paths. Each
// thread writes only its own cache-padded slots, with a relaxed load and store (no locked
// instruction, no shared cache line); a snapshot sums every live thread's slots plus the
// folded-in totals of threads that have exited, merges with other snapshots by name and
// renders the Prometheus text exposition format. With FERRITE_METRICS=0 the same names are
// empty types whose operations compile to nothing.
//
// ```cpp
// inline ferrite::metrics::counter g_allocs{"mem.arena.allocations", "allocations served"};
// inline ferrite::metrics::histogram g_sizes{"mem.arena.allocation_bytes", "request sizes"};
//
// void* allocate(std::size_t n) {
//   g_allocs.add();
//   g_sizes.record(n);
//   ...
// }
// std::string page = ferrite::metrics::take_snapshot().to_text();  // serve as /metrics
// ```
//
// When not to use it: metrics are observation, read eventually and never exactly "now". A
// value threads must agree on (a limit, a sequence number) is an atomic, not a metric. Metrics
// are meant to be long-lived (globals, members of long-lived objects): construction and
// destruction take the registry lock, and a thread's slot memory grows to the most metrics
// it has touched at once (8 bytes per counter or gauge, 528 per histogram).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferrite/core/error.hpp"
#include "ferrite/core/platform.hpp"

#if FERRITE_METRICS && FERRITE_CHECK
// The slots live in ferrite_core (compiled once, normally); a checked atomic has another
// layout. Counters are observation, not protocol: model-checked code builds them away.
#error "FERRITE_METRICS=1 is not supported with FERRITE_CHECK=1 (leave FERRITE_METRICS unset)"
#endif

namespace ferrite::metrics {

// ---- shared by both builds: names, buckets, snapshots ----------------------------------

/// What a metric measures; decides its exposition and how snapshots merge it.
enum class metric_kind : std::uint8_t {
  counter,    ///< a u64 total that only goes up (wraps modulo 2^64)
  gauge,      ///< a signed i64 net sum of deltas (up and down)
  histogram,  ///< u64 samples in power-of-two buckets, plus their sum
};

/// "counter", "gauge" or "histogram": the Prometheus `# TYPE` word.
constexpr std::string_view to_string(metric_kind kind) noexcept {
  switch (kind) {
    case metric_kind::counter: return "counter";
    case metric_kind::gauge: return "gauge";
    case metric_kind::histogram: return "histogram";
  }
  return "untyped";
}

/// Number of histogram buckets: bucket k counts the values whose bit width is k.
inline constexpr std::size_t histogram_buckets = 65;

/// The bucket of `value`: its bit width (0 -> 0, 1 -> 1, 2..3 -> 2, 4..7 -> 3, ...,
/// 2^63..2^64-1 -> 64). O(1), one lzcnt.
constexpr std::size_t bucket_of(std::uint64_t value) noexcept {
  return static_cast<std::size_t>(std::bit_width(value));
}

/// The largest value bucket `k` holds, the `le` label of its exposition line: 2^k - 1.
/// Preconditions: k < histogram_buckets.
constexpr std::uint64_t bucket_upper_bound(std::size_t k) noexcept {
  return k >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << k) - 1;
}

/// True when `name` can name a metric: non-empty, only [a-zA-Z0-9_.:], not starting with a
/// digit. Dots become '_' in the exposition ("mem.arena.allocations" is exposed as
/// "mem_arena_allocations"). Usable in a static_assert. O(name.size()).
constexpr bool is_valid_name(std::string_view name) noexcept {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

/// One metric's value in a snapshot. Plain data: entries may be built by hand (say, from
/// another process) and added with snapshot::merge.
struct entry {
  std::string name;  ///< as registered, dots kept
  std::string help;  ///< "" when none
  metric_kind kind = metric_kind::counter;
  std::uint64_t total = 0;             ///< counter: its value; histogram: samples recorded
  std::int64_t level = 0;              ///< gauge: its value
  std::uint64_t sum = 0;               ///< histogram: sum of the samples, modulo 2^64
  std::vector<std::uint64_t> buckets;  ///< histogram: histogram_buckets counts; else empty

  friend bool operator==(const entry&, const entry&) = default;
};

class snapshot;
namespace detail {
snapshot collect(std::string_view prefix);
}  // namespace detail

/// The values of a set of metrics, sorted by name. A value type: it owns its strings and
/// outlives the metrics it was taken from.
///
/// Consistency: each value is one that its metric really had (never torn, never above the
/// eventual total), and successive snapshots of a counter never go down. Different
/// metrics, and a histogram's sum against its buckets, are read one after another, not
/// atomically together; `total` always equals the sum of `buckets`.
class snapshot {
 public:
  snapshot() = default;

  /// All entries, sorted by name.
  [[nodiscard]] const std::vector<entry>& entries() const noexcept { return entries_; }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

  /// The entry named `name`, or nullptr. O(log n).
  [[nodiscard]] const entry* find(std::string_view name) const noexcept;

  /// Adds `other` into this snapshot by name: counters, gauges, histogram buckets and sums
  /// add (modulo 2^64); entries only in `other` are inserted; an empty help text is filled
  /// in from `other`. All or nothing: fails with errc::invalid_argument, leaving this
  /// snapshot unchanged, when a name has different kinds in the two, or when two different
  /// names would produce the same exposition line ("a.b" and "a_b"). O(n + m) expected.
  std::expected<void, error> merge(const snapshot& other);

  /// Adds one entry, as merge(snapshot) does. Also fails with errc::invalid_argument when
  /// the entry is malformed: an invalid name, a histogram without exactly histogram_buckets
  /// buckets or whose total differs from their sum, or buckets on a non-histogram.
  std::expected<void, error> merge(const entry& e);

  /// The Prometheus text exposition format (version 0.0.4), entries in name order:
  /// `# HELP` (omitted when help is empty; '\' and newline escaped), `# TYPE`, then
  ///  - counter: one line `<name>_total <value>` ("_total" is not doubled when the name
  ///    already ends in it), the family is named with the suffix too;
  ///  - gauge: `<name> <value>`;
  ///  - histogram: cumulative `<name>_bucket{le="2^k-1"}` lines for k = 0 up to the highest
  ///    non-empty bucket (a line, once shown, keeps being shown, since counts never go
  ///    down), then `le="+Inf"`, `<name>_sum` and `<name>_count`.
  /// Dots in names become '_'. O(total size of the output).
  [[nodiscard]] std::string to_text() const;

  friend bool operator==(const snapshot&, const snapshot&) = default;

 private:
  friend snapshot detail::collect(std::string_view prefix);
  explicit snapshot(std::vector<entry> sorted) noexcept : entries_(std::move(sorted)) {}

  std::vector<entry> entries_;
};

// ---- FERRITE_METRICS=0: empty types ---------------------------------------------------
// Exactly one of disabled_v1 / enabled_v1 is inline, chosen by FERRITE_METRICS: in each
// translation unit `ferrite::metrics::counter` names one of two distinct types, so units
// built with and without metrics link into one program without an ODR violation. disabled_v1
// always exists, so a benchmark can name the empty type explicitly.
//
// Warning: a *variable* is not versioned. An `inline counter g_x{...};` in a header must see
// the same FERRITE_METRICS in every unit that includes it.

#if FERRITE_METRICS
namespace disabled_v1 {
#else
inline namespace disabled_v1 {
#endif

/// counter with FERRITE_METRICS=0: empty, every operation a constexpr no-op. The name is
/// not checked in this build. Non-copyable, like the real one.
class counter {
 public:
  constexpr explicit counter(std::string_view /*name*/, std::string_view /*help*/ = {}) noexcept {}
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  FERRITE_ALWAYS_INLINE constexpr void add(std::uint64_t /*n*/ = 1) noexcept {}
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return 0; }
};

/// gauge with FERRITE_METRICS=0: empty, every operation a constexpr no-op.
class gauge {
 public:
  constexpr explicit gauge(std::string_view /*name*/, std::string_view /*help*/ = {}) noexcept {}
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  FERRITE_ALWAYS_INLINE constexpr void add(std::int64_t /*delta*/ = 1) noexcept {}
  FERRITE_ALWAYS_INLINE constexpr void sub(std::int64_t /*delta*/ = 1) noexcept {}
  [[nodiscard]] constexpr std::int64_t value() const noexcept { return 0; }
};

/// histogram with FERRITE_METRICS=0: empty, every operation a constexpr no-op.
class histogram {
 public:
  /// Takes (name, help) like the real one, and ignores them.
  constexpr explicit histogram(std::string_view, std::string_view = {}) noexcept {}
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  FERRITE_ALWAYS_INLINE constexpr void record(std::uint64_t /*value*/) noexcept {}
  [[nodiscard]] constexpr std::uint64_t count() const noexcept { return 0; }
  [[nodiscard]] constexpr std::uint64_t sum() const noexcept { return 0; }
};

/// With FERRITE_METRICS=0: an empty snapshot.
inline snapshot take_snapshot(std::string_view /*prefix*/ = {}) { return snapshot{}; }

}  // namespace disabled_v1

}  // namespace ferrite::metrics

#if FERRITE_METRICS
#include "ferrite/core/detail/metrics_impl.hpp"

namespace ferrite::metrics {
static_assert(detail::histogram_slots == histogram_buckets + 1, "buckets, then the sum");

inline namespace enabled_v1 {

/// A named u64 count of events, sharded per thread.
///
/// Construction registers the name (blocking: takes the registry lock; O(name length)).
/// Preconditions, checked with FERRITE_ASSERT in every build (a bad name is a programming
/// error, and a constructor cannot return an expected; check computed names with
/// is_valid_name first): is_valid_name(name), and no live metric produces the same
/// exposition line. `name` and `help` are copied. Non-copyable and non-movable: the object
/// is its registry entry and its slots. Destruction (blocking, O(threads)) drops it from later
/// snapshots and recycles its slots for the next metric; every add() must happen-before it.
class counter {
 public:
  explicit counter(std::string_view name, std::string_view help = {})
      : reg_(name, help, metric_kind::counter) {}

  /// Adds `n` (wrapping modulo 2^64). Wait-free, no locked instruction: a thread-local
  /// load, a chunk pointer load, then a relaxed load and store of this thread's own slot.
  /// The first call on a thread (and the first touching a new chunk) allocates.
  FERRITE_ALWAYS_INLINE void add(std::uint64_t n = 1) noexcept {
    detail::bump(detail::local_slot(reg_.first_slot()), n);
  }

  /// The total over all threads, live and exited. Blocking (registry lock); O(threads).
  [[nodiscard]] std::uint64_t value() const {
    std::uint64_t v = 0;
    detail::sum_slots(reg_.first_slot(), 1, &v);
    return v;
  }

 private:
  detail::registration reg_;
};

/// A named i64 level moved by deltas (queue depth, bytes in use), sharded per thread.
/// There is no set(): each thread holds only its own net delta, and setting one thread's
/// share cannot set the sum. Model "current value" metrics as add/sub pairs. Construction
/// and destruction as for counter.
class gauge {
 public:
  explicit gauge(std::string_view name, std::string_view help = {})
      : reg_(name, help, metric_kind::gauge) {}

  /// Adds `delta` (modulo 2^64). Wait-free, as counter::add.
  FERRITE_ALWAYS_INLINE void add(std::int64_t delta = 1) noexcept {
    detail::bump(detail::local_slot(reg_.first_slot()), static_cast<std::uint64_t>(delta));
  }

  /// Subtracts `delta` (modulo 2^64). Wait-free, as counter::add.
  FERRITE_ALWAYS_INLINE void sub(std::int64_t delta = 1) noexcept {
    detail::bump(detail::local_slot(reg_.first_slot()),
                 std::uint64_t{0} - static_cast<std::uint64_t>(delta));
  }

  /// The net value over all threads, live and exited. Blocking; O(threads).
  [[nodiscard]] std::int64_t value() const {
    std::uint64_t v = 0;
    detail::sum_slots(reg_.first_slot(), 1, &v);
    return static_cast<std::int64_t>(v);  // modular, as the deltas were
  }

 private:
  detail::registration reg_;
};

/// A named distribution of u64 samples (latencies in ns, sizes in bytes) in 65
/// power-of-two buckets (see bucket_of), plus the sum; the count is the sum of the buckets,
/// so the exposition's `_count` and `le="+Inf"` always agree. Construction and destruction
/// as for counter; it takes 66 slots per thread.
class histogram {
 public:
  explicit histogram(std::string_view name, std::string_view help = {})
      : reg_(name, help, metric_kind::histogram) {}

  /// Records one sample. Wait-free: two relaxed load/store pairs on this thread's slots.
  FERRITE_ALWAYS_INLINE void record(std::uint64_t value) noexcept {
    const std::uint32_t first = reg_.first_slot();
    detail::slot_chunk& chunk = detail::local_chunk(first / detail::chunk_slots);
    const std::uint32_t at = first % detail::chunk_slots;
    // SAFETY: at + histogram_slots <= chunk_slots: the registry never lets a metric's slot
    // range straddle a chunk, and bucket_of(value) < histogram_buckets.
    detail::bump(chunk.slots[at + bucket_of(value)], 1);
    detail::bump(chunk.slots[at + histogram_buckets], value);
  }

  /// Samples recorded over all threads. Blocking; O(threads).
  [[nodiscard]] std::uint64_t count() const;
  /// Sum of the samples over all threads, modulo 2^64. Blocking; O(threads).
  [[nodiscard]] std::uint64_t sum() const;

 private:
  detail::registration reg_;
};

/// The current values of the live metrics whose names start with `prefix` (all of them by
/// default): for each, its retired total (threads that exited) plus every live thread's
/// slots. Blocking: holds the registry lock while reading, never stops writers.
/// O(threads x slots read + n log n).
inline snapshot take_snapshot(std::string_view prefix = {}) { return detail::collect(prefix); }

}  // namespace enabled_v1
}  // namespace ferrite::metrics
#endif  // FERRITE_METRICS
