// SPDX-License-Identifier: Apache-2.0
// counting_resource: a std::pmr::memory_resource that forwards every call to an upstream
// resource and counts what passes through: allocations, deallocations, bytes, live bytes and
// their peak, and a power-of-two histogram of request sizes. Put it under a pmr container, an
// arena or an object pool to see what they ask of the system allocator; give it a name
// prefix and the same figures are published as ferrite::metrics. Thread-safe when the
// upstream is (its own counters are relaxed atomics).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <string_view>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/metrics.hpp"

namespace ferrite::mem {

/// Buckets of counting_stats::size_histogram: bucket k counts requests of bit width k
/// (0 bytes -> 0, 1 -> 1, 2..3 -> 2, 4..7 -> 3, 4096..8191 -> 13), as metrics::histogram.
inline constexpr std::size_t size_buckets = metrics::histogram_buckets;

/// A snapshot of a counting_resource's figures. Plain data.
///
/// Consistency: each field is a value its counter really had, read one after another with
/// relaxed loads, not atomically together. With no concurrent allocation every identity
/// holds exactly: allocations == sum(size_histogram),
/// live_bytes == bytes_allocated - bytes_deallocated, peak_live_bytes >= live_bytes.
struct counting_stats {
  std::uint64_t allocations = 0;        ///< successful allocate() calls
  std::uint64_t deallocations = 0;      ///< deallocate() calls
  std::uint64_t bytes_allocated = 0;    ///< sum of the sizes allocated, ever
  std::uint64_t bytes_deallocated = 0;  ///< sum of the sizes deallocated, ever
  std::uint64_t live_bytes = 0;         ///< allocated and not yet deallocated ("reserved")
  std::uint64_t peak_live_bytes = 0;    ///< highest live_bytes since construction/reset_peak
  std::array<std::uint64_t, size_buckets> size_histogram{};  ///< allocations by bit width

  /// Allocations not yet deallocated.
  [[nodiscard]] constexpr std::uint64_t live_allocations() const noexcept {
    return allocations - deallocations;
  }

  /// The share of the reserved (live) upstream bytes that the caller does not use:
  /// `1 - used_bytes / live_bytes`, clamped to [0, 1]; 0 when nothing is reserved.
  /// For an arena (or pool) built over this resource, pass what the arena has handed out:
  /// the figure is then its internal waste (chunk tails, alignment padding, space freed
  /// inside chunks but not returned). O(1).
  [[nodiscard]] constexpr double fragmentation(std::uint64_t used_bytes) const noexcept {
    if (live_bytes == 0 || used_bytes >= live_bytes) return 0.0;
    return 1.0 - static_cast<double>(used_bytes) / static_cast<double>(live_bytes);
  }
};

namespace detail {
struct counting_metrics;  // the published metrics, defined in counting_resource.cpp
}  // namespace detail

/// A memory resource that counts what it forwards to `upstream`.
///
/// Each allocate()/deallocate() does the upstream call plus a few relaxed atomic RMWs on its
/// own counters (one cache line, plus one histogram bucket) and a CAS loop for the peak
/// when the peak rises. With a metrics prefix it also updates these ferrite::metrics
/// (per-thread, so no extra contention), compiled out when the library is built with
/// FERRITE_METRICS=0:
///
/// | name                      | kind      | meaning                          |
/// |---------------------------|-----------|----------------------------------|
/// | `<prefix>.allocations`    | counter   | successful allocations           |
/// | `<prefix>.deallocations`  | counter   | deallocations                    |
/// | `<prefix>.bytes`          | counter   | bytes allocated, ever            |
/// | `<prefix>.live_bytes`     | gauge     | bytes allocated, not deallocated |
/// | `<prefix>.size`           | histogram | request sizes in bytes           |
///
/// Thread-safety: safe to share between threads when the upstream is (the default
/// new_delete_resource is). Totals are exact once the threads are joined; peak_live_bytes
/// is exactly the highest value the live-bytes counter took.
///
/// Equality (do_is_equal): identity. Memory from one counting_resource must be returned to
/// that same object, so that its counts balance.
///
/// Non-copyable and non-movable: pmr containers hold a pointer to their resource, and
/// moving it would leave them pointing at a stale object.
///
/// \warning It counts the sizes callers declare. deallocate() trusts the size it is
/// given (the pmr contract says it equals the allocated one; debug builds check that live
/// bytes do not go negative). Destroying it with live bytes is allowed: it owns nothing.
class counting_resource final : public std::pmr::memory_resource {
 public:
  /// Counts calls to std::pmr::new_delete_resource(). No metrics.
  counting_resource() noexcept;
  /// Counts calls to `upstream`, which must outlive this resource. No metrics.
  explicit counting_resource(std::pmr::memory_resource* upstream) noexcept;
  /// Counts calls to `upstream` and publishes them as metrics named `<prefix>.<what>`.
  /// Preconditions (FERRITE_ASSERT, as for any metric): `prefix` is a valid metric name
  /// (metrics::is_valid_name) and no live metric already uses `<prefix>.allocations` etc.
  /// With FERRITE_METRICS=0 the prefix is ignored. Blocking (registers five metrics).
  explicit counting_resource(std::string_view metrics_prefix,
                             std::pmr::memory_resource* upstream = std::pmr::new_delete_resource());

  counting_resource(const counting_resource&) = delete;
  counting_resource& operator=(const counting_resource&) = delete;
  ~counting_resource() override;

  /// All figures (see counting_stats for their consistency). O(size_buckets), wait-free.
  [[nodiscard]] counting_stats stats() const noexcept;

  /// Successful allocations so far. Wait-free.
  [[nodiscard]] std::uint64_t allocations() const noexcept;
  /// Deallocations so far. Wait-free.
  [[nodiscard]] std::uint64_t deallocations() const noexcept;
  /// Bytes allocated and not yet deallocated. Wait-free.
  [[nodiscard]] std::uint64_t live_bytes() const noexcept;
  /// live_bytes() under the name an arena user thinks in: upstream bytes this resource's
  /// clients hold, whether or not they use them (see fragmentation). Wait-free.
  [[nodiscard]] std::uint64_t reserved_bytes() const noexcept { return live_bytes(); }
  /// Highest live_bytes() since construction or the last reset_peak(). Wait-free.
  [[nodiscard]] std::uint64_t peak_live_bytes() const noexcept;
  /// `1 - used_bytes / reserved_bytes()`, clamped to [0, 1] (counting_stats::fragmentation).
  [[nodiscard]] double fragmentation(std::uint64_t used_bytes) const noexcept;

  /// Sets the peak to the current live bytes, to measure the peak of one phase. Lock-free.
  void reset_peak() noexcept;

  /// The resource every call is forwarded to.
  [[nodiscard]] std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override;

  void raise_peak(std::uint64_t live) noexcept;

  std::pmr::memory_resource* upstream_;
  // Every call updates these together: one cache line, transferred once per call.
  atomic<std::uint64_t> allocations_{0};
  atomic<std::uint64_t> deallocations_{0};
  atomic<std::uint64_t> bytes_allocated_{0};
  atomic<std::uint64_t> bytes_deallocated_{0};
  atomic<std::uint64_t> live_bytes_{0};
  atomic<std::uint64_t> peak_live_bytes_{0};
  std::array<atomic<std::uint64_t>, size_buckets> size_histogram_{};
  std::unique_ptr<detail::counting_metrics> metrics_;  // null without a prefix
};

}  // namespace ferrite::mem
