// SPDX-License-Identifier: Apache-2.0
// parker on Linux futexes (FUTEX_WAIT/FUTEX_WAKE, private to the process); in model-checked
// builds on the checker's atomic wait/notify, with a timed park that may time out at once
// (a timeout can expire at any moment: the checker explores the earliest).
//
// ORDERING table:
//  (K1) acquire fetch_sub of state_ (park, park_for: empty -> parked, or notified -> empty):
//       pairs with (K4), so the owner sees what the unparker did before unparking.
//  (K2) acquire CAS notified -> empty (park, after a futex return): pairs with (K4).
//  (K3) acquire exchange -> empty (park_for, after the timed wait): pairs with (K4) when it
//       finds notified.
//  (K4) release exchange -> notified (unpark): publishes the unparker's writes; finding
//       parked means the owner sleeps (or is about to) in the futex, so it is woken.
#include "ferrite/rt/detail/parker.hpp"

#if !FERRITE_CHECK
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>

namespace ferrite::rt::detail {
namespace {

#if FERRITE_CHECK
void futex_wait(atomic<std::int32_t>& word, std::int32_t expected, const timespec* timeout) {
  // ORDERING: a modelled wait; the acquire is (K2)'s / (K3)'s, after it returns.
  if (timeout == nullptr) word.wait(expected, std::memory_order_relaxed);
}
void futex_wake_one(atomic<std::int32_t>& word) { word.notify_one(); }
#else
void futex_wait(atomic<std::int32_t>& word, std::int32_t expected, const timespec* timeout) {
  // SAFETY: the address is a live, aligned 32-bit atomic (std::atomic<int32_t> has the
  // layout of an int32_t); the kernel only compares and sleeps on it.
  syscall(SYS_futex, reinterpret_cast<std::int32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout,
          nullptr, 0);
}

void futex_wake_one(atomic<std::int32_t>& word) {
  // SAFETY: as in futex_wait.
  syscall(SYS_futex, reinterpret_cast<std::int32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}
#endif

}  // namespace

void parker::park() noexcept {
  // ORDERING: (K1) acquire: see the table.
  if (state_.fetch_sub(1, std::memory_order_acquire) == notified) return;  // now empty
  for (;;) {
    futex_wait(state_, parked, nullptr);
    std::int32_t expected = notified;
    // ORDERING: (K2) acquire: see the table.
    if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    // A spurious futex return: still parked.
  }
}

bool parker::park_for(std::chrono::nanoseconds timeout) noexcept {
  // ORDERING: (K1) acquire: see the table.
  if (state_.fetch_sub(1, std::memory_order_acquire) == notified) return true;
  if (timeout > std::chrono::nanoseconds::zero()) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const timespec ts{static_cast<std::time_t>(secs.count()),
                      static_cast<long>((timeout - secs).count())};
    futex_wait(state_, parked, &ts);
  }
  // ORDERING: (K3) acquire: see the table.
  return state_.exchange(empty, std::memory_order_acquire) == notified;
}

void parker::unpark() noexcept {
  // ORDERING: (K4) release: see the table.
  if (state_.exchange(notified, std::memory_order_release) == parked) futex_wake_one(state_);
}

}  // namespace ferrite::rt::detail
