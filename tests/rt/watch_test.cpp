// SPDX-License-Identifier: Apache-2.0
// rt::watch<T>: borrow reads the current value, changed() completes at once for an unseen
// version and waits otherwise, a send wakes every waiting receiver (more than one wake
// batch), intermediate values are skipped but the latest is seen, borrow_and_update marks
// seen, clones keep their seen version, subscribe() starts at the current one, a dropped
// sender closes (after unseen versions are reported), a send without receivers gives its
// value back, stop tokens and aborts leave no waiter; and a plain thread sending versions to
// tasks on an executor: every receiver ends at the last version, never seeing one go back
// (label concurrency).
#include "ferrite/rt/watch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

namespace {

namespace rt = ferrite::rt;

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

TEST(Watch, BorrowReadsTheCurrentValue) {
  auto [tx, rx] = rt::watch<std::string>("first");
  EXPECT_EQ(*rx.borrow(), "first");
  EXPECT_FALSE(rx.borrow().has_changed());
  EXPECT_TRUE(tx.send("second"));
  EXPECT_TRUE(rx.has_changed());
  {
    rt::watch_ref<std::string> r = rx.borrow();
    EXPECT_EQ(*r, "second");
    EXPECT_TRUE(r.has_changed());
    EXPECT_EQ(r->size(), 6U);
  }
  EXPECT_TRUE(rx.has_changed()) << "borrow() does not mark seen";
  EXPECT_TRUE(rx.borrow_and_update().has_changed());
  EXPECT_FALSE(rx.has_changed());
  EXPECT_EQ(tx.send_replace("third"), "second");
  EXPECT_EQ(tx.send_modify([](std::string& s) {
    s += "!";
    return s.size();
  }),
            6U);
  EXPECT_EQ(*tx.borrow(), "third!");
  EXPECT_EQ(rx.core().version(), 3U);
}

TEST(Watch, ChangedCompletesAtOnceForAnUnseenVersionAndWaitsOtherwise) {
  auto [tx, rx] = rt::watch<int>(0);
  int seen = -1;
  auto waiter = [&]() -> rt::task<> {
    EXPECT_TRUE(co_await rx.changed());
    seen = *rx.borrow();
  };
  rt::block_on([&]() -> rt::task<> {
    EXPECT_TRUE(tx.send(1));
    EXPECT_TRUE(co_await rx.changed());  // version 1 unseen: no wait
    EXPECT_FALSE(rx.has_changed());
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    EXPECT_EQ(seen, -1) << "changed() completed without a new version";
    EXPECT_EQ(rx.core().waiters_approx(), 1U);
    EXPECT_TRUE(tx.send(2));
    co_await h;
  }());
  EXPECT_EQ(seen, 2);
}

TEST(Watch, ASendWakesEveryWaitingReceiverAndTheLatestValueIsSeen) {
  constexpr int receivers = 20;  // more than one wake batch
  auto [tx, rx] = rt::watch<int>(0);
  int woken_at_latest = 0;
  auto waiter = [&](rt::watch_receiver<int> r) -> rt::task<> {
    EXPECT_TRUE(co_await r.changed());
    if (*r.borrow_and_update() == 3) ++woken_at_latest;
  };
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int i = 0; i < receivers; ++i) hs.push_back(rt::spawn(waiter(rx)));
    co_await settle();
    EXPECT_EQ(rx.core().waiters_approx(), std::size_t{receivers});
    EXPECT_TRUE(tx.send(1));
    EXPECT_TRUE(tx.send(2));
    EXPECT_TRUE(tx.send(3));  // receivers skip 1 and 2 and read the latest
    EXPECT_EQ(rx.core().waiters_approx(), 0U);
    for (auto& h : hs) co_await h;
  }());
  EXPECT_EQ(woken_at_latest, receivers);
}

TEST(Watch, ClonesKeepTheirSeenVersionAndSubscribeStartsAtTheCurrent) {
  auto [tx, rx] = rt::watch<int>(0);
  EXPECT_TRUE(tx.send(1));
  rt::watch_receiver<int> clone = rx;
  EXPECT_TRUE(clone.has_changed()) << "the clone has rx's seen version (0)";
  rt::watch_receiver<int> fresh = tx.subscribe();
  EXPECT_FALSE(fresh.has_changed());
  EXPECT_EQ(fresh.seen_version(), 1U);
  EXPECT_EQ(tx.receiver_count(), 3U);
}

