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
  ++exec_.events;
  return ++th.clock[exec_.current];
}

store_rec& engine::store_at(location& l, unsigned i) {
  return store_pool_[l.store_base + (l.first + i) % opts_.history];
}

const store_rec& engine::store_at(const location& l, unsigned i) const {
  return store_pool_[l.store_base + (l.first + i) % opts_.history];
}

void engine::read_from(store_rec& s, std::memory_order o) {
  thread_rec& th = cur();
  if (s.seen[exec_.current] == never) s.seen[exec_.current] = th.clock[exec_.current];
  (is_acquire(o) ? th.clock : th.acq_pending).join(s.release);
}

void engine::record_read(location& l, std::memory_order o) {
  record_access(l, false);
  if (o == std::memory_order_seq_cst) record_access(exec_.locs[0], false);
}

void engine::record_write(location& l, std::memory_order o) {
  record_access(l, true);
  if (o == std::memory_order_seq_cst) record_access(exec_.locs[0], false);
}

void engine::push_store(location& l, const store_rec& s) {
  ++l.stores;
  if (l.count < opts_.history) {
    store_at(l, l.count) = s;
    ++l.count;
  } else {
    store_pool_[l.store_base + l.first] = s;  // the oldest leaves the history
    l.first = static_cast<std::uint8_t>((l.first + 1) % opts_.history);
  }
}

std::uint32_t engine::loc_index(handle& h, const void* addr, std::uint64_t raw, object_kind kind) {
  if (h.exec != exec_id_) {
    // Built outside this execution (a global, or before model() ran): registered now, with
    // its current value as an initial store every thread may read.
    object_created(h, addr, kind, raw, "");
    location& l = exec_.locs[h.index];
    if (l.count != 0) store_at(l, 0).seen = vclock{};
    l.w_epoch = 0;
  }
  return h.index;
}

location& engine::loc(handle& h, const void* addr, std::uint64_t raw, object_kind kind) {
  location& l = exec_.locs[loc_index(h, addr, raw, kind)];
  if (!l.alive)
    fail(failure_kind::use_after_free,
         describe(l) + " used after it was destroyed or its memory was freed");
  return l;
}

unsigned engine::coherence_floor(const location& l, const thread_rec& th, bool sc) const {
  // The newest seq_cst fence that happens before this operation (its position in S).
  std::uint32_t x_hb = never;
  for (std::size_t f = exec_.sc_fences.size(); f-- > 0;)
    if (exec_.sc_fences[f].clock[exec_.sc_fences[f].tid] <= th.clock[exec_.sc_fences[f].tid]) {
      x_hb = exec_.sc_fences[f].pos;
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
      for (const sc_fence_rec& y : exec_.sc_fences) {
        if (!sc && y.pos >= x_hb) break;
        if (s.epoch <= y.clock[s.tid]) return i;
      }
  }
  return 0;
}

}  // namespace ferrite::check::detail

// ---- the operations behind the hooks -----------------------------------------------------

