// SPDX-License-Identifier: Apache-2.0
// rt::oneshot<T>: a value sent before the receive is taken without suspending, a receive
// waits for a send from another task, a dropped sender gives rt::closed, a send to a dropped
// receiver gives the value back, a value never received is destroyed with the state,
// try_recv, recv(stop) that leaves the receiver usable, aborting a waiting receiver; across
// threads: a plain thread sends into tasks, a task sends to a plain thread's blocking_recv,
// and sends racing receiver drops account for every value exactly once (label concurrency);
// and in steady state a oneshot costs no operator new (this binary counts them).
#include "ferrite/rt/oneshot.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"
#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

/// A value that counts its live instances (atomic: the race test shares it).
struct counted {
  static inline std::atomic<int> alive{0};
  int v = 0;
  explicit counted(int x) : v(x) { alive.fetch_add(1); }
  counted(counted&& o) noexcept : v(o.v) { alive.fetch_add(1); }
  counted& operator=(counted&&) = delete;
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() { alive.fetch_sub(1); }
};

TEST(Oneshot, AValueSentFirstIsReceivedWithoutWaiting) {
  auto [tx, rx] = rt::oneshot<int>();
  EXPECT_TRUE(tx.send(42).has_value());
  EXPECT_FALSE(tx.valid()) << "send consumes the sender";
  const int v = rt::block_on([&]() -> rt::task<int> {
    std::expected<int, rt::closed> r = co_await std::move(rx);
    co_return r.value_or(-1);
  }());
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(rx.valid()) << "the co_await consumed the receiver";
}

TEST(Oneshot, AReceiveWaitsForTheSend) {
  auto [tx, rx] = rt::oneshot<std::unique_ptr<int>>();
  auto sender = [&]() -> rt::task<> {
    co_await settle();
    EXPECT_TRUE(tx.send(std::make_unique<int>(7)).has_value());
  };
  const int v = rt::block_on([&]() -> rt::task<int> {
    rt::join_handle<void> h = rt::spawn(sender());
    auto r = co_await std::move(rx);
    co_await h;
    co_return r && *r ? **r : -1;
  }());
  EXPECT_EQ(v, 7);
}

TEST(Oneshot, ADroppedSenderGivesClosed) {
  auto [tx, rx] = rt::oneshot<int>();
  auto dropper = [&]() -> rt::task<> {
    co_await settle();
    tx = rt::oneshot_sender<int>();  // dropped while the receiver waits
  };
  const bool closed = rt::block_on([&]() -> rt::task<bool> {
    rt::join_handle<void> h = rt::spawn(dropper());
    std::expected<int, rt::closed> r = co_await std::move(rx);
    co_await h;
    co_return !r.has_value();
  }());
  EXPECT_TRUE(closed);
  auto [tx2, rx2] = rt::oneshot<int>();
  {
    auto gone = std::move(tx2);
  }  // dropped before the receive
  EXPECT_EQ(rx2.try_recv().error(), rt::recv_error::closed);
}

TEST(Oneshot, ASendToADroppedReceiverGivesTheValueBack) {
  counted::alive = 0;
  auto [tx, rx] = rt::oneshot<counted>();
  EXPECT_FALSE(tx.is_closed());
  {
    auto gone = std::move(rx);
  }
  EXPECT_TRUE(tx.is_closed());
  std::expected<void, rt::send_error<counted>> r = tx.send(counted(5));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().value.v, 5);
  EXPECT_EQ(r.error().reason, rt::send_failure::closed);
  EXPECT_EQ(counted::alive.load(), 1) << "only the returned value";
}

TEST(Oneshot, AValueNeverReceivedIsDestroyedWithTheState) {
  counted::alive = 0;
  {
    auto [tx, rx] = rt::oneshot<counted>();
    EXPECT_TRUE(tx.send(counted(1)).has_value());
    EXPECT_EQ(counted::alive.load(), 1);
  }
  EXPECT_EQ(counted::alive.load(), 0);
}

