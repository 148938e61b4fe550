// SPDX-License-Identifier: Apache-2.0
// counting_resource: the forwarding calls, the relaxed counters and the peak CAS loop, and
// the optional ferrite::metrics it publishes (compiled out with FERRITE_METRICS=0, so the
// class layout in the header does not depend on that switch).
#include "ferrite/mem/counting_resource.hpp"

#include <string>

#include "ferrite/core/contract.hpp"

namespace ferrite::mem {

namespace detail {

/// The metrics of one counting_resource with a prefix. Non-movable (metrics are).
struct counting_metrics {
  explicit counting_metrics(std::string_view prefix)
      : allocations(name(prefix, ".allocations"), "allocations served by the upstream"),
        deallocations(name(prefix, ".deallocations"), "deallocations passed upstream"),
        bytes(name(prefix, ".bytes"), "bytes allocated, ever"),
        live_bytes(name(prefix, ".live_bytes"), "bytes allocated and not yet deallocated"),
        size(name(prefix, ".size"), "allocation request sizes in bytes") {}

  static std::string name(std::string_view prefix, std::string_view what) {
    std::string n(prefix);
    n += what;
    return n;
  }

  metrics::counter allocations;
  metrics::counter deallocations;
  metrics::counter bytes;
  metrics::gauge live_bytes;
  metrics::histogram size;
};

}  // namespace detail

namespace {
// Every counter of counting_resource is a statistic: no other memory is published through
// it, so all its operations are relaxed. Each counter is still exact (RMWs on one location
// are totally ordered); a snapshot of several counters is not atomic (documented).
constexpr auto relaxed = std::memory_order_relaxed;

#if FERRITE_METRICS
std::int64_t as_delta(std::size_t bytes) noexcept { return static_cast<std::int64_t>(bytes); }
#endif
}  // namespace

counting_resource::counting_resource() noexcept
    : counting_resource(std::pmr::new_delete_resource()) {}

counting_resource::counting_resource(std::pmr::memory_resource* upstream) noexcept
    : upstream_(upstream) {
  FERRITE_ASSERT(upstream != nullptr, "counting_resource: null upstream");
}

counting_resource::counting_resource([[maybe_unused]] std::string_view metrics_prefix,
                                     std::pmr::memory_resource* upstream)
    : counting_resource(upstream) {
#if FERRITE_METRICS
  FERRITE_ASSERT(metrics::is_valid_name(metrics_prefix),
                 "counting_resource: metrics prefix is not a valid metric name");
  metrics_ = std::make_unique<detail::counting_metrics>(metrics_prefix);
#endif
}

counting_resource::~counting_resource() = default;

void* counting_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = upstream_->allocate(bytes, alignment);  // throws: nothing counted
  const std::uint64_t n = bytes;
  // ORDERING: (1)-(4) relaxed RMWs: statistics only, see relaxed.
  allocations_.fetch_add(1, relaxed);
  bytes_allocated_.fetch_add(n, relaxed);
  size_histogram_[metrics::bucket_of(n)].fetch_add(1, relaxed);
  // ORDERING: (4) relaxed; the value it returns is one live_bytes_ really took, which is
  // what raise_peak (5) needs: no other data depends on it.
  raise_peak(live_bytes_.fetch_add(n, relaxed) + n);
#if FERRITE_METRICS
  if (metrics_ != nullptr) {
    metrics_->allocations.add();
    metrics_->bytes.add(n);
    metrics_->live_bytes.add(as_delta(bytes));
    metrics_->size.record(n);
  }
#endif
  return p;
}

void counting_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  const std::uint64_t n = bytes;
  // ORDERING: (6)-(8) relaxed RMWs: statistics only, see relaxed. Counted before the
  // upstream call: the upstream orders this deallocation before any allocation that reuses
  // `p`, so that allocation's (4) comes after (8) in live_bytes_'s modification order and
  // the peak never counts the same bytes twice.
  deallocations_.fetch_add(1, relaxed);
  bytes_deallocated_.fetch_add(n, relaxed);
  [[maybe_unused]] const std::uint64_t before = live_bytes_.fetch_sub(n, relaxed);
  FERRITE_DEBUG_ASSERT(before >= n, "counting_resource: deallocating more bytes than are live");
#if FERRITE_METRICS
  if (metrics_ != nullptr) {
    metrics_->deallocations.add();
    metrics_->live_bytes.sub(as_delta(bytes));
  }
#endif
  upstream_->deallocate(p, bytes, alignment);
}

bool counting_resource::do_is_equal(const std::pmr::memory_resource& other) const noexcept {
  return this == &other;
}

void counting_resource::raise_peak(std::uint64_t live) noexcept {
  // ORDERING: (5) relaxed load and CAS: the peak is a statistic. The loop ends once the
  // peak is >= live, so the peak is the maximum of every value (4) returned.
  std::uint64_t peak = peak_live_bytes_.load(relaxed);
  while (peak < live && !peak_live_bytes_.compare_exchange_weak(peak, live, relaxed)) {
  }
}

void counting_resource::reset_peak() noexcept {
  // ORDERING: (9) relaxed load and store: a concurrent raise_peak (5) may land just before
  // or after; either way the peak stays >= the live bytes read here.
  peak_live_bytes_.store(live_bytes_.load(relaxed), relaxed);
}

counting_stats counting_resource::stats() const noexcept {
  counting_stats s;
  // ORDERING: (10) relaxed loads, one after another: see counting_stats's consistency note.
  s.allocations = allocations_.load(relaxed);
  s.deallocations = deallocations_.load(relaxed);
  s.bytes_allocated = bytes_allocated_.load(relaxed);
  s.bytes_deallocated = bytes_deallocated_.load(relaxed);
  s.live_bytes = live_bytes_.load(relaxed);
  s.peak_live_bytes = peak_live_bytes_.load(relaxed);
  for (std::size_t k = 0; k < size_buckets; ++k) {
    s.size_histogram[k] = size_histogram_[k].load(relaxed);  // ORDERING: (10)
  }
  return s;
}

// ORDERING: (11) the single-figure accessors are relaxed loads, as (10).
std::uint64_t counting_resource::allocations() const noexcept { return allocations_.load(relaxed); }
std::uint64_t counting_resource::deallocations() const noexcept {
  return deallocations_.load(relaxed);
}
std::uint64_t counting_resource::live_bytes() const noexcept { return live_bytes_.load(relaxed); }
std::uint64_t counting_resource::peak_live_bytes() const noexcept {
  return peak_live_bytes_.load(relaxed);
}

double counting_resource::fragmentation(std::uint64_t used_bytes) const noexcept {
  counting_stats s;
  s.live_bytes = live_bytes();
  return s.fragmentation(used_bytes);
}

}  // namespace ferrite::mem
