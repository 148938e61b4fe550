// SPDX-License-Identifier: Apache-2.0
// The header of a spawned task: what an executor queues, what wakers and join handles point
// at. One allocation per spawn (from the frame allocator) holds the header and the task; the
// task's own frame is the coroutine's. Not a public header.
//
// Ownership: the header counts references (`refs`): one for the executor while the task is
// not finished, one for the join handle while it lives, one per waker, one per entry in the
// executor's injection queue. The last release destroys the task's frame and frees the
// header.
//
// State: an executor runs its tasks on one thread, so the scheduling state (`flags`) is
// touched by that thread only, without atomics; other threads reach a task only through
// `remote_pending` and the injection queue, and through `refs`.
//
// ORDERING table (labels used in this header and in executor_impl.hpp / local_executor.cpp):
//  (T1) relaxed fetch_add of refs (clone): a new reference is made from an existing one, so
//       the object is alive; nothing is published (as std::shared_ptr's copy).
//  (T2) acq_rel fetch_sub of refs (release): release publishes this reference's last uses;
//       the acquire of the thread that reaches zero synchronizes-with every other release,
//       so the destruction happens after every use (as std::shared_ptr's last release).
//  (T3) release store of finished (the executor, when the task ends or is cancelled): pairs
//       with (T4), so a waker that sees the task finished touches nothing else of it.
//  (T4) acquire load of finished (every wake): a finished task is never scheduled again, and
//       its executor (which may be gone) is not touched.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/sync/intrusive_list.hpp"

namespace ferrite::rt {

class local_executor;

namespace detail {

/// Scheduling flags of a task, owner thread only.
enum task_flag : std::uint8_t {
  task_queued = 1U << 0,     ///< in the executor's ready queue (never twice)
  task_running = 1U << 1,    ///< being polled (never by two threads: there is one)
  task_notified = 1U << 2,   ///< woken while running: requeue after the poll
  task_complete = 1U << 3,   ///< finished, cancelled or destroyed with its executor
  task_cancelled = 1U << 4,  ///< finished because it was aborted (no result)
  task_abort = 1U << 5,      ///< abort requested: cancel at the next poll
};

struct task_header {
  /// Destroys the task's coroutine frame (if still alive) and frees this header.
  using destroy_fn = void (*)(task_header*) noexcept;
  /// Destroys the task's coroutine frame now (abort, executor shutdown); the header stays.
  using drop_frame_fn = void (*)(task_header*) noexcept;

  task_header(local_executor* owner_executor, std::coroutine_handle<> root_frame,
              destroy_fn destroy_self, drop_frame_fn drop_body, std::uint32_t initial_refs) noexcept
      : refs(initial_refs),
        owner(owner_executor),
        root(root_frame),
        leaf(root_frame),
        destroy(destroy_self),
        drop_frame(drop_body) {}
  task_header(const task_header&) = delete;
  task_header& operator=(const task_header&) = delete;

  // Shared with other threads.
  atomic<std::uint32_t> refs;
  atomic<bool> remote_pending{false};         ///< a remote wake is in the injection queue
  atomic<bool> finished{false};               ///< the task ended: wakes are no-ops from now on
  atomic<task_header*> remote_next{nullptr};  ///< the injection queue's link

  // Owner thread only.
  local_executor* owner;
  std::coroutine_handle<> root;  ///< the spawned task's coroutine (its frame is owned here)
  std::coroutine_handle<> leaf;  ///< the innermost coroutine: the one to resume
  destroy_fn destroy;
  drop_frame_fn drop_frame;
  task_header* next_ready = nullptr;  ///< the ready queue's link
  sync::list_hook live_hook;          ///< in the executor's list of unfinished tasks
  /// The task awaiting this one's join handle (same executor), or null. No reference: the
  /// awaiter clears it if it is destroyed before this task finishes (its task cancelled).
  task_header* joiner = nullptr;
  std::uint8_t flags = 0;

  [[nodiscard]] bool has(task_flag f) const noexcept { return (flags & f) != 0; }

  /// Whether the task ended (any thread). A finished task's executor may be gone.
  [[nodiscard]] bool is_finished() const noexcept {
    // ORDERING: (T4) acquire: see the table.
    return finished.load(std::memory_order_acquire);
  }
  void mark_finished() noexcept {
    // ORDERING: (T3) release: see the table.
    finished.store(true, std::memory_order_release);
  }

  void acquire_ref() noexcept {
    // ORDERING: (T1) relaxed: see the table.
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release_ref() noexcept {
    // ORDERING: (T2) acq_rel: see the table.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
  }
};

/// The task being polled on this thread (null outside a poll): where co_await of a task and
/// the runtime's awaitables record the coroutine to resume, and what current_waker() refers
/// to. constinit thread_local: one %fs-relative access, no initialization guard.
inline task_header*& current_task() noexcept {
  static constinit thread_local task_header* polled = nullptr;
  return polled;
}

/// Records `h` as the coroutine to resume when the current task (if any) is next polled.
inline void set_leaf(std::coroutine_handle<> h) noexcept {
  if (task_header* const t = current_task()) t->leaf = h;
}

}  // namespace detail
}  // namespace ferrite::rt
