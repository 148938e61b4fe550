// SPDX-License-Identifier: Apache-2.0
// thread_pool: the workers' loop, their queues (LIFO slot, local run queue, the shared
// injection queue), stealing, the searching/parking protocol, wakers of pool tasks, shutdown.
// docs/rt.md draws the structure; the task state transitions are task_header.hpp's.
//
// Idle protocol (tokio's): `idle_` packs how many workers are unparked (high half) and how
// many of those are searching for work (low half). Whoever makes work visible to other
// workers (a spawn onto a local queue, an injection, an overflow) calls notify_parked(),
// which wakes a parked worker only when nobody searches (no thundering herd); at most half
// the workers search at once; the last searcher to find work wakes another, and the last
// searcher to give up looks at every queue once more before it parks. The fences (P1)/(P6)
// make "push work, then read idle_" and "leave idle_, then read the queues" a store-buffering
// pair: one of the two sides sees the other.
//
// ORDERING table (P labels; task transitions are task_header.hpp's T labels):
//  (P1) seq_cst fence in notify_parked, after the caller made work visible: pairs with the
//       parker's fence (P6), so either this notifier sees the parker counted out of idle_ or
//       the parker's recheck sees the work.
//  (P2) relaxed load of idle_ (notify_parked, first look): ordered by (P1).
//  (P3) relaxed load of idle_ under sleepers_lock_ (notify_parked, second look): the lock
//       orders it after the parkers' (P5).
//  (P4) seq_cst fetch_add of idle_ (notify_parked: one worker unparked and searching).
//  (P5) seq_cst fetch_sub of idle_ (park: this worker leaves the unparked, and the searching
//       if it searched).
//  (P6) seq_cst fence in park, after (P5) and before the recheck of the queues: pairs with
//       (P1).
//  (P7) relaxed load of idle_ (transition_to_searching): a bound on searchers, a hint.
//  (P8) seq_cst fetch_add of idle_ (a worker starts searching).
//  (P9) seq_cst fetch_sub of idle_ (a searcher found work): the last one wakes another.
//  (P10) a worker's parker unpark (release; parker.hpp): pairs with (P12)/(P13), so the woken
//       worker sees what its waker did before (the searching flag notify_parked set).
//  (P11) seq_cst fetch_add of idle_ (a worker whose timed park ran out is unparked again).
//  (P12) the parker's park (acquire), (P13) its timed park_for.
//  (P14) relaxed load and (P15) relaxed store of the injection queue's length (under its
//       lock; the length is read without it as a hint, (P16)).
//  (P16) relaxed load of the injection queue's length (is there anything to take?): a
//       hint; the idle protocol's fences order it where it matters (park's recheck).
//  (P17) seq_cst fetch_add and (P18) seq_cst fetch_sub of live_ (tasks not yet finished),
//       (P19) seq_cst exchange of closed_ and (P20) seq_cst load of closed_, (P21) seq_cst
//       load of live_: shutdown sets closed_ then reads live_, a finishing task decrements
//       live_ then reads closed_; one of them sees the other, so the last one out stops the
//       workers.
//  (P22) release store of exiting_ and (P23) acquire load of it: a worker that sees it exits.
//  (P24) relaxed load and store of a worker's max queue depth (its owner writes, stats read).
//  (P25) notify_all of a task's state (the block_on waker): wakes (T16).
//  (P26) acquire load of a task's state before (T16)'s wait.
//  (P27) relaxed fetch_add of pools_created: unique metric names; nothing is published.
//  (P28) relaxed store of idle_ in the constructor: before the workers start (starting a
//       thread synchronizes with it).
#include "ferrite/rt/thread_pool.hpp"

#include <algorithm>
#include <array>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/cache_padded.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/metrics.hpp"
#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/parker.hpp"
#include "ferrite/rt/detail/run_queue.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/detail/timer_driver.hpp"
#include "ferrite/sync/intrusive_list.hpp"
#include "ferrite/sync/spin_mutex.hpp"

