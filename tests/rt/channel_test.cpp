// SPDX-License-Identifier: Apache-2.0
// rt::channel<T> on the local executor: FIFO through the ring, senders wait while full and
// receivers while empty, a receive completes a waiting send by moving its value in, close
// drains then reports rt::closed and gives waiting senders their values back, dropping every
// sender or every receiver closes, try_ forms, stop tokens (a stopped send gets its value
// back and leaves no waiter), aborted senders and receivers (a value granted to an aborted
// receiver goes to the next one or stays buffered), receivers waiting on a full ring of
// reserved values, buffered values destroyed with the channel, and random MPMC schedules
// against a reference multiset. Across threads (label concurrency): plain producer threads
// with blocking_send into a task, producer tasks on their own executors into consumer tasks
// on others, and a task into a plain thread's blocking_recv; every message exactly once, in
// per-producer order.
#include "ferrite/rt/channel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <random>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"
#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;
using ferrite_test::frame_local;

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

/// Counts live values (one thread): a moved-from instance no longer holds one.
struct counted {
  static inline int alive = 0;
  int v = 0;
  bool holds = true;
  explicit counted(int x) : v(x) { ++alive; }
  counted(counted&& o) noexcept : v(o.v), holds(std::exchange(o.holds, false)) {}
  counted& operator=(counted&& o) noexcept {
    if (holds) --alive;
    v = o.v;
    holds = std::exchange(o.holds, false);
    return *this;
  }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() {
    if (holds) --alive;
  }
};

TEST(Channel, ValuesComeOutInOrder) {
  auto [tx, rx] = rt::channel<int>(4);
  rt::block_on([&]() -> rt::task<> {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(co_await tx.send(i));
    for (int i = 0; i < 3; ++i) EXPECT_EQ((co_await rx.recv()).value_or(-1), i);
    EXPECT_EQ(rx.try_recv().error(), rt::recv_error::empty);
  }());
}

TEST(Channel, ASenderWaitsWhileFullAndAReceiveCompletesIt) {
  auto [tx, rx] = rt::channel<int>(1);
  int sent = 0;
  auto producer = [&]() -> rt::task<> {
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(co_await tx.send(i));
      ++sent;
    }
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> p = rt::spawn(producer());
    co_await settle();
    EXPECT_EQ(sent, 1) << "the second send waits on the full ring";
    EXPECT_EQ(tx.core().waiting_senders_approx(), 1U);
    EXPECT_EQ((co_await rx.recv()).value_or(-1), 0);
    EXPECT_EQ(tx.core().size_approx(), 1U) << "the waiting sender's value moved in at once";
    EXPECT_EQ(tx.core().waiting_senders_approx(), 0U);
    for (int i = 1; i < 5; ++i) EXPECT_EQ((co_await rx.recv()).value_or(-1), i);
    co_await p;
  }());
  EXPECT_EQ(sent, 5);
}

TEST(Channel, AReceiverWaitsWhileEmpty) {
  auto [tx, rx] = rt::channel<int>(2);
  auto consumer = [&]() -> rt::task<int> { co_return (co_await rx.recv()).value_or(-1); };
  const int v = rt::block_on([&]() -> rt::task<int> {
    rt::join_handle<int> c = rt::spawn(consumer());
    co_await settle();
    EXPECT_EQ(rx.core().waiting_receivers_approx(), 1U);
    EXPECT_TRUE(tx.try_send(9));
    co_return co_await c;
  }());
  EXPECT_EQ(v, 9);
}

TEST(Channel, CloseDrainsTheBufferThenReportsClosed) {
  auto [tx, rx] = rt::channel<int>(4);
  EXPECT_TRUE(tx.try_send(1));
  EXPECT_TRUE(tx.try_send(2));
  tx.close();
  EXPECT_TRUE(rx.is_closed());
  std::expected<void, rt::send_error<int>> late = tx.try_send(3);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().reason, rt::send_failure::closed);
  EXPECT_EQ(late.error().value, 3);
  rt::block_on([&]() -> rt::task<> {
    EXPECT_EQ((co_await rx.recv()).value_or(-1), 1);
    EXPECT_EQ((co_await rx.recv()).value_or(-1), 2);
    std::expected<int, rt::closed> end = co_await rx.recv();
    EXPECT_FALSE(end.has_value());
  }());
  EXPECT_EQ(rx.try_recv().error(), rt::recv_error::closed);
}

