// SPDX-License-Identifier: Apache-2.0
// Exploration: run the closure, backtrack to the deepest choice with an untried
// alternative, run again (stateless model checking, as loom and CDSChecker do). Threads,
// mutexes and condition variables of the model, the contract hook, and model()/explore().
#include "engine.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ferrite/core/contract.hpp"

namespace ferrite::check::detail {

engine* g_engine = nullptr;
int g_depth = 0;

namespace {

void thread_entry(transfer from) {
  engine& e = *g_engine;
  if (e.switch_from == main_context)
    e.main_ctx = from.ctx;
  else
    e.threads[e.switch_from].ctx = from.ctx;
  g_depth = 0;  // user code: its allocations are tracked
  thread_rec& th = e.cur();
  try {
    th.fn(th.arg);
  } catch (const std::exception& x) {
    e.fail(failure_kind::exception, std::string("uncaught exception: ") + x.what());
  } catch (...) {
    e.fail(failure_kind::exception, "uncaught exception of unknown type");
  }
  g_depth = 1;
  if (th.drop != nullptr) th.drop(th.arg);
  e.finish_thread();
}

void run_body(void* body) { (*static_cast<const std::function<void()>*>(body))(); }

void on_contract_violation(const contract_violation& v) {
  engine_scope scope;
  if (!in_execution()) {
    print_contract_violation(v);
    return;  // the caller aborts
  }
  std::string msg = std::string(v.kind) + " failed: " + v.expression;
  if (*v.message != '\0') msg += " (" + std::string(v.message) + ")";
  msg += " at " + std::string(v.file) + ":" + std::to_string(v.line) + " in " + v.function;
  g_engine->fail(failure_kind::assertion, msg);
}

}  // namespace

/// Makes `e` the running engine and installs the checker's contract handler for the
/// lifetime of the scope; the destructor restores both, however explore() is left.
class exploring_scope {
 public:
  explicit exploring_scope(engine& e) noexcept {
    g_engine = &e;
    previous_ = set_contract_handler(&on_contract_violation);
  }
  ~exploring_scope() {
    set_contract_handler(previous_);
    g_engine = nullptr;
  }
  exploring_scope(const exploring_scope&) = delete;
  exploring_scope& operator=(const exploring_scope&) = delete;