namespace ferrite::rt {
namespace detail {
namespace {

constexpr std::size_t queue_slots = 256;          // per worker, as tokio's
constexpr unsigned max_lifo_polls = 3;            // consecutive LIFO polls (tokio #5712)
constexpr std::uint32_t injection_interval = 61;  // ticks between injection-first looks
constexpr std::size_t shard_count = 16;           // live-task lists
constexpr std::uint32_t searching_one = 1;        // idle_ low half
constexpr std::uint32_t unparked_one = 1U << 16;  // idle_ high half

using local_queue = run_queue<task_header*, queue_slots>;

constexpr std::uint32_t searching_of(std::uint32_t idle) noexcept { return idle & 0xFFFFU; }
constexpr std::uint32_t unparked_of(std::uint32_t idle) noexcept { return idle >> 16; }

std::string metric_name(std::uint32_t pool, std::string_view what) {
  return "rt.pool" + std::to_string(pool) + "." + std::string(what);
}
std::string worker_metric(std::uint32_t pool, std::uint32_t w, std::string_view what) {
  return metric_name(pool, "worker" + std::to_string(w) + "." + std::string(what));
}

constinit atomic<std::uint32_t> pools_created{0};

}  // namespace

/// One worker's counters (ferrite::metrics: compiled away with FERRITE_METRICS=0).
struct worker_counters {
  worker_counters(std::uint32_t pool, std::uint32_t w)
      : polls(worker_metric(pool, w, "polls"), "task polls"),
        local_wakes(worker_metric(pool, w, "local_wakes"), "wakes into the LIFO slot"),
        steals(worker_metric(pool, w, "steals"), "successful steals"),
        stolen_tasks(worker_metric(pool, w, "stolen_tasks"), "tasks moved here by steals"),
        parks(worker_metric(pool, w, "parks"), "times the worker slept"),
        unparks(worker_metric(pool, w, "unparks"), "times another thread woke it"),
        injected(worker_metric(pool, w, "injected"), "tasks taken from the injection queue"),
        lifo_hits(worker_metric(pool, w, "lifo_hits"), "polls from the LIFO slot"),
        lifo_capped(worker_metric(pool, w, "lifo_capped"), "LIFO tasks requeued by the cap"),
        overflows(worker_metric(pool, w, "overflows"), "full queues halved into injection"),
        budget_yields(worker_metric(pool, w, "budget_yields"),
                      "polls that ended because the task spent its budget") {}
  metrics::counter polls, local_wakes, steals, stolen_tasks, parks, unparks, injected, lifo_hits,
      lifo_capped, overflows, budget_yields;
};

/// The pool's task-state transition counts, for dump_state_machine.
struct transition_counters {
  explicit transition_counters(std::uint32_t pool)
      : spawned(metric_name(pool, "tasks.spawned"), "tasks spawned (-> Scheduled)"),
        woken(metric_name(pool, "tasks.woken"), "Idle -> Scheduled"),
        polled(metric_name(pool, "tasks.polled"), "Scheduled -> Running"),
        idled(metric_name(pool, "tasks.idled"), "Running -> Idle"),
        requeued(metric_name(pool, "tasks.requeued"), "Running -> Scheduled"),
        completed(metric_name(pool, "tasks.completed"), "Running -> Complete"),
        cancelled(metric_name(pool, "tasks.cancelled"), "-> Cancelled"),
        remote_wakes(metric_name(pool, "remote_wakes"), "wakes from outside the pool") {}
  metrics::counter spawned, woken, polled, idled, requeued, completed, cancelled, remote_wakes;
};

struct worker {
  worker(pool_core& p, std::uint32_t pool_id, std::uint32_t i)
      : pool(p), index(i), rng(0x9E3779B97F4A7C15ULL * (i + 1)), counters(pool_id, i) {}
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  pool_core& pool;
  const std::uint32_t index;
  local_queue queue;
  // Owner only.
  task_header* lifo = nullptr;  // the task woken last by this worker's tasks
  unsigned lifo_polls = 0;
  bool searching = false;
  std::uint32_t tick = 0;
  std::uint64_t rng;
  // Shared.
  parker park_slot;  // unparked by notify_parked and shutdown
  atomic<std::uint64_t> max_depth{0};
  worker_counters counters;
  thread os_thread;

