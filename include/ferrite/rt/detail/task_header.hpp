// SPDX-License-Identifier: Apache-2.0
// The header of a spawned task: what an executor queues, what wakers and join handles point
// at. One allocation per spawn (from the frame allocator) holds the header and the task; the
// task's own frame is the coroutine's. Not a public header.
//
// Ownership: the header counts references (`refs`): one for the executor while the task is
// not finished, one for the join handle while it lives, one per waker, one per entry in a
// local executor's injection queue. The last release destroys the task's frame and frees the
// header.
//
// Two kinds of scheduling state, chosen by the owning executor's kind:
// - A local_executor runs its tasks on one thread, so its scheduling state (`flags`) is
//   touched by that thread only, without atomics; other threads reach a task only through
//   `remote_pending` and the injection queue, and through `refs`.
// - A thread_pool's (and the blocking pool's) tasks are polled by any worker and woken from
//   any thread: their state is the atomic word `state` (pool_state below), and a join waits
//   through `join_waker`. `flags` then only carries the outcome (complete, cancelled), written
//   before the completing RMW of `state` and read after acquiring it.
//
// ORDERING table (labels used in this header and in executor_impl.hpp / local_executor.cpp /
// thread_pool.cpp):
//  (T1) relaxed fetch_add of refs (clone): a new reference is made from an existing one, so
//       the object is alive; nothing is published (as std::shared_ptr's copy).
//  (T2) acq_rel fetch_sub of refs (release): release publishes this reference's last uses;
//       the acquire of the thread that reaches zero synchronizes-with every other release,
//       so the destruction happens after every use (as std::shared_ptr's last release).
//  (T3) release store of finished (the executor, when the task ends or is cancelled): pairs
//       with (T4), so a waker that sees the task finished touches nothing else of it.
//  (T4) acquire load of finished (every wake): a finished task is never scheduled again, and
//       its executor (which may be gone) is not touched.
//  (T5) acquire load of state (notify): a task found scheduled or complete needs nothing.
//  (T6) acq_rel CAS of state setting notified (a wake): release publishes what the waker did
//       before waking to the poll that follows (its (T7) reads this RMW or a later one of
//       the release sequence); acquire orders the waker after the poll it found running.
//  (T7) acq_rel fetch_xor of state in start_poll (Scheduled -> Running): acquire pairs with
//       (T6) and with the previous poll's (T8), so this poll sees the task as the last poll
//       and its wakers left it.
//  (T8) acq_rel fetch_and of state in end_poll (Running -> Idle, or Scheduled again when
//       notified while running): release publishes the poll's writes to the next poll;
//       acquire pairs with the (T6) that set notified.
//  (T9) acq_rel fetch_or of state in complete_pool_task (-> Complete): release publishes the
//       result and `flags` to the joiner's (T10)/(T11)/(T12); acquire pairs with the joiner's
//       (T12), so the completer sees the join waker the joiner stored.
//  (T10) acquire load of state (is it complete?): pairs with (T9).
//  (T11) acquire load of state (register_join): pairs with (T9) when already complete.
//  (T12) acq_rel CAS of state setting join_waiting: release publishes the stored join_waker
//       to (T9); acquire pairs with (T9) when it finds the task complete instead.
//  (T13) acquire load and (T14) acquire CAS of state clearing join_waiting (a joiner that goes
//       away first takes its waker back): pair with (T9) when they find the task complete,
//       and the completer owns the waker then.
//  (T15) acq_rel fetch_or of state setting abort (join_handle::abort, any thread): release
//       publishes the request to the poll that sees it (its (T7)).
//  (T18) seq_cst fetch_add of the foreign-wake count, then (T19) the seq_cst load of finished
//       (a wake from a thread that does not drive the task's executor), against the
//       executor's destruction: (T3) marks every task finished, then the seq_cst fence (T21)
//       and the load (T22) of the count. Store-buffering with seq_cst on both sides: either
//       the wake sees the task finished and touches nothing, or the destructor sees the wake
//       counted and waits for it.
//  (T20) release fetch_sub of the count (the wake is done with the executor): pairs with
//       (T22)'s acquire, so the destructor frees the executor after the wake's last access.
//  (T16) acquire wait on state (block_on of a pool task from outside the pool, in
//       src/rt/thread_pool.cpp): returns once the state changed; pairs with (T9). (T17) its
//       notify_all, by the joining waker the completer wakes.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "ferrite/core/atomic.hpp"
#include "ferrite/rt/waker.hpp"
#include "ferrite/sync/intrusive_list.hpp"

