// SPDX-License-Identifier: Apache-2.0
// The metrics registry (names, slot ranges, live thread blocks, retired totals), the
// thread attach/exit hooks, and snapshots: merge and the Prometheus text exposition.
//
// This file always builds the enabled implementation, whatever FERRITE_METRICS says for the
// rest of the build: a translation unit compiled with metrics on may then link against a
// ferrite_core configured with them off. A program that never constructs a metric never
// constructs the registry (a function-local static), so it costs nothing at run time.
#undef FERRITE_METRICS
#define FERRITE_METRICS 1
#include "ferrite/core/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <new>
#include <numeric>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ferrite/core/contract.hpp"

namespace ferrite::metrics {
namespace detail {
namespace {

constexpr std::uint32_t max_slots = chunk_slots * max_chunks;

constexpr std::uint32_t slots_of(metric_kind kind) noexcept {
  return kind == metric_kind::histogram ? histogram_slots : 1;
}

constexpr std::uint32_t round_up_to_chunk(std::uint32_t slot) noexcept {
  return (slot + chunk_slots - 1) / chunk_slots * chunk_slots;
}

void report(const char* what, std::string_view name) noexcept {
  std::fprintf(stderr, "ferrite::metrics: %s: \"%.*s\"\n", what, static_cast<int>(name.size()),
               name.data());
}

// A registered metric; slots [first_slot, first_slot + slots_of(kind)) are its own while
// it lives. A dead record keeps no strings and waits in free_ids_ for the next metric.
struct record {
  std::string name;
  std::string help;
  std::vector<std::string> exposed;  // see exposed_names; kept so removal cannot allocate
  metric_kind kind;
  std::uint32_t first_slot;
  bool live;
};

// "mem.arena.allocations" -> "mem_arena_allocations", plus "_total" for counters: the name
// of the family in `# TYPE`.
std::string family_name(std::string_view name, metric_kind kind) {
  std::string family(name);
  std::ranges::replace(family, '.', '_');
  if (kind == metric_kind::counter && !family.ends_with("_total")) family += "_total";
  return family;
}

// Every name a metric puts on the page: its family and, for a histogram, its three sample
// names. Two metrics whose sets intersect would make the exposition ambiguous.
std::vector<std::string> exposed_names(std::string_view name, metric_kind kind) {
  std::string family = family_name(name, kind);
  if (kind != metric_kind::histogram) return {std::move(family)};
  return {family + "_bucket", family + "_sum", family + "_count", family};
}

// The process-wide registry. Every member is guarded by mutex_ (std::mutex is fine here:
// this is the slow path, not a shared-memory protocol the model checker needs to see).
class registry {
 public:
  // Leaked on purpose, never destroyed: threads exit and global metrics are destroyed
  // during static destruction, possibly after a static registry would already be gone.
  static registry& global() {
    static registry* const instance = new registry();
    return *instance;
  }
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  std::pair<std::uint32_t, std::uint32_t> add(std::string_view name, std::string_view help,
                                              metric_kind kind);
  void remove(std::uint32_t id) noexcept;
  void sum(std::uint32_t first, std::uint32_t count, std::uint64_t* out);
  std::vector<entry> collect(std::string_view prefix);
  void link(thread_block* block);
  void retire(thread_block* block) noexcept;

 private:
  // Slots [0, histogram_slots) are the sink of metrics used before construction.
  registry() : next_slot_(histogram_slots), retired_(chunk_slots, 0) {}

  void sum_locked(std::uint32_t first, std::uint32_t count, std::uint64_t* out) const noexcept;
  void add_live_locked(std::uint32_t first, std::uint32_t count, std::uint64_t* out) const noexcept;
  std::vector<std::uint32_t>& free_ranges(metric_kind kind) noexcept {
    return kind == metric_kind::histogram ? free_histogram_ranges_ : free_single_ranges_;
  }