  std::uint32_t next_random(std::uint32_t n) noexcept {  // xorshift64
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<std::uint32_t>(rng % n);
  }
};

namespace {
/// The worker this thread is (null outside the pool's threads).
worker*& current_worker_slot() noexcept {
  FERRITE_THREAD_LOCAL(worker*, current, nullptr);
  return current;
}
}  // namespace

/// A pool's shared state. executor_base of its tasks (their `owner`).
class pool_core final : public executor_base {
 public:
  pool_core(thread_pool* facade, std::size_t n);
  pool_core(const pool_core&) = delete;
  pool_core& operator=(const pool_core&) = delete;
  ~pool_core() = default;

  void start();
  void submit(task_header* t) noexcept;
  void schedule(task_header* t) noexcept;
  void shutdown() noexcept;

  thread_pool* const facade;
  const std::uint32_t id;
  std::vector<std::unique_ptr<worker>> workers;
  transition_counters transitions;
  timer_driver timers;

 private:
  struct alignas(cache_line_size) shard {  // own line: shards are locked by different workers
    sync::spin_mutex lock;
    sync::intrusive_list<task_header, &task_header::live_hook> tasks;
    bool closed = false;
  };

  void run(worker& w) noexcept;
  task_header* next_task(worker& w) noexcept;
  task_header* steal_work(worker& w) noexcept;
  task_header* take_injected(worker& w) noexcept;
  void poll(worker& w, task_header* t) noexcept;
  void finish(task_header* t, bool cancelled) noexcept;
  void push_local(worker& w, task_header* t) noexcept;
  void inject(task_header* first, task_header* last, std::size_t n) noexcept;
  void notify_parked() noexcept;
  void unpark(worker& w) noexcept;
  bool transition_to_searching(worker& w) noexcept;
  void transition_from_searching(worker& w) noexcept;
  void park(worker& w) noexcept;
  void leave_parked(worker& w) noexcept;
  [[nodiscard]] bool work_pending() const noexcept;
  void stop_workers() noexcept;
  shard& shard_of(const task_header* t) noexcept {
    // SAFETY: the address is only hashed (to spread tasks over the shards), never turned back.
    return shards_[(reinterpret_cast<std::uintptr_t>(t) >> 6) % shard_count];
  }

  // Injection queue: tasks linked through next_ready, under its lock.
  cache_padded<sync::spin_mutex> injection_lock_;
  task_header* injection_head_ = nullptr;
  task_header* injection_tail_ = nullptr;
  atomic<std::size_t> injection_len_{0};

  cache_padded<atomic<std::uint32_t>> idle_{0U};
  sync::spin_mutex sleepers_lock_;
  std::vector<std::uint32_t> sleepers_;  // parked workers, under sleepers_lock_

