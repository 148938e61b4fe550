// SPDX-License-Identifier: Apache-2.0
// Cancellation of every synchronization primitive's waits, together: an executor destroyed
// while tasks wait on a mutex, a semaphore, a notify, a oneshot, a channel (send and recv)
// and a watch destroys every awaiter (a counter of live awaiters wraps each one) and leaves
// no waiter queued, no lock held, no permit lost and no value leaked (ASan checks the
// frames); and, across threads (label concurrency), aborts and stops racing grants made by a
// plain thread: a mutex hand-off racing an abort ends with the mutex free, a channel value
// granted to a receiver being aborted is received or stays buffered (never lost), a send
// racing its stop token is either received or given back (never both).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "ferrite/rt.hpp"
#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;
using ferrite_test::frame_local;

/// Live awaiters wrapped in `tracked`.
std::atomic<int> live_awaiters{0};

/// Wraps the awaiter `make()` returns (built in place: awaiters are not movable) and counts
/// it while it lives.
template <class A>
class tracked {
 public:
  template <class F>
  explicit tracked(F&& make) : inner_(std::forward<F>(make)()) {
    live_awaiters.fetch_add(1);
  }
  tracked(const tracked&) = delete;
  tracked& operator=(const tracked&) = delete;
  ~tracked() { live_awaiters.fetch_sub(1); }
  bool await_ready() { return inner_.await_ready(); }
  auto await_suspend(std::coroutine_handle<> h) { return inner_.await_suspend(h); }
  decltype(auto) await_resume() { return inner_.await_resume(); }

 private:
  A inner_;
};
template <class F>
tracked(F&&) -> tracked<std::invoke_result_t<F&>>;

/// Ends a wait loop that a bug would make endless: the test then fails instead of hanging.
struct deadline {
  std::chrono::steady_clock::time_point end =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  [[nodiscard]] bool passed() const {
    const bool over = std::chrono::steady_clock::now() > end;
    if (over) ADD_FAILURE() << "a wait did not end (lost wake-up or a lock never released)";
    return over;
  }
};

/// Runs `f` when destroyed: placed in a waiting task's frame, it observes the moment the
/// frame is destroyed (after the awaiter, which was created later).
struct witness {
  std::function<void()> f;
  explicit witness(std::function<void()> fn) : f(std::move(fn)) {}
  witness(const witness&) = delete;
  witness& operator=(const witness&) = delete;
  ~witness() { f(); }
};

/// Busy-waits a round-dependent while (0 to about 20 us): varies where an abort lands
/// relative to a grant made by another thread.
void spin(int round) {
  const int n = (round * 7919) % 4000;
  for (int i = 0; i < n; ++i) ferrite::spin_hint();
}

rt::task<> settle(int n = 4) {
  for (int i = 0; i < n; ++i) co_await rt::yield_now();
}

/// A value whose live instances are counted (a moved-from one holds nothing).
struct counted {
  static inline std::atomic<int> alive{0};
  int v = 0;
  bool holds = true;
  explicit counted(int x) : v(x) { alive.fetch_add(1); }
  counted(counted&& o) noexcept : v(o.v), holds(std::exchange(o.holds, false)) {}
  counted& operator=(counted&&) = delete;
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() {
    if (holds) alive.fetch_sub(1);
  }
};