TEST(Channel, CloseGivesWaitingSendersTheirValuesBackAndWakesReceivers) {
  constexpr int senders = 12;  // more than one wake batch
  counted::alive = 0;
  auto [tx, rx] = rt::channel<counted>(1);
  auto [tx2, rx2] = rt::channel<int>(1);
  int returned = 0;
  int closed_receivers = 0;
  auto sender_task = [&](int i) -> rt::task<> {
    auto r = co_await tx.send(counted(i));
    if (!r && r.error().reason == rt::send_failure::closed && r.error().value.v == i) ++returned;
  };
  auto receiver_task = [&]() -> rt::task<> {
    if (!co_await rx2.recv()) ++closed_receivers;
  };
  rt::block_on([&]() -> rt::task<> {
    EXPECT_TRUE(tx.try_send(counted(-1)));  // fills the ring
    std::vector<rt::join_handle<void>> hs;
    for (int i = 0; i < senders; ++i) hs.push_back(rt::spawn(sender_task(i)));
    for (int i = 0; i < senders; ++i) hs.push_back(rt::spawn(receiver_task()));
    co_await settle();
    EXPECT_EQ(tx.core().waiting_senders_approx(), std::size_t{senders});
    tx.close();
    tx2.close();
    for (auto& h : hs) co_await h;
    EXPECT_EQ((co_await rx.recv()).value_or(counted(0)).v, -1) << "the buffer still drains";
  }());
  EXPECT_EQ(returned, senders);
  EXPECT_EQ(closed_receivers, senders);
}

TEST(Channel, DroppingEverySenderOrEveryReceiverCloses) {
  auto [tx, rx] = rt::channel<int>(2);
  {
    rt::sender<int> clone = tx;  // NOLINT(performance-unnecessary-copy-initialization)
    tx.reset();
    EXPECT_FALSE(rx.is_closed()) << "a clone is still alive";
    EXPECT_TRUE(clone.try_send(1));
  }
  EXPECT_TRUE(rx.is_closed());
  EXPECT_EQ(rx.try_recv().value_or(-1), 1);
  EXPECT_EQ(rx.try_recv().error(), rt::recv_error::closed);

  auto [tx2, rx2] = rt::channel<int>(2);
  rt::receiver<int> r2 = rx2;
  rx2.reset();
  EXPECT_TRUE(tx2.try_send(1));
  r2.reset();
  EXPECT_EQ(tx2.try_send(2).error().reason, rt::send_failure::closed);
}

TEST(Channel, TrySendReportsFull) {
  auto [tx, rx] = rt::channel<int>(2);
  EXPECT_TRUE(tx.try_send(1));
  EXPECT_TRUE(tx.try_send(2));
  auto r = tx.try_send(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, rt::send_failure::full);
  EXPECT_EQ(r.error().value, 3);
}

TEST(Channel, AStoppedSendGetsItsValueBackAndLeavesNoWaiter) {
  auto [tx, rx] = rt::channel<std::unique_ptr<int>>(1);
  std::stop_source stop;
  int back = 0;
  auto sender_task = [&]() -> rt::task<> {
    auto r = co_await tx.send(std::make_unique<int>(5), stop.get_token());
    if (!r && r.error().reason == rt::send_failure::stopped) back = *r.error().value;
  };
  rt::block_on([&]() -> rt::task<> {
    EXPECT_TRUE(tx.try_send(std::make_unique<int>(1)));
    rt::join_handle<void> h = rt::spawn(sender_task());
    co_await settle();
    EXPECT_EQ(tx.core().waiting_senders_approx(), 1U);
    stop.request_stop();
    EXPECT_EQ(tx.core().waiting_senders_approx(), 0U);
    co_await h;
    EXPECT_EQ(tx.core().size_approx(), 1U) << "the stopped value was not sent";
  }());
  EXPECT_EQ(back, 5);
}

