// SPDX-License-Identifier: Apache-2.0
// The bodies behind hazard_pointer.hpp: record acquisition, the default domain's thread-local
// state (record cache, retired list, thread-exit hand-off), the scan (heavy fence, hazard set,
// partition, reclaim) and the user domains' shared retired list. Included at the bottom of
// hazard_pointer.hpp; not a public header.
//
// Orderings: every atomic operation has one label, numbered in reading order: (P1)-(P5) in
// hazard_pointer.hpp (the reader's side), (H1)-(H22) here.
//  (P1)  acquire load of the source (protect): synchronizes-with the release store or CAS
//        that published the pointer; on the slow path only a guess, validated by (P3).
//  (P2)  light fence (try_protect): pairs with the heavy fence (H20); either the scan's load
//        (H22) sees the store (P4), or the load (P3) sees the unlink that preceded the retire.
//  (P3)  acquire load of the source (validation): as (P1).
//  (P4)  release store of the record's pointer (publish): read by the scan's acquire load (H22).
//  (P5)  release store of null (clear): read by (H22).
//  (H1)  relaxed peek at the shared retired list (scan): the exchange (H18) acquires it.
//  (H2)  release store of active (thread exit frees cached records): synchronizes-with the
//        acquire CAS (H11) of the record's next owner and the destructor's load (H5).
//  (H3)  release store of active (reset_record): as (H2).
//  (H4)  acquire load of the record list (destructor): synchronizes-with the CAS (H13).
//  (H5)  acquire load of active (destructor): synchronizes-with (H2, H3).
//  (H6)  acquire exchange of the shared retired list (destructor): synchronizes-with (H17).
//  (H7)  relaxed load of the record count (H14): sizes thresholds and tables only.
//  (H8)  relaxed load of the shared retired count (H15, H19): decides when to scan.
//  (H9)  acquire load of the record list (acquire_record): synchronizes-with (H13).
//  (H10) relaxed pre-check of active: a hint; the CAS (H11) decides.
//  (H11) acquire CAS of active (take a free record): synchronizes-with (H2, H3).
//  (H12) relaxed load of the record list head: validated by the CAS (H13).
//  (H13) release CAS of the record list head (publish a record): read by (H4, H9, H21).
//  (H14) relaxed increment of the record count.
//  (H15) relaxed increment of the shared retired count, before the push (H17).
//  (H16) relaxed load of the shared retired list head: validated by the CAS (H17).
//  (H17) release CAS of the shared retired list head (push): synchronizes-with (H6, H18).
//  (H18) acquire exchange of the shared retired list (take): synchronizes-with (H17).
//  (H19) relaxed decrement of the shared retired count, after the take (H18).
//  (H20) heavy fence (scan): pairs with the light fence (P2) of every try_protect.
//  (H21) acquire load of the record list (scan): synchronizes-with (H13).
//  (H22) acquire load of each record's pointer (scan): synchronizes-with (P4, P5).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "ferrite/sync/hazard_pointer.hpp"

namespace ferrite::sync {
namespace detail {

/// Records a thread of the default domain keeps for its next make_hazard_pointer().
inline constexpr std::uint32_t hp_cache_size = 8;

/// Thread-local state needs real threads: model-checked builds run threads as fibers sharing
/// one OS thread, so there the default domain behaves like a user domain (shared list only).
inline constexpr bool hp_thread_local_state = FERRITE_CHECK == 0;

/// The default domain's per-thread state. Trivially destructible and constant-initialized,
/// so reaching it is one TLS offset (no init guard); the exit hook is a separate object
/// registered the first time the thread stores something here.
struct hp_thread_state {
  hp_record* cache[hp_cache_size];
  std::uint32_t cached;
  bool hooked;  // the exit hook is registered
  bool exited;  // the exit hook ran: retire and release go to the domain directly
  hp_obj* retired;
  std::size_t retired_count;
};
inline thread_local constinit hp_thread_state hp_tls{};

/// A set of protected addresses built by a scan: open addressing, linear probing, load factor
/// <= 1/2. A scan of H records builds a table of bit_ceil(2H + 18) slots (at most half full,
/// with room for 9 records created while the scan walks). The inline table has 512 slots (4 KiB
/// of stack), so up to 247 hazard pointers fit it (2 * 247 + 18 = 512; 248 need 1024 slots);
/// beyond that it allocates, and if that fails the set is invalid and the scan reclaims
/// nothing (safe).
class hp_hazard_set {
 public:
  /// Slots of the inline table.
  static constexpr std::size_t inline_slots = 512;
  /// The most records whose table fits the inline one (checked below).
  static constexpr std::size_t inline_records = 247;