namespace ferrite::check::detail {

void engine::object_created(handle& h, const void* addr, object_kind kind, std::uint64_t init_bits,
                            const char* type) {
  engine_scope scope;
  location l;
  l.addr = addr;
  l.kind = kind;
  l.type = type;
  l.id = static_cast<std::uint32_t>(exec_.locs.size());
  const unsigned t = exec_.current;
  const std::uint32_t now = exec_.threads[t].clock[t];
  if (kind == object_kind::atomic) {
    l.store_base = exec_.store_used;
    exec_.store_used += opts_.history;
    if (store_pool_.size() < exec_.store_used)
      store_pool_.resize(std::size_t{exec_.store_used} * 2);
    store_rec s{};
    s.value = init_bits;
    for (auto& v : s.seen.c) v = never;
    s.seen[t] = now;
    s.epoch = now;
    s.sc_pos = never;
    s.event = exec_.events;
    s.tid = static_cast<std::uint8_t>(t);
    exec_.locs.push_back(l);
    push_store(exec_.locs.back(), s);
  } else {
    l.w_tid = static_cast<std::uint8_t>(t);
    l.w_epoch = now;
    exec_.locs.push_back(l);
  }
  h = handle{exec_id_, l.id};
  if (tracing_) trace_op("create", &exec_.locs.back(), "", {});
}

void engine::object_destroyed(handle& h, const void* addr) noexcept {
  engine_scope scope;
  if (h.exec != exec_id_ || h.index >= exec_.locs.size()) return;
  location& l = exec_.locs[h.index];
  if (l.addr != addr || !l.alive) return;
  if (l.kind == object_kind::cell) cell_access(h, addr, true, {});
  location_died(l);
  if (tracing_) trace_op("destroy", &l, "", {});
}

std::uint64_t engine::atomic_load(handle& h, const void* addr, std::uint64_t raw,
                                  std::memory_order o, const src& at) {
  engine_scope scope;
  const bool sc = o == std::memory_order_seq_cst;
  schedule({loc_index(h, addr, raw, object_kind::atomic), false, sc});
  location& l = loc(h, addr, raw, object_kind::atomic);
  thread_rec& th = cur();
  tick();
  // Dependencies are judged on the clock before this operation's own synchronization.
  record_read(l, o);
  unsigned k = l.count - 1;
  // Bounded staleness (eventual visibility): a spinning thread sees the newest store, and so
  // does one reading a location a third time in a row, stale, with no store to it in
  // between. Without this a loop re-reading an old value would be an endless (and
  // unrealistic) execution.
  const unsigned t = exec_.current;
  if (l.stale_at[t] != l.stores) l.stale_streak[t] = 0;
  if (!th.yielded && l.stale_streak[t] < max_stale_reads) {
    const unsigned floor = coherence_floor(l, th, sc);
    k = l.count - 1 - choose(l.count - floor);  // choice 0 is the newest store
  }
  if (k + 1 == l.count) {
    l.stale_at[t] = never;
    l.stale_streak[t] = 0;
  } else {
    l.stale_at[t] = l.stores;
    ++l.stale_streak[t];
  }
  store_rec& s = store_at(l, k);
  read_from(s, o);
  if (tracing_)
    trace_op("load", &l,
             std::string(order_name(o)) + " = " + format_value(s.value) + "  (from #" +
                 std::to_string(s.event) + " t" + std::to_string(s.tid) +
                 (k + 1 == l.count ? ", newest)" : ", stale)"),
             at);
  return s.value;
}

store_rec engine::make_store(std::uint64_t bits, std::memory_order o) {
  thread_rec& th = cur();
  store_rec s{};
  s.value = bits;
  s.tid = static_cast<std::uint8_t>(exec_.current);
  s.epoch = th.clock[exec_.current];
  for (auto& v : s.seen.c) v = never;
  s.seen[exec_.current] = s.epoch;
  if (is_release(o))
    s.release = th.clock;
  else if (th.has_rel_fence)
    s.release = th.rel_fence;
  s.sc_pos = o == std::memory_order_seq_cst ? exec_.s_counter++ : never;
  s.event = exec_.events;
  return s;
}

void engine::commit_store(location& l, const store_rec& s) {
  push_store(l, s);
  progress(exec_.current);
  cur().yielded = false;  // a thread that writes is no longer just spinning
  cur().idle_spins = 0;
}

void engine::atomic_store(handle& h, const void* addr, std::uint64_t raw, std::uint64_t bits,
                          std::memory_order o, const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, raw, object_kind::atomic), true, o == std::memory_order_seq_cst});
  location& l = loc(h, addr, raw, object_kind::atomic);
  tick();
  record_write(l, o);
  commit_store(l, make_store(bits, o));
  if (tracing_) trace_op("store", &l, std::string(order_name(o)) + " " + format_value(bits), at);
}

std::uint64_t engine::rmw_commit(location& l, std::uint64_t desired_or_arg, rmw_fn fn,
                                 std::memory_order o) {
  record_write(l, o);
  store_rec& prev = store_at(l, l.count - 1u);
  read_from(prev, o);
  const std::uint64_t old = prev.value;
  const vclock carried = prev.release;
  store_rec s = make_store(fn != nullptr ? fn(old, desired_or_arg) : desired_or_arg, o);
  s.release.join(carried);
  commit_store(l, s);
  return old;
}

