// SPDX-License-Identifier: Apache-2.0
// Hazard pointers in the shape of C++26's <hazard_pointer> (P2530R3, Michael & Wong et al.):
// a reader publishes the address it is about to dereference in a hazard pointer, and a writer
// that has unlinked an object retires it instead of deleting it; the object is reclaimed by a
// later scan that finds no hazard pointer holding it. Implements Maged M. Michael, "Hazard
// Pointers: Safe Memory Reclamation for Lock-Free Objects" (IEEE TPDS 2004), with folly's
// refinements (asymmetric fences, per-thread record cache) and user domains.
//
// ```cpp
// struct node : ferrite::sync::hazard_pointer_obj_base<node> { int value; node* next; };
// ferrite::atomic<node*> head;
//
// ferrite::sync::hazard_pointer h = ferrite::sync::make_hazard_pointer();
// node* n = h.protect(head);        // n cannot be reclaimed until h is reset or destroyed
// if (n != nullptr) use(n->value);
// ...
// old->retire();                     // by the thread that unlinked `old`
// ```
//
// When not to use it: read-mostly data with short critical sections and many objects read per
// operation is cheaper under epochs (ferrite/sync/epoch.hpp: one pin covers every object).
// Hazard pointers win when readers may stall (garbage stays bounded) or hold objects long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"
#include "ferrite/sync/asymmetric_fence.hpp"

namespace ferrite::sync {

class hazard_pointer;
class hazard_pointer_domain;
template <class T, class D>
class hazard_pointer_obj_base;

inline hazard_pointer_domain& hazard_pointer_default_domain() noexcept;
[[nodiscard]] inline hazard_pointer make_hazard_pointer(hazard_pointer_domain& domain);

namespace detail {
struct hp_thread;
union hp_default_domain_storage;

/// The type-independent part of every hazard-protectable object: the link of a retired list
/// and the reclaim function that retire() stores. A hazard pointer protecting a `T*` holds the
/// address of this base subobject, so that a scan can compare it with retired objects.
class hp_obj {
 protected:
  hp_obj() noexcept = default;
  // A copy is a new object that has not been retired: it never copies the links.
  hp_obj(const hp_obj& /*other*/) noexcept {}
  // Assignment copies the value, never the retirement state: the links stay this object's
  // (self-assignment included, hence nothing to special-case).
  hp_obj& operator=(const hp_obj& other) noexcept {  // NOLINT(bugprone-unhandled-self-assignment)
    static_cast<void>(other);
    return *this;
  }
  ~hp_obj() = default;

 private:
  friend class sync::hazard_pointer_domain;
  template <class T, class D>
  friend class sync::hazard_pointer_obj_base;
  friend struct hp_thread;

  // Written by the retiring thread before the object reaches a retired list, then read only
  // by the one thread that owns that list (hand-offs through the domain's shared list are
  // release/acquire). Immutable while the object is reachable by readers.
  hp_obj* retired_next_ = nullptr;
  void (*reclaim_)(hp_obj*) noexcept = nullptr;
};

/// A singly linked run of retired objects (through hp_obj::retired_next_), with its length.
struct hp_list {
  hp_obj* head = nullptr;
  hp_obj* tail = nullptr;
  std::size_t size = 0;
};

/// One hazard pointer slot. Records are never freed before their domain: a scan may read any
/// record at any time. Cache-line aligned: the owner writes `ptr` on every protect.
struct alignas(cache_line_size) hp_record {
  /// The protected address (an hp_obj*), or nullptr. Written only by the owner.
  atomic<const void*> ptr{nullptr};
  /// True while owned: by a hazard_pointer, or by a thread's cache (default domain).
  atomic<bool> active{true};
  /// Next record of the domain; set before the record is published, immutable after.
  hp_record* next = nullptr;
  /// Whether the record belongs to the default domain (and may go to a thread cache).
  bool in_default_domain = false;
};

/// Deleter storage in a hazard-protectable object: nothing for an empty, default-constructible
/// deleter (std::default_delete), raw storage filled by retire() otherwise.
template <class D, bool Stateless = std::is_empty_v<D> && std::is_default_constructible_v<D>>
struct deleter_slot {
  void put(D&& /*d*/) noexcept {}
  D take() noexcept { return D{}; }
};
template <class D>
struct deleter_slot<D, false> {
  deleter_slot() noexcept {}
  // A copied object has not been retired: its slot is empty too.
  deleter_slot(const deleter_slot& /*other*/) noexcept {}
  deleter_slot& operator=(const deleter_slot& /*other*/) noexcept { return *this; }
  ~deleter_slot() {}
  void put(D&& d) noexcept {
    // SAFETY: the slot is empty (an object is retired once) and sized/aligned for D.
    ::new (static_cast<void*>(&u_.d)) D(std::move(d));
  }
  D take() noexcept {
    D d(std::move(u_.d));
    u_.d.~D();
    return d;
  }
  union storage {
    storage() noexcept {}
    ~storage() {}
    D d;
  } u_;
};

}  // namespace detail

/// A set of hazard pointers and of the objects retired against them. Objects retired to a
/// domain are protected only by hazard pointers of the same domain.
///
/// Retired lists: the default domain keeps one retired list per thread (no atomic operation on
/// retire) and a shared lock-free list that receives the lists of exited threads; a user domain
/// keeps only the shared list (retire is one CAS) and has no thread-local state at all, which
/// is also what makes it usable from fibers and under the model checker. A list is scanned
/// when it reaches retire_threshold() = max(512, 2H) objects, H being the domain's number of
/// hazard pointer records; a scan keeps at most H objects (one per record), so it reclaims at
/// least half of what it looked at: reclamation is amortized O(1) per retire, and each list
/// holds fewer than retire_threshold() objects whenever no scan is running.
///
/// Records: a lock-free push-only list; a record is taken with a CAS on its `active` flag and
/// given back by clearing it; records live until the domain is destroyed. The default domain
/// additionally caches up to 8 records per thread, so make_hazard_pointer() and ~hazard_pointer
/// are a thread-local push/pop in the steady state.
///
/// Non-copyable and non-movable: records and retired objects point at it.
class hazard_pointer_domain {
 public:
  /// An empty user domain. O(1); allocates nothing until used.
  constexpr hazard_pointer_domain() noexcept : hazard_pointer_domain(false) {}
  /// Reclaims every object retired to this domain and frees its records.
  /// Preconditions (FERRITE_ASSERT): no hazard_pointer of this domain is alive, and no thread
  /// still retires to it. Blocking only in the deleters it runs; O(retired + H).
  ~hazard_pointer_domain();

