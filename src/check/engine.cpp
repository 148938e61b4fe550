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

void execution::clear() noexcept {
  static_cast<execution_state&>(*this) = execution_state{};
  message.clear();
  trace.clear();
  locs.clear();
  sc_fences.clear();
  change_points.clear();
  allocs.clear();
  labels.clear();
}

namespace {

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

}  // namespace

engine::engine(const options& opts, const std::function<void()>& body, std::vector<node> replay)
    : opts_(opts),
      exhaustive_(opts.search == mode::exhaustive),
      rng_(opts.seed),
      body_(&body),
      path_(std::move(replay)) {
  stacks_.set_size(opts.stack_size);
}

void engine::thread_entry(transfer from) { g_engine->run_thread(from.ctx); }

void engine::run_thread(fcontext from) {
  if (exec_.switch_from == main_context)
    exec_.main_ctx = from;
  else
    exec_.threads[exec_.switch_from].ctx = from;
  g_depth = 0;  // user code: its allocations are tracked
  thread_rec& th = cur();
  try {
    th.fn(th.arg);
  } catch (const std::exception& x) {
    fail(failure_kind::exception, std::string("uncaught exception: ") + x.what());
  } catch (...) {
    fail(failure_kind::exception, "uncaught exception of unknown type");
  }
  g_depth = 1;
  if (th.drop != nullptr) th.drop(th.arg);
  finish_thread();
}

unsigned engine::spawn_thread(void (*fn)(void*), void* arg, void (*drop)(void*)) {
  if (exec_.nthreads == max_threads)
    fail(failure_kind::misuse, "more than 8 model threads in one execution");
  const unsigned id = exec_.nthreads++;
  thread_rec& th = exec_.threads[id];
  th = thread_rec{};
  th.fn = fn;
  th.arg = arg;
  th.drop = drop;
  if (exec_.current != main_context) th.clock = cur().clock;  // spawn happens before the thread
  th.priority = opts_.pct_depth + static_cast<unsigned>(rng_() % 1024);
  th.stack = stacks_.take();
  th.ctx = make_context(th.stack.base, th.stack.size, &thread_entry);
  return id;
}

bool engine::run_one() {
  ++exec_id_;
  exec_.clear();
  exec_.locs.emplace_back();  // location 0: the seq_cst order S, for partial-order reduction
  exec_.locs.back().type = "S";
  if (!exhaustive_) {
    const std::uint64_t horizon = std::max<std::uint64_t>(max_depth_, 16);
    for (unsigned i = 1; i < opts_.pct_depth; ++i)
      exec_.change_points.push_back(static_cast<unsigned>(1 + rng_() % horizon));
    std::sort(exec_.change_points.rbegin(), exec_.change_points.rend());
  }
  // SAFETY: the fiber entry takes void*; run_body only calls the body through a const
  // pointer again, so the const_cast never leads to a write.
  spawn_thread(&run_body, const_cast<std::function<void()>*>(body_), nullptr);
  const int saved = g_depth;
  g_depth = 1;
  switch_to(0);
  g_depth = saved;
  for (unsigned t = 0; t < exec_.nthreads; ++t) stacks_.give(exec_.threads[t].stack);
  max_depth_ = std::max<std::uint64_t>(max_depth_, exec_.steps);
  // Allocations: leaks, then give the quarantined memory back.
  std::size_t leaked = 0;
  std::size_t leaked_bytes = 0;
  std::string first_leak;
  for (auto& [p, a] : exec_.allocs) {
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
  const bool leak = exec_.failure == failure_kind::none && leaked != 0 && opts_.check_leaks;
  g_depth = 1;  // the map's own nodes are not tracked
  exec_.allocs.clear();
  g_depth = saved;
  if (leak) {
    exec_.failure = failure_kind::leak;
    exec_.message = std::to_string(leaked) + " tracked allocation(s), " +
                    std::to_string(leaked_bytes) +
                    " bytes, still alive when the execution ended; the first: " + first_leak;
  }
  return exec_.failure == failure_kind::none;
}

bool engine::advance() {
  while (!path_.empty()) {
    node& n = path_.back();
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
        if (opts_.preemption_bound < 0 ||
            static_cast<int>(n.preemptions + cost) <= opts_.preemption_bound) {
          n.chosen = static_cast<std::uint8_t>(q);
          return true;
        }
      }
    }
    path_.pop_back();
  }
  return false;
}