  /// Slots of the table for a scan of `records` records.
  static constexpr std::size_t slots_for(std::size_t records) noexcept {
    return std::bit_ceil(2 * records + 2 + 16);
  }

  explicit hp_hazard_set(std::size_t records) noexcept {
    const std::size_t cap = slots_for(records);
    if (cap <= inline_slots) {
      slots_ = inline_;
    } else {
      // SAFETY: a nothrow array new owned by heap_; on failure slots_ stays null and valid()
      // tells the caller the set could not be built.
      heap_.reset(new (std::nothrow) const void*[cap]);
      slots_ = heap_.get();
    }
    if (slots_ == nullptr) return;
    cap_ = cap;
    shift_ = 64 - std::countr_zero(cap);
    // SAFETY: slots_ points at cap_ elements (the inline table or the allocation above).
    for (std::size_t i = 0; i < cap_; ++i) slots_[i] = nullptr;
  }
  hp_hazard_set(const hp_hazard_set&) = delete;
  hp_hazard_set& operator=(const hp_hazard_set&) = delete;

  [[nodiscard]] bool valid() const noexcept { return slots_ != nullptr; }

  /// Adds `p` (non-null). False when the table is at its load limit (more records appeared
  /// than the size it was built for): the caller then treats everything as protected.
  bool insert(const void* p) noexcept {
    std::size_t i = home(p);
    for (;; i = (i + 1) & (cap_ - 1)) {
      // SAFETY: i < cap_ (masked).
      if (slots_[i] == p) return true;
      if (slots_[i] == nullptr) break;
    }
    if (2 * (size_ + 1) > cap_) return false;
    slots_[i] = p;
    ++size_;
    return true;
  }

  [[nodiscard]] bool contains(const void* p) const noexcept {
    for (std::size_t i = home(p);; i = (i + 1) & (cap_ - 1)) {
      // SAFETY: i < cap_ (masked); at least half the table is empty, so the probe ends.
      if (slots_[i] == p) return true;
      if (slots_[i] == nullptr) return false;
    }
  }

 private:
  [[nodiscard]] std::size_t home(const void* p) const noexcept {
    // SAFETY: the address is only hashed, never turned back into a pointer.
    const auto bits = reinterpret_cast<std::uintptr_t>(p);
    return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  const void* inline_[inline_slots];
  std::unique_ptr<const void*[]> heap_;
  const void** slots_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t size_ = 0;
  int shift_ = 64;
};
static_assert(hp_hazard_set::slots_for(hp_hazard_set::inline_records) <=
                      hp_hazard_set::inline_slots &&
                  hp_hazard_set::slots_for(hp_hazard_set::inline_records + 1) >
                      hp_hazard_set::inline_slots,
              "hp_hazard_set: inline_records is the largest record count of an inline table");

/// The default domain's thread-local operations (a friend of the domain and of hp_obj).
struct hp_thread {
  /// Registers the exit hook of the calling thread (once).
  static void hook() noexcept {
    struct exit_hook {
      exit_hook() noexcept = default;
      exit_hook(const exit_hook&) = delete;
      exit_hook& operator=(const exit_hook&) = delete;
      ~exit_hook() { hp_thread::on_exit(); }
    };
    // Constructed, and its destructor registered, the first time control passes here.
    static thread_local exit_hook hook_object;
    static_cast<void>(&hook_object);
    hp_tls.hooked = true;
  }