 private:
  contract_handler previous_ = nullptr;
};

unsigned spawn_thread(engine& e, void (*fn)(void*), void* arg, void (*drop)(void*)) {
  if (e.nthreads == max_threads)
    e.fail(failure_kind::misuse, "more than 8 model threads in one execution");
  const unsigned id = e.nthreads++;
  thread_rec& th = e.threads[id];
  th = thread_rec{};
  th.fn = fn;
  th.arg = arg;
  th.drop = drop;
  if (e.current != main_context) th.clock = e.cur().clock;  // spawn happens before the thread
  th.priority = e.opts.pct_depth + static_cast<unsigned>(e.rng() % 1024);
  th.stack = e.stacks.take();
  th.ctx = make_context(th.stack.base, th.stack.size, &thread_entry);
  return id;
}

bool engine::run_one() {
  ++exec_id;
  nthreads = 0;
  current = main_context;
  pos = 0;
  preemptions = 0;
  sleep = 0;
  pruned = false;
  steps = 0;
  events = 0;
  s_counter = 0;
  locs.clear();
  locs.emplace_back();  // location 0: the seq_cst order S, for partial-order reduction
  locs.back().type = "S";
  store_used = 0;
  sc_fences.clear();
  labels.clear();
  trace.clear();
  failure = failure_kind::none;
  message.clear();
  if (!exhaustive) {
    change_points.clear();
    const std::uint64_t horizon = std::max<std::uint64_t>(max_depth, 16);
    for (unsigned i = 1; i < opts.pct_depth; ++i)
      change_points.push_back(static_cast<unsigned>(1 + rng() % horizon));
    std::sort(change_points.rbegin(), change_points.rend());
  }
  // SAFETY: the fiber entry takes void*; run_body only calls the body through a const
  // pointer again, so the const_cast never leads to a write.
  spawn_thread(*this, &run_body, const_cast<std::function<void()>*>(body), nullptr);
  const int saved = g_depth;
  g_depth = 1;
  switch_to(0);
  g_depth = saved;
  for (unsigned t = 0; t < nthreads; ++t) stacks.give(threads[t].stack);
  max_depth = std::max<std::uint64_t>(max_depth, steps);
  // Allocations: leaks, then give the quarantined memory back.
  std::size_t leaked = 0;
  std::size_t leaked_bytes = 0;
  std::string first_leak;
  for (auto& [p, a] : allocs) {
    if (a.alive) {
      ++leaked;
      leaked_bytes += a.size;
      if (first_leak.empty())
        first_leak = std::to_string(a.size) + " bytes allocated by thread " +
                     std::to_string(a.tid) + " at operation #" + std::to_string(a.event);
    } else {
      std::free(p);  // SAFETY: a quarantined block of allocate(), freed once, here
    }
  }
  const bool leak = failure == failure_kind::none && leaked != 0 && opts.check_leaks;
  g_depth = 1;  // the map's own nodes are not tracked
  allocs.clear();
  g_depth = saved;
  if (leak) {
    failure = failure_kind::leak;
    message = std::to_string(leaked) + " tracked allocation(s), " + std::to_string(leaked_bytes) +
              " bytes, still alive when the execution ended; the first: " + first_leak;
  }
  return failure == failure_kind::none;
}

bool engine::advance() {
  while (!path.empty()) {
    node& n = path.back();
    if (!n.sched) {
      if (n.chosen + 1 < n.count) {
        ++n.chosen;
        return true;
      }
    } else {
      mask todo = static_cast<mask>(n.backtrack & ~n.done & n.enabled & ~n.sleep);
      while (todo != 0) {
        const auto q = static_cast<unsigned>(std::countr_zero(todo));
        todo = static_cast<mask>(todo & ~bit(q));
        n.done = static_cast<mask>(n.done | bit(q));
        const unsigned cost = n.prev_can_continue && q != n.prev ? 1 : 0;
        if (opts.preemption_bound < 0 ||
            static_cast<int>(n.preemptions + cost) <= opts.preemption_bound) {
          n.chosen = static_cast<std::uint8_t>(q);
          return true;
        }
      }
    }
    path.pop_back();
  }
  return false;
}

void engine::fail(failure_kind k, std::string msg) {
  engine_scope scope;  // never left: the failing context is not resumed
  if (current == main_context) {
    std::fprintf(stderr, "ferrite::check: %s\n", msg.c_str());
    std::abort();
  }
  failure = k;
  message = "thread " + std::to_string(current) + ": " + msg;
  if (tracing) trace_op("FAILS", nullptr, to_string(k), {});
  switch_to(main_context);
  std::abort();  // never resumed
}

// ---- hooks: threads, mutexes, condition variables -----------------------------------------

unsigned thread_spawn(void (*fn)(void*), void* arg, void (*drop)(void*), const src& at) {
  if (!in_execution()) {
    std::fputs("ferrite::check::thread: created outside a model execution\n", stderr);
    std::abort();
  }
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule();
  e.tick();
  const unsigned id = spawn_thread(e, fn, arg, drop);
  if (e.tracing) e.trace_op("spawn", nullptr, "thread " + std::to_string(id), at);
  return id;
}

void thread_join(unsigned id, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  for (;;) {
    e.schedule();
    e.tick();
    thread_rec& target = e.threads[id];
    if (target.state == tstate::finished) {
      e.cur().clock.join(target.clock);
      if (e.tracing) e.trace_op("join", nullptr, "thread " + std::to_string(id), at);
      return;
    }
    if (e.tracing) e.trace_op("join", nullptr, "thread " + std::to_string(id) + " (blocks)", at);
    e.cur().join_target = static_cast<int>(id);
    e.block("the end of thread", never);
  }
}

namespace {

void take_mutex(engine& e, location& m) {
  m.owner = static_cast<int>(e.current);
  e.cur().clock.join(m.release);
}

void release_mutex(engine& e, location& m) {
  if (m.owner != static_cast<int>(e.current))
    e.fail(failure_kind::misuse, "unlock of " + e.describe(m) + " that this thread does not hold");
  m.owner = -1;
  m.release = e.cur().clock;
  e.wake(m, true);
  e.record_access(m, true);
  e.progress(e.current);
}

}  // namespace

void mutex_lock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  for (;;) {
    e.schedule({e.loc_index(h, addr, 0, object_kind::mutex), true, false});
    location& m = e.loc(h, addr, 0, object_kind::mutex);
    e.tick();
    e.record_access(m, true);
    if (m.owner < 0) {
      take_mutex(e, m);
      if (e.tracing) e.trace_op("lock", &m, "", at);
      return;
    }
    if (m.owner == static_cast<int>(e.current))
      e.fail(failure_kind::deadlock, "thread locks " + e.describe(m) + " which it already holds");
    if (e.tracing) e.trace_op("lock", &m, "(blocks: held by t" + std::to_string(m.owner) + ")", at);
    m.waiters = static_cast<mask>(m.waiters | bit(e.current));
    e.block("mutex", m.id);
  }
}