report engine::explore() {
  const auto start = std::chrono::steady_clock::now();
  report r;
  if (!opts_.replay.empty()) {
    exhaustive_ = true;
    replaying_token_ = true;
    tracing_ = true;
    run_one();
    r.executions = 1;
  } else {
    search(r);
    if (exec_.failure != failure_kind::none) trace_failure(r);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.failure = exec_.failure;
  r.message = exec_.message;
  r.trace = exec_.trace;
  r.max_depth = max_depth_;
  r.pruned = pruned_runs_;
  if (r.failure != failure_kind::none && r.token.empty()) r.token = opts_.replay;
  return r;
}

void engine::search(report& r) {
  for (std::uint64_t i = 0;; ++i) {
    if (!exhaustive_) {
      path_.clear();
      rng_.seed(opts_.seed + i);
    }
    const bool ok = run_one();
    ++r.executions;
    if (opts_.verbose && (r.executions & 0x3ffff) == 0)
      std::fprintf(stderr, "ferrite::check: %llu executions, path %zu, longest %llu\n",
                   static_cast<unsigned long long>(r.executions), path_.size(),
                   static_cast<unsigned long long>(max_depth_));
    if (!ok) return;
    if (!exhaustive_) {
      if (r.executions >= opts_.iterations) return;
      continue;
    }
    if (!advance()) {
      r.complete = true;
      return;
    }
    if (opts_.max_executions != 0 && r.executions >= opts_.max_executions) return;
  }
}

void engine::trace_failure(report& r) {
  // Rerun exactly the failing execution, this time recording its trace.
  path_.resize(exec_.pos);
  const failure_kind kind = exec_.failure;
  const std::string message = exec_.message;
  r.token = token();
  replaying_token_ = true;
  tracing_ = true;
  exhaustive_ = true;
  run_one();
  if (exec_.failure != kind) {
    exec_.trace += "(the traced rerun ended differently: " + exec_.message + ")\n";
    exec_.failure = kind;
    exec_.message = message;
  }
}

void engine::fail(failure_kind k, const std::string& msg) {
  engine_scope scope;  // never left: the failing context is not resumed
  if (exec_.current == main_context) {
    std::fprintf(stderr, "ferrite::check: %s\n", msg.c_str());
    std::abort();
  }
  exec_.failure = k;
  exec_.message = "thread " + std::to_string(exec_.current) + ": " + msg;
  if (tracing_) trace_op("FAILS", nullptr, to_string(k), {});
  switch_to(main_context);
  std::abort();  // never resumed
}

// ---- threads, mutexes, condition variables, names ----------------------------------------

unsigned engine::thread_spawn(void (*fn)(void*), void* arg, void (*drop)(void*), const src& at) {
  engine_scope scope;
  schedule();
  tick();
  const unsigned id = spawn_thread(fn, arg, drop);
  if (tracing_) trace_op("spawn", nullptr, "thread " + std::to_string(id), at);
  return id;
}

void engine::thread_join(unsigned id, const src& at) {
  engine_scope scope;
  for (;;) {
    schedule();
    tick();
    thread_rec& target = exec_.threads[id];
    if (target.state == tstate::finished) {
      cur().clock.join(target.clock);
      if (tracing_) trace_op("join", nullptr, "thread " + std::to_string(id), at);
      return;
    }
    if (tracing_) trace_op("join", nullptr, "thread " + std::to_string(id) + " (blocks)", at);
    cur().join_target = static_cast<int>(id);
    block("the end of thread", never);
  }
}

void engine::take_mutex(location& m) {
  m.owner = static_cast<int>(exec_.current);
  cur().clock.join(m.release);
}

void engine::release_mutex(location& m) {
  if (m.owner != static_cast<int>(exec_.current))
    fail(failure_kind::misuse, "unlock of " + describe(m) + " that this thread does not hold");
  m.owner = -1;
  m.release = cur().clock;
  wake(m, true);
  record_access(m, true);
  progress(exec_.current);
}

void engine::mutex_lock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  for (;;) {
    schedule({loc_index(h, addr, 0, object_kind::mutex), true, false});
    location& m = loc(h, addr, 0, object_kind::mutex);
    tick();
    record_access(m, true);
    if (m.owner < 0) {
      take_mutex(m);
      if (tracing_) trace_op("lock", &m, "", at);
      return;
    }
    if (m.owner == static_cast<int>(exec_.current))
      fail(failure_kind::deadlock, "thread locks " + describe(m) + " which it already holds");
    if (tracing_) trace_op("lock", &m, "(blocks: held by t" + std::to_string(m.owner) + ")", at);
    m.waiters = static_cast<mask>(m.waiters | bit(exec_.current));
    block("mutex", m.id);
  }
}