std::uint64_t engine::atomic_rmw(handle& h, const void* addr, std::uint64_t raw, rmw_fn fn,
                                 std::uint64_t arg, std::memory_order o, const char* name,
                                 const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, raw, object_kind::atomic), true, o == std::memory_order_seq_cst});
  location& l = loc(h, addr, raw, object_kind::atomic);
  tick();
  const std::uint64_t old = rmw_commit(l, arg, fn, o);
  if (tracing_)
    trace_op(
        name, &l,
        std::string(order_name(o)) + " " + format_value(old) + " -> " + format_value(fn(old, arg)),
        at);
  return old;
}

bool engine::atomic_cas(handle& h, const void* addr, std::uint64_t raw, std::uint64_t& expected,
                        std::uint64_t desired, bool weak, std::memory_order success,
                        std::memory_order failure, const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, raw, object_kind::atomic), true,
            success == std::memory_order_seq_cst || failure == std::memory_order_seq_cst});
  location& l = loc(h, addr, raw, object_kind::atomic);
  thread_rec& th = cur();
  tick();
  store_rec& newest = store_at(l, l.count - 1u);
  const char* what = weak ? "cas_weak" : "cas";
  bool spurious = false;
  if (newest.value == expected && weak && opts_.spurious_cas_failures && !th.spurious_used &&
      choose(2) == 1) {
    th.spurious_used = true;
    spurious = true;
  }
  if (newest.value == expected && !spurious) {
    rmw_commit(l, desired, nullptr, success);
    if (tracing_)
      trace_op(what, &l,
               std::string(order_name(success)) + " " + format_value(expected) + " -> " +
                   format_value(desired) + " ok",
               at);
    return true;
  }
  // Failure: a load of the newest store with the failure order.
  record_read(l, failure);
  read_from(newest, failure);
  if (tracing_)
    trace_op(what, &l,
             std::string(order_name(failure)) + " expected " + format_value(expected) + ", saw " +
                 format_value(newest.value) + (spurious ? " (spurious failure)" : " failed"),
             at);
  expected = newest.value;
  return false;
}

void engine::atomic_wait(handle& h, const void* addr, std::uint64_t raw, std::uint64_t old,
                         std::memory_order o, const src& at) {
  engine_scope scope;
  for (;;) {
    schedule({loc_index(h, addr, raw, object_kind::atomic), false, false});
    location& l = loc(h, addr, raw, object_kind::atomic);
    tick();
    // Like futex: the wait compares against the newest value.
    record_access(l, false);
    store_rec& s = store_at(l, l.count - 1u);
    read_from(s, o);
    if (tracing_)
      trace_op("wait", &l,
               std::string(order_name(o)) + " sees " + format_value(s.value) +
                   (s.value == old ? ", blocks" : ", returns"),
               at);
    if (s.value != old) return;
    l.waiters = static_cast<mask>(l.waiters | bit(exec_.current));
    block("a notify on", l.id);
  }
}

void engine::atomic_notify(handle& h, const void* addr, std::uint64_t raw, bool all,
                           const src& at) {
  engine_scope scope;
  schedule({loc_index(h, addr, raw, object_kind::atomic), true, false});
  location& l = loc(h, addr, raw, object_kind::atomic);
  tick();
  record_access(l, true);
  if (tracing_)
    trace_op(all ? "notify_all" : "notify_one", &l,
             std::to_string(std::popcount(l.waiters)) + " waiting", at);
  wake(l, all);
}

// ORDERING: the model of a thread fence: acquire joins the stashed releases of earlier
// relaxed loads, release snapshots the clock for later relaxed stores, seq_cst takes S.
void engine::fence(std::memory_order o, const src& at) {
  engine_scope scope;
  if (o == std::memory_order_relaxed) return;
  if (o == std::memory_order_seq_cst) {
    schedule({0, true, false});  // location 0 is S
    tick();
  }
  thread_rec& th = cur();
  if (o == std::memory_order_seq_cst) record_access(exec_.locs[0], true);
  if (is_acquire(o)) th.clock.join(th.acq_pending);
  if (is_release(o)) {
    th.rel_fence = th.clock;
    th.has_rel_fence = true;
  }
  if (o == std::memory_order_seq_cst)
    exec_.sc_fences.push_back(
        sc_fence_rec{exec_.s_counter++, static_cast<std::uint8_t>(exec_.current), th.clock});
  if (tracing_) trace_op("fence", nullptr, order_name(o), at);
}

