// SPDX-License-Identifier: Apache-2.0
// The model checker's engine state: model threads on fibers, the exploration path, atomic
// locations with their store histories, vector clocks, and the failure being reported.
// Everything here runs on one OS thread; model threads are fibers switched by the engine.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <source_location>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferrite/check/detail/hooks.hpp"
#include "ferrite/check/model.hpp"
#include "fiber.hpp"

namespace ferrite::check::detail {

inline constexpr unsigned max_threads = 8;
inline constexpr std::uint32_t never = UINT32_MAX;
inline constexpr unsigned main_context = max_threads;  // the explorer's own context
inline constexpr unsigned max_history = 16;

using mask = std::uint8_t;  // a set of model threads
inline mask bit(unsigned t) noexcept { return static_cast<mask>(1U << t); }

/// A vector clock: entry u is the number of operations of thread u known to happen before.
struct vclock {
  std::array<std::uint32_t, max_threads> c{};
  void join(const vclock& o) noexcept {
    for (unsigned i = 0; i < max_threads; ++i) c[i] = c[i] < o.c[i] ? o.c[i] : c[i];
  }
  std::uint32_t operator[](unsigned i) const noexcept { return c[i]; }
  std::uint32_t& operator[](unsigned i) noexcept { return c[i]; }
};

/// One store in a location's modification order.
struct store_rec {
  std::uint64_t value;
  vclock release;        // what an acquire that reads this store learns (release sequence)
  vclock seen;           // per thread: own-clock time it first observed this store, or never
  std::uint32_t epoch;   // the storing thread's clock at the store
  std::uint32_t sc_pos;  // position in the seq_cst order S, or never
  std::uint32_t event;   // global operation number (trace)
  std::uint8_t tid;
};

struct access {
  std::uint32_t node = never;  // path index of the scheduling node of the access
  std::uint32_t epoch = 0;     // the accessing thread's clock at the access
};

/// An instrumented object of one execution: atomic, cell, mutex or condition variable.
struct location {
  const void* addr = nullptr;
  const char* type = "";
  object_kind kind = object_kind::atomic;
  bool alive = true;
  // atomic: the last `count` stores, oldest first, in a ring at store_base in the pool
  std::uint32_t store_base = 0;
  std::uint8_t first = 0;
  std::uint8_t count = 0;
  std::uint32_t stores = 0;  // stores ever made (modification order length)
  // bounded staleness: per thread, `stores` at its last stale read (`never`: none)
  std::array<std::uint32_t, max_threads> stale_at{never, never, never, never,
                                                  never, never, never, never};
  std::array<std::uint8_t, max_threads> stale_streak{};
  // partial-order reduction: last access of each thread
  std::array<access, max_threads> last_read{};
  std::array<access, max_threads> last_write{};
  // mutex / waiting
  int owner = -1;
  mask waiters = 0;
  vclock release{};
  // cell: FastTrack-style race detection
  std::uint8_t w_tid = 0;
  std::uint32_t w_epoch = 0;
  vclock reads{};
  std::source_location w_at{};
  std::array<std::source_location, max_threads> read_at{};
  std::uint32_t id = 0;
};

enum class tstate : std::uint8_t { runnable, blocked, finished };

/// What a thread does right after its scheduling point, for sleep sets: the location it
/// accesses and how. `loc == never` means unknown (spawn, join, blocking waits): such an
/// operation is treated as dependent with every other.
struct next_op {
  std::uint32_t loc = never;
  bool write = true;
  bool sc = false;  // a seq_cst access also reads S (location 0); seq_cst fences write it
};

/// Whether running `a` and `b` in either order could give different results (DPOR's
/// dependency relation, the same one record_access applies).
inline bool dependent(const next_op& a, const next_op& b) noexcept {
  if (a.loc == never || b.loc == never) return true;
  if (a.loc == b.loc && (a.write || b.write)) return true;
  const bool a_s = a.sc || a.loc == 0;  // location 0 is S: only fences access it directly
  const bool b_s = b.sc || b.loc == 0;
  return a_s && b_s && ((a.loc == 0 && a.write) || (b.loc == 0 && b.write));
}

struct thread_rec {
  fcontext ctx = nullptr;
  void (*fn)(void*) = nullptr;
  void* arg = nullptr;
  void (*drop)(void*) = nullptr;
  tstate state = tstate::runnable;
  bool yielded = false;
  std::uint8_t idle_spins = 0;  // spin hints since another thread last made progress
  bool spurious_used = false;
  bool has_rel_fence = false;
  vclock clock{};
  vclock rel_fence{};    // clock at the last release fence (relaxed stores carry it)
  vclock acq_pending{};  // releases read by relaxed loads (an acquire fence joins them)
  const char* blocked_on = "";
  std::uint32_t blocked_loc = never;
  next_op next{};  // the operation it runs when next scheduled
  int join_target = -1;
  unsigned priority = 0;  // random mode
  stack_pool::stack stack{};
};

/// One choice of the exploration path.
struct node {
  bool sched = true;  // a scheduling choice (else a value choice: reads-from, spurious CAS)
  std::uint8_t chosen = 0;
  std::uint8_t count = 0;  // value choice: alternatives
  mask enabled = 0;        // sched: threads that could run
  mask backtrack = 0;      // sched: threads to try here
  mask done = 0;           // sched: threads tried here
  std::uint8_t prev = 0;   // sched: the thread that reached this point
  bool prev_can_continue = false;
  std::uint8_t preemptions = 0;  // before this node
  mask sleep = 0;  // sched, unbounded search: threads whose runs from here are covered
};

struct sc_fence_rec {
  std::uint32_t pos;  // in S
  std::uint8_t tid;
  vclock clock;
};

struct alloc_rec {
  std::size_t size;
  bool alive;
  std::uint32_t event;
  std::uint8_t tid;
};

/// The scalar state of one execution (reset by assignment in execution::clear()).
struct execution_state {
  unsigned nthreads = 0;                // model threads spawned: execution::threads in use
  unsigned current = main_context;      // the running context: a model thread or the explorer
  unsigned switch_from = main_context;  // the context that switched to `current`
  fcontext main_ctx = nullptr;          // the explorer's context, saved while threads run
  std::size_t pos = 0;                  // the next choice on the path
  std::uint32_t cur_node = 0;           // path index of the running step's scheduling node
  mask sleep = 0;                       // sleep set (Godefroid) after the running step
  bool pruned = false;  // every enabled thread slept: the rest of this run adds nothing
  unsigned preemptions = 0;
  std::uint64_t steps = 0;       // scheduling points, bounded by options::max_steps
  std::uint32_t events = 0;      // operations (the trace numbers them)
  std::uint32_t s_counter = 0;   // the next position in the seq_cst order S
  std::uint32_t store_used = 0;  // slots of the engine's store pool given to locations
  failure_kind failure = failure_kind::none;
};

/// Everything one execution builds and changes. clear() starts the next one.
struct execution : execution_state {
  std::string message;
  std::string trace;
  // Refilled by every execution; clear() empties them and keeps their capacity.
  std::vector<location> locs;
  std::vector<sc_fence_rec> sc_fences;
  std::vector<unsigned> change_points;  // random mode: steps where the running thread drops
  std::unordered_map<void*, alloc_rec> allocs;
  std::unordered_map<const void*, const char*> labels;
  // The model threads: slots below nthreads are live. spawn_thread resets each slot (by
  // assignment) when it hands it out, so clear() leaves them alone.
  std::array<thread_rec, max_threads> threads{};