namespace ferrite::rt {
namespace detail {

/// What drives a task: decides which of the header's two kinds of state it uses.
enum class executor_kind : std::uint8_t {
  local,     ///< local_executor: owner-thread flags
  pool,      ///< thread_pool: the atomic state word, polled by any worker
  blocking,  ///< the spawn_blocking pool: the atomic state word, polled once
};

/// The part every executor shares: its kind, read by the code that wakes, spawns onto and
/// joins tasks without knowing which executor runs them.
struct executor_base {
  explicit executor_base(executor_kind k) noexcept : kind(k) {}
  executor_base(const executor_base&) = delete;
  executor_base& operator=(const executor_base&) = delete;
  const executor_kind kind;

 protected:
  ~executor_base() = default;
};

/// The executor driving this thread (block_on, run_ready, a pool's worker), or null.
/// constinit thread_local: one %fs-relative access, no initialization guard.
inline executor_base*& current_executor() noexcept {
  FERRITE_THREAD_LOCAL(executor_base*, driving, nullptr);
  return driving;
}

/// The atomic state word of a pool (or blocking) task. Fields (bits):
///   running        a worker is polling it (set only by the worker that popped it)
///   notified       scheduled: in a run queue, or to be requeued when the running poll ends
///   complete       finished (result, exception or cancelled); no bit changes afterwards but
///                  join_waiting
///   abort          cancellation requested: the next poll drops the frame instead
///   join_waiting   a joiner stored join_waker; once complete is set, the completer owns it
/// Spawned as notified (it is queued at once).
/// Invariant: a task is in a run queue exactly when notified && !running && !complete, so it
/// is never queued twice, and only the worker that popped it sets running, so it is never
/// polled by two threads.
enum pool_state : std::uint32_t {
  state_running = 1U << 0,
  state_notified = 1U << 1,
  state_complete = 1U << 2,
  state_abort = 1U << 3,
  state_join_waiting = 1U << 4,
};

/// Scheduling flags of a task, owner thread only.
enum task_flag : std::uint8_t {
  task_queued = 1U << 0,     ///< in the executor's ready queue (never twice)
  task_running = 1U << 1,    ///< being polled (never by two threads: there is one)
  task_notified = 1U << 2,   ///< woken while running: requeue after the poll
  task_complete = 1U << 3,   ///< finished, cancelled or destroyed with its executor
  task_cancelled = 1U << 4,  ///< finished because it was aborted (no result)
  task_abort = 1U << 5,      ///< abort requested: cancel at the next poll
};

/// An awaitable's answer to "may the task resume now?", asked by the executor before it
/// resumes a suspended task (see task_header::resume_check). `ctx` is the awaitable's.
using ready_fn = bool (*)(const void* ctx) noexcept;

struct task_header {
  /// Destroys the task's coroutine frame (if still alive) and frees this header.
  using destroy_fn = void (*)(task_header*) noexcept;
  /// Destroys the task's coroutine frame now (abort, executor shutdown); the header stays.
  using drop_frame_fn = void (*)(task_header*) noexcept;