  static hp_record* cache_pop() noexcept {
    hp_thread_state& t = hp_tls;
    return t.cached != 0 ? t.cache[--t.cached] : nullptr;
  }

  static bool cache_push(hp_record* rec) noexcept {
    hp_thread_state& t = hp_tls;
    if (t.exited || t.cached == hp_cache_size) return false;
    if (!t.hooked) hook();
    t.cache[t.cached++] = rec;
    return true;
  }

  /// Puts `obj` on the calling thread's list; scans when the list reaches the threshold.
  /// False when the thread is exiting (the caller uses the shared list instead).
  static bool retire(hazard_pointer_domain& domain, hp_obj* obj) noexcept {
    hp_thread_state& t = hp_tls;
    if (t.exited) return false;
    if (!t.hooked) hook();
    obj->retired_next_ = t.retired;
    t.retired = obj;
    if (++t.retired_count >= domain.retire_threshold()) scan(domain);
    return true;
  }

  /// Scans the calling thread's list together with the domain's shared list (the lists of
  /// exited threads), and keeps the survivors on the thread's list.
  static void scan(hazard_pointer_domain& domain) noexcept {
    hp_thread_state& t = hp_tls;
    hp_list work{t.retired, nullptr, t.retired_count};
    t.retired = nullptr;
    t.retired_count = 0;
    // ORDERING: (H1) relaxed peek at (H17); (H18) in take_shared acquires what is there.
    if (domain.retired_.load(std::memory_order_relaxed) != nullptr) {
      const hp_list shared = domain.take_shared();
      if (shared.head != nullptr) {
        shared.tail->retired_next_ = work.head;
        work.head = shared.head;
        work.size += shared.size;
      }
    }
    if (work.head == nullptr) return;
    const hp_list kept = domain.reclaim_unprotected(work.head);
    if (kept.head != nullptr) {
      // Deleters run by the scan may have retired more objects meanwhile: append to those.
      kept.tail->retired_next_ = t.retired;
      t.retired = kept.head;
      t.retired_count += kept.size;
    }
  }