  /// Resets the scalars by assignment and empties the strings and containers, which keep
  /// their capacity: freeing them and growing them from nothing again in each execution
  /// (a couple of microseconds long) would cost a measurable share of it, and so would
  /// rebuilding all eight thread slots (about 1.5 KB).
  void clear() noexcept;
};

/// The model checker of one explore() call: runs the closure on fibers, execution after
/// execution, and carries out the operations of the hooks (detail/hooks.hpp forwards each
/// one to the member of the same name, which runs as checker code: an engine_scope).
class engine {
 public:
  /// Preconditions: opts.history is in 1..max_history; `replay` is opts.replay parsed by
  /// parse_token (empty when there is none).
  engine(const options& opts, const std::function<void()>& body, std::vector<node> replay);
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// The search (or the replay of opts.replay) and its report. Expects to be g_engine.
  report explore();
  /// Parses a replay token into a path; false when it is malformed.
  static bool parse_token(const std::string& token, std::vector<node>& out);

  /// True while a model thread runs (not the explorer between executions).
  bool model_thread_running() const noexcept { return exec_.current != main_context; }
  /// The running context (a model thread's index, or main_context) and the execution's
  /// serial number: what per-thread slots (check::thread_local_slot) are keyed by.
  unsigned current_context() const noexcept { return exec_.current; }
  std::uint32_t execution_serial() const noexcept { return exec_id_; }