TEST(SyncCancellation, DestroyingTheExecutorCancelsAWaiterOnEveryPrimitive) {
  live_awaiters = 0;
  frame_local::alive = 0;
  counted::alive = 0;
  rt::async_mutex m;
  rt::async_semaphore sem(1);
  rt::notify n;
  auto [otx, orx] = rt::oneshot<counted>();
  auto [ctx, crx] = rt::channel<counted>(1);
  auto [wtx, wrx] = rt::watch<int>(0);
  std::optional<rt::async_mutex::guard> held = m.try_lock();
  std::optional<rt::async_semaphore::permit> permit = sem.try_acquire();
  ASSERT_TRUE(ctx.try_send(counted(0)));      // full: the send below waits
  auto [etx, erx] = rt::channel<counted>(1);  // empty: the receive below waits
  {
    rt::local_executor ex;
    auto lock_waiter = [&]() -> rt::task<> {
      frame_local keep;
      auto g = co_await tracked([&] { return m.lock(); });
    };
    auto sem_waiter = [&]() -> rt::task<> {
      frame_local keep;
      auto p = co_await tracked([&] { return sem.acquire(); });
    };
    auto notify_waiter = [&]() -> rt::task<> {
      frame_local keep;
      co_await tracked([&] { return n.notified(); });
    };
    auto oneshot_waiter = [&]() -> rt::task<> {
      frame_local keep;
      auto v = co_await tracked([&] { return std::move(orx).operator co_await(); });
    };
    auto send_waiter = [&]() -> rt::task<> {
      frame_local keep;
      auto r = co_await tracked([&] { return ctx.send(counted(1)); });
    };
    auto recv_waiter = [&]() -> rt::task<> {
      frame_local keep;
      static_cast<void>(co_await tracked([&] { return erx.recv(); }));
    };
    auto watch_waiter = [&]() -> rt::task<> {
      frame_local keep;
      static_cast<void>(co_await tracked([&] { return wrx.changed(); }));
    };
    ex.block_on([&]() -> rt::task<> {
      rt::spawn(lock_waiter()).detach();
      rt::spawn(sem_waiter()).detach();
      rt::spawn(notify_waiter()).detach();
      rt::spawn(oneshot_waiter()).detach();
      rt::spawn(send_waiter()).detach();
      rt::spawn(recv_waiter()).detach();
      rt::spawn(watch_waiter()).detach();
      co_await settle();
      EXPECT_EQ(live_awaiters.load(), 7);
      EXPECT_EQ(frame_local::alive, 7);
    }());
    EXPECT_EQ(m.waiters_approx() + sem.waiters_approx() + n.waiters_approx(), 3U);
  }  // the executor destroys the seven suspended frames
  EXPECT_EQ(live_awaiters.load(), 0) << "an awaiter outlived its frame";
  EXPECT_EQ(frame_local::alive, 0);
  EXPECT_EQ(m.waiters_approx(), 0U);
  EXPECT_EQ(sem.waiters_approx(), 0U);
  EXPECT_EQ(n.waiters_approx(), 0U);
  EXPECT_EQ(ctx.core().waiting_senders_approx(), 0U);
  EXPECT_EQ(erx.core().waiting_receivers_approx(), 0U);
  EXPECT_EQ(wrx.core().waiters_approx(), 0U);
  EXPECT_TRUE(otx.is_closed()) << "the oneshot's awaiter owned and dropped the receiver";
  held.reset();
  permit.reset();
  EXPECT_FALSE(m.is_locked()) << "no lock held by a cancelled waiter";
  EXPECT_EQ(sem.available_permits(), 1U) << "no permit lost";
  n.notify_one();
  EXPECT_TRUE(n.has_permit_approx()) << "no cancelled waiter took the notification";
  EXPECT_EQ(counted::alive.load(), 1) << "only the value buffered in ctx";
}

// A plain thread holds the mutex and hands it over (unlock) while the executor thread aborts
// the waiting task, round after round: whoever wins, the mutex ends free with no waiter.
TEST(SyncCancellation, AbortRacingAMutexHandOffFromAnotherThread) {
  constexpr int rounds = 2'000;
  rt::async_mutex m;
  std::atomic<int> round{0};     // the thread holds the lock for this round
  std::atomic<int> released{0};  // the thread released it
  std::atomic<bool> stop{false};
  int ran = 0;
  std::thread holder([&] {
    const deadline limit;
    for (int r = 1; r <= rounds; ++r) {
      std::optional<rt::async_mutex::guard> g;
      while (!(g = m.try_lock())) {  // the previous round's owner finishes
        if (stop.load() || limit.passed()) return;
        std::this_thread::yield();
      }
      round.store(r, std::memory_order_release);
      while (released.load(std::memory_order_acquire) != -r) {  // the go signal
        if (stop.load() || limit.passed()) return;
        std::this_thread::yield();
      }
      g->unlock();  // hands the lock to the waiter, racing its abort
      released.store(r, std::memory_order_release);
    }
  });
  int granted_first = 0;  // rounds where the hand-off came before the frame's destruction
  auto waiter = [&](int r) -> rt::task<> {
    const witness w([&] { granted_first += released.load() == r ? 1 : 0; });
    rt::async_mutex::guard g = co_await m.lock();
    ++ran;
  };
  rt::block_on([&]() -> rt::task<> {
    const deadline limit;
    for (int r = 1; r <= rounds; ++r) {
      while (round.load(std::memory_order_acquire) != r) {
        if (limit.passed()) co_return;
        co_await rt::yield_now();
      }
      rt::join_handle<void> h = rt::spawn(waiter(r));
      co_await rt::yield_now();  // the waiter queues
      released.store(-r, std::memory_order_release);
      spin(r);  // vary the window between the go signal and the abort
      h.abort();
      while (released.load(std::memory_order_acquire) != r || !h.is_finished()) {
        if (limit.passed()) co_return;
        co_await rt::yield_now();
      }
    }
  }());
  stop.store(true);
  holder.join();
  EXPECT_FALSE(m.is_locked()) << "the lock died with an aborted waiter";
  EXPECT_EQ(m.waiters_approx(), 0U);
  EXPECT_LE(ran, rounds);
  std::printf("of %d rounds, the hand-off came before the aborted waiter's destruction in %d\n",
              rounds, granted_first);
}

