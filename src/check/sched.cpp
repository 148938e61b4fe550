// SPDX-License-Identifier: Apache-2.0
// Scheduling: every operation of a model thread first calls schedule(), which takes (or, when
// replaying a prefix, re-takes) a scheduling choice on the path and switches to the chosen
// thread. Partial-order reduction (DPOR, Flanagan & Godefroid 2005) adds alternatives only
// where two threads' operations on one location conflict without happens-before between them.
#include <algorithm>
#include <bit>
#include <string>

#include "engine.hpp"

namespace ferrite::check::detail {

mask engine::enabled_mask() const {
  mask all = 0;
  mask eager = 0;  // runnable and not spinning
  mask fresh = 0;  // spinning, but not yet re-run since it started to
  for (unsigned t = 0; t < exec_.nthreads; ++t) {
    if (exec_.threads[t].state != tstate::runnable) continue;
    all |= bit(t);
    if (!exec_.threads[t].yielded) eager |= bit(t);
    if (exec_.threads[t].yielded && exec_.threads[t].idle_spins < 2) fresh |= bit(t);
  }
  // A spinning thread runs only when nothing else can: it waits for another thread's
  // progress. Once re-run without progress in between it would only repeat itself (its loads
  // read the newest stores), so it waits for the others unless all of them spin too.
  if (eager != 0) return eager;
  return fresh != 0 ? fresh : all;
}

namespace {

unsigned lowest(mask m) noexcept { return static_cast<unsigned>(std::countr_zero(m)); }

/// The default thread at a new scheduling node: keep running the current thread when it can
/// (no preemption); otherwise the next enabled thread after it, round robin.
unsigned default_choice(mask enabled, unsigned prev, bool prev_can_continue) {
  if (prev_can_continue) return prev;
  for (unsigned i = 1; i <= max_threads; ++i) {
    unsigned t = (prev + i) % max_threads;
    if ((enabled & bit(t)) != 0) return t;
  }
  return lowest(enabled);
}

}  // namespace

void engine::schedule(next_op op) {
  if (exec_.current < exec_.nthreads) cur().next = op;
  if (++exec_.steps > opts_.max_steps)
    fail(failure_kind::livelock,
         "no progress: " + std::to_string(opts_.max_steps) +
             " operations in one execution (a livelock, or a loop that never ends; "
             "options::max_steps raises the bound)");
  mask enabled = enabled_mask();
  if (enabled == 0) {
    // Every thread is blocked or done; block() and finish_thread() handle that case.
    fail(failure_kind::deadlock, "no runnable thread");
  }
  const unsigned prev = exec_.current;
  // Switching away from a thread that could go on is a preemption; from a spinning one it is
  // free (it asked to let the others run).
  const bool can_continue =
      prev < exec_.nthreads && (enabled & bit(prev)) != 0 && !exec_.threads[prev].yielded;
  std::uint32_t index = static_cast<std::uint32_t>(exec_.pos);
  node* n = nullptr;
  if (exec_.pos < path_.size()) {
    n = &path_[exec_.pos];
    if (!n->sched || (n->enabled & bit(n->chosen)) == 0 ||
        (!replaying_token_ && (n->enabled != enabled || n->prev != prev)))
      fail(failure_kind::nondeterminism,
           "the replayed prefix took a different path: the closure must behave the same way "
           "every time it runs (no state kept between executions, no real threads, time or "
           "randomness)");
  } else {
    node fresh;
    fresh.sched = true;
    fresh.enabled = enabled;
    fresh.prev = static_cast<std::uint8_t>(prev);
    fresh.prev_can_continue = can_continue;
    fresh.preemptions = static_cast<std::uint8_t>(std::min(exec_.preemptions, 255U));
    // Sleep sets: a sleeping thread's runs from here are equivalent to runs already explored.
    // When every enabled thread sleeps, so is every continuation: the run coasts to its end
    // (so destructors run and the test's own state stays consistent for the next run) with
    // no alternatives and no backtrack points.
    if (exec_.pruned || (sleep_sets() && (enabled & ~exec_.sleep) == 0)) {
      if (!exec_.pruned) ++pruned_runs_;
      exec_.pruned = true;
      exec_.sleep = enabled;
    }
    const mask awake = exec_.pruned ? enabled : static_cast<mask>(enabled & ~exec_.sleep);
    fresh.sleep = exec_.sleep;
    unsigned pick = default_choice(awake, prev, can_continue && (awake & bit(prev)) != 0);
    if (!exhaustive_) {
      // PCT: the highest-priority enabled thread runs.
      unsigned best = max_threads;
      for (unsigned t = 0; t < exec_.nthreads; ++t)
        if ((enabled & bit(t)) != 0 &&
            (best == max_threads || exec_.threads[t].priority > exec_.threads[best].priority))
          best = t;
      pick = best;
    }
    fresh.chosen = static_cast<std::uint8_t>(pick);
    fresh.done = bit(pick);
    fresh.backtrack = opts_.dpor ? bit(pick) : enabled;
    path_.push_back(fresh);
    n = &path_.back();
  }
  ++exec_.pos;
  const unsigned next = n->chosen;
  if (n->prev_can_continue && next != prev) ++exec_.preemptions;
  if (!exhaustive_ && !exec_.change_points.empty() && exec_.steps == exec_.change_points.back()) {
    // PCT change point: the running thread drops below every other priority.
    exec_.change_points.pop_back();
    exec_.threads[next].priority = static_cast<unsigned>(exec_.change_points.size());
  }
  exec_.cur_node = index;
  if (sleep_sets() && !exec_.pruned) update_sleep(*n, next);
  if (next != exec_.current) switch_to(next);
}

void engine::update_sleep(const node& n, unsigned next) {
  // Threads tried here before `next` are covered too; any of them (or an older sleeper)
  // whose next operation is independent of `next`'s keeps sleeping through `next`'s step.
  // A spinning thread wakes at once: another thread's progress changes what it may do.
  mask s = static_cast<mask>((n.sleep | n.done) & ~bit(next));
  for (mask m = s; m != 0; m = static_cast<mask>(m & (m - 1))) {
    const unsigned t = lowest(m);
    if (exec_.threads[t].yielded || dependent(exec_.threads[t].next, exec_.threads[next].next))
      s = static_cast<mask>(s & ~bit(t));
  }
  exec_.sleep = s;
}

void engine::location_died(location& l) noexcept {
  l.alive = false;
  // For DPOR the end of an object is a write: an access by another thread that is not
  // ordered with it must also be tried after it (where it is a use after free). Cells need
  // no such point: their race detection sees an unordered access in either order.
  if (exec_.current < exec_.nthreads && l.kind != object_kind::cell) record_access(l, true);
  for (mask m = exec_.sleep; m != 0; m = static_cast<mask>(m & (m - 1))) {
    const unsigned t = lowest(m);
    if (exec_.threads[t].next.loc == l.id) exec_.sleep = static_cast<mask>(exec_.sleep & ~bit(t));
  }
}

void engine::switch_to(unsigned t) {
  const unsigned from = exec_.current;
  exec_.current = t;
  exec_.switch_from = from;
  fcontext target = t == main_context ? exec_.main_ctx : exec_.threads[t].ctx;
  const int depth = g_depth;
  transfer back = jump_context(target, nullptr);
  g_depth = depth;
  // Resumed: whoever jumped here left their context in `back`.
  if (exec_.switch_from == main_context)
    exec_.main_ctx = back.ctx;
  else
    exec_.threads[exec_.switch_from].ctx = back.ctx;
}

std::string engine::deadlock_message() const {
  std::string msg = "every thread is blocked:";
  for (unsigned t = 0; t < exec_.nthreads; ++t) {
    if (exec_.threads[t].state != tstate::blocked) continue;
    // (appends, not operator+ chains: GCC 12 warns falsely on those at -O3, PR 105329)
    msg.append("\n  thread ").append(std::to_string(t)).append(" waits for ");
    msg.append(exec_.threads[t].blocked_on);
    if (exec_.threads[t].blocked_loc != never)
      msg.append(" ").append(describe(exec_.locs[exec_.threads[t].blocked_loc]));
    if (exec_.threads[t].join_target >= 0)
      msg.append(" ").append(std::to_string(exec_.threads[t].join_target));
  }
  return msg;
}

void engine::block(const char* why, std::uint32_t loc_index) {
  thread_rec& th = cur();
  th.state = tstate::blocked;
  th.blocked_on = why;
  th.blocked_loc = loc_index;
  if (enabled_mask() == 0) fail(failure_kind::deadlock, deadlock_message());
  // The next scheduling choice is taken by this thread on behalf of the others.
  schedule();
  // Chosen again (after a wake-up): the caller re-checks its condition.
}

void engine::finish_thread() {
  thread_rec& th = cur();
  th.state = tstate::finished;
  const unsigned me = exec_.current;
  for (unsigned t = 0; t < exec_.nthreads; ++t)
    if (exec_.threads[t].state == tstate::blocked &&
        exec_.threads[t].join_target == static_cast<int>(me)) {
      exec_.threads[t].state = tstate::runnable;
      exec_.threads[t].join_target = -1;
    }
  progress(me);
  bool all_done = true;
  for (unsigned t = 0; t < exec_.nthreads; ++t)
    all_done = all_done && exec_.threads[t].state == tstate::finished;
  if (all_done) switch_to(main_context);
  if (enabled_mask() == 0) fail(failure_kind::deadlock, deadlock_message());
  schedule();  // this thread is not enabled: the choice switches away for good
  fail(failure_kind::misuse, "a finished model thread was resumed");
}

void engine::progress(unsigned by) {
  for (unsigned t = 0; t < exec_.nthreads; ++t)
    if (t != by) {
      exec_.threads[t].yielded = false;
      exec_.threads[t].idle_spins = 0;
    }
}

void engine::wake(location& l, bool all) {
  while (l.waiters != 0) {
    unsigned t = lowest(l.waiters);
    l.waiters = static_cast<mask>(l.waiters & ~bit(t));
    exec_.threads[t].state = tstate::runnable;
    exec_.threads[t].blocked_loc = never;
    if (!all) break;
  }
}

unsigned engine::choose(unsigned count) {
  if (count <= 1) return 0;
  if (exec_.pos < path_.size()) {
    node& n = path_[exec_.pos++];
    if (n.sched || n.chosen >= count || (!replaying_token_ && n.count != count))
      fail(failure_kind::nondeterminism,
           "the replayed prefix took a different path at a value choice: the closure must "
           "behave the same way every time it runs");
    return n.chosen;
  }
  node fresh;
  fresh.sched = false;
  // A coasting run (pruned) takes the first alternative and records none to try.
  fresh.count = static_cast<std::uint8_t>(exec_.pruned ? 1 : count);
  fresh.chosen = exhaustive_ ? 0 : static_cast<std::uint8_t>(rng_() % count);
  path_.push_back(fresh);
  ++exec_.pos;
  return fresh.chosen;
}

void engine::add_backtrack(std::uint32_t j, unsigned q) {
  auto add = [&](node& n) {
    n.backtrack = static_cast<mask>(n.backtrack | ((n.enabled & bit(q)) != 0 ? bit(q) : n.enabled));
  };
  add(path_[j]);
  if (opts_.preemption_bound < 0) return;
  // Bounded search: switching to q at j may cost a preemption the bound forbids. Also try q
  // where the thread running at j was switched to (Coons, Musuvathi & McKinley, "Bounded
  // partial-order reduction", OOPSLA 2013: conservative branch points).
  const unsigned runner = path_[j].chosen;
  std::uint32_t k = j;
  for (std::uint32_t i = j; i-- > 0;) {
    if (!path_[i].sched) continue;
    if (path_[i].chosen != runner) break;
    k = i;
    if (path_[i].prev != runner) break;
  }
  if (k != j) add(path_[k]);
}

void engine::record_access(location& l, bool write) {
  const unsigned t = exec_.current;
  const thread_rec& th = exec_.threads[t];
  if (exhaustive_ && opts_.dpor && !replaying_token_ && !exec_.pruned) {
    for (unsigned u = 0; u < exec_.nthreads; ++u) {
      if (u == t) continue;
      std::uint32_t j = never;
      const access& w = l.last_write[u];
      if (w.node != never && th.clock[u] < w.epoch) j = w.node;
      if (write) {
        const access& r = l.last_read[u];
        if (r.node != never && th.clock[u] < r.epoch) j = j == never ? r.node : std::max(j, r.node);
      }
      if (j != never && j < exec_.cur_node) add_backtrack(j, t);
    }
  }
  (write ? l.last_write : l.last_read)[t] = access{exec_.cur_node, th.clock[t]};
}

}  // namespace ferrite::check::detail