  // --- the hooks' operations (memory.cpp: objects, atomics, fences, cells) ---
  void object_created(handle& h, const void* addr, object_kind kind, std::uint64_t init_bits,
                      const char* type);
  void object_destroyed(handle& h, const void* addr) noexcept;
  std::uint64_t atomic_load(handle& h, const void* addr, std::uint64_t raw, std::memory_order o,
                            const src& at);
  void atomic_store(handle& h, const void* addr, std::uint64_t raw, std::uint64_t bits,
                    std::memory_order o, const src& at);
  std::uint64_t atomic_rmw(handle& h, const void* addr, std::uint64_t raw, rmw_fn fn,
                           std::uint64_t arg, std::memory_order o, const char* name, const src& at);
  bool atomic_cas(handle& h, const void* addr, std::uint64_t raw, std::uint64_t& expected,
                  std::uint64_t desired, bool weak, std::memory_order success,
                  std::memory_order failure, const src& at);
  void atomic_wait(handle& h, const void* addr, std::uint64_t raw, std::uint64_t old,
                   std::memory_order o, const src& at);
  void atomic_notify(handle& h, const void* addr, std::uint64_t raw, bool all, const src& at);
  void fence(std::memory_order o, const src& at);
  void spin_hint(const src& at);
  void cell_access(handle& h, const void* addr, bool write, const src& at);
  // --- (engine.cpp: threads, mutexes, condition variables, names) ---
  unsigned thread_spawn(void (*fn)(void*), void* arg, void (*drop)(void*), const src& at);
  void thread_join(unsigned id, const src& at);
  void mutex_lock(handle& h, const void* addr, const src& at);
  bool mutex_try_lock(handle& h, const void* addr, const src& at);
  void mutex_unlock(handle& h, const void* addr, const src& at);
  void condvar_wait(handle& cv, const void* cv_addr, handle& m, const void* m_addr, const src& at);
  void condvar_notify(handle& cv, const void* cv_addr, bool all, const src& at);
  void name(const void* addr, const char* label);
  /// Ends the current execution as failed with `msg` (from the explorer: prints, aborts).
  [[noreturn]] void fail(failure_kind k, const std::string& msg);
  // --- (alloc.cpp: tracked allocations) ---
  void track_allocation(void* p, std::size_t size);
  /// Marks tracked block `p` freed and quarantines it; false when `p` is not tracked.
  bool track_free(void* p);