TEST(Channel, AStoppedRecvLeavesNoWaiterAndTakesNothing) {
  auto [tx, rx] = rt::channel<int>(1);
  std::stop_source stop;
  bool stopped = false;
  auto receiver_task = [&]() -> rt::task<> {
    auto r = co_await rx.recv(stop.get_token());
    stopped = !r && r.error() == rt::recv_error::stopped;
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(receiver_task());
    co_await settle();
    stop.request_stop();
    co_await h;
    EXPECT_EQ(rx.core().waiting_receivers_approx(), 0U);
    EXPECT_TRUE(tx.try_send(4));
    EXPECT_EQ(rx.try_recv().value_or(-1), 4) << "the value went to nobody else";
  }());
  EXPECT_TRUE(stopped);
}

TEST(Channel, AnAbortedSenderLeavesNoWaiterAndItsValueDies) {
  counted::alive = 0;
  frame_local::alive = 0;
  {
    auto [tx, rx] = rt::channel<counted>(1);
    auto sender_task = [&]() -> rt::task<> {
      frame_local keep;
      static_cast<void>(co_await tx.send(counted(2)));
    };
    rt::block_on([&]() -> rt::task<> {
      EXPECT_TRUE(tx.try_send(counted(1)));
      rt::join_handle<void> h = rt::spawn(sender_task());
      co_await settle();
      EXPECT_EQ(counted::alive, 2);
      h.abort();
      co_await settle();
      EXPECT_EQ(frame_local::alive, 0);
      EXPECT_EQ(counted::alive, 1) << "the unsent value died with the awaiter";
      EXPECT_EQ(tx.core().waiting_senders_approx(), 0U);
      EXPECT_EQ((co_await rx.recv()).value_or(counted(0)).v, 1);
      EXPECT_EQ(rx.try_recv().error(), rt::recv_error::empty) << "the aborted value was sent";
    }());
  }
  EXPECT_EQ(counted::alive, 0);
}

// A waiting send whose value a receive already moved into the ring (granted, not yet
// resumed) is aborted: the value was sent and stays sent.
TEST(Channel, AnAbortedSenderWhoseValueMovedInHasSentIt) {
  auto [tx, rx] = rt::channel<int>(1);
  auto sender_task = [&]() -> rt::task<> { static_cast<void>(co_await tx.send(2)); };
  rt::block_on([&]() -> rt::task<> {
    EXPECT_TRUE(tx.try_send(1));
    rt::join_handle<void> h = rt::spawn(sender_task());
    co_await settle();
    EXPECT_EQ(rx.try_recv().value_or(-1), 1);  // moves 2 in and grants the sender
    h.abort();
    co_await settle();
    EXPECT_TRUE(h.is_finished());
    EXPECT_EQ(rx.try_recv().value_or(-1), 2);
    EXPECT_EQ(tx.core().waiting_senders_approx(), 0U);
  }());
}

TEST(Channel, AValueGrantedToAnAbortedReceiverGoesToTheNext) {
  auto [tx, rx] = rt::channel<int>(1);
  std::vector<char> got;
  auto receiver_task = [&](char name) -> rt::task<> {
    if (co_await rx.recv()) got.push_back(name);
  };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(receiver_task('a'));
    rt::join_handle<void> b = rt::spawn(receiver_task('b'));
    co_await settle();
    EXPECT_TRUE(tx.try_send(1));  // reserved for a, which has not run
    a.abort();
    co_await settle();
    EXPECT_TRUE(b.is_finished()) << "the value was lost with a";
    if (!b.is_finished()) b.abort();
    co_await settle();
  }());
  EXPECT_EQ(got, std::vector<char>{'b'});
}

TEST(Channel, AValueGrantedToAnAbortedLastReceiverStaysBuffered) {
  auto [tx, rx] = rt::channel<int>(1);
  auto receiver_task = [&]() -> rt::task<> { static_cast<void>(co_await rx.recv()); };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(receiver_task());
    co_await settle();
    EXPECT_TRUE(tx.try_send(1));
    a.abort();
    co_await settle();
    EXPECT_EQ(rx.try_recv().value_or(-1), 1);
  }());
}

