// SPDX-License-Identifier: Apache-2.0
// The machinery behind ferrite/core/metrics.hpp with FERRITE_METRICS=1: per-thread slot
// blocks, the inline increment fast path, and the cold entry points into the registry in
// src/core/metrics.cpp. Not a public header: include <ferrite/core/metrics.hpp>.
//
// Layout: every metric owns a range of u64 "slots" (counter and gauge 1, histogram 66),
// handed out by the registry, recycled (and cancelled out) when it dies. Every thread that
// touches a metric gets a
// thread_block: a directory of chunk pointers, each chunk 512 slots, allocated when the
// thread first touches one of its slots. Only the owning thread writes a chunk; readers
// (snapshots) take the registry lock and load the slots relaxed. A thread that exits folds
// its slots into the registry's retired totals under that lock and frees its block.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::metrics {
enum class metric_kind : std::uint8_t;
}  // namespace ferrite::metrics

namespace ferrite::metrics::detail {

/// Slots per chunk: 4 KiB, one page.
inline constexpr std::uint32_t chunk_slots = 512;
/// Chunks per thread block: 131072 slots in all, enough for ~1900 histograms or 128k counters.
inline constexpr std::uint32_t max_chunks = 256;
/// Slots of a histogram: histogram_buckets bucket counts, then the sum.
inline constexpr std::uint32_t histogram_slots = 65 + 1;

/// 512 slots written by one thread. Cache-line aligned (and a whole number of lines), so no
/// two threads' chunks share a line or an adjacent-line prefetch pair.
struct alignas(cache_line_size) slot_chunk {
  std::array<atomic<std::uint64_t>, chunk_slots> slots{};
};
static_assert(sizeof(slot_chunk) % cache_line_size == 0);

/// One thread's slots. `chunks[i]` is null until the owner first touches a slot of chunk i;
/// the owner is its only writer (release-store (1) in attach_chunk). `prev`/`next` link the
/// registry's list of live blocks and are guarded by the registry mutex.
struct alignas(cache_line_size) thread_block {
  std::array<atomic<slot_chunk*>, max_chunks> chunks{};
  thread_block* prev = nullptr;
  thread_block* next = nullptr;
};

/// This thread's block, null before its first increment and after its exit hook ran.
/// Trivially destructible and constant-initialized, so reading it is one TLS load with no
/// guard or wrapper call; the exit hook is a separate thread_local in metrics.cpp.
inline constinit thread_local thread_block* t_block = nullptr;

/// Cold path of local_chunk: creates this thread's block (registering it, and its exit hook)
/// and/or chunk `index`. Never fails: if memory runs out, returns a shared sink chunk whose
/// contents are never read (the increments are lost, the program goes on).
FERRITE_COLD slot_chunk* attach_chunk(std::uint32_t index) noexcept;

/// This thread's chunk `index`, attaching it on first use. Wait-free after the first call.
/// Preconditions: index < max_chunks (true for every registration's first_slot()).
FERRITE_ALWAYS_INLINE slot_chunk& local_chunk(std::uint32_t index) noexcept {
  thread_block* const block = t_block;
  slot_chunk* chunk = nullptr;
  if (block != nullptr) [[likely]] {
    // ORDERING: (2) relaxed load of a pointer only this thread stores (release-store (1) in
    // attach_chunk): program order already makes that store visible here. Other threads
    // read it with the acquire-load (6) in metrics.cpp.
    // SAFETY: index < max_chunks (precondition), so the unchecked [] stays in the array.
    chunk = block->chunks[index].load(std::memory_order_relaxed);
  }
  if (chunk == nullptr) [[unlikely]] {
    chunk = attach_chunk(index);
  }
  return *chunk;
}

/// This thread's copy of slot number `slot`, attaching its chunk on first use.
/// Preconditions: slot < chunk_slots * max_chunks (true for every registered slot).
FERRITE_ALWAYS_INLINE atomic<std::uint64_t>& local_slot(std::uint32_t slot) noexcept {
  return local_chunk(slot / chunk_slots).slots[slot % chunk_slots];
}

/// Adds `n` to a slot of this thread's block.
/// Preconditions: `slot` belongs to the calling thread's block (or to the OOM sink).
FERRITE_ALWAYS_INLINE void bump(atomic<std::uint64_t>& slot, std::uint64_t n) noexcept {
  // ORDERING: (3) relaxed load and (4) relaxed store, not a locked fetch_add: the owning
  // thread is the slot's only writer, so no concurrent update can be lost between the two.
  // Readers load it relaxed (7) under the registry lock and may see a value a few
  // increments old; coherence keeps what they see non-decreasing. No other data is
  // published through a slot, so nothing needs release/acquire.
  slot.store(slot.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// Stores into `out[0..count)` the totals of slots [first, first + count): retired plus
/// every live thread's. Blocking (registry lock); O(threads x count).
void sum_slots(std::uint32_t first, std::uint32_t count, std::uint64_t* out);

/// A metric's registry entry and slot range; what counter/gauge/histogram hold.
/// Non-copyable, non-movable: the registry refers to it by id, and the slots stay its own.
class registration {
 public:
  /// Validates the name (FERRITE_ASSERT) and takes a slot range whose total is zero (a
  /// fresh one, or a dead metric's). Blocking.
  registration(std::string_view name, std::string_view help, metric_kind kind);
  /// Marks the entry dead (later snapshots skip it) and recycles its slot range.
  /// Preconditions: every use of the metric happens-before this. Blocking; O(threads).
  ~registration();
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;

  /// The first slot of this metric's range. A metric used before its dynamic
  /// initialization (static init order) reads 0 here: slots [0, histogram_slots) are a
  /// reserved sink that no metric owns, so such early counts are lost, never misattributed.
  [[nodiscard]] FERRITE_ALWAYS_INLINE std::uint32_t first_slot() const noexcept {
    return first_slot_;
  }

 private:
  std::uint32_t id_ = 0;
  std::uint32_t first_slot_ = 0;
};

}  // namespace ferrite::metrics::detail