  hazard_pointer_domain(const hazard_pointer_domain&) = delete;
  hazard_pointer_domain& operator=(const hazard_pointer_domain&) = delete;

  /// Reclaims now every object retired to this domain that no hazard pointer protects and that
  /// is reachable from the calling thread: the domain's shared list, plus (default domain) the
  /// calling thread's own list. Lists of other live threads are left to their scans.
  /// Complexity: O(retired + H), one heavy fence. Progress: lock-free.
  void cleanup() noexcept;

  /// The retire threshold never goes below this many objects: a scan costs one heavy fence
  /// (a membarrier syscall), which this amortizes over at least that many retires.
  static constexpr std::size_t min_retire_threshold = 512;

  /// H: hazard pointer records created so far (in use, cached or free). Wait-free.
  [[nodiscard]] std::size_t hazard_pointer_count() const noexcept;
  /// max(min_retire_threshold, 2H): a retired list is scanned when it holds this many
  /// objects. Wait-free.
  [[nodiscard]] std::size_t retire_threshold() const noexcept;
  /// Objects on the shared retired list (approximate while threads retire). Wait-free.
  [[nodiscard]] std::size_t shared_retired_count() const noexcept;

 private:
  friend class hazard_pointer;
  friend hazard_pointer make_hazard_pointer(hazard_pointer_domain& domain);
  friend hazard_pointer_domain& hazard_pointer_default_domain() noexcept;
  friend struct detail::hp_thread;
  template <class T, class D>
  friend class hazard_pointer_obj_base;

  constexpr explicit hazard_pointer_domain(bool is_default) noexcept : is_default_(is_default) {}

  friend union detail::hp_default_domain_storage;

  detail::hp_record* acquire_record();
  void retire(detail::hp_obj* obj) noexcept;
  void push_shared(detail::hp_list list) noexcept;
  detail::hp_list take_shared() noexcept;
  void reclaim_shared() noexcept;
  detail::hp_list reclaim_unprotected(detail::hp_obj* list) noexcept;

  // Records: written on make_hazard_pointer's slow path, walked by every scan.
  atomic<detail::hp_record*> records_{nullptr};
  atomic<std::size_t> record_count_{0};
  // The shared retired list: hit by every retire of a user domain, so on its own line.
  alignas(cache_line_size) atomic<detail::hp_obj*> retired_{nullptr};
  atomic<std::size_t> retired_count_{0};
  bool is_default_;
};

/// The default domain: the one make_hazard_pointer() and retire() use when given none. It is
/// never destroyed (threads may retire into it during static destruction); objects still
/// retired to it at process exit are not reclaimed. Wait-free.
inline hazard_pointer_domain& hazard_pointer_default_domain() noexcept;

/// A single-owner hazard pointer: either empty, or owning one record of a domain through which
/// it protects at most one object at a time. Move-only; not thread-safe (one thread uses it at a
/// time, though it may be handed to another thread).
class hazard_pointer {
 public:
  /// An empty hazard pointer (owns no record). Wait-free.
  hazard_pointer() noexcept = default;
  hazard_pointer(hazard_pointer&& other) noexcept
      : rec_(std::exchange(other.rec_, nullptr)), held_(std::exchange(other.held_, nullptr)) {}
  hazard_pointer& operator=(hazard_pointer&& other) noexcept {
    if (this != &other) {
      reset_record();
      rec_ = std::exchange(other.rec_, nullptr);
      held_ = std::exchange(other.held_, nullptr);
    }
    return *this;
  }
  hazard_pointer(const hazard_pointer&) = delete;
  hazard_pointer& operator=(const hazard_pointer&) = delete;
  /// Clears the protection and gives the record back (to the thread cache for the default
  /// domain). Wait-free.
  ~hazard_pointer() { reset_record(); }