 private:
  // --- exploration (engine.cpp) ---
  bool run_one();
  bool advance();
  /// The exhaustive or random search, until a failure, the end or a limit.
  void search(report& r);
  /// Reruns the failing execution (the path up to its last choice) to record its trace.
  void trace_failure(report& r);
  unsigned spawn_thread(void (*fn)(void*), void* arg, void (*drop)(void*));
  static void thread_entry(transfer from);
  [[noreturn]] void run_thread(fcontext from);
  void take_mutex(location& m);
  void release_mutex(location& m);
  // --- scheduling (sched.cpp) ---
  /// The scheduling point before the current thread's next operation `op`.
  void schedule(next_op op = {});
  /// Sleep sets apply to the unbounded exhaustive search only: with a preemption bound a
  /// sleeping thread's covered runs may have cost a different number of preemptions.
  bool sleep_sets() const noexcept {
    return exhaustive_ && opts_.dpor && opts_.preemption_bound < 0 && !replaying_token_;
  }
  void update_sleep(const node& n, unsigned next);
  /// `l` died (destroyed or its memory freed): threads sleeping on an access to it wake.
  void location_died(location& l) noexcept;
  void block(const char* why, std::uint32_t loc);
  std::string deadlock_message() const;
  [[noreturn]] void finish_thread();
  void switch_to(unsigned t);
  unsigned choose(unsigned count);
  void add_backtrack(std::uint32_t j, unsigned q);
  void record_access(location& l, bool write);
  void progress(unsigned by);
  void wake(location& l, bool all);
  mask enabled_mask() const;
  // --- memory model (memory.cpp) ---
  location& loc(handle& h, const void* addr, std::uint64_t raw, object_kind kind);
  /// The index of the location of `h`, registered now if it is new to this execution.
  std::uint32_t loc_index(handle& h, const void* addr, std::uint64_t raw, object_kind kind);
  std::uint32_t tick();
  store_rec& store_at(location& l, unsigned i);
  const store_rec& store_at(const location& l, unsigned i) const;
  /// The current thread reads store `s` with order `o`: first observation, then the clock
  /// join (acquire) or the stash for a later acquire fence (relaxed).
  void read_from(store_rec& s, std::memory_order o);
  /// Partial-order reduction for a read (write) of `l`; seq_cst ones also read S. Call
  /// before any clock join of the operation.
  void record_read(location& l, std::memory_order o);
  void record_write(location& l, std::memory_order o);
  unsigned coherence_floor(const location& l, const thread_rec& th, bool sc) const;
  void push_store(location& l, const store_rec& s);
  /// A new store by the current thread: its release clock, S position, first observation.
  store_rec make_store(std::uint64_t bits, std::memory_order o);
  /// The shared tail of every store and successful RMW.
  void commit_store(location& l, const store_rec& s);
  /// An RMW (or successful CAS) reads the newest store and continues its release sequence.
  std::uint64_t rmw_commit(location& l, std::uint64_t desired_or_arg, rmw_fn fn,
                           std::memory_order o);
  // --- reporting (report.cpp) ---
  void trace_op(const char* what, const location* l, const std::string& detail,
                const std::source_location& at);
  std::string describe(const location& l) const;
  std::string token() const;

  thread_rec& cur() noexcept { return exec_.threads[exec_.current]; }

  // the search
  options opts_;
  bool exhaustive_ = true;
  bool replaying_token_ = false;  // following a given path: no nondeterminism checks, no DPOR
  bool tracing_ = false;          // recording the trace (the replay and the failing rerun)
  std::mt19937_64 rng_;
  const std::function<void()>* body_ = nullptr;
  std::vector<node> path_;
  std::uint32_t exec_id_ = 0;          // executions started; handles of earlier ones are stale
  std::uint64_t max_depth_ = 0;        // most scheduling points in one execution
  std::uint64_t pruned_runs_ = 0;      // runs that coasted to their end once pruned
  std::vector<store_rec> store_pool_;  // the locations' store rings (execution::store_used)
  stack_pool stacks_;
  // the running execution
  execution exec_;
};

/// The engine of the running model() call (one at a time; not reentrant).
extern engine* g_engine;
/// Nesting depth of checker code on the running context; allocations are tracked (as the
/// test's) only at depth 0 on a model thread. Each context keeps its own across switches.
extern int g_depth;

struct engine_scope {
  engine_scope() noexcept { ++g_depth; }
  ~engine_scope() { --g_depth; }
  engine_scope(const engine_scope&) = delete;
  engine_scope& operator=(const engine_scope&) = delete;
};

std::string where(const std::source_location& at);
std::string format_value(std::uint64_t v);
const char* order_name(std::memory_order o) noexcept;

}  // namespace ferrite::check::detail
