// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::treiber_stack under ferrite::check, with hazard pointers and with
// epochs: every element is popped exactly once, LIFO for one pusher, popped nodes are only
// reclaimed once no popper can still read them (the checker reports a use after free of a
// node's cell or link, and a leak of a node never reclaimed).
//
// treiber_stack takes a reclamation *policy* type, not a domain or collector object:
//  - hazard_reclaim always uses the default hazard pointer domain. Under FERRITE_CHECK that
//    domain has no thread-local state (hazard_pointer_impl.hpp: hp_thread_local_state), so it
//    works with model threads, but it is process-global: it outlives the closure. The tests
//    create it and its records before exploring (outside any execution, so nothing is tracked)
//    and end every execution with cleanup(), which reclaims every retired node: each execution
//    then starts from the same domain state (records free, retired list empty).
//  - epoch_reclaim always pins the default collector through a thread_local handle, which all
//    model threads (fibers of one OS thread) share: they are then one participant (one epoch
//    word, one nesting count, one bag), so one thread's unpin unpins the others (its defer then
//    fails "epoch: defer outside a pinned section"), and the participant's bag outlives the
//    execution (a leak). The epoch tests use `collector_reclaim` instead: epoch_reclaim's
//    policy over a collector created inside the closure, registering per read-side section.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/epoch.hpp"
#include "ferrite/sync/hazard_pointer.hpp"
#include "ferrite/sync/treiber_stack.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::hazard_pointer;
using ferrite::sync::hazard_pointer_default_domain;
using ferrite::sync::treiber_stack;
using ferrite::sync::epoch::collector;
using ferrite::sync::epoch::guard;
using ferrite::sync::epoch::local_handle;

/// epoch_reclaim's policy (protect = acquire load under a pin, retire = defer_delete) over the
/// collector `current`, registering for each read-side section instead of through the
/// default collector's thread_local handle.
struct collector_reclaim {
  /// The collector of the running execution (set at the start of the closure).
  static inline collector* current = nullptr;

  template <class Node>
  class node_base {
    friend Node;
    node_base() noexcept = default;
  };

  class reader {
   public:
    reader() : handle_(current->register_thread()), guard_(handle_.pin()) {}
    template <class Node>
    Node* protect(const ferrite::atomic<Node*>& src) noexcept {
      return src.load(std::memory_order_acquire);  // as epoch_reclaim's (T1)
    }
    template <class Node>
    void retire(Node* node) noexcept {
      guard_.defer_delete(node);
    }

   private:
    local_handle handle_;  // declared first: the guard unpins before the handle is released
    guard guard_;
  };
};
static_assert(ferrite::sync::reclaimer<collector_reclaim>);

/// Exactly-once accounting of values 1..7 (bookkeeping: model threads run one at a time).
struct ledger {
  std::array<int, 8> popped{};
  void pop(int v) {
    FERRITE_ASSERT(v > 0 && v < 8, "a value that was never pushed");
    FERRITE_ASSERT(popped.at(static_cast<std::size_t>(v))++ == 0, "an element popped twice");
  }
  void expect_each_once(int n) const {
    for (int v = 1; v <= n; ++v)
      FERRITE_ASSERT(popped.at(static_cast<std::size_t>(v)) == 1, "an element was lost");
  }
};

template <class Stack>
void pop_into(Stack& s, ledger& l) {
  if (const std::optional<int> v = s.try_pop()) l.pop(*v);
}

/// As pop_into, through try_pop(T&).
template <class Stack>
void pop_into_ref(Stack& s, ledger& l) {
  int v = 0;
  if (s.try_pop(v)) l.pop(v);
}

/// Pops what is left, single-threaded: LIFO, so (values being pushed in increasing order)
/// each value is below the previous one.
template <class Stack>
void drain_into(Stack& s, ledger& l) {
  int last = 8;
  while (const std::optional<int> v = s.try_pop()) {
    FERRITE_ASSERT(*v < last, "not LIFO");
    last = *v;
    l.pop(*v);
  }
}

// ---- hazard_reclaim (the default domain) --------------------------------------------------

/// Outside any execution: builds the default domain and `records` hazard pointer records
/// (all free again on return), so that no execution allocates them.
void warm_default_domain(int records) {
  std::array<hazard_pointer, 4> hps;
  for (int i = 0; i < records; ++i)
    hps.at(static_cast<std::size_t>(i)) = ferrite::sync::make_hazard_pointer();
}