TEST(Oneshot, TryRecvSaysEmptyThenGivesTheValue) {
  auto [tx, rx] = rt::oneshot<int>();
  EXPECT_EQ(rx.try_recv().error(), rt::recv_error::empty);
  EXPECT_TRUE(tx.send(3).has_value());
  std::expected<int, rt::recv_error> v = rx.try_recv();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 3);
  EXPECT_FALSE(rx.valid());
}

TEST(Oneshot, AStoppedRecvLeavesTheReceiverUsable) {
  auto [tx, rx] = rt::oneshot<int>();
  std::stop_source stop;
  auto receiver = [&]() -> rt::task<int> {
    std::expected<int, rt::recv_error> first = co_await rx.recv(stop.get_token());
    EXPECT_EQ(first.error(), rt::recv_error::stopped);
    EXPECT_TRUE(rx.valid());
    std::expected<int, rt::recv_error> second = co_await rx.recv(std::stop_token());
    co_return second.value_or(-1);
  };
  const int v = rt::block_on([&]() -> rt::task<int> {
    rt::join_handle<int> h = rt::spawn(receiver());
    co_await settle();
    stop.request_stop();
    co_await settle();
    EXPECT_TRUE(tx.send(11).has_value());
    co_return co_await h;
  }());
  EXPECT_EQ(v, 11);
}

TEST(Oneshot, ATokenStoppedBeforeTheRecvGivesStoppedAndKeepsTheValue) {
  auto [tx, rx] = rt::oneshot<int>();
  EXPECT_TRUE(tx.send(8).has_value());
  std::stop_source stop;
  stop.request_stop();
  const int v = rt::block_on([&]() -> rt::task<int> {
    std::expected<int, rt::recv_error> first = co_await rx.recv(stop.get_token());
    EXPECT_EQ(first.error(), rt::recv_error::stopped);
    co_return (co_await rx.recv(std::stop_token())).value_or(-1);
  }());
  EXPECT_EQ(v, 8);
}

TEST(Oneshot, AbortingAWaitingReceiverDropsIt) {
  counted::alive = 0;
  auto [tx, rx] = rt::oneshot<counted>();
  auto receiver = [&]() -> rt::task<> { static_cast<void>(co_await std::move(rx)); };
  rt::block_on([&]() -> rt::task<> {
    rt::join_handle<void> h = rt::spawn(receiver());
    co_await settle();
    h.abort();
    co_await settle();
    EXPECT_TRUE(tx.is_closed()) << "the aborted receive dropped the receiver";
    auto r = tx.send(counted(9));
    EXPECT_FALSE(r.has_value());
  }());
  EXPECT_EQ(counted::alive.load(), 0);
}

// rx.recv(stop) borrows the receiver: aborting the waiting task leaves the receiver (owned
// elsewhere) able to receive the value sent afterwards.
TEST(Oneshot, AbortingAStoppableRecvLeavesTheReceiverUsable) {
  auto [tx, rx] = rt::oneshot<int>();
  std::stop_source stop;
  auto receiver = [&]() -> rt::task<> { static_cast<void>(co_await rx.recv(stop.get_token())); };
  const int v = rt::block_on([&]() -> rt::task<int> {
    rt::join_handle<void> h = rt::spawn(receiver());
    co_await settle();
    h.abort();
    co_await settle();
    EXPECT_TRUE(h.is_finished());
    EXPECT_FALSE(tx.is_closed()) << "the borrowed receiver is still alive";
    EXPECT_TRUE(tx.send(4).has_value());
    co_return (co_await std::move(rx)).value_or(-1);
  }());
  EXPECT_EQ(v, 4);
}

// A plain thread sends into a sequence of oneshots that a task awaits in turn.
TEST(Oneshot, APlainThreadSendsIntoTasks) {
  constexpr int rounds = 2'000;
  std::vector<rt::oneshot_sender<int>> senders;
  std::vector<rt::oneshot_receiver<int>> receivers;
  for (int i = 0; i < rounds; ++i) {
    auto [tx, rx] = rt::oneshot<int>();
    senders.push_back(std::move(tx));
    receivers.push_back(std::move(rx));
  }
  std::thread producer([&] {
    for (int i = 0; i < rounds; ++i) EXPECT_TRUE(senders[static_cast<std::size_t>(i)].send(i));
  });
  const std::int64_t sum = rt::block_on([&]() -> rt::task<std::int64_t> {
    std::int64_t s = 0;
    for (auto& rx : receivers) s += (co_await std::move(rx)).value_or(-1'000'000);
    co_return s;
  }());
  producer.join();
  EXPECT_EQ(sum, std::int64_t{rounds} * (rounds - 1) / 2);
}