void engine::spin_hint(const src& at) {
  engine_scope scope;
  thread_rec& th = cur();
  th.yielded = true;
  if (th.idle_spins < 255) ++th.idle_spins;
  if (tracing_) trace_op("spin", nullptr, "(runs again after another thread's progress)", at);
}

void engine::cell_access(handle& h, const void* addr, bool write, const src& at) {
  engine_scope scope;
  location& l = loc(h, addr, 0, object_kind::cell);
  thread_rec& th = cur();
  const unsigned t = exec_.current;
  const std::uint32_t now = tick();
  auto race = [&](unsigned other, const std::source_location& other_at, bool other_write) {
    fail(failure_kind::data_race,
         "data race on " + describe(l) + ": " + (write ? "write" : "read") + " by thread " +
             std::to_string(t) + " at " + where(at) + " is not ordered (happens-before) with the " +
             (other_write ? "write" : "read") + " by thread " + std::to_string(other) + " at " +
             where(other_at));
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
  if (tracing_) trace_op(write ? "cell write" : "cell read", &l, "", at);
}

// ---- the hooks: each forwards to the engine operation of its name ------------------------

bool in_execution() noexcept { return g_engine != nullptr && g_engine->model_thread_running(); }

unsigned thread_slot() noexcept {
  return g_engine != nullptr && g_engine->model_thread_running() ? g_engine->current_context()
                                                                 : thread_slots - 1;
}

std::uint32_t execution_serial() noexcept {
  return g_engine != nullptr ? g_engine->execution_serial() : 0;
}

void object_created(handle& h, const void* addr, object_kind kind, std::uint64_t init_bits,
                    const char* type) {
  g_engine->object_created(h, addr, kind, init_bits, type);
}

void object_destroyed(handle& h, const void* addr) noexcept { g_engine->object_destroyed(h, addr); }

std::uint64_t atomic_load(handle& h, const void* addr, std::uint64_t raw, std::memory_order o,
                          const src& at) {
  return g_engine->atomic_load(h, addr, raw, o, at);
}

void atomic_store(handle& h, const void* addr, std::uint64_t raw, std::uint64_t bits,
                  std::memory_order o, const src& at) {
  g_engine->atomic_store(h, addr, raw, bits, o, at);
}

std::uint64_t atomic_rmw(handle& h, const void* addr, std::uint64_t raw, rmw_fn fn,
                         std::uint64_t arg, std::memory_order o, const char* name, const src& at) {
  return g_engine->atomic_rmw(h, addr, raw, fn, arg, o, name, at);
}

bool atomic_cas(handle& h, const void* addr, std::uint64_t raw, std::uint64_t& expected,
                std::uint64_t desired, bool weak, std::memory_order success,
                std::memory_order failure, const src& at) {
  return g_engine->atomic_cas(h, addr, raw, expected, desired, weak, success, failure, at);
}

void atomic_wait(handle& h, const void* addr, std::uint64_t raw, std::uint64_t old,
                 std::memory_order o, const src& at) {
  g_engine->atomic_wait(h, addr, raw, old, o, at);
}

void atomic_notify(handle& h, const void* addr, std::uint64_t raw, bool all, const src& at) {
  g_engine->atomic_notify(h, addr, raw, all, at);
}

// ORDERING: forwards the caller's fence to its model (engine::fence above).
void fence(std::memory_order o, const src& at) { g_engine->fence(o, at); }

void spin_hint(const src& at) { g_engine->spin_hint(at); }

void yield_now(const src& at) { spin_hint(at); }

void cell_access(handle& h, const void* addr, bool write, const src& at) {
  g_engine->cell_access(h, addr, write, at);
}

}  // namespace ferrite::check::detail