  task_header(executor_base* owner_executor, std::coroutine_handle<> root_frame,
              destroy_fn destroy_self, drop_frame_fn drop_body, std::uint32_t initial_refs) noexcept
      : refs(initial_refs),
        owner(owner_executor),
        root(root_frame),
        leaf(root_frame),
        destroy(destroy_self),
        drop_frame(drop_body),
        kind(owner_executor->kind),
        state(owner_executor->kind == executor_kind::local ? 0U : std::uint32_t{state_notified}) {}
  task_header(const task_header&) = delete;
  task_header& operator=(const task_header&) = delete;

  // Shared with other threads.
  atomic<std::uint32_t> refs;
  atomic<bool> remote_pending{false};         ///< a remote wake is in the injection queue
  atomic<bool> finished{false};               ///< the task ended: wakes are no-ops from now on
  atomic<task_header*> remote_next{nullptr};  ///< the injection queue's link

  // Local tasks: owner thread only. Pool tasks: the thread polling it (flags: see above).
  executor_base* owner;
  std::coroutine_handle<> root;  ///< the spawned task's coroutine (its frame is owned here)
  std::coroutine_handle<> leaf;  ///< the innermost coroutine: the one to resume
  /// Set by the awaitable the task is suspended in (null: resume on any wake). A task may be
  /// woken by a waker it registered earlier elsewhere (a stale wake); resuming it then would
  /// end the current co_await early, so a poll first asks this, and a false answer leaves the
  /// task suspended (the awaitable's own waker wakes it later). Cleared when it resumes.
  ready_fn resume_check = nullptr;
  const void* resume_ctx = nullptr;
  destroy_fn destroy;
  drop_frame_fn drop_frame;
  task_header* next_ready = nullptr;  ///< the ready queue's link
  sync::list_hook live_hook;          ///< in the executor's list of unfinished tasks
  /// The task awaiting this one's join handle (same executor), or null. No reference: the
  /// awaiter clears it if it is destroyed before this task finishes (its task cancelled).
  task_header* joiner = nullptr;
  /// Pool tasks: the joiner's waker, written by the joiner while join_waiting is clear and
  /// taken by the completer once it is set (or back by the joiner: see pool_state).
  waker join_waker;
  std::uint8_t flags = 0;
  /// The owner's kind, kept here: a join handle may outlive a pool's executor.
  const executor_kind kind;
  /// Pool and blocking tasks: pool_state bits (a local task's stays 0).
  atomic<std::uint32_t> state;

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

  // ---- pool tasks: transitions of `state` (see pool_state) ----