  /// Thread exit: cached records go back to the domain, retired objects to its shared list.
  static void on_exit() noexcept {
    hp_thread_state& t = hp_tls;
    t.exited = true;
    while (t.cached != 0) {
      // ORDERING: (H2) release; pairs with the acquire CAS (H11) of the record's next owner.
      t.cache[--t.cached]->active.store(false, std::memory_order_release);
    }
    if (t.retired == nullptr) return;
    hp_list list{t.retired, t.retired, t.retired_count};
    while (list.tail->retired_next_ != nullptr) list.tail = list.tail->retired_next_;
    t.retired = nullptr;
    t.retired_count = 0;
    hazard_pointer_domain& domain = hazard_pointer_default_domain();
    domain.push_shared(list);
    if (domain.shared_retired_count() >= domain.retire_threshold()) domain.reclaim_shared();
  }
};

/// Storage of the default domain: constant-initialized, never destroyed.
union hp_default_domain_storage {
  constexpr hp_default_domain_storage() noexcept : domain(true) {}
  ~hp_default_domain_storage() {}
  hp_default_domain_storage(const hp_default_domain_storage&) = delete;
  hp_default_domain_storage& operator=(const hp_default_domain_storage&) = delete;
  hazard_pointer_domain domain;
};

#if !FERRITE_CHECK
inline constinit hp_default_domain_storage hp_default_domain;
#endif

}  // namespace detail

inline hazard_pointer_domain& hazard_pointer_default_domain() noexcept {
#if FERRITE_CHECK
  // The checker's atomics need not be constexpr-constructible: build it on first use.
  static detail::hp_default_domain_storage* storage = new detail::hp_default_domain_storage;
  return storage->domain;
#else
  return detail::hp_default_domain.domain;
#endif
}

inline hazard_pointer make_hazard_pointer(hazard_pointer_domain& domain) {
  return hazard_pointer(domain.acquire_record());
}

inline void hazard_pointer::reset_record() noexcept {
  if (rec_ == nullptr) return;
  clear();  // (P5): a cached or freed record protects nothing
  if constexpr (detail::hp_thread_local_state) {
    if (rec_->in_default_domain && detail::hp_thread::cache_push(rec_)) {
      rec_ = nullptr;
      return;
    }
  }
  // ORDERING: (H3) release; pairs with the acquire CAS (H11) in acquire_record: our last store
  // to ptr is ordered before the next owner's first.
  rec_->active.store(false, std::memory_order_release);
  rec_ = nullptr;
}

inline hazard_pointer_domain::~hazard_pointer_domain() {
  // ORDERING: (H4) acquire; pairs with (H13). The destructor's caller guarantees every use of
  // the domain happens-before it; the acquire loads below are for the record links.
  detail::hp_record* const records = records_.load(std::memory_order_acquire);
  for (const detail::hp_record* r = records; r != nullptr; r = r->next) {
    // ORDERING: (H5) acquire; pairs with (H2)/(H3) of the last owner.
    FERRITE_ASSERT(!r->active.load(std::memory_order_acquire),
                   "hazard_pointer_domain destroyed while one of its hazard pointers is alive");
  }
  // Deleters may retire more objects to this domain: loop until the list stays empty.
  for (;;) {
    // ORDERING: (H6) acquire exchange; pairs with the release CAS (H17) of every retire.
    detail::hp_obj* obj = retired_.exchange(nullptr, std::memory_order_acquire);
    if (obj == nullptr) break;
    while (obj != nullptr) {
      detail::hp_obj* const next = obj->retired_next_;
      obj->reclaim_(obj);
      obj = next;
    }
  }
  for (detail::hp_record* r = records; r != nullptr;) {
    detail::hp_record* const next = r->next;
    delete r;
    r = next;
  }
}

inline std::size_t hazard_pointer_domain::hazard_pointer_count() const noexcept {
  // ORDERING: (H7) relaxed; a size used for thresholds and table sizes, never to reach records.
  return record_count_.load(std::memory_order_relaxed);
}

inline std::size_t hazard_pointer_domain::retire_threshold() const noexcept {
  const std::size_t twice = 2 * hazard_pointer_count();
  return twice > min_retire_threshold ? twice : min_retire_threshold;
}

inline std::size_t hazard_pointer_domain::shared_retired_count() const noexcept {
  // ORDERING: (H8) relaxed; only decides when to scan.
  return retired_count_.load(std::memory_order_relaxed);
}

inline detail::hp_record* hazard_pointer_domain::acquire_record() {
  if constexpr (detail::hp_thread_local_state) {
    if (is_default_) {
      if (detail::hp_record* r = detail::hp_thread::cache_pop()) return r;
    }
  }
  // ORDERING: (H9) acquire; pairs with the release CAS (H13) that published each record, so
  // its next and in_default_domain are visible.
  for (detail::hp_record* r = records_.load(std::memory_order_acquire); r != nullptr; r = r->next) {
    // ORDERING: (H10) relaxed pre-check, a hint only: the CAS (H11) decides.
    if (r->active.load(std::memory_order_relaxed)) continue;
    bool expected = false;
    // ORDERING: (H11) acquire CAS; pairs with the release store (H2)/(H3) of the previous
    // owner.
    if (r->active.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
      return r;
    }
  }
  auto* const rec = new detail::hp_record;  // active from birth
  rec->in_default_domain = is_default_;
  // ORDERING: (H12) relaxed; the CAS (H13) below validates it.
  detail::hp_record* head = records_.load(std::memory_order_relaxed);
  do {
    rec->next = head;
    // ORDERING: (H13) release CAS; pairs with the acquire loads (H4, H9, H21): walkers see
    // next.
  } while (!records_.compare_exchange_weak(head, rec, std::memory_order_release,
                                           std::memory_order_relaxed));
  // ORDERING: (H14) relaxed; see hazard_pointer_count() (H7).
  record_count_.fetch_add(1, std::memory_order_relaxed);
  return rec;
}

inline void hazard_pointer_domain::retire(detail::hp_obj* obj) noexcept {
  if constexpr (detail::hp_thread_local_state) {
    if (is_default_ && detail::hp_thread::retire(*this, obj)) return;
  }
  push_shared(detail::hp_list{obj, obj, 1});
  if (shared_retired_count() >= retire_threshold()) reclaim_shared();
}

inline void hazard_pointer_domain::push_shared(detail::hp_list list) noexcept {
  // ORDERING: (H15) relaxed; counted before the push so that a scanner that takes the list
  // first never subtracts more than was added.
  retired_count_.fetch_add(list.size, std::memory_order_relaxed);
  // ORDERING: (H16) relaxed; the CAS (H17) below validates it.
  detail::hp_obj* head = retired_.load(std::memory_order_relaxed);
  do {
    list.tail->retired_next_ = head;
    // ORDERING: (H17) release CAS; pairs with the acquire exchanges (H6, H18): the taker sees the
    // links, and every unlink that preceded the retires happens-before its scan.
  } while (!retired_.compare_exchange_weak(head, list.head, std::memory_order_release,
                                           std::memory_order_relaxed));
}

inline detail::hp_list hazard_pointer_domain::take_shared() noexcept {
  // ORDERING: (H18) acquire exchange; pairs with the release CAS (H17) of each push.
  detail::hp_list list{retired_.exchange(nullptr, std::memory_order_acquire), nullptr, 0};
  for (detail::hp_obj* o = list.head; o != nullptr; o = o->retired_next_) {
    list.tail = o;
    ++list.size;
  }
  // ORDERING: (H19) relaxed; a count, see (H15).
  if (list.size != 0)
    retired_count_.fetch_add(std::size_t{0} - list.size, std::memory_order_relaxed);  // modular
  return list;
}

inline void hazard_pointer_domain::reclaim_shared() noexcept {
  const detail::hp_list list = take_shared();
  if (list.head == nullptr) return;
  const detail::hp_list kept = reclaim_unprotected(list.head);
  if (kept.head != nullptr) push_shared(kept);
}

inline detail::hp_list hazard_pointer_domain::reclaim_unprotected(detail::hp_obj* list) noexcept {
  // ORDERING: (H20) heavy half of the asymmetric seq_cst fence pair; pairs with the light fence
  // (P2) of every try_protect. Every object in `list` was unlinked before it was retired, and
  // the retire happens-before this point; so each reader either published its hazard pointer
  // before this fence (the loads (H22) below see it) or validates after it (and sees the
  // unlink).
  asymmetric_heavy_fence();
  detail::hp_hazard_set hazards(hazard_pointer_count());
  bool complete = hazards.valid();
  // ORDERING: (H21) acquire; pairs with the release CAS (H13).
  for (const detail::hp_record* r = records_.load(std::memory_order_acquire);
       complete && r != nullptr; r = r->next) {
    // ORDERING: (H22) acquire; pairs with the release stores (P4)/(P5): a reader's accesses to an
    // object it protected earlier happen-before the reclamation allowed by a later value.
    const void* const p = r->ptr.load(std::memory_order_acquire);
    if (p != nullptr) complete = hazards.insert(p);
  }
  detail::hp_list kept;
  detail::hp_obj* doomed = nullptr;
  for (detail::hp_obj* o = list; o != nullptr;) {
    detail::hp_obj* const next = o->retired_next_;
    if (!complete || hazards.contains(o)) {
      o->retired_next_ = kept.head;
      if (kept.head == nullptr) kept.tail = o;
      kept.head = o;
      ++kept.size;
    } else {
      o->retired_next_ = doomed;
      doomed = o;
    }
    o = next;
  }
  while (doomed != nullptr) {
    detail::hp_obj* const next = doomed->retired_next_;
    doomed->reclaim_(doomed);
    doomed = next;
  }
  return kept;
}

inline void hazard_pointer_domain::cleanup() noexcept {
  if constexpr (detail::hp_thread_local_state) {
    if (is_default_ && !detail::hp_tls.exited) {
      detail::hp_thread::scan(*this);  // the calling thread's list and the shared list
      return;
    }
  }
  reclaim_shared();
}

}  // namespace ferrite::sync