bool mutex_try_lock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule({e.loc_index(h, addr, 0, object_kind::mutex), true, false});
  location& m = e.loc(h, addr, 0, object_kind::mutex);
  e.tick();
  e.record_access(m, true);
  const bool ok = m.owner < 0;
  if (ok) take_mutex(e, m);
  if (e.tracing) e.trace_op("try_lock", &m, ok ? "ok" : "busy", at);
  return ok;
}

void mutex_unlock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule({e.loc_index(h, addr, 0, object_kind::mutex), true, false});
  location& m = e.loc(h, addr, 0, object_kind::mutex);
  e.tick();
  release_mutex(e, m);
  if (e.tracing) e.trace_op("unlock", &m, "", at);
}

void condvar_wait(handle& cv, const void* cv_addr, handle& m, const void* m_addr, const src& at) {
  {
    engine_scope scope;
    engine& e = *g_engine;
    e.schedule();
    location& c = e.loc(cv, cv_addr, 0, object_kind::condvar);
    location& mx = e.loc(m, m_addr, 0, object_kind::mutex);
    e.tick();
    e.record_access(c, true);
    release_mutex(e, mx);
    if (e.tracing) e.trace_op("cv wait", &c, "(releases " + e.describe(mx) + ")", at);
    c.waiters = static_cast<mask>(c.waiters | bit(e.current));
    e.block("a notify on", c.id);
  }
  mutex_lock(m, m_addr, at);
}

void condvar_notify(handle& cv, const void* cv_addr, bool all, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule({e.loc_index(cv, cv_addr, 0, object_kind::condvar), true, false});
  location& c = e.loc(cv, cv_addr, 0, object_kind::condvar);
  e.tick();
  e.record_access(c, true);
  if (e.tracing)
    e.trace_op(all ? "notify_all" : "notify_one", &c,
               std::to_string(std::popcount(c.waiters)) + " waiting", at);
  e.wake(c, all);
}

void fail(const char* kind, const char* message, const src& at) {
  std::string msg = std::string(kind) + ": " + message;
  if (at.line() != 0) msg += " at " + where(at);
  if (!in_execution()) {
    std::fprintf(stderr, "ferrite::check: %s\n", msg.c_str());
    std::abort();
  }
  g_engine->fail(failure_kind::misuse, msg);
}

}  // namespace ferrite::check::detail

// ---- the public API ----------------------------------------------------------------------