  std::mutex mutex_;
  std::vector<record> records_;                       // indexed by registration id
  std::vector<std::uint32_t> free_ids_;               // dead records, reused last-in first-out
  std::unordered_set<std::string> exposed_;           // exposed names of the live records
  std::uint32_t next_slot_;                           // the first slot never handed out
  std::array<std::uint32_t, 2> ranges_{};             // ranges ever handed out: single, histogram
  std::vector<std::uint32_t> free_single_ranges_;     // first slots of dead counters/gauges
  std::vector<std::uint32_t> free_histogram_ranges_;  // first slots of dead histograms
  // Per slot, modulo 2^64: what exited threads added, minus what the live threads held when
  // the slot's previous owner died. Invariant: a live metric's value is retired_ plus every
  // live block's slot, and a fresh or recycled range sums to zero. Sized in whole chunks.
  std::vector<std::uint64_t> retired_;
  thread_block* blocks_ = nullptr;  // live thread blocks, linked by prev/next
};

std::pair<std::uint32_t, std::uint32_t> registry::add(std::string_view name, std::string_view help,
                                                      metric_kind kind) {
  if (!is_valid_name(name)) report("invalid metric name", name);
  FERRITE_ASSERT(is_valid_name(name),
                 "metric names are [a-zA-Z0-9_.:]+ and do not start with a digit");
  record r{std::string(name), std::string(help), exposed_names(name, kind), kind, 0, true};

  const std::lock_guard lock(mutex_);
  const bool unique =
      std::ranges::none_of(r.exposed, [&](const std::string& n) { return exposed_.contains(n); });
  if (!unique) report("a live metric already has this exposition name", name);
  FERRITE_ASSERT(unique, "two live metrics would share an exposition name");

  // Everything that can throw or fail comes first; the commit below cannot.
  const std::uint32_t need = slots_of(kind);
  std::vector<std::uint32_t>& free_list = free_ranges(kind);
  const bool recycle = !free_list.empty();
  std::uint32_t first = recycle ? free_list.back() : next_slot_;
  if (!recycle) {
    if (first % chunk_slots + need > chunk_slots)
      first = round_up_to_chunk(first);  // no straddling
    FERRITE_ASSERT(first + need <= max_slots, "metric slots exhausted (131072 per thread)");
    retired_.resize(std::max<std::size_t>(retired_.size(), round_up_to_chunk(first + need)), 0);
    free_list.reserve(ranges_[need == 1 ? 0 : 1] + std::size_t{1});  // so remove() won't allocate
  }
  records_.reserve(records_.size() + 1);
  free_ids_.reserve(records_.size() + 1);
  std::size_t inserted = 0;
  try {
    for (const std::string& n : r.exposed) {
      exposed_.insert(n);
      ++inserted;
    }
  } catch (...) {
    for (std::size_t i = 0; i < inserted; ++i) exposed_.erase(r.exposed[i]);
    throw;
  }

  if (recycle) {
    free_list.pop_back();
  } else {
    next_slot_ = first + need;
    ++ranges_[need == 1 ? 0 : 1];
  }
  r.first_slot = first;
  if (free_ids_.empty()) {
    records_.push_back(std::move(r));  // capacity reserved
    return {static_cast<std::uint32_t>(records_.size() - 1), first};
  }
  const std::uint32_t id = free_ids_.back();
  free_ids_.pop_back();
  records_[id] = std::move(r);
  return {id, first};
}

// Recycles the slot range: the live threads' current values in it are cancelled in
// retired_, so its next owner starts at zero. Sound because every increment of this metric
// happens-before its destruction (anything else is a use after its lifetime), so the loads
// below see each thread's last value, and no thread writes the range again until a new
// metric, created after this critical section, hands it out.
void registry::remove(std::uint32_t id) noexcept {
  const std::lock_guard lock(mutex_);
  record& r = records_[id];
  FERRITE_DEBUG_ASSERT(r.live);
  for (const std::string& n : r.exposed) exposed_.erase(n);
  const std::uint32_t count = slots_of(r.kind);
  std::array<std::uint64_t, histogram_slots> held{};
  add_live_locked(r.first_slot, count, held.data());
  for (std::uint32_t i = 0; i < count; ++i) retired_[r.first_slot + i] = 0 - held[i];
  free_ranges(r.kind).push_back(r.first_slot);  // capacity reserved by add()
  free_ids_.push_back(id);                      // likewise
  r.live = false;
  r.name = std::string();
  r.help = std::string();
  r.exposed = std::vector<std::string>();
}

void registry::sum(std::uint32_t first, std::uint32_t count, std::uint64_t* out) {
  const std::lock_guard lock(mutex_);
  sum_locked(first, count, out);
}

void registry::sum_locked(std::uint32_t first, std::uint32_t count,
                          std::uint64_t* out) const noexcept {
  for (std::uint32_t i = 0; i < count; ++i) out[i] = retired_[first + i];
  add_live_locked(first, count, out);
}

// Adds every live thread's slots [first, first + count) into out[0..count).
void registry::add_live_locked(std::uint32_t first, std::uint32_t count,
                               std::uint64_t* out) const noexcept {
  FERRITE_DEBUG_ASSERT(first % chunk_slots + count <= chunk_slots);
  const std::uint32_t index = first / chunk_slots;
  const std::uint32_t at = first % chunk_slots;
  for (const thread_block* b = blocks_; b != nullptr; b = b->next) {
    // ORDERING: (6) acquire-load; pairs with the release-store (1) in attach_chunk, so the
    // zeroed slots behind the pointer are visible before they are read.
    const slot_chunk* chunk = b->chunks[index].load(std::memory_order_acquire);
    if (chunk == nullptr) continue;
    for (std::uint32_t i = 0; i < count; ++i) {
      // ORDERING: (7) relaxed load of another thread's slot; pairs with its owner's relaxed
      // store (4) in bump. Coherence: never older than a value an earlier read saw.
      out[i] += chunk->slots[at + i].load(std::memory_order_relaxed);
    }
  }
}

std::vector<entry> registry::collect(std::string_view prefix) {
  std::vector<entry> out;
  const std::lock_guard lock(mutex_);
  for (const record& r : records_) {
    if (!r.live || !r.name.starts_with(prefix)) continue;
    std::array<std::uint64_t, histogram_slots> v{};
    sum_locked(r.first_slot, slots_of(r.kind), v.data());
    entry e{r.name, r.help, r.kind, 0, 0, 0, {}};
    switch (r.kind) {
      case metric_kind::counter: e.total = v[0]; break;
      case metric_kind::gauge: e.level = static_cast<std::int64_t>(v[0]); break;
      case metric_kind::histogram:
        e.buckets.assign(v.begin(), v.begin() + histogram_buckets);
        e.total = std::accumulate(e.buckets.begin(), e.buckets.end(), std::uint64_t{0});
        e.sum = v[histogram_buckets];
        break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

void registry::link(thread_block* block) {
  const std::lock_guard lock(mutex_);
  block->next = blocks_;
  if (blocks_ != nullptr) blocks_->prev = block;
  blocks_ = block;
}

// Runs on the exiting owner thread: folds its slots into retired_ and unlinks the block in
// one critical section, so a snapshot counts them exactly once (in the block before, in
// retired_ after) and totals never go down.
void registry::retire(thread_block* block) noexcept {
  std::array<slot_chunk*, max_chunks> chunks{};
  {
    const std::lock_guard lock(mutex_);
    for (std::uint32_t i = 0; i < max_chunks; ++i) {
      // ORDERING: (8) relaxed: this thread stored the pointer ((1) in attach_chunk).
      slot_chunk* chunk = block->chunks[i].load(std::memory_order_relaxed);
      chunks[i] = chunk;
      if (chunk == nullptr) continue;
      FERRITE_DEBUG_ASSERT(std::size_t{i + 1} * chunk_slots <= retired_.size());
      for (std::uint32_t j = 0; j < chunk_slots; ++j) {
        // ORDERING: (5) relaxed load of this thread's own slot (its last store (4)).
        retired_[std::size_t{i} * chunk_slots + j] +=
            chunk->slots[j].load(std::memory_order_relaxed);
      }
    }
    if (block->prev != nullptr) block->prev->next = block->next;
    if (block->next != nullptr) block->next->prev = block->prev;
    if (blocks_ == block) blocks_ = block->next;
  }
  // Unlinked under the lock: no reader can reach the block any more.
  for (slot_chunk* chunk : chunks) delete chunk;
  delete block;
}

// Written when a thread runs out of memory for its block or a chunk; shared, never read.
constinit slot_chunk g_sink_chunk;

// True once this thread's exit hook has run: a later increment (from a thread_local
// destroyed after the hook) gets a block that stays linked for good, its counts visible.
constinit thread_local bool t_exited = false;

// This thread's exit hook; constructed on first use (after any thread_local constructed
// earlier, so destroyed before those: their destructors' increments need the late path).
struct exit_hook {
  exit_hook() = default;
  exit_hook(const exit_hook&) = delete;
  exit_hook& operator=(const exit_hook&) = delete;
  ~exit_hook() {
    t_exited = true;
    if (thread_block* block = std::exchange(t_block, nullptr)) registry::global().retire(block);
  }
};

thread_block* attach_thread() noexcept {
  auto* block = new (std::nothrow) thread_block();
  if (block == nullptr) return nullptr;
  registry::global().link(block);
  t_block = block;
  if (!t_exited) {
    static thread_local exit_hook hook;  // armed by the first attach on each thread
  }
  return block;
}

}  // namespace

slot_chunk* attach_chunk(std::uint32_t index) noexcept {
  thread_block* block = t_block;
  if (block == nullptr) block = attach_thread();
  if (block == nullptr) return &g_sink_chunk;
  // ORDERING: relaxed, as (2): this thread is the only writer of its chunk pointers.
  slot_chunk* chunk = block->chunks[index].load(std::memory_order_relaxed);
  if (chunk != nullptr) return chunk;
  chunk = new (std::nothrow) slot_chunk();
  if (chunk == nullptr) return &g_sink_chunk;
  // ORDERING: (1) release-store; pairs with the acquire-load (6) in add_live_locked: a reader
  // that sees the pointer sees the chunk's zero-initialized slots.
  block->chunks[index].store(chunk, std::memory_order_release);
  return chunk;
}

void sum_slots(std::uint32_t first, std::uint32_t count, std::uint64_t* out) {
  registry::global().sum(first, count, out);
}

registration::registration(std::string_view name, std::string_view help, metric_kind kind) {
  const auto [id, first] = registry::global().add(name, help, kind);
  id_ = id;
  first_slot_ = first;
}

registration::~registration() { registry::global().remove(id_); }

snapshot collect(std::string_view prefix) {
  std::vector<entry> entries = registry::global().collect(prefix);
  std::ranges::sort(entries, {}, &entry::name);
  return snapshot(std::move(entries));
}

}  // namespace detail

// ---- histogram's slow-path readers --------------------------------------------------------

std::uint64_t histogram::count() const {
  std::array<std::uint64_t, histogram_buckets> v{};
  detail::sum_slots(reg_.first_slot(), histogram_buckets, v.data());
  return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

std::uint64_t histogram::sum() const {
  std::uint64_t v = 0;
  detail::sum_slots(reg_.first_slot() + histogram_buckets, 1, &v);
  return v;
}

// ---- snapshot -----------------------------------------------------------------------------

namespace {

error merge_error() noexcept { return error(errc::invalid_argument, "metrics::snapshot::merge"); }

bool well_formed(const entry& e) {
  if (!is_valid_name(e.name)) return false;
  switch (e.kind) {
    case metric_kind::counter:
    case metric_kind::gauge: return e.buckets.empty();
    case metric_kind::histogram:
      return e.buckets.size() == histogram_buckets &&
             e.total == std::accumulate(e.buckets.begin(), e.buckets.end(), std::uint64_t{0});
  }
  return false;  // not a metric_kind enumerator
}

// Adds `from` into `into` (same name and kind), modulo 2^64.
void combine(entry& into, const entry& from) {
  into.total += from.total;
  into.level = static_cast<std::int64_t>(static_cast<std::uint64_t>(into.level) +
                                         static_cast<std::uint64_t>(from.level));
  into.sum += from.sum;
  for (std::size_t k = 0; k < into.buckets.size() && k < from.buckets.size(); ++k) {
    into.buckets[k] += from.buckets[k];
  }
  if (into.help.empty()) into.help = from.help;
}

template <class Int>
void append_number(std::string& out, Int value) {
  std::array<char, 24> buf{};
  const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.append(buf.data(), result.ptr);
}

void append_help(std::string& out, std::string_view family, std::string_view help) {
  if (help.empty()) return;
  out += "# HELP ";
  out += family;
  out += ' ';
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '\n';
}

void append_histogram(std::string& out, const std::string& family, const entry& e) {
  std::size_t shown = 0;  // buckets [0, shown) get a line: up to the last non-empty one
  for (std::size_t k = 0; k < e.buckets.size(); ++k) {
    if (e.buckets[k] != 0) shown = k + 1;
  }
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k < shown; ++k) {
    cumulative += e.buckets[k];
    out += family;
    out += "_bucket{le=\"";
    append_number(out, bucket_upper_bound(k));
    out += "\"} ";
    append_number(out, cumulative);
    out += '\n';
  }
  out += family;
  out += "_bucket{le=\"+Inf\"} ";
  append_number(out, e.total);
  out += '\n';
  out += family;
  out += "_sum ";
  append_number(out, e.sum);
  out += '\n';
  out += family;
  out += "_count ";
  append_number(out, e.total);
  out += '\n';
}

}  // namespace

const entry* snapshot::find(std::string_view name) const noexcept {
  const auto it = std::ranges::lower_bound(entries_, name, {}, &entry::name);
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

std::expected<void, error> snapshot::merge(const snapshot& other) {
  // Check everything first: all or nothing.
  std::unordered_map<std::string, std::string_view> owner;  // exposed name -> entry name
  for (const entry& mine : entries_) {
    for (std::string& n : detail::exposed_names(mine.name, mine.kind)) {
      owner.emplace(std::move(n), mine.name);
    }
  }
  for (const entry& theirs : other.entries_) {
    if (const entry* mine = find(theirs.name); mine != nullptr) {
      if (mine->kind != theirs.kind) return std::unexpected(merge_error());
      continue;
    }
    for (const std::string& n : detail::exposed_names(theirs.name, theirs.kind)) {
      if (owner.contains(n)) return std::unexpected(merge_error());
    }
  }
  // Both sides are sorted by name: one linear merge into a new vector (strong guarantee).
  std::vector<entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() || (mine != entries_.end() && mine->name < theirs->name)) {
      merged.push_back(*mine++);
    } else if (mine == entries_.end() || theirs->name < mine->name) {
      merged.push_back(*theirs++);
    } else {
      merged.push_back(*mine++);
      combine(merged.back(), *theirs++);
    }
  }
  entries_ = std::move(merged);
  return {};
}

std::expected<void, error> snapshot::merge(const entry& e) {
  if (!well_formed(e)) return std::unexpected(merge_error());
  return merge(snapshot(std::vector<entry>{e}));
}

std::string snapshot::to_text() const {
  std::string out;
  for (const entry& e : entries_) {
    const std::string family = detail::family_name(e.name, e.kind);
    append_help(out, family, e.help);
    out += "# TYPE ";
    out += family;
    out += ' ';
    out += to_string(e.kind);
    out += '\n';
    switch (e.kind) {
      case metric_kind::counter:
        out += family;
        out += ' ';
        append_number(out, e.total);
        out += '\n';
        break;
      case metric_kind::gauge:
        out += family;
        out += ' ';
        append_number(out, e.level);
        out += '\n';
        break;
      case metric_kind::histogram: append_histogram(out, family, e); break;
    }
  }
  return out;
}

}  // namespace ferrite::metrics