/// Reclaims every node retired to the default domain (nothing is protected any more).
void reclaim_default_domain() {
  hazard_pointer_default_domain().cleanup();
  FERRITE_ASSERT(hazard_pointer_default_domain().shared_retired_count() == 0,
                 "a retired node survived a cleanup with no hazard pointer alive");
}

/// Two poppers (one through try_pop(), one through try_pop(T&)) race for the top node of
/// {1, 2} while a third thread scans the domain: a popper that loaded a node another popper
/// then retired still reads its link safely.
TEST(TreiberStackModel, HazardTwoPoppersAndAScan) {
  warm_default_domain(3);
  expect_pass([] {
    ledger l;
    {
      treiber_stack<int> s;
      s.push(1);
      s.push(2);
      ferrite::thread a([&] { pop_into(s, l); });
      ferrite::thread b([&] { pop_into_ref(s, l); });
      hazard_pointer_default_domain().cleanup();
      a.join();
      b.join();
      drain_into(s, l);
    }
    reclaim_default_domain();
    l.expect_each_once(2);
  });
}

/// A pusher and a popper on a stack holding {1}: the popper gets 1 or 2, never a node the
/// pusher has not finished publishing (its value cell would race), and the rest is LIFO.
TEST(TreiberStackModel, HazardPushVsPop) {
  warm_default_domain(3);
  expect_pass([] {
    ledger l;
    {
      treiber_stack<int> s;
      s.push(1);
      ferrite::thread pusher([&] { s.push(2); });
      pop_into(s, l);
      pusher.join();
      drain_into(s, l);
      FERRITE_ASSERT(s.empty());
    }
    reclaim_default_domain();
    l.expect_each_once(2);
  });
}

/// ABA shape: popper A loads the top node 2 and its link 1, then B pops 2 and 1 and pushes
/// 3; A's CAS must not install the popped node 1 as the head. Hazard pointers keep node 2
/// (A's protected node) alive, so its address cannot come back as node 3.
TEST(TreiberStackModel, HazardAbaShape) {
  warm_default_domain(3);
  expect_pass([] {
    ledger l;
    {
      treiber_stack<int> s;
      s.push(1);
      s.push(2);
      ferrite::thread a([&] { pop_into(s, l); });
      pop_into(s, l);
      pop_into(s, l);
      s.push(3);
      hazard_pointer_default_domain().cleanup();
      a.join();
      drain_into(s, l);
    }
    reclaim_default_domain();
    l.expect_each_once(3);
  });
}

// ---- epoch reclamation (collector_reclaim over a collector of the closure) ---------------

/// Unpins and flushes `n` times (two flushes after the last pin run every bag sealed before).
void flush_times(collector& c, int n) {
  local_handle h = c.register_thread();
  for (int i = 0; i < n; ++i) {
    guard g = h.pin();
    g.flush();
  }
}

using epoch_stack = treiber_stack<int, collector_reclaim>;

/// A popper loads the only node (pinned) and may lose the CAS to the main thread, which pops
/// it, defers its delete and flushes twice (enough to run it if nobody were pinned): the
/// loser still reads the node's link after that, so the delete must wait for its unpin.
TEST(TreiberStackModel, EpochPopperVsPopAndReclaim) {
  expect_pass([] {
    collector c;  // destroyed last: runs whatever is still deferred
    collector_reclaim::current = &c;
    ledger l;
    {
      epoch_stack s;
      s.push(1);
      ferrite::thread a([&] { pop_into(s, l); });
      pop_into(s, l);
      flush_times(c, 2);
      a.join();
      FERRITE_ASSERT(s.empty());
    }
    l.expect_each_once(1);
  });
}

/// Two poppers race for the top node of {1, 2} (each registering, pinning, retiring into
/// its own bag); the nodes are reclaimed by the flushes after the join.
TEST(TreiberStackModel, EpochTwoPoppers) {
  expect_pass([] {
    collector c;
    collector_reclaim::current = &c;
    ledger l;
    {
      epoch_stack s;
      s.push(1);
      s.push(2);
      ferrite::thread a([&] { pop_into(s, l); });
      ferrite::thread b([&] { pop_into(s, l); });
      a.join();
      b.join();
      drain_into(s, l);
    }
    flush_times(c, 2);
    l.expect_each_once(2);
  });
}

}  // namespace
