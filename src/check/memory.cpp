// SPDX-License-Identifier: Apache-2.0
// The C++ memory model for the instrumented atomics: per-location store histories,
// happens-before by vector clocks (release/acquire, release sequences, fences), coherence,
// and a single total order S of seq_cst operations and fences (C++20 rules, P0668R5).
//
// A load may read any retained store that coherence and S allow; which one is a value
// choice on the path, so relaxed and acquire/release bugs are explored, not only
// interleavings. New stores always go to the end of the modification order.
#include <bit>
#include <string>

#include "engine.hpp"

namespace ferrite::check::detail {

namespace {

/// Consecutive stale reads of one unchanged location a thread may make.
constexpr std::uint8_t max_stale_reads = 2;

bool is_acquire(std::memory_order o) noexcept {
  return o == std::memory_order_acquire || o == std::memory_order_acq_rel ||
         o == std::memory_order_seq_cst || o == std::memory_order_consume;
}
bool is_release(std::memory_order o) noexcept {
  return o == std::memory_order_release || o == std::memory_order_acq_rel ||
         o == std::memory_order_seq_cst;
}

}  // namespace

std::uint32_t engine::tick() {
  thread_rec& th = cur();
  ++events;
  return ++th.clock[current];
}

store_rec& engine::store_at(location& l, unsigned i) {
  return store_pool[l.store_base + (l.first + i) % opts.history];
}

const store_rec& engine::store_at(const location& l, unsigned i) const {
  return store_pool[l.store_base + (l.first + i) % opts.history];
}

void engine::read_from(store_rec& s, std::memory_order o) {
  thread_rec& th = cur();
  if (s.seen[current] == never) s.seen[current] = th.clock[current];
  (is_acquire(o) ? th.clock : th.acq_pending).join(s.release);
}

void engine::record_read(location& l, std::memory_order o) {
  record_access(l, false);
  if (o == std::memory_order_seq_cst) record_access(locs[0], false);
}

void engine::record_write(location& l, std::memory_order o) {
  record_access(l, true);
  if (o == std::memory_order_seq_cst) record_access(locs[0], false);
}

void engine::push_store(location& l, const store_rec& s) {
  ++l.stores;
  if (l.count < opts.history) {
    store_at(l, l.count) = s;
    ++l.count;
  } else {
    store_pool[l.store_base + l.first] = s;  // the oldest leaves the history
    l.first = static_cast<std::uint8_t>((l.first + 1) % opts.history);
  }
}

std::uint32_t engine::loc_index(handle& h, const void* addr, std::uint64_t raw, object_kind kind) {
  if (h.exec != exec_id) {
    // Built outside this execution (a global, or before model() ran): registered now, with
    // its current value as an initial store every thread may read.
    object_created(h, addr, kind, raw, "");
    location& l = locs[h.index];
    if (l.count != 0) store_at(l, 0).seen = vclock{};
    l.w_epoch = 0;
  }
  return h.index;
}

location& engine::loc(handle& h, const void* addr, std::uint64_t raw, object_kind kind) {
  location& l = locs[loc_index(h, addr, raw, kind)];
  if (!l.alive)
    fail(failure_kind::use_after_free,
         describe(l) + " used after it was destroyed or its memory was freed");
  return l;
}

unsigned engine::coherence_floor(const location& l, const thread_rec& th, bool sc) const {
  // The newest seq_cst fence that happens before this operation (its position in S).
  std::uint32_t x_hb = never;
  for (std::size_t f = sc_fences.size(); f-- > 0;)
    if (sc_fences[f].clock[sc_fences[f].tid] <= th.clock[sc_fences[f].tid]) {
      x_hb = sc_fences[f].pos;
      break;
    }
  for (unsigned i = l.count; i-- > 0;) {
    const store_rec& s = store_at(l, i);
    // Coherence: a store this thread (or anything that happens before it) observed.
    for (unsigned u = 0; u < max_threads; ++u)
      if (s.seen[u] <= th.clock[u]) return i;
    // S: a seq_cst load reads nothing older than the last seq_cst store (both in S)...
    if (sc && s.sc_pos != never) return i;
    // ...nor, after a seq_cst fence X, older than a seq_cst store before X in S...
    if (x_hb != never && s.sc_pos != never && s.sc_pos < x_hb) return i;
    // ...nor older than a store that happens before a seq_cst fence Y with Y before this
    // load (seq_cst load) or before X (any load after X).
    if (sc || x_hb != never)
      for (const sc_fence_rec& y : sc_fences) {
        if (!sc && y.pos >= x_hb) break;
        if (s.epoch <= y.clock[s.tid]) return i;
      }
  }
  return 0;
}

}  // namespace ferrite::check::detail