namespace ferrite::check {

using detail::engine;
using detail::g_engine;

report explore(const options& opts, const std::function<void()>& fn) {
  if (g_engine != nullptr) throw std::logic_error("ferrite::check::explore: already exploring");
  if (opts.history < 1 || opts.history > detail::max_history)
    throw std::invalid_argument("ferrite::check::options::history must be in 1..16");
  std::vector<detail::node> replay_path;
  if (!opts.replay.empty() && !engine::parse_token(opts.replay, replay_path))
    throw std::invalid_argument("ferrite::check: malformed replay token: " + opts.replay);
  auto e = std::make_unique<engine>();
  e->opts = opts;
  e->exhaustive = opts.search == mode::exhaustive;
  e->rng.seed(opts.seed);
  e->stacks.set_size(opts.stack_size);
  e->body = &fn;
  e->path = std::move(replay_path);
  const detail::exploring_scope installed(*e);  // declared after `e`: restores before it dies
  const auto start = std::chrono::steady_clock::now();
  report r;
  if (!opts.replay.empty()) {
    e->exhaustive = true;
    e->replaying_token = true;
    e->tracing = true;
    e->run_one();
    r.executions = 1;
  } else {
    for (std::uint64_t i = 0;; ++i) {
      if (!e->exhaustive) {
        e->path.clear();
        e->rng.seed(opts.seed + i);
      }
      const bool ok = e->run_one();
      ++r.executions;
      if (opts.verbose && (r.executions & 0x3ffff) == 0)
        std::fprintf(stderr, "ferrite::check: %llu executions, path %zu, longest %llu\n",
                     static_cast<unsigned long long>(r.executions), e->path.size(),
                     static_cast<unsigned long long>(e->max_depth));
      if (!ok) break;
      if (!e->exhaustive) {
        if (r.executions >= opts.iterations) break;
        continue;
      }
      if (!e->advance()) {
        r.complete = true;
        break;
      }
      if (opts.max_executions != 0 && r.executions >= opts.max_executions) break;
    }
    if (e->failure != failure_kind::none) {
      // Rerun exactly the failing execution, this time recording its trace.
      e->path.resize(e->pos);
      const failure_kind kind = e->failure;
      const std::string message = e->message;
      r.token = e->token();
      e->replaying_token = true;
      e->tracing = true;
      e->exhaustive = true;
      e->run_one();
      if (e->failure != kind) {
        e->trace += "(the traced rerun ended differently: " + e->message + ")\n";
        e->failure = kind;
        e->message = message;
      }
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.failure = e->failure;
  r.message = e->message;
  r.trace = e->trace;
  r.max_depth = e->max_depth;
  r.pruned = e->pruned_runs;
  if (r.failure != failure_kind::none && r.token.empty()) r.token = opts.replay;
  return r;
}

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at test start
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

options options::from_env(options base) {
  if (const char* v = env("FERRITE_CHECK_PREEMPTIONS"))
    base.preemption_bound = std::string(v) == "none" ? -1 : std::atoi(v);
  if (const char* v = env("FERRITE_CHECK_MODE"))
    base.search = std::string(v) == "random" ? mode::random : mode::exhaustive;
  if (const char* v = env("FERRITE_CHECK_ITERATIONS"))
    base.iterations = std::strtoull(v, nullptr, 10);
  if (const char* v = env("FERRITE_CHECK_SEED")) base.seed = std::strtoull(v, nullptr, 10);
  if (const char* v = env("FERRITE_CHECK_REPLAY")) base.replay = v;
  if (const char* v = env("FERRITE_CHECK_VERBOSE")) base.verbose = *v != '0';
  return base;
}

void model(const options& opts, const std::function<void()>& fn) {
  const options o = options::from_env(opts);
  report r = explore(o, fn);
  if (!r.ok()) throw failure(std::move(r));
  std::printf("ferrite::check: %s\n", r.summary().c_str());
  if (!o.replay.empty()) std::printf("%s", r.trace.c_str());
}

void name(const void* addr, const char* label) {
  detail::engine_scope scope;  // the map's nodes are the checker's, not the test's
  if (g_engine != nullptr) g_engine->labels[addr] = label;
}

}  // namespace ferrite::check