bool engine::mutex_try_lock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, 0, object_kind::mutex), true, false});
  location& m = loc(h, addr, 0, object_kind::mutex);
  tick();
  record_access(m, true);
  const bool ok = m.owner < 0;
  if (ok) take_mutex(m);
  if (tracing_) trace_op("try_lock", &m, ok ? "ok" : "busy", at);
  return ok;
}

void engine::mutex_unlock(handle& h, const void* addr, const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, 0, object_kind::mutex), true, false});
  location& m = loc(h, addr, 0, object_kind::mutex);
  tick();
  release_mutex(m);
  if (tracing_) trace_op("unlock", &m, "", at);
}

void engine::condvar_wait(handle& cv, const void* cv_addr, handle& m, const void* m_addr,
                          const src& at) {
  engine_scope scope;
  schedule();
  location& c = loc(cv, cv_addr, 0, object_kind::condvar);
  location& mx = loc(m, m_addr, 0, object_kind::mutex);
  tick();
  record_access(c, true);
  release_mutex(mx);
  if (tracing_) trace_op("cv wait", &c, "(releases " + describe(mx) + ")", at);
  c.waiters = static_cast<mask>(c.waiters | bit(exec_.current));
  block("a notify on", c.id);
  mutex_lock(m, m_addr, at);
}

void engine::condvar_notify(handle& cv, const void* cv_addr, bool all, const src& at) {
  engine_scope scope;
  schedule({loc_index(cv, cv_addr, 0, object_kind::condvar), true, false});
  location& c = loc(cv, cv_addr, 0, object_kind::condvar);
  tick();
  record_access(c, true);
  if (tracing_)
    trace_op(all ? "notify_all" : "notify_one", &c,
             std::to_string(std::popcount(c.waiters)) + " waiting", at);
  wake(c, all);
}

void engine::name(const void* addr, const char* label) {
  engine_scope scope;  // the map's nodes are the checker's, not the test's
  exec_.labels[addr] = label;
}

// ---- the hooks: each forwards to the engine operation of its name ------------------------

unsigned thread_spawn(void (*fn)(void*), void* arg, void (*drop)(void*), const src& at) {
  if (!in_execution()) {
    std::fputs("ferrite::check::thread: created outside a model execution\n", stderr);
    std::abort();
  }
  return g_engine->thread_spawn(fn, arg, drop, at);
}

void thread_join(unsigned id, const src& at) { g_engine->thread_join(id, at); }

void mutex_lock(handle& h, const void* addr, const src& at) { g_engine->mutex_lock(h, addr, at); }

bool mutex_try_lock(handle& h, const void* addr, const src& at) {
  return g_engine->mutex_try_lock(h, addr, at);
}

void mutex_unlock(handle& h, const void* addr, const src& at) {
  g_engine->mutex_unlock(h, addr, at);
}

void condvar_wait(handle& cv, const void* cv_addr, handle& m, const void* m_addr, const src& at) {
  g_engine->condvar_wait(cv, cv_addr, m, m_addr, at);
}

void condvar_notify(handle& cv, const void* cv_addr, bool all, const src& at) {
  g_engine->condvar_notify(cv, cv_addr, all, at);
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
  auto e = std::make_unique<engine>(opts, fn, std::move(replay_path));
  const detail::exploring_scope installed(*e);  // declared after `e`: restores before it dies
  return e->explore();
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
  if (g_engine != nullptr) g_engine->name(addr, label);
}

}  // namespace ferrite::check
