// SPDX-License-Identifier: Apache-2.0
// rt::waker: the handle by which an event source tells the runtime that a suspended task can
// make progress. Two words, like Rust's RawWaker: a data pointer and a pointer to a static
// table of four functions (clone, wake, wake_by_ref, drop), so any event source (a plain
// thread, a signal handler through an eventfd, another runtime, a test) can hold one, copy
// it and wake the task, and the runtime decides what waking means. Copying calls clone,
// destruction calls drop, wake() consumes the waker. Waking a task that is finished, running
// or already woken is the runtime's to make safe and coalesced (its wakers count references
// to the task and test its state word).
//
// ```cpp
// ferrite::rt::waker w = /* from the runtime: current_waker() inside a task */;
// std::thread([w] { produce(); w.wake_by_ref(); }).detach();
// ```
//
// When not to use it: code inside a task awaits the runtime's awaitables, which handle
// wakers themselves; a waker is for bridging event sources the runtime does not know.
#pragma once

#include <utility>

namespace ferrite::rt {

/// The four operations behind a waker, on its data pointer. A table is static (one per kind
/// of task or event source) and outlives every waker that points at it.
///   clone:        a new reference to the same task, as the data pointer of a new waker
///   wake:         wakes the task and releases this reference (the waker is consumed)
///   wake_by_ref:  wakes the task and keeps this reference
///   drop:         releases this reference
/// Every function must be callable from any thread (unless the table's documentation says
/// otherwise) and noexcept.
struct waker_vtable {
  const void* (*clone)(const void* data) noexcept;
  void (*wake)(const void* data) noexcept;
  void (*wake_by_ref)(const void* data) noexcept;
  void (*drop)(const void* data) noexcept;
};

/// A copyable, movable reference to a wakeable task: 16 bytes (data, vtable). A
/// default-constructed or moved-from waker is empty: waking it does nothing.
/// Complexity: each operation is one indirect call into the table (none when empty).
class waker {
 public:
  waker() noexcept = default;
  /// Adopts one reference: `data` and `vtable` as the table's clone made them.
  /// Preconditions: `vtable` is non-null, static, and `data` is what its functions expect.
  waker(const void* data, const waker_vtable* vtable) noexcept : data_(data), vtable_(vtable) {}

  waker(const waker& other) noexcept
      : data_(other.vtable_ != nullptr ? other.vtable_->clone(other.data_) : nullptr),
        vtable_(other.vtable_) {}
  waker(waker&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        vtable_(std::exchange(other.vtable_, nullptr)) {}
  waker& operator=(const waker& other) noexcept {
    if (this != &other) *this = waker(other);
    return *this;
  }
  waker& operator=(waker&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      vtable_ = std::exchange(other.vtable_, nullptr);
    }
    return *this;
  }
  ~waker() { reset(); }

  /// Wakes the task and gives up this reference: the waker is empty afterwards.
  void wake() && noexcept {
    if (vtable_ == nullptr) return;
    const waker_vtable* const v = std::exchange(vtable_, nullptr);
    v->wake(std::exchange(data_, nullptr));
  }
  /// Wakes the task and keeps this reference (for event sources that wake more than once).
  void wake_by_ref() const noexcept {
    if (vtable_ != nullptr) vtable_->wake_by_ref(data_);
  }
  /// Releases the reference now; the waker is empty afterwards.
  void reset() noexcept {
    if (vtable_ == nullptr) return;
    const waker_vtable* const v = std::exchange(vtable_, nullptr);
    v->drop(std::exchange(data_, nullptr));
  }

  [[nodiscard]] bool empty() const noexcept { return vtable_ == nullptr; }
  explicit operator bool() const noexcept { return vtable_ != nullptr; }
  /// Whether both wake the same task through the same table (tokio's will_wake): an awaitable
  /// that already holds an equal waker need not replace it.
  [[nodiscard]] bool will_wake(const waker& other) const noexcept {
    return data_ == other.data_ && vtable_ == other.vtable_;
  }

  /// For runtimes and tests: the raw parts.
  [[nodiscard]] const void* data() const noexcept { return data_; }
  [[nodiscard]] const waker_vtable* vtable() const noexcept { return vtable_; }

 private:
  const void* data_ = nullptr;
  const waker_vtable* vtable_ = nullptr;
};

static_assert(sizeof(waker) == 2 * sizeof(void*), "a waker is two words");

}  // namespace ferrite::rt