TEST(Watch, ADroppedSenderClosesAfterTheUnseenVersion) {
  auto [tx, rx] = rt::watch<int>(0);
  bool closed = false;
  auto waiter = [&](rt::watch_receiver<int> r) -> rt::task<> {
    closed = !(co_await r.changed()).has_value();
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(waiter(rx));
    co_await settle();
    EXPECT_TRUE(tx.send(5));
    co_await h;
    EXPECT_FALSE(closed);
    tx.reset();
    EXPECT_TRUE(co_await rx.changed()) << "version 1 was still unseen by rx";
    EXPECT_EQ(*rx.borrow(), 5) << "the last value stays readable";
    EXPECT_FALSE((co_await rx.changed()).has_value()) << "closed";
    rt::join_handle<void> h2 = rt::spawn(waiter(rx));
    co_await h2;
    EXPECT_TRUE(closed);
  }());
}

TEST(Watch, DroppingTheSenderWakesWaitersWithClosed) {
  auto [tx, rx] = rt::watch<int>(0);
  bool closed = false;
  auto waiter = [&]() -> rt::task<> { closed = !(co_await rx.changed()).has_value(); };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(waiter());
    co_await settle();
    tx.reset();
    co_await h;
  }());
  EXPECT_TRUE(closed);
}

TEST(Watch, ASendWithoutReceiversGivesTheValueBack) {
  auto [tx, rx] = rt::watch<std::string>("a");
  rx.reset();
  EXPECT_TRUE(tx.is_closed());
  auto r = tx.send("b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().value, "b");
  EXPECT_EQ(*tx.borrow(), "a");
  EXPECT_EQ(tx.send_replace("c"), "a") << "send_replace stores regardless";
}

TEST(Watch, StopTokensAndAbortsLeaveNoWaiter) {
  auto [tx, rx] = rt::watch<int>(0);
  std::stop_source stop;
  bool stopped = false;
  auto stoppable = [&](rt::watch_receiver<int> r) -> rt::task<> {
    auto c = co_await r.changed(stop.get_token());
    stopped = !c && c.error() == rt::recv_error::stopped;
    EXPECT_FALSE(r.has_changed());
  };
  auto plain = [&](rt::watch_receiver<int> r) -> rt::task<> {
    static_cast<void>(co_await r.changed());
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(stoppable(rx));
    rt::join_handle<void> b = rt::spawn(plain(rx));
    co_await settle();
    EXPECT_EQ(rx.core().waiters_approx(), 2U);
    stop.request_stop();
    b.abort();
    co_await settle();
    EXPECT_EQ(rx.core().waiters_approx(), 0U);
    co_await a;
    EXPECT_TRUE(b.is_finished());
  }());
  EXPECT_TRUE(stopped);
}

// A plain thread sends 1..N; tasks on an executor wait for changes and read the value: each
// sees a non-decreasing sequence and ends at N.
TEST(Watch, APlainThreadSendsToTasksThatSeeTheLatest) {
  constexpr int versions = 20'000;
  constexpr int receivers = 3;
  auto [tx, rx] = rt::watch<int>(0);
  std::atomic<int> finished{0};
  std::vector<int> last(receivers, 0);
  auto reader = [&](int id, rt::watch_receiver<int> r) -> rt::task<> {
    int prev = 0;
    while (co_await r.changed()) {
      const int v = *r.borrow_and_update();
      EXPECT_GE(v, prev) << "a version went back";
      prev = v;
    }
    last[static_cast<std::size_t>(id)] = prev;
    finished.fetch_add(1);
  };
  std::thread sender([&, out = std::move(tx)]() mutable {
    for (int i = 1; i <= versions; ++i) EXPECT_TRUE(out.send(i));
    out.reset();  // closes: the readers finish after seeing the last version
  });
  rt::block_on([&]() -> rt::task<> {
    std::vector<rt::join_handle<void>> hs;
    for (int i = 0; i < receivers; ++i) hs.push_back(rt::spawn(reader(i, rx)));
    rx.reset();
    for (auto& h : hs) co_await h;
  }());
  sender.join();
  EXPECT_EQ(finished.load(), receivers);
  for (int v : last) EXPECT_EQ(v, versions);
}

}  // namespace