TEST(Oneshot, ATaskSendsToAPlainThreadsBlockingRecv) {
  constexpr int rounds = 1'000;
  std::vector<rt::oneshot_sender<int>> senders;
  std::vector<rt::oneshot_receiver<int>> receivers;
  for (int i = 0; i < rounds; ++i) {
    auto [tx, rx] = rt::oneshot<int>();
    senders.push_back(std::move(tx));
    receivers.push_back(std::move(rx));
  }
  std::int64_t sum = 0;
  std::thread consumer([&] {
    for (auto& rx : receivers) sum += rx.blocking_recv().value_or(-1'000'000);
  });
  rt::block_on([&]() -> rt::task<> {
    for (int i = 0; i < rounds; ++i) {
      EXPECT_TRUE(senders[static_cast<std::size_t>(i)].send(i));
      if (i % 16 == 0) co_await rt::yield_now();
    }
  }());
  consumer.join();
  EXPECT_EQ(sum, std::int64_t{rounds} * (rounds - 1) / 2);
}

// Sends racing receiver drops on two threads: every value is received, given back, or
// destroyed with the state, exactly once, and no state leaks (ASan, TSan).
TEST(Oneshot, SendsRacingReceiverDropsAccountForEveryValue) {
  constexpr int rounds = 5'000;
  counted::alive = 0;
  std::vector<rt::oneshot_sender<counted>> senders;
  std::vector<rt::oneshot_receiver<counted>> receivers;
  for (int i = 0; i < rounds; ++i) {
    auto [tx, rx] = rt::oneshot<counted>();
    senders.push_back(std::move(tx));
    receivers.push_back(std::move(rx));
  }
  std::atomic<int> go{0};
  int returned = 0;
  int received = 0;
  std::thread sender([&] {
    go.fetch_add(1);
    while (go.load() < 2) {
    }
    for (auto& tx : senders) {
      auto r = tx.send(counted(1));
      if (!r) ++returned;
    }
  });
  go.fetch_add(1);
  while (go.load() < 2) {
  }
  for (std::size_t i = 0; i < receivers.size(); ++i) {
    if (i % 2 == 0) {
      if (auto r = receivers[i].try_recv()) ++received;
    }
    receivers[i] = rt::oneshot_receiver<counted>();  // drop, racing the send
  }
  sender.join();
  EXPECT_LE(returned + received, rounds);
  EXPECT_EQ(counted::alive.load(), 0) << "a value leaked or was destroyed twice";
}

// On a fresh thread: the frame cache's byte limit is per thread, and the tests above leave
// this thread's cache full of states of another size class.
TEST(Oneshot, SteadyStateCallsNoOperatorNew) {
  auto round = []() -> rt::task<int> {
    auto [tx, rx] = rt::oneshot<int>();
    static_cast<void>(tx.send(1));
    co_return (co_await std::move(rx)).value_or(0);
  };
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  int total = 0;
  std::thread([&] {
    rt::local_executor ex;
    for (int warm = 0; warm < 4; ++warm) total += ex.block_on(round());
    before = ferrite_test::heap_allocations();
    for (int i = 0; i < 10'000; ++i) total += ex.block_on(round());
    after = ferrite_test::heap_allocations();
  }).join();
  EXPECT_EQ(total, 10'004);
  if (!rt::frame_cache_enabled) {
    GTEST_SKIP() << "this build bypasses the frame cache; " << (after - before)
                 << " operator new calls";
  }
  EXPECT_EQ(after - before, 0U) << "a oneshot reached operator new in steady state";
}

}  // namespace