// A plain thread sends into a channel whose waiting receiver the executor thread aborts at
// the same time: the value is received by it, or stays buffered; it is never lost.
TEST(SyncCancellation, AbortRacingAChannelGrantFromAnotherThread) {
  constexpr int rounds = 2'000;
  auto [tx, rx] = rt::channel<int>(1);
  std::atomic<int> go{0};
  std::atomic<int> sent{0};
  std::int64_t received = 0;
  std::thread producer([&, out = tx]() mutable {
    for (int r = 1; r <= rounds; ++r) {
      while (go.load(std::memory_order_acquire) < r) std::this_thread::yield();
      EXPECT_TRUE(out.blocking_send(r));
      sent.store(r, std::memory_order_release);
    }
  });
  tx.reset();
  int by_task = 0;
  int granted_first = 0;  // rounds where the send completed before the frame's destruction
  auto receiver_task = [&](int r) -> rt::task<> {
    const witness w([&] { granted_first += sent.load() == r ? 1 : 0; });
    if (auto v = co_await rx.recv()) {
      received += *v;
      ++by_task;
    }
  };
  rt::block_on([&]() -> rt::task<> {
    for (int r = 1; r <= rounds; ++r) {
      rt::join_handle<void> h = rt::spawn(receiver_task(r));
      co_await rt::yield_now();
      go.store(r, std::memory_order_release);
      spin(r);
      h.abort();
      while (!h.is_finished()) co_await rt::yield_now();
      // Whatever the receiver did not take is still buffered (or about to be sent).
      while (auto v = rx.try_recv()) received += *v;
    }
    while (auto v = co_await rx.recv()) received += *v;  // until the producer is gone
  }());
  producer.join();
  EXPECT_EQ(received, std::int64_t{rounds} * (rounds + 1) / 2) << "a value was lost";
  std::printf("of %d rounds, the send came before the aborted receiver's destruction in %d\n",
              rounds, granted_first);
  std::printf("(the receiving tasks took %d values: a late previous one, before the abort)\n",
              by_task);
}

// A send waits on a full channel; a plain thread requests its stop while the executor
// thread receives (granting the send): the value is received or given back, exactly once.
TEST(SyncCancellation, StopRacingAGrantedSendFromAnotherThread) {
  constexpr int rounds = 2'000;
  counted::alive = 0;
  auto [tx, rx] = rt::channel<counted>(1);
  std::atomic<int> go{0};
  std::atomic<int> done{0};
  std::vector<std::stop_source> sources(rounds + 1);
  int returned = 0;
  int received = 0;
  std::thread stopper([&] {
    for (int r = 1; r <= rounds; ++r) {
      while (go.load(std::memory_order_acquire) < r) std::this_thread::yield();
      sources[static_cast<std::size_t>(r)].request_stop();
      done.store(r, std::memory_order_release);
    }
  });
  auto sender_task = [&](int r) -> rt::task<> {
    auto s = co_await tx.send(counted(r), sources[static_cast<std::size_t>(r)].get_token());
    if (!s) {
      EXPECT_EQ(s.error().reason, rt::send_failure::stopped);
      EXPECT_EQ(s.error().value.v, r);
      ++returned;
    }
  };
  rt::block_on([&]() -> rt::task<> {
    EXPECT_TRUE(tx.try_send(counted(0)));  // keeps the ring full
    for (int r = 1; r <= rounds; ++r) {
      rt::join_handle<void> h = rt::spawn(sender_task(r));
      co_await rt::yield_now();  // the send waits
      go.store(r, std::memory_order_release);
      if (r % 2 == 1) {  // odd rounds: the stop comes first for sure
        while (done.load(std::memory_order_acquire) < r) co_await rt::yield_now();
      } else {
        spin(r);
      }
      auto front = rx.try_recv();  // even rounds: grants the waiting send, racing its stop
      if (front && front->v != 0) ++received;
      co_await h;
      while (done.load(std::memory_order_acquire) < r) co_await rt::yield_now();
      // Put the ring back to one value: the one the send moved in, or a filler.
      if (tx.core().size_approx() == 0) {
        EXPECT_TRUE(tx.try_send(counted(0)));
      }
    }
    while (auto v = rx.try_recv()) {
      if (v->v != 0) ++received;
    }
  }());
  stopper.join();
  EXPECT_EQ(returned + received, rounds) << "a value was lost or delivered twice";
  std::printf("%d sends given back by their stop, %d received\n", returned, received);
  EXPECT_GT(returned, 0);
  EXPECT_EQ(counted::alive.load(), 0);
}

}  // namespace