  std::array<shard, shard_count> shards_;
  atomic<std::size_t> live_{0};
  atomic<bool> closed_{false};
  atomic<bool> exiting_{false};
  std::mutex join_lock_;
  bool joined_ = false;
};

namespace {

pool_core* pool_of(const task_header* t) noexcept {
  FERRITE_DEBUG_ASSERT(t->kind == executor_kind::pool, "a pool task");
  // SAFETY: a task whose owner is of kind pool was spawned by spawn_on onto a pool_core.
  return static_cast<pool_core*>(t->owner);
}

task_header* header_of(const void* data) noexcept {
  // SAFETY: pool task wakers are made by pool_task_waker with a task_header* as their data.
  return static_cast<task_header*>(const_cast<void*>(data));
}

void wake_pool_task_by_ref(const void* data) noexcept {
  task_header* const t = header_of(data);
  worker* const w = current_worker_slot();
  if (w != nullptr && &w->pool == t->owner) {  // one of its workers: the pool is alive
    if (t->notify()) pool_of(t)->schedule(t);
    return;
  }
  // A foreign wake: the pool may finish the task and be destroyed meanwhile.
  const foreign_wake_guard guard;
  if (!foreign_wake_guard::finished(*t) && t->notify()) pool_of(t)->schedule(t);
}

constexpr waker_vtable pool_waker_vtable{
    [](const void* data) noexcept -> const void* {
      header_of(data)->acquire_ref();
      return data;
    },
    [](const void* data) noexcept {
      wake_pool_task_by_ref(data);
      header_of(data)->release_ref();
    },
    &wake_pool_task_by_ref,
    [](const void* data) noexcept { header_of(data)->release_ref(); },
};

// The join waker of block_on from outside the pool: wakes the thread waiting on the
// task's state word.
void notify_state(const void* data) noexcept {
  // ORDERING: (P25) notify: see the table.
  header_of(data)->state.notify_all();
}
constexpr waker_vtable blocking_join_vtable{
    [](const void* data) noexcept -> const void* {
      header_of(data)->acquire_ref();
      return data;
    },
    [](const void* data) noexcept {
      notify_state(data);
      header_of(data)->release_ref();
    },
    &notify_state,
    [](const void* data) noexcept { header_of(data)->release_ref(); },
};

}  // namespace

pool_core::pool_core(thread_pool* owner_facade, std::size_t n)
    : executor_base(executor_kind::pool),
      facade(owner_facade),
      // ORDERING: (P27) relaxed: see the table.
      id(pools_created.fetch_add(1, std::memory_order_relaxed)),
      transitions(id) {
  workers.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) workers.push_back(std::make_unique<worker>(*this, id, i));
  sleepers_.reserve(n);
  // ORDERING: (P28) relaxed: see the table.
  idle_.value.store(static_cast<std::uint32_t>(n) * unparked_one, std::memory_order_relaxed);
}

void pool_core::start() {
  for (auto& w : workers) {
    worker* const self = w.get();
    w->os_thread = thread([this, self] { run(*self); });
  }
}

// ---- spawning, waking ----------------------------------------------------------------

void pool_core::submit(task_header* t) noexcept {
  transitions.spawned.add();
  shard& s = shard_of(t);
  bool accepted = false;
  {
    std::lock_guard guard(s.lock);
    if (!s.closed) {
      s.tasks.push_back(*t);
      // ORDERING: (P17) seq_cst: see the table.
      live_.fetch_add(1, std::memory_order_seq_cst);
      accepted = true;
    }
  }
  if (!accepted) {  // shut down: cancelled before it ran (it is in no list)
    transitions.cancelled.add();
    t->finish_pool_task(true);
    t->release_ref();
    return;
  }
  // The header was spawned notified (Scheduled).
  worker* const w = current_worker_slot();
  if (w != nullptr && &w->pool == this) {
    push_local(*w, t);
    notify_parked();
  } else {
    t->next_ready = nullptr;
    inject(t, t, 1);
  }
}

void pool_core::schedule(task_header* t) noexcept {
  transitions.woken.add();
  worker* const w = current_worker_slot();
  if (w != nullptr && &w->pool == this) {
    w->counters.local_wakes.add();
    if (task_header* const displaced = std::exchange(w->lifo, t)) {
      push_local(*w, displaced);
      notify_parked();  // the displaced one is stealable now
    }
    return;
  }
  transitions.remote_wakes.add();
  t->next_ready = nullptr;
  inject(t, t, 1);
}

void pool_core::push_local(worker& w, task_header* t) noexcept {
  while (!w.queue.push(t)) {
    std::array<task_header*, queue_slots / 2> half{};
    if (w.queue.take_half(half) == 0) continue;  // thieves made room
    for (std::size_t i = 0; i + 1 < half.size(); ++i) half[i]->next_ready = half[i + 1];
    half.back()->next_ready = nullptr;
    w.counters.overflows.add();
    inject(half.front(), half.back(), half.size());
  }
  const std::uint64_t depth = w.queue.size_approx();
  // ORDERING: (P24) relaxed: see the table.
  if (depth > w.max_depth.load(std::memory_order_relaxed)) {
    // ORDERING: (P24) relaxed: see the table.
    w.max_depth.store(depth, std::memory_order_relaxed);
  }
}

void pool_core::inject(task_header* first, task_header* last, std::size_t n) noexcept {
  {
    std::lock_guard guard(injection_lock_.value);
    if (injection_tail_ == nullptr) {
      injection_head_ = first;
    } else {
      injection_tail_->next_ready = first;
    }
    injection_tail_ = last;
    // ORDERING: (P14) relaxed: see the table.
    const std::size_t len = injection_len_.load(std::memory_order_relaxed);
    // ORDERING: (P15) relaxed: see the table.
    injection_len_.store(len + n, std::memory_order_relaxed);
  }
  notify_parked();
}

task_header* pool_core::take_injected(worker& w) noexcept {
  // ORDERING: (P16) relaxed: see the table.
  if (injection_len_.load(std::memory_order_relaxed) == 0) return nullptr;
  task_header* first = nullptr;
  std::size_t taken = 0;
  {
    std::lock_guard guard(injection_lock_.value);
    // ORDERING: (P14) relaxed: see the table.
    const std::size_t len = injection_len_.load(std::memory_order_relaxed);
    if (len == 0) return nullptr;
    // A fair share, at most half a local queue: the rest stays for the other workers.
    const std::size_t want = std::min({len, len / workers.size() + 1, queue_slots / 2});
    first = injection_head_;
    task_header* t = first;
    for (taken = 1; taken < want; ++taken) t = t->next_ready;
    injection_head_ = t->next_ready;
    if (injection_head_ == nullptr) injection_tail_ = nullptr;
    t->next_ready = nullptr;
    // ORDERING: (P15) relaxed: see the table.
    injection_len_.store(len - taken, std::memory_order_relaxed);
  }
  w.counters.injected.add(taken);
  for (task_header* t = first->next_ready; t != nullptr;) {
    task_header* const next = t->next_ready;
    push_local(w, t);
    t = next;
  }
  return first;
}

// ---- the worker loop -----------------------------------------------------------------

void pool_core::run(worker& w) noexcept {
  current_worker_slot() = &w;
  current_executor() = this;
  // ORDERING: (P23) acquire: see the table.
  while (!exiting_.load(std::memory_order_acquire)) {
    task_header* t = next_task(w);
    if (t == nullptr) t = steal_work(w);
    if (t != nullptr) {
      if (w.searching) transition_from_searching(w);
      poll(w, t);
      continue;
    }
    park(w);
  }
  current_executor() = nullptr;
  current_worker_slot() = nullptr;
}

task_header* pool_core::next_task(worker& w) noexcept {
  const bool periodic = ++w.tick % injection_interval == 0;
  if (periodic) timers.fire_due();  // first: what it wakes may land in the LIFO slot
  if (w.lifo != nullptr) {
    if (w.lifo_polls < max_lifo_polls) {
      ++w.lifo_polls;
      w.counters.lifo_hits.add();
      return std::exchange(w.lifo, nullptr);
    }
    w.counters.lifo_capped.add();  // two tasks waking each other must not starve the queue
    push_local(w, std::exchange(w.lifo, nullptr));
  }
  w.lifo_polls = 0;
  if (periodic) {  // the injection queue is not starved either
    if (task_header* const t = take_injected(w)) return t;
  }
  if (task_header* const t = w.queue.pop()) return t;
  return take_injected(w);
}

task_header* pool_core::steal_work(worker& w) noexcept {
  if (!transition_to_searching(w)) return nullptr;
  const auto n = static_cast<std::uint32_t>(workers.size());
  const std::uint32_t start = w.next_random(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    worker& victim = *workers[(start + i) % n];
    if (&victim == &w) continue;
    if (task_header* const t = victim.queue.steal_into(w.queue)) {
      w.counters.steals.add();
      w.counters.stolen_tasks.add(1 + w.queue.size_approx());
      return t;
    }
  }
  return take_injected(w);
}

void pool_core::poll(worker& w, task_header* t) noexcept {
  const std::uint32_t before = t->start_poll();
  FERRITE_DEBUG_ASSERT(
      (before & (state_running | state_notified | state_complete)) == state_notified,
      "rt::thread_pool: polled a task that was not scheduled");
  if ((before & state_abort) != 0) {
    finish(t, true);
    return;
  }
  transitions.polled.add();
  w.counters.polls.add();
  if (may_resume(t)) {  // else a stale wake: it stays suspended
    coop_budget() = coop_budget_per_poll;
    task_header* const outer = std::exchange(current_task(), t);
    t->leaf.resume();  // until the task suspends or ends
    current_task() = outer;
    if (t->root.done()) {
      finish(t, false);
      return;
    }
    if (coop_budget() == 0) w.counters.budget_yields.add();
  }
  if (t->end_poll()) {  // woken (or yielded) while running: to the back of the queue
    transitions.requeued.add();
    push_local(w, t);
  } else {
    transitions.idled.add();
  }
}

void pool_core::finish(task_header* t, bool cancelled) noexcept {
  (cancelled ? transitions.cancelled : transitions.completed).add();
  {
    shard& s = shard_of(t);
    std::lock_guard guard(s.lock);
    t->live_hook.unlink();
  }
  t->finish_pool_task(cancelled);  // wakes the joiner
  t->release_ref();                // the pool's reference
  // ORDERING: (P18) seq_cst: see the table.
  if (live_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
      // ORDERING: (P20) seq_cst: see the table.
      closed_.load(std::memory_order_seq_cst)) {
    stop_workers();
  }
}

// ---- searching and parking -----------------------------------------------------------

void pool_core::notify_parked() noexcept {
  // ORDERING: (P1) seq_cst fence: see the table.
  fence(std::memory_order_seq_cst);
  // ORDERING: (P2) relaxed: see the table.
  std::uint32_t idle = idle_.value.load(std::memory_order_relaxed);
  if (searching_of(idle) != 0 || unparked_of(idle) == workers.size()) return;
  worker* woken = nullptr;
  {
    std::lock_guard guard(sleepers_lock_);
    // ORDERING: (P3) relaxed: see the table.
    idle = idle_.value.load(std::memory_order_relaxed);
    if (searching_of(idle) != 0 || sleepers_.empty()) return;
    // ORDERING: (P4) seq_cst: see the table.
    idle_.value.fetch_add(unparked_one | searching_one, std::memory_order_seq_cst);
    woken = workers[sleepers_.back()].get();
    sleepers_.pop_back();
  }
  woken->searching = true;  // read by its own thread after (P12) acquires this
  woken->counters.unparks.add();
  unpark(*woken);
}

void pool_core::unpark(worker& w) noexcept {
  // ORDERING: (P10) the parker's release: see the table.
  w.park_slot.unpark();
}

bool pool_core::transition_to_searching(worker& w) noexcept {
  if (w.searching) return true;
  // ORDERING: (P7) relaxed: see the table.
  const std::uint32_t idle = idle_.value.load(std::memory_order_relaxed);
  if (2 * searching_of(idle) >= workers.size()) return false;  // half search at most
  // ORDERING: (P8) seq_cst: see the table.
  idle_.value.fetch_add(searching_one, std::memory_order_seq_cst);
  w.searching = true;
  return true;
}

void pool_core::transition_from_searching(worker& w) noexcept {
  w.searching = false;
  // ORDERING: (P9) seq_cst: see the table.
  if (searching_of(idle_.value.fetch_sub(searching_one, std::memory_order_seq_cst)) == 1) {
    notify_parked();  // the last searcher found work: someone else looks for more
  }
}

bool pool_core::work_pending() const noexcept {
  // ORDERING: (P16) relaxed: see the table.
  if (injection_len_.load(std::memory_order_relaxed) != 0) return true;
  return std::any_of(workers.begin(), workers.end(),
                     [](const std::unique_ptr<worker>& w) { return !w->queue.empty_approx(); });
}

void pool_core::park(worker& w) noexcept {
  // Tasks the timers wake land in this worker's LIFO slot: run them instead of parking.
  if (timers.fire_due() != 0 || w.lifo != nullptr) return;
  const bool was_searching = std::exchange(w.searching, false);
  std::uint32_t before = 0;
  {
    std::lock_guard guard(sleepers_lock_);
    // ORDERING: (P5) seq_cst: see the table.
    before = idle_.value.fetch_sub(unparked_one | (was_searching ? searching_one : 0U),
                                   std::memory_order_seq_cst);
    sleepers_.push_back(w.index);
  }
  // ORDERING: (P6) seq_cst fence: see the table.
  fence(std::memory_order_seq_cst);
  // The last searcher to give up looks once more: work pushed while it searched whose
  // notify_parked saw it searching would otherwise wait for the next push.
  if ((!was_searching || searching_of(before) == 1) && work_pending()) notify_parked();
  w.counters.parks.add();
  const std::optional<clock::time_point> next = timers.next_deadline();
  if (!next) {
    // ORDERING: (P12) the parker's acquire: see the table.
    w.park_slot.park();
    return;
  }
  if (clock::paused()) {
    if (unparked_of(before) == 1) {  // the last awake, time stands still: jump to the timer
      clock::advance_to(*next);
      leave_parked(w);
      return;
    }
    // ORDERING: (P12) the parker's acquire: see the table.
    w.park_slot.park();
    return;
  }
  const clock::time_point now = clock::now();
  // ORDERING: (P13) the parker's acquire: see the table.
  if (*next > now && w.park_slot.park_for(*next - now)) return;
  leave_parked(w);  // timed out: back to work, to fire the timer
}

void pool_core::leave_parked(worker& w) noexcept {
  {
    std::lock_guard guard(sleepers_lock_);
    const auto it = std::find(sleepers_.begin(), sleepers_.end(), w.index);
    if (it != sleepers_.end()) {
      sleepers_.erase(it);
      // ORDERING: (P11) seq_cst: see the table.
      idle_.value.fetch_add(unparked_one, std::memory_order_seq_cst);
      return;
    }
  }
  // A notifier took it off the list and is unparking it (it counted it unparked and
  // searching): take that unpark, so the next park does not return at once.
  w.park_slot.park();
}

// ---- shutdown ------------------------------------------------------------------------

void pool_core::stop_workers() noexcept {
  // ORDERING: (P22) release: see the table.
  exiting_.store(true, std::memory_order_release);
  for (auto& w : workers) unpark(*w);
}

void pool_core::shutdown() noexcept {
  FERRITE_ASSERT(current_worker_slot() == nullptr || &current_worker_slot()->pool != this,
                 "rt::thread_pool::shutdown: called from one of its own workers");
  // ORDERING: (P19) seq_cst: see the table.
  if (!closed_.exchange(true, std::memory_order_seq_cst)) {
    std::vector<task_header*> live;
    for (shard& s : shards_) {
      std::lock_guard guard(s.lock);
      s.closed = true;
      for (task_header& t : s.tasks) {
        t.acquire_ref();  // alive until aborted below, outside the lock
        live.push_back(&t);
      }
    }
    for (task_header* t : live) {
      if (t->request_abort()) schedule(t);
      t->release_ref();
    }
    // ORDERING: (P21) seq_cst: see the table.
    if (live_.load(std::memory_order_seq_cst) == 0) stop_workers();
  }
  std::lock_guard guard(join_lock_);
  if (joined_) return;
  for (auto& w : workers) {
    if (w->os_thread.joinable()) w->os_thread.join();
  }
  wait_for_foreign_wakes();  // every task is finished: no wake touches the pool after this
  joined_ = true;
}

// ---- hooks for code outside this file (task_header.hpp) ------------------------------

void pool_submit(executor_base* pool, task_header* t) noexcept {
  FERRITE_DEBUG_ASSERT(pool->kind == executor_kind::pool, "a pool");
  // SAFETY: spawn_on is called with a pool_core (thread_pool::spawn, rt::spawn on a worker).
  static_cast<pool_core*>(pool)->submit(t);
}

void pool_schedule(task_header* t) noexcept { pool_of(t)->schedule(t); }

timer_driver& pool_timers(executor_base* pool) noexcept {
  // SAFETY: called with an executor of kind pool, which is a pool_core.
  return static_cast<pool_core*>(pool)->timers;
}

waker pool_task_waker(task_header* t) noexcept {
  t->acquire_ref();
  return waker(t, &pool_waker_vtable);
}

void wait_until_complete(task_header* t) noexcept {
  t->acquire_ref();  // the waker's reference
  if (!t->register_join(waker(t, &blocking_join_vtable))) return;
  for (;;) {
    // ORDERING: (P26) acquire: see the table.
    const std::uint32_t s = t->state.load(std::memory_order_acquire);
    if ((s & state_complete) != 0) return;
    // ORDERING: (T16) acquire: see task_header.hpp's table.
    t->state.wait(s, std::memory_order_acquire);
  }
}

}  // namespace detail

