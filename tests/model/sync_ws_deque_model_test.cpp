// SPDX-License-Identifier: Apache-2.0
// Model tests of sync::ws_deque (Chase-Lev) under ferrite::check: the owner's pop races the
// thieves' steals for the last element (the seq_cst fence pair (D6)/(D12) and the CAS on top),
// and every element is taken exactly once, by the owner or by one thief; the owner's growth
// of the ring races a thief holding the old ring; boxed elements are freed exactly once (the
// checker reports leaks and double frees).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/sync/ws_deque.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::sync::ws_deque;

/// Exactly-once accounting of values 1..7 (bookkeeping: model threads run one at a time).
struct ledger {
  std::array<int, 8> taken{};
  void take(int v) {
    FERRITE_ASSERT(v > 0 && v < 8, "a value that was never pushed");
    FERRITE_ASSERT(taken.at(static_cast<std::size_t>(v))++ == 0, "an element taken twice");
  }
  void expect_each_once(int n) const {
    for (int v = 1; v <= n; ++v)
      FERRITE_ASSERT(taken.at(static_cast<std::size_t>(v)) == 1, "an element was lost");
  }
};

template <class T>
int value_of(const T& v) {
  if constexpr (std::is_same_v<T, int>) {
    return v;
  } else {
    return *v;
  }
}

/// One steal attempt; a success goes to the ledger.
template <class T>
void steal_into(ws_deque<T>& d, ledger& l) {
  auto r = d.steal();
  if (r.is_success()) l.take(value_of(r.value()));
}

/// The owner pops until empty.
template <class T>
void pop_all(ws_deque<T>& d, ledger& l) {
  while (std::optional<T> v = d.pop()) l.take(value_of(*v));
}

/// The classic race: one element, the owner pops it while a thief steals it. Exactly one of
/// them gets it (both through the CAS on top when t == b).
TEST(WsDequeModel, OwnerPopVsStealLastElement) {
  expect_pass([] {
    ws_deque<int> d(1);
    ledger l;
    d.push(1);
    ferrite::thread thief([&] { steal_into(d, l); });
    pop_all(d, l);
    thief.join();
    l.expect_each_once(1);
    FERRITE_ASSERT(d.empty());
  });
}

/// Two elements: the owner's pop of the bottom one needs no CAS (t < b) and must not collide
/// with a thief taking the top one, whatever stale bottom the thief reads (the fence pair).
TEST(WsDequeModel, OwnerPopVsStealTwoElements) {
  expect_pass([] {
    ws_deque<int> d(2);
    ledger l;
    d.push(1);
    d.push(2);
    ferrite::thread thief([&] {
      steal_into(d, l);
      steal_into(d, l);
    });
    if (std::optional<int> v = d.pop()) l.take(*v);
    thief.join();
    pop_all(d, l);
    l.expect_each_once(2);
  });
}

/// Two thieves and the owner over two elements: thieves race each other on the CAS (one
/// gets `retry`), and the owner pops.
TEST(WsDequeModel, TwoThievesAndOwner) {
  expect_pass([] {
    ws_deque<int> d(2);
    ledger l;
    d.push(1);
    d.push(2);
    ferrite::thread t1([&] { steal_into(d, l); });
    ferrite::thread t2([&] { steal_into(d, l); });
    if (std::optional<int> v = d.pop()) l.take(*v);
    t1.join();
    t2.join();
    pop_all(d, l);
    l.expect_each_once(2);
  });
}

/// The owner pushes while a thief steals: a thief that reads the new bottom sees the slot
/// written before it ((D3) release / (D13) acquire), never an unwritten slot.
TEST(WsDequeModel, PushVsSteal) {
  expect_pass([] {
    ws_deque<int> d(2);
    ledger l;
    ferrite::thread thief([&] {
      steal_into(d, l);
      steal_into(d, l);
    });
    d.push(1);
    d.push(2);
    thief.join();
    pop_all(d, l);
    l.expect_each_once(2);
  });
}

/// Growth: the ring of 1 holds element 1; the owner pushes 2 (grows to 2) and 3 (grows to 4)
/// while a thief steals, possibly through an outgrown ring. Elements are boxed
/// (unique_ptr): a box taken twice is a double free, one never taken or freed a leak.
TEST(WsDequeModel, GrowthVsStealBoxed) {
  expect_pass([] {
    ws_deque<std::unique_ptr<int>> d(1);
    ledger l;
    d.push(std::make_unique<int>(1));
    ferrite::thread thief([&] {
      steal_into(d, l);
      steal_into(d, l);
    });
    d.push(std::make_unique<int>(2));
    d.push(std::make_unique<int>(3));
    if (std::optional<std::unique_ptr<int>> v = d.pop()) l.take(**v);
    thief.join();
    pop_all(d, l);
    l.expect_each_once(3);
  });
}

/// Boxed elements left in the deque are freed by its destructor exactly once.
TEST(WsDequeModel, BoxedLeftoversDestroyedOnce) {
  expect_pass([] {
    ws_deque<std::unique_ptr<int>> d(2);
    ledger l;
    d.push(std::make_unique<int>(1));
    d.push(std::make_unique<int>(2));
    ferrite::thread thief([&] { steal_into(d, l); });
    if (std::optional<std::unique_ptr<int>> v = d.pop()) l.take(**v);
    thief.join();
    // Whatever is left is destroyed by ~ws_deque.
  });
}

}  // namespace