  /// True when this object owns no record (default-constructed or moved from). Wait-free.
  [[nodiscard]] bool empty() const noexcept { return rec_ == nullptr; }

  /// Loads `src` and protects the loaded pointer: on return the object it points to (if any)
  /// will not be reclaimed until this hazard pointer protects something else, is reset or is
  /// destroyed. Replaces any previous protection.
  /// Preconditions: !empty(); T derives from hazard_pointer_obj_base<T, D>; objects stored in
  /// `src` are retired (to this hazard pointer's domain) only after being unlinked from it.
  /// Complexity: two loads when this hazard pointer already protects the pointer `src` holds
  /// (re-reading a hot pointer); otherwise O(1) per attempt, two loads and a store, retrying
  /// only when `src` changed in between (some other thread progressed). Progress: lock-free.
  template <class T>
  [[nodiscard]] T* protect(const atomic<T*>& src) noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "hazard_pointer: protect on an empty hazard pointer");
    // ORDERING: (P1) acquire; pairs with the release store or CAS that published `ptr` into
    // `src`. On the slow path it is only a guess, validated by (P3) in try_protect.
    T* ptr = src.load(std::memory_order_acquire);
    // Already protected (the fast path): the record has held this address continuously since a
    // protect that validated it, so every scan since then has seen it and the object at `ptr`
    // cannot have been reclaimed (nor another allocated at its address); `src` holding it now means
    // it is still that live object. No store, no fence, no re-validation needed. (A null
    // `src` with a cleared record returns here too: nothing to protect, nothing to replace.)
    // `held_` is this object's copy of what the record holds (only this object writes it).
    if (held_ == to_key(ptr)) {
      return ptr;
    }
    while (!try_protect_unchecked(ptr, src)) {
    }
    return ptr;
  }

  /// One protection attempt: protects `ptr`, then reloads `src` into `ptr`; returns true when
  /// they agree (the protection is valid), otherwise clears the protection and returns false
  /// with `ptr` holding the fresh value. Preconditions: as protect(). Progress: wait-free.
  template <class T>
  bool try_protect(T*& ptr, const atomic<T*>& src) noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "hazard_pointer: try_protect on an empty hazard pointer");
    return try_protect_unchecked(ptr, src);
  }

  /// Protects `ptr` (possibly null) without validation: the caller knows it is not retired yet
  /// (say, it owns a protection on it through another hazard pointer). Wait-free.
  template <class T>
  void reset_protection(const T* ptr) noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "hazard_pointer: protect/reset on an empty hazard pointer");
    publish(to_key(ptr));
  }

  /// Clears the protection. Wait-free.
  void reset_protection(std::nullptr_t /*null*/ = nullptr) noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "hazard_pointer: reset on an empty hazard pointer");
    clear();
  }

  /// Exchanges records and protections (hand-over-hand walks: protect the successor with
  /// `nxt`, then `cur.swap(nxt)`). Wait-free, no atomic operation.
  void swap(hazard_pointer& other) noexcept {
    std::swap(rec_, other.rec_);
#if defined(__GNUC__)
    // Codegen only: keeps GCC from packing the two member swaps into 16-byte vector moves, a
    // store-to-load round trip the next protect's record store would wait for in a walk.
    asm("" : "+m"(rec_), "+m"(other.rec_));
#endif
    std::swap(held_, other.held_);
  }
  friend void swap(hazard_pointer& a, hazard_pointer& b) noexcept { a.swap(b); }

 private:
  friend hazard_pointer make_hazard_pointer(hazard_pointer_domain& domain);
  explicit hazard_pointer(detail::hp_record* rec) noexcept : rec_(rec) {}

  template <class T>
  static const void* to_key(const T* ptr) noexcept {
    static_assert(std::is_base_of_v<detail::hp_obj, T>,
                  "hazard_pointer: T must derive from hazard_pointer_obj_base<T, D> (the scan "
                  "compares protected addresses with retired objects' base subobjects)");
    return static_cast<const detail::hp_obj*>(ptr);
  }

  // The bodies of try_protect and reset_protection, for callers that checked !empty() once.
  template <class T>
  bool try_protect_unchecked(T*& ptr, const atomic<T*>& src) noexcept {
    T* const old = ptr;
    publish(to_key(old));  // (P4)
    // ORDERING: (P2) light half of the asymmetric seq_cst fence pair; pairs with the heavy
    // fence (H20) in hazard_pointer_domain::reclaim_unprotected. Either the scanner's load
    // (H22) sees the store (P4), or the load (P3) below sees the unlink the scanner's retire
    // followed.
    asymmetric_light_fence();
    // ORDERING: (P3) acquire; pairs with the release store or CAS that published `ptr` into
    // `src`, so the object's fields are visible once validated.
    ptr = src.load(std::memory_order_acquire);
    if (old != ptr) [[unlikely]] {
      clear();
      return false;
    }
    return true;
  }

  // The record's pointer is written only through these two (with held_, its copy).
  void publish(const void* key) noexcept {
    // ORDERING: (P4) release; pairs with the scanner's acquire load (H22): everything this
    // thread did with the previously protected object happens-before a scan that sees this.
    rec_->ptr.store(key, std::memory_order_release);
    held_ = key;
  }
  void clear() noexcept {
    // ORDERING: (P5) release; pairs with the scanner's acquire load (H22): the reads of the
    // object that was protected happen-before its reclamation.
    rec_->ptr.store(nullptr, std::memory_order_release);
    held_ = nullptr;
  }

  void reset_record() noexcept;

  detail::hp_record* rec_ = nullptr;
  // The address rec_->ptr holds (publish and clear keep them equal): protect's fast path
  // compares with this copy instead of loading the record.
  const void* held_ = nullptr;
};