  /// A wake: sets notified. Returns true when the caller must queue the task (it was idle);
  /// a running task is requeued by its poll's end_poll, a scheduled or complete one is left
  /// alone (coalesced). A wake that finds the task already scheduled synchronizes nothing:
  /// a resource publishes its own data (as in every runtime).
  bool notify() noexcept {
    // ORDERING: (T5) acquire: see the table.
    std::uint32_t s = state.load(std::memory_order_acquire);
    while ((s & (state_complete | state_notified)) == 0) {
      // ORDERING: (T6) acq_rel: see the table.
      if (state.compare_exchange_weak(s, s | state_notified, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return (s & state_running) == 0;
      }
    }
    return false;
  }
  /// Scheduled -> Running, by the worker that popped it. Returns the bits before.
  std::uint32_t start_poll() noexcept {
    // ORDERING: (T7) acq_rel: see the table.
    return state.fetch_xor(state_running | state_notified, std::memory_order_acq_rel);
  }
  /// Running -> Idle after a poll that did not finish the task; true when it was woken while
  /// running (it is Scheduled again and the caller requeues it).
  bool end_poll() noexcept {
    // ORDERING: (T8) acq_rel: see the table.
    return (state.fetch_and(~std::uint32_t{state_running}, std::memory_order_acq_rel) &
            state_notified) != 0;
  }
  /// -> Complete (the outcome is in `flags` already); wakes a joiner that waits.
  void complete_pool_task() noexcept {
    // ORDERING: (T9) acq_rel: see the table.
    if ((state.fetch_or(state_complete, std::memory_order_acq_rel) & state_join_waiting) != 0) {
      std::move(join_waker).wake();
    }
  }
  /// Ends a pool (or blocking) task: drops its frame when cancelled, records the outcome,
  /// marks it finished and wakes its joiner. The caller still holds the executor's
  /// reference, and releases it afterwards.
  void finish_pool_task(bool cancelled) noexcept {
    if (cancelled) drop_frame(this);
    flags = static_cast<std::uint8_t>(task_complete | (cancelled ? task_cancelled : 0));
    mark_finished();
    complete_pool_task();
  }
  /// Whether a pool task completed; its outcome and result are visible once it returns true.
  [[nodiscard]] bool pool_task_complete() const noexcept {
    // ORDERING: (T10) acquire: see the table.
    return (state.load(std::memory_order_acquire) & state_complete) != 0;
  }
  /// Registers `w` to be woken when the task completes. False (and `w` dropped) when it
  /// already did. Preconditions: one joiner at a time.
  bool register_join(waker w) noexcept {
    join_waker = std::move(w);  // join_waiting is clear: the completer does not read it yet
    // ORDERING: (T11) acquire: see the table.
    std::uint32_t s = state.load(std::memory_order_acquire);
    while ((s & state_complete) == 0) {
      // ORDERING: (T12) acq_rel: see the table.
      if (state.compare_exchange_weak(s, s | state_join_waiting, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return true;
      }
    }
    join_waker.reset();
    return false;
  }
  /// A registered joiner that goes away before the end takes its waker back; once the task
  /// completed, the completer owns the waker and this does nothing.
  void cancel_join() noexcept {
    // ORDERING: (T13) acquire: see the table.
    std::uint32_t s = state.load(std::memory_order_acquire);
    while ((s & state_complete) == 0) {
      // ORDERING: (T14) acquire: see the table.
      if (state.compare_exchange_weak(s, s & ~std::uint32_t{state_join_waiting},
                                      std::memory_order_acquire, std::memory_order_acquire)) {
        join_waker.reset();
        return;
      }
    }
  }
  /// Asks a pool task to cancel at its next poll; returns whether the caller must queue it.
  bool request_abort() noexcept {
    // ORDERING: (T15) acq_rel: see the table.
    state.fetch_or(state_abort, std::memory_order_acq_rel);
    return notify();
  }

  /// Whether the task finished with its result (or exception) ready, for its kind of state.
  [[nodiscard]] bool joinable_now() const noexcept {
    return kind == executor_kind::local ? has(task_complete) : pool_task_complete();
  }
};

/// The task being polled on this thread (null outside a poll): where co_await of a task and
/// the runtime's awaitables record the coroutine to resume, and what current_waker() refers
/// to. constinit thread_local: one %fs-relative access, no initialization guard.
inline task_header*& current_task() noexcept {
  FERRITE_THREAD_LOCAL(task_header*, polled, nullptr);
  return polled;
}

/// Wakes of tasks whose executor this thread does not drive (foreign wakes) in progress,
/// process-wide: an executor's destructor waits for them (see ForeignWakeGuard's table rows).
inline atomic<std::uint64_t>& foreign_wakes_in_flight() noexcept {
  static constinit atomic<std::uint64_t> in_flight{0};
  return in_flight;
}

/// Held by a foreign wake from before it checks that the task is unfinished until it is done
/// with the task's executor, which therefore outlives it.
class foreign_wake_guard {
 public:
  foreign_wake_guard() noexcept {
    // ORDERING: (T18) seq_cst: see the table.
    foreign_wakes_in_flight().fetch_add(1, std::memory_order_seq_cst);
  }
  foreign_wake_guard(const foreign_wake_guard&) = delete;
  foreign_wake_guard& operator=(const foreign_wake_guard&) = delete;
  ~foreign_wake_guard() {
    // ORDERING: (T20) release: see the table.
    foreign_wakes_in_flight().fetch_sub(1, std::memory_order_release);
  }
  /// Whether the task ended (its executor may be gone): the check a foreign wake makes.
  [[nodiscard]] static bool finished(const task_header& t) noexcept {
    // ORDERING: (T19) seq_cst: see the table.
    return t.finished.load(std::memory_order_seq_cst);
  }
};

/// An executor's destructor, once every task of it is marked finished: waits until no
/// foreign wake that might still touch it is in flight (they are short: a queue push and an
/// unpark).
void wait_for_foreign_wakes() noexcept;

// Defined in src/rt/thread_pool.cpp: what code that does not see the pool's internals (spawn,
// join handles, wakers, yield_now) calls for a pool task.
/// Queues a new task on `pool` (spawn): the current worker's queue when called from one of
/// the pool's workers, else the injection queue. A pool shut down cancels it at once.
void pool_submit(executor_base* pool, task_header* t) noexcept;
/// Hands a new task to the blocking pool (src/rt/blocking_pool.cpp); spawn_blocking's.
void blocking_submit(task_header* t) noexcept;
/// The blocking pool (created on first use, lives until the process exits).
executor_base* blocking_executor() noexcept;
/// Queues a task whose notify() (or request_abort()) returned true; any thread.
void pool_schedule(task_header* t) noexcept;
/// current_waker() of a pool task.
waker pool_task_waker(task_header* t) noexcept;
class timer_driver;
/// The timers of a pool (src/rt/thread_pool.cpp).
timer_driver& pool_timers(executor_base* pool) noexcept;
/// Blocks the calling thread (outside the pool) until the pool task `t` completes.
void wait_until_complete(task_header* t) noexcept;
// Defined in src/rt/local_executor.cpp.
/// Suspends the task being polled (its innermost coroutine `self`) and requeues it at the
/// back of its executor's queue, for yield_now and for awaitables out of budget.
void yield_current(std::coroutine_handle<> self) noexcept;

/// Cooperative budget (tokio's coop): how many ready awaits a task may make in one poll
/// before a ready awaitable yields once anyway, so one busy task cannot starve its executor.
inline constexpr std::uint32_t coop_budget_per_poll = 128;

/// The current poll's remaining budget; executors reset it before each poll.
inline std::uint32_t& coop_budget() noexcept {
  FERRITE_THREAD_LOCAL(std::uint32_t, budget, coop_budget_per_poll);
  return budget;
}

/// Called by an awaitable that could complete at once: true to do so (one unit spent), false
/// when the task has spent its budget, and the awaitable must suspend and requeue the task
/// (as yield_now) before it completes.
inline bool coop_proceed() noexcept {
  std::uint32_t& budget = coop_budget();
  if (budget == 0) return false;
  --budget;
  return true;
}

/// Records `h` as the coroutine to resume when the current task (if any) is next polled.
inline void set_leaf(std::coroutine_handle<> h) noexcept {
  if (task_header* const t = current_task()) {
    t->leaf = h;
    t->resume_check = nullptr;  // a check left by an awaitable that did not suspend is stale
  }
}

/// For an awaitable suspending the current task in `h`: records `h` as the coroutine to
/// resume, and `ready(ctx)` as the condition to resume it on (see resume_check). `ready` is
/// called by the executor from the thread that polls the task, so it reads what other
/// threads set with the synchronization the awaitable uses (an atomic, its lock).
/// Preconditions: called in await_suspend, inside a task; `ctx` outlives the suspension.
inline void suspend_until(std::coroutine_handle<> h, ready_fn ready, const void* ctx) noexcept {
  task_header* const t = current_task();
  t->leaf = h;
  t->resume_check = ready;
  t->resume_ctx = ctx;
}

/// The executor's side: whether a woken task may be resumed (its awaitable is ready, or it
/// set no condition); clears the condition when it may.
inline bool may_resume(task_header* t) noexcept {
  if (t->resume_check == nullptr) return true;
  if (!t->resume_check(t->resume_ctx)) return false;
  t->resume_check = nullptr;
  return true;
}

}  // namespace detail
}  // namespace ferrite::rt