// ---- the hooks the instrumented primitives call ------------------------------------------

namespace ferrite::check::detail {

bool in_execution() noexcept { return g_engine != nullptr && g_engine->current != main_context; }

void object_created(handle& h, const void* addr, object_kind kind, std::uint64_t init_bits,
                    const char* type) {
  engine_scope scope;
  engine& e = *g_engine;
  location l;
  l.addr = addr;
  l.kind = kind;
  l.type = type;
  l.id = static_cast<std::uint32_t>(e.locs.size());
  const unsigned t = e.current;
  const std::uint32_t now = e.threads[t].clock[t];
  if (kind == object_kind::atomic) {
    l.store_base = e.store_used;
    e.store_used += e.opts.history;
    if (e.store_pool.size() < e.store_used) e.store_pool.resize(e.store_used * 2);
    store_rec s{};
    s.value = init_bits;
    for (auto& v : s.seen.c) v = never;
    s.seen[t] = now;
    s.epoch = now;
    s.sc_pos = never;
    s.event = e.events;
    s.tid = static_cast<std::uint8_t>(t);
    e.locs.push_back(l);
    e.push_store(e.locs.back(), s);
  } else {
    l.w_tid = static_cast<std::uint8_t>(t);
    l.w_epoch = now;
    e.locs.push_back(l);
  }
  h = handle{e.exec_id, l.id};
  if (e.tracing) e.trace_op("create", &e.locs.back(), "", {});
}

void object_destroyed(handle& h, const void* addr) noexcept {
  engine_scope scope;
  engine& e = *g_engine;
  if (h.exec != e.exec_id || h.index >= e.locs.size()) return;
  location& l = e.locs[h.index];
  if (l.addr != addr || !l.alive) return;
  if (l.kind == object_kind::cell) cell_access(h, addr, true, {});
  e.location_died(l);
  if (e.tracing) e.trace_op("destroy", &l, "", {});
}

std::uint64_t atomic_load(handle& h, const void* addr, std::uint64_t raw, std::memory_order o,
                          const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  const bool sc = o == std::memory_order_seq_cst;
  e.schedule({e.loc_index(h, addr, raw, object_kind::atomic), false, sc});
  location& l = e.loc(h, addr, raw, object_kind::atomic);
  thread_rec& th = e.cur();
  e.tick();
  // Dependencies are judged on the clock before this operation's own synchronization.
  e.record_read(l, o);
  unsigned k = l.count - 1;
  // Bounded staleness (eventual visibility): a spinning thread sees the newest store, and so
  // does one reading a location a third time in a row, stale, with no store to it in
  // between. Without this a loop re-reading an old value would be an endless (and
  // unrealistic) execution.
  const unsigned t = e.current;
  if (l.stale_at[t] != l.stores) l.stale_streak[t] = 0;
  if (!th.yielded && l.stale_streak[t] < max_stale_reads) {
    const unsigned floor = e.coherence_floor(l, th, sc);
    k = l.count - 1 - e.choose(l.count - floor);  // choice 0 is the newest store
  }
  if (k + 1 == l.count) {
    l.stale_at[t] = never;
    l.stale_streak[t] = 0;
  } else {
    l.stale_at[t] = l.stores;
    ++l.stale_streak[t];
  }
  store_rec& s = e.store_at(l, k);
  e.read_from(s, o);
  if (e.tracing)
    e.trace_op("load", &l,
               std::string(order_name(o)) + " = " + format_value(s.value) + "  (from #" +
                   std::to_string(s.event) + " t" + std::to_string(s.tid) +
                   (k + 1 == l.count ? ", newest)" : ", stale)"),
               at);
  return s.value;
}

namespace {

/// A new store by the current thread: its release clock, S position, first observation.
store_rec make_store(engine& e, std::uint64_t bits, std::memory_order o) {
  thread_rec& th = e.cur();
  store_rec s{};
  s.value = bits;
  s.tid = static_cast<std::uint8_t>(e.current);
  s.epoch = th.clock[e.current];
  for (auto& v : s.seen.c) v = never;
  s.seen[e.current] = s.epoch;
  if (is_release(o))
    s.release = th.clock;
  else if (th.has_rel_fence)
    s.release = th.rel_fence;
  s.sc_pos = o == std::memory_order_seq_cst ? e.s_counter++ : never;
  s.event = e.events;
  return s;
}

/// The shared tail of every store and successful RMW.
void commit_store(engine& e, location& l, const store_rec& s) {
  e.push_store(l, s);
  e.progress(e.current);
  e.cur().yielded = false;  // a thread that writes is no longer just spinning
  e.cur().idle_spins = 0;
}

}  // namespace

void atomic_store(handle& h, const void* addr, std::uint64_t raw, std::uint64_t bits,
                  std::memory_order o, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule(
      {e.loc_index(h, addr, raw, object_kind::atomic), true, o == std::memory_order_seq_cst});
  location& l = e.loc(h, addr, raw, object_kind::atomic);
  e.tick();
  e.record_write(l, o);
  commit_store(e, l, make_store(e, bits, o));
  if (e.tracing) e.trace_op("store", &l, std::string(order_name(o)) + " " + format_value(bits), at);
}

namespace {

/// An RMW (or successful CAS) reads the newest store and continues its release sequence.
std::uint64_t rmw_commit(engine& e, location& l, std::uint64_t desired_or_arg, rmw_fn fn,
                         std::memory_order o) {
  e.record_write(l, o);
  store_rec& prev = e.store_at(l, l.count - 1u);
  e.read_from(prev, o);
  const std::uint64_t old = prev.value;
  const vclock carried = prev.release;
  store_rec s = make_store(e, fn != nullptr ? fn(old, desired_or_arg) : desired_or_arg, o);
  s.release.join(carried);
  commit_store(e, l, s);
  return old;
}

}  // namespace

std::uint64_t atomic_rmw(handle& h, const void* addr, std::uint64_t raw, rmw_fn fn,
                         std::uint64_t arg, std::memory_order o, const char* name, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule(
      {e.loc_index(h, addr, raw, object_kind::atomic), true, o == std::memory_order_seq_cst});
  location& l = e.loc(h, addr, raw, object_kind::atomic);
  e.tick();
  const std::uint64_t old = rmw_commit(e, l, arg, fn, o);
  if (e.tracing)
    e.trace_op(
        name, &l,
        std::string(order_name(o)) + " " + format_value(old) + " -> " + format_value(fn(old, arg)),
        at);
  return old;
}

bool atomic_cas(handle& h, const void* addr, std::uint64_t raw, std::uint64_t& expected,
                std::uint64_t desired, bool weak, std::memory_order success,
                std::memory_order failure, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule({e.loc_index(h, addr, raw, object_kind::atomic), true,
              success == std::memory_order_seq_cst || failure == std::memory_order_seq_cst});
  location& l = e.loc(h, addr, raw, object_kind::atomic);
  thread_rec& th = e.cur();
  e.tick();
  store_rec& newest = e.store_at(l, l.count - 1u);
  const char* what = weak ? "cas_weak" : "cas";
  bool spurious = false;
  if (newest.value == expected && weak && e.opts.spurious_cas_failures && !th.spurious_used &&
      e.choose(2) == 1) {
    th.spurious_used = true;
    spurious = true;
  }
  if (newest.value == expected && !spurious) {
    rmw_commit(e, l, desired, nullptr, success);
    if (e.tracing)
      e.trace_op(what, &l,
                 std::string(order_name(success)) + " " + format_value(expected) + " -> " +
                     format_value(desired) + " ok",
                 at);
    return true;
  }
  // Failure: a load of the newest store with the failure order.
  e.record_read(l, failure);
  e.read_from(newest, failure);
  if (e.tracing)
    e.trace_op(what, &l,
               std::string(order_name(failure)) + " expected " + format_value(expected) + ", saw " +
                   format_value(newest.value) + (spurious ? " (spurious failure)" : " failed"),
               at);
  expected = newest.value;
  return false;
}

void atomic_wait(handle& h, const void* addr, std::uint64_t raw, std::uint64_t old,
                 std::memory_order o, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  for (;;) {
    e.schedule({e.loc_index(h, addr, raw, object_kind::atomic), false, false});
    location& l = e.loc(h, addr, raw, object_kind::atomic);
    e.tick();
    // Like futex: the wait compares against the newest value.
    e.record_access(l, false);
    store_rec& s = e.store_at(l, l.count - 1u);
    e.read_from(s, o);
    if (e.tracing)
      e.trace_op("wait", &l,
                 std::string(order_name(o)) + " sees " + format_value(s.value) +
                     (s.value == old ? ", blocks" : ", returns"),
                 at);
    if (s.value != old) return;
    l.waiters = static_cast<mask>(l.waiters | bit(e.current));
    e.block("a notify on", l.id);
  }
}

void atomic_notify(handle& h, const void* addr, std::uint64_t raw, bool all, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  e.schedule({e.loc_index(h, addr, raw, object_kind::atomic), true, false});
  location& l = e.loc(h, addr, raw, object_kind::atomic);
  e.tick();
  e.record_access(l, true);
  if (e.tracing)
    e.trace_op(all ? "notify_all" : "notify_one", &l,
               std::to_string(std::popcount(l.waiters)) + " waiting", at);
  e.wake(l, all);
}

// ORDERING: the model of a thread fence: acquire joins the stashed releases of earlier
// relaxed loads, release snapshots the clock for later relaxed stores, seq_cst takes S.
void fence(std::memory_order o, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  if (o == std::memory_order_relaxed) return;
  if (o == std::memory_order_seq_cst) {
    e.schedule({0, true, false});  // location 0 is S
    e.tick();
  }
  thread_rec& th = e.cur();
  if (o == std::memory_order_seq_cst) e.record_access(e.locs[0], true);
  if (is_acquire(o)) th.clock.join(th.acq_pending);
  if (is_release(o)) {
    th.rel_fence = th.clock;
    th.has_rel_fence = true;
  }
  if (o == std::memory_order_seq_cst)
    e.sc_fences.push_back(
        sc_fence_rec{e.s_counter++, static_cast<std::uint8_t>(e.current), th.clock});
  if (e.tracing) e.trace_op("fence", nullptr, order_name(o), at);
}

void spin_hint(const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  thread_rec& th = e.cur();
  th.yielded = true;
  if (th.idle_spins < 255) ++th.idle_spins;
  if (e.tracing) e.trace_op("spin", nullptr, "(runs again after another thread's progress)", at);
}

void yield_now(const src& at) { spin_hint(at); }

void cell_access(handle& h, const void* addr, bool write, const src& at) {
  engine_scope scope;
  engine& e = *g_engine;
  location& l = e.loc(h, addr, 0, object_kind::cell);
  thread_rec& th = e.cur();
  const unsigned t = e.current;
  const std::uint32_t now = e.tick();
  auto race = [&](unsigned other, const std::source_location& other_at, bool other_write) {
    e.fail(failure_kind::data_race,
           "data race on " + e.describe(l) + ": " + (write ? "write" : "read") + " by thread " +
               std::to_string(t) + " at " + where(at) +
               " is not ordered (happens-before) with the " + (other_write ? "write" : "read") +
               " by thread " + std::to_string(other) + " at " + where(other_at));
  };
  if (l.w_tid != t && th.clock[l.w_tid] < l.w_epoch) race(l.w_tid, l.w_at, true);
  if (write) {
    for (unsigned u = 0; u < max_threads; ++u)
      if (u != t && l.reads[u] > th.clock[u]) race(u, l.read_at[u], false);
    l.w_tid = static_cast<std::uint8_t>(t);
    l.w_epoch = now;
    l.w_at = at;
    l.reads = vclock{};
  } else {
    l.reads[t] = now;
    l.read_at[t] = at;
  }
  if (e.tracing) e.trace_op(write ? "cell write" : "cell read", &l, "", at);
}

}  // namespace ferrite::check::detail