/// A hazard pointer of `domain` (the default domain if none). In the default domain, a
/// thread-local record cache makes this a few instructions; otherwise it takes a free record
/// with a CAS or creates one. Throws std::bad_alloc when a record cannot be allocated.
/// Progress: wait-free on a cache hit, lock-free otherwise (plus the allocator).
[[nodiscard]] inline hazard_pointer make_hazard_pointer(
    hazard_pointer_domain& domain = hazard_pointer_default_domain());

/// Base class of hazard-protectable objects (CRTP): `struct node : hazard_pointer_obj_base<node>`.
/// Adds two pointers (retired-list link, reclaim function) and, for a stateful deleter D, D.
template <class T, class D = std::default_delete<T>>
class hazard_pointer_obj_base : public detail::hp_obj {
  static_assert(std::is_nothrow_move_constructible_v<D>,
                "hazard_pointer_obj_base: retire() is noexcept, so D's move must be too");
  // Only T itself can derive from (and construct) its base: CRTP misuse does not compile.
  friend T;

 public:
  /// Hands the object to the default domain: `d(static_cast<T*>(this))` runs once no hazard
  /// pointer of that domain protects it, in whichever thread scans.
  /// Preconditions: the object is unlinked (no new protect can return it), it was not retired
  /// before, and d(p) must not throw. Complexity: amortized O(1) (a scan every
  /// retire_threshold() retires). Progress: wait-free apart from the deleters a scan runs.
  void retire(D d = D()) noexcept { retire(hazard_pointer_default_domain(), std::move(d)); }

  /// As retire(d), to `domain`. Progress: lock-free (one CAS on the shared list).
  void retire(hazard_pointer_domain& domain, D d = D()) noexcept {
    static_assert(std::is_base_of_v<hazard_pointer_obj_base, T>,
                  "T must derive from hazard_pointer_obj_base<T, D>");
    deleter_.put(std::move(d));
    this->reclaim_ = &reclaim;
    domain.retire(this);
  }

 private:
  hazard_pointer_obj_base() noexcept = default;
  hazard_pointer_obj_base(const hazard_pointer_obj_base&) noexcept = default;
  hazard_pointer_obj_base& operator=(const hazard_pointer_obj_base&) noexcept = default;
  ~hazard_pointer_obj_base() = default;

  static void reclaim(detail::hp_obj* obj) noexcept {
    auto* self = static_cast<hazard_pointer_obj_base*>(obj);
    // The deleter lives inside the object it deletes: move it out first.
    D d = self->deleter_.take();
    // SAFETY: retire() is only reachable through a T (static_assert above), so `self` is the
    // hazard_pointer_obj_base subobject of a live T.
    d(static_cast<T*>(self));
  }

  [[no_unique_address]] detail::deleter_slot<D> deleter_;
};

}  // namespace ferrite::sync

#include "ferrite/sync/detail/hazard_pointer_impl.hpp"