// Capacity 1, two receivers waiting: the first value is reserved for a, the second sender
// waits on the full ring; when a takes its value, the waiting sender's value moves in and
// must be granted to b (a receive can owe two wakes).
TEST(Channel, ReceiversWaitingOnAFullRingOfReservedValuesAreServed) {
  auto [tx, rx] = rt::channel<int>(1);
  std::vector<int> got;
  auto receiver_task = [&]() -> rt::task<> { got.push_back((co_await rx.recv()).value_or(-1)); };
  auto sender_task = [&](int v) -> rt::task<> { EXPECT_TRUE(co_await tx.send(v)); };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> a = rt::spawn(receiver_task());
    rt::join_handle<void> b = rt::spawn(receiver_task());
    co_await settle();
    rt::join_handle<void> s1 = rt::spawn(sender_task(1));
    rt::join_handle<void> s2 = rt::spawn(sender_task(2));
    co_await settle(8);
    EXPECT_TRUE(b.is_finished()) << "b was never granted the value that moved in";
    if (!b.is_finished()) b.abort();
    co_await a;
    co_await s1;
    co_await s2;
  }());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

TEST(Channel, BufferedValuesAreDestroyedWithTheChannel) {
  counted::alive = 0;
  {
    auto [tx, rx] = rt::channel<counted>(3);
    EXPECT_TRUE(tx.try_send(counted(1)));
    EXPECT_TRUE(tx.try_send(counted(2)));
    EXPECT_EQ(counted::alive, 2);
  }
  EXPECT_EQ(counted::alive, 0);
}

// Random MPMC schedules on one executor: producers send tagged values (producer, sequence),
// consumers receive until closed; every value arrives once and each producer's in order
// from each consumer's point of view. Capacities and counts vary per seed.
TEST(Channel, RandomMpmcSchedulesDeliverEveryValueOnce) {
  for (unsigned seed = 1; seed <= 30; ++seed) {
    std::mt19937 rng(seed);
    const std::size_t capacity = rng() % 4 + 1;
    const int producers = static_cast<int>(rng() % 4) + 1;
    const int consumers = static_cast<int>(rng() % 4) + 1;
    const int per_producer = static_cast<int>(rng() % 50) + 1;
    auto [tx, rx] = rt::channel<std::pair<int, int>>(capacity);
    std::map<int, std::vector<int>> seen;  // producer -> sequence numbers, in arrival order
    std::vector<std::map<int, int>> last(static_cast<std::size_t>(consumers));
    auto producer = [&](int id, rt::sender<std::pair<int, int>> out, unsigned s) -> rt::task<> {
      std::mt19937 local(s);
      for (int i = 0; i < per_producer; ++i) {
        EXPECT_TRUE(co_await out.send({id, i}));
        if (local() % 3 == 0) co_await rt::yield_now();
      }
    };
    auto consumer = [&](int id, rt::receiver<std::pair<int, int>> in, unsigned s) -> rt::task<> {
      std::mt19937 local(s);
      auto& mine = last[static_cast<std::size_t>(id)];
      while (auto v = co_await in.recv()) {
        auto [p, i] = *v;
        seen[p].push_back(i);
        if (auto it = mine.find(p); it != mine.end()) {
          EXPECT_LT(it->second, i) << "reordered";
        }
        mine[p] = i;
        if (local() % 2 == 0) co_await rt::yield_now();
      }
    };
    rt::block_on([&]() -> rt::task<> {
      std::vector<rt::join_handle<void>> ps;
      std::vector<rt::join_handle<void>> cs;
      for (int c = 0; c < consumers; ++c)
        cs.push_back(rt::spawn(consumer(c, rx, static_cast<unsigned>(rng()))));
      rx.reset();
      for (int p = 0; p < producers; ++p)
        ps.push_back(rt::spawn(producer(p, tx, static_cast<unsigned>(rng()))));
      tx.reset();  // closes when the producers' clones are gone
      for (auto& h : ps) co_await h;
      ps.clear();  // a finished task's frame (holding its sender) lives until its handle goes
      for (auto& h : cs) co_await h;
    }());
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(producers)) << "seed " << seed;
    for (auto& [p, seqs] : seen) {
      std::vector<int> sorted = seqs;
      std::sort(sorted.begin(), sorted.end());
      std::vector<int> expected(static_cast<std::size_t>(per_producer));
      for (int i = 0; i < per_producer; ++i) expected[static_cast<std::size_t>(i)] = i;
      EXPECT_EQ(sorted, expected) << "seed " << seed << " producer " << p;
    }
  }
}

/// Checks a consumer's view: each producer's numbers once each, in order.
struct per_producer_order {
  std::vector<int> next;
  explicit per_producer_order(int producers) : next(static_cast<std::size_t>(producers), 0) {}
  void take(std::pair<int, int> m) {
    auto& n = next.at(static_cast<std::size_t>(m.first));
    EXPECT_EQ(m.second, n) << "producer " << m.first << ": lost, duplicated or reordered";
    n = m.second + 1;
  }
};