// ---- thread_pool ---------------------------------------------------------------------

thread_pool::thread_pool(pool_options options) {
  std::size_t n = options.workers;
#if FERRITE_CHECK
  FERRITE_ASSERT(n != 0, "rt::thread_pool: model tests give the number of workers");
#else
  if (n == 0) n = std::max(1U, thread::hardware_concurrency());
#endif
  core_ = std::make_unique<detail::pool_core>(this, n);
  core_->start();
}

thread_pool::~thread_pool() { shutdown(); }

void thread_pool::shutdown() noexcept { core_->shutdown(); }

std::size_t thread_pool::workers() const noexcept { return core_->workers.size(); }

detail::executor_base* thread_pool::core_executor() const noexcept { return core_.get(); }

thread_pool* thread_pool::current() noexcept {
  detail::worker* const w = detail::current_worker_slot();
  return w != nullptr ? w->pool.facade : nullptr;
}

std::vector<worker_stats> thread_pool::stats() const {
  std::vector<worker_stats> out;
  out.reserve(core_->workers.size());
  for (const auto& w : core_->workers) {
    const detail::worker_counters& c = w->counters;
    worker_stats s;
    s.polls = c.polls.value();
    s.local_wakes = c.local_wakes.value();
    s.steals = c.steals.value();
    s.stolen_tasks = c.stolen_tasks.value();
    s.parks = c.parks.value();
    s.unparks = c.unparks.value();
    s.injected = c.injected.value();
    s.lifo_hits = c.lifo_hits.value();
    s.lifo_capped = c.lifo_capped.value();
    s.overflows = c.overflows.value();
    s.budget_yields = c.budget_yields.value();
    // ORDERING: (P24) relaxed: see the table.
    s.max_queue_depth = w->max_depth.load(std::memory_order_relaxed);
    out.push_back(s);
  }
  return out;
}

void thread_pool::dump_state_machine(std::ostream& out) const {
  const detail::transition_counters& t = core_->transitions;
  out << "stateDiagram-v2\n"
      << "    [*] --> Scheduled: spawn (" << t.spawned.value() << ")\n"
      << "    Idle --> Scheduled: wake (" << t.woken.value() << ")\n"
      << "    Scheduled --> Running: poll (" << t.polled.value() << ")\n"
      << "    Running --> Idle: suspend (" << t.idled.value() << ")\n"
      << "    Running --> Scheduled: woken while running (" << t.requeued.value() << ")\n"
      << "    Running --> Complete: return or throw (" << t.completed.value() << ")\n"
      << "    Scheduled --> Cancelled: abort or shutdown (" << t.cancelled.value() << ")\n"
      << "    Complete --> [*]\n"
      << "    Cancelled --> [*]\n";
}

}  // namespace ferrite::rt