// The brief's stress: plain producer threads blocking_send 10k numbered messages each into
// a capacity-16 channel read by one task on an executor thread.
TEST(Channel, PlainProducerThreadsIntoATaskDeliverEveryMessageOnceInOrder) {
  constexpr int producers = 4;
  constexpr int per_producer = 10'000;
  auto [tx, rx] = rt::channel<std::pair<int, int>>(16);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([p, out = tx]() mutable {
      for (int i = 0; i < per_producer; ++i) EXPECT_TRUE(out.blocking_send({p, i}));
    });
  }
  tx.reset();
  per_producer_order order(producers);
  const int received = rt::block_on([&]() -> rt::task<int> {
    int n = 0;
    while (auto m = co_await rx.recv()) {
      order.take(*m);
      ++n;
    }
    co_return n;
  }());
  for (auto& t : threads) t.join();
  EXPECT_EQ(received, producers * per_producer);
}

// Producer tasks on two executor threads, consumer tasks on two others: wakes cross threads
// both ways (a full ring wakes senders remotely, an empty one receivers).
TEST(Channel, TasksOnSeveralExecutorsExchangeEveryMessageOnce) {
  constexpr int producer_threads = 2;
  constexpr int tasks_per_thread = 2;
  constexpr int per_task = 5'000;
  constexpr int producers = producer_threads * tasks_per_thread;
  auto [tx, rx] = rt::channel<std::pair<int, int>>(4);
  auto producer = [](int id, rt::sender<std::pair<int, int>> out) -> rt::task<> {
    for (int i = 0; i < per_task; ++i) EXPECT_TRUE(co_await out.send({id, i}));
  };
  std::vector<std::vector<std::pair<int, int>>> got(2);
  auto consumer = [](rt::receiver<std::pair<int, int>> in,
                     std::vector<std::pair<int, int>>& into) -> rt::task<> {
    while (auto m = co_await in.recv()) into.push_back(*m);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < producer_threads; ++t) {
    threads.emplace_back([&, t, out = tx]() mutable {
      rt::block_on([&]() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        for (int k = 0; k < tasks_per_thread; ++k) {
          hs.push_back(rt::spawn(producer(t * tasks_per_thread + k, out)));
        }
        out.reset();
        for (auto& h : hs) co_await h;
      }());
    });
  }
  for (std::size_t c = 0; c < 2; ++c) {
    threads.emplace_back(
        [&, c, in = rx]() mutable { rt::block_on(consumer(std::move(in), got[c])); });
  }
  tx.reset();
  rx.reset();
  for (auto& t : threads) t.join();
  std::vector<std::vector<int>> by_producer(producers);
  for (auto& part : got) {
    std::vector<int> last(producers, -1);
    for (auto [p, i] : part) {
      EXPECT_LT(last[static_cast<std::size_t>(p)], i) << "reordered within one consumer";
      last[static_cast<std::size_t>(p)] = i;
      by_producer[static_cast<std::size_t>(p)].push_back(i);
    }
  }
  for (auto& seqs : by_producer) {
    std::sort(seqs.begin(), seqs.end());
    ASSERT_EQ(seqs.size(), std::size_t{per_task});
    for (int i = 0; i < per_task; ++i) ASSERT_EQ(seqs[static_cast<std::size_t>(i)], i);
  }
}

TEST(Channel, ATaskSendsToAPlainThreadsBlockingRecv) {
  constexpr int messages = 10'000;
  auto [tx, rx] = rt::channel<int>(8);
  std::int64_t sum = 0;
  int count = 0;
  std::thread consumer([&, in = std::move(rx)]() mutable {
    while (auto v = in.blocking_recv()) {
      EXPECT_EQ(*v, count) << "lost or reordered";
      sum += *v;
      ++count;
    }
  });
  rt::block_on([&]() -> rt::task<> {
    for (int i = 0; i < messages; ++i) EXPECT_TRUE(co_await tx.send(i));
    tx.reset();
  }());
  consumer.join();
  EXPECT_EQ(count, messages);
  EXPECT_EQ(sum, std::int64_t{messages} * (messages - 1) / 2);
}

}  // namespace
