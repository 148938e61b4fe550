// SPDX-License-Identifier: Apache-2.0
// Model tests of the runtime's synchronization cores under ferrite::check. The cores know
// nothing of tasks: each model thread plays a task by queueing a waiter whose waker is a
// thread_parker and parking on it (the executor's thread_locals are not per model thread,
// so no executor is involved). The checker explores every interleaving within the
// preemption bound and every weak-memory outcome, and reports a lost wake-up as a deadlock
// (a thread parked forever), a double wake or a wake after the wait ended as a use after
// free of the parker, a race on a waiter's status cell, and leaked or doubly freed states.
//
//  - notify: notify_one racing notified() (the permit or the wake, never lost), a
//    notify_waiters racing a wait whose notified() came first, a stop racing notify_one
//    (exactly one wins; a notification that lost to the stop is stored), and an abandoned
//    (aborted) wait racing notify_one (the notification is passed on).
//  - oneshot: send racing the receiver's drop (the value is received, given back or
//    destroyed with the state, exactly once; the state freed once), send racing a waiting
//    receive, and a stop racing the send.
//  - channel: close racing sends (every value received or given back, never both), close
//    racing a waiting send (its value comes back), and a receive handing a waiting
//    sender's value on.
//  - semaphore (async_mutex's core): unlock racing a queued lock (hand-off, exclusion on a
//    race-checked cell), and a grant racing the waiter's abandonment (the lock passes on).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/channel_core.hpp"
#include "ferrite/rt/detail/notify_core.hpp"
#include "ferrite/rt/detail/oneshot_core.hpp"
#include "ferrite/rt/detail/semaphore_core.hpp"
#include "ferrite/rt/detail/thread_parker.hpp"
#include "ferrite/rt/detail/wait_list.hpp"
#include "model_support.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
namespace detail = ferrite::rt::detail;
using detail::wait_status;

/// Explores `fn` and expects no failure, except in the mutant builds of this file
/// (broken/rt_sync_mutants.cmake: one core header with a planted bug, one test selected),
/// where the selected test must find the failure the mutant names.
void check_model(const std::function<void()>& fn) {
#ifdef FERRITE_RT_MUTANT_EXPECTS
  expect_failure(ferrite::check::failure_kind::FERRITE_RT_MUTANT_EXPECTS, fn);
#else
  expect_pass(fn);
#endif
}

// -- notify ---------------------------------------------------------------------------------

/// A model thread's `co_await n.notified()` from a generation captured earlier.
void wait_notified(detail::notify_core& n, std::uint64_t generation) {
  if (n.try_complete(generation)) return;
  detail::notify_core::node node;
  detail::thread_parker parker;
  if (!n.complete_or_enqueue(node, generation, parker.make_waker())) parker.park();
  FERRITE_ASSERT(node.status() == wait_status::granted, "woken without a notification");
}

TEST(NotifyModel, NotifyOneRacingNotifiedIsNeverLost) {
  check_model([] {
    detail::notify_core n;
    ferrite::thread notifier([&] { n.notify_one(); });
    wait_notified(n, n.generation());  // a lost permit or wake parks forever: a deadlock
    notifier.join();
    FERRITE_ASSERT(!n.permit_approx(), "the notification was both consumed and stored");
  });
}

/// Two waiters and two notify_ones, the second once the first was consumed (notify_ones
/// before any wait coalesce into one permit, by design): both waits complete.
TEST(NotifyModel, TwoWaitersTwoNotifyOnes) {
  check_model([] {
    detail::notify_core n;
    ferrite::atomic<int> woken{0};
    auto waiter = [&] {
      wait_notified(n, n.generation());
      woken.fetch_add(1, std::memory_order_release);
    };
    ferrite::thread a(waiter);
    ferrite::thread b(waiter);
    n.notify_one();
    while (woken.load(std::memory_order_acquire) == 0) ferrite::spin_hint();
    n.notify_one();
    a.join();
    b.join();
    FERRITE_ASSERT(!n.permit_approx() && n.waiters_approx() == 0);
  });
}

TEST(NotifyModel, NotifyWaitersCompletesAWaitThatStartedBefore) {
  check_model([] {
    detail::notify_core n;
    const std::uint64_t generation = n.generation();  // notified() is called here
    ferrite::thread notifier([&] { n.notify_waiters(); });
    wait_notified(n, generation);
    notifier.join();
    FERRITE_ASSERT(!n.permit_approx(), "notify_waiters stored a permit");
  });
}

/// A queued wait is raced by notify_one and by its stop_token's callback: it is woken once;
/// if the stop won, the notification is stored as the permit.
TEST(NotifyModel, StopRacingNotifyOne) {
  check_model([] {
    detail::notify_core n;
    detail::notify_core::node node;
    detail::thread_parker parker;
    const bool done = n.complete_or_enqueue(node, n.generation(), parker.make_waker());
    FERRITE_ASSERT(!done);
    ferrite::thread notifier([&] { n.notify_one(); });
    ferrite::thread stopper([&] { n.stop(node); });
    parker.park();
    notifier.join();
    stopper.join();
    const wait_status s = node.status();
    FERRITE_ASSERT(s == wait_status::granted || s == wait_status::stopped);
    FERRITE_ASSERT((s == wait_status::stopped) == n.permit_approx(),
                   "a notification that lost to the stop must be stored, one that won not");
    FERRITE_ASSERT(n.waiters_approx() == 0);
  });
}

/// A queued wait is abandoned (its task aborted) while notify_one picks it: the
/// notification is passed on (here, stored as the permit), so it is never lost.
TEST(NotifyModel, AbandonRacingNotifyOne) {
  check_model([] {
    detail::notify_core n;
    detail::notify_core::node node;
    detail::thread_parker parker;  // woken (harmlessly) if notify_one picks the node first
    FERRITE_ASSERT(!n.complete_or_enqueue(node, n.generation(), parker.make_waker()));
    ferrite::thread notifier([&] { n.notify_one(); });
    n.abandon(node);
    notifier.join();
    FERRITE_ASSERT(n.permit_approx(), "the notification died with the abandoned wait");
    FERRITE_ASSERT(n.waiters_approx() == 0);
  });
}

// -- oneshot --------------------------------------------------------------------------------

/// The oneshot state as the public handles hold it: whoever is told it was last frees it.
using oneshot_state = detail::oneshot_core<std::unique_ptr<int>>;

void release(oneshot_state* s, bool last) {
  if (last) delete s;
}

/// The send races the receiver's drop; the value (a heap block, tracked for leaks) is
/// received, given back or destroyed with the state, and the state is freed once.
TEST(OneshotModel, SendRacingReceiverDrop) {
  check_model([] {
    auto* s = new oneshot_state();
    bool returned = false;
    ferrite::thread sender([&] {
      const oneshot_state::send_outcome r = s->send(std::make_unique<int>(7));
      if (r.sent) {
        release(s, r.last);
      } else {
        std::unique_ptr<int> back = s->take_back();
        FERRITE_ASSERT(back != nullptr && *back == 7, "the value came back damaged");
        returned = true;
        release(s, s->release_sender());
      }
    });
    bool received = false;
    if (s->poll() == detail::oneshot_poll::value) {
      received = *s->take_value() == 7;
    }
    release(s, s->drop_receiver());
    sender.join();
    FERRITE_ASSERT(!(returned && received), "a value both returned and received");
  });
}

/// A waiting receive (the waker published) racing the send: woken exactly once, then the
/// value is there.
TEST(OneshotModel, SendRacingAWaitingReceive) {
  check_model([] {
    auto* s = new oneshot_state();
    ferrite::thread sender([&] {
      const oneshot_state::send_outcome r = s->send(std::make_unique<int>(3));
      FERRITE_ASSERT(r.sent);
      release(s, r.last);
    });
    detail::thread_parker parker;
    detail::oneshot_poll p = s->poll();
    if (p == detail::oneshot_poll::pending) {
      p = s->register_waker(parker.make_waker());
      if (p == detail::oneshot_poll::pending) {
        parker.park();
        p = s->poll();
      }
    }
    FERRITE_ASSERT(p == detail::oneshot_poll::value, "woken without the value");
    FERRITE_ASSERT(*s->take_value() == 3);
    release(s, s->drop_receiver());
    sender.join();
  });
}

/// A waiting receive raced by the send and by its stop callback (which takes the waker
/// back and wakes): woken once; the value is received at once or by the next poll.
TEST(OneshotModel, StopRacingTheSend) {
  check_model([] {
    auto* s = new oneshot_state();
    detail::thread_parker parker;
    FERRITE_ASSERT(s->register_waker(parker.make_waker()) == detail::oneshot_poll::pending);
    ferrite::thread sender([&] {
      const oneshot_state::send_outcome r = s->send(std::make_unique<int>(5));
      FERRITE_ASSERT(r.sent);
      release(s, r.last);
    });
    ferrite::thread stopper([&] { s->unregister().wake(); });
    parker.park();
    stopper.join();
    sender.join();  // the value was sent: the receiver, not stopped for good, still gets it
    FERRITE_ASSERT(s->poll() == detail::oneshot_poll::value);
    FERRITE_ASSERT(*s->take_value() == 5);
    release(s, s->drop_receiver());
  });
}

/// A receiver aborted while it waits (its awaiter takes the waker back, then the receiver
/// is dropped) racing the send.
TEST(OneshotModel, AbortedReceiveRacingTheSend) {
  check_model([] {
    auto* s = new oneshot_state();
    {
      detail::thread_parker parker;  // never parked on: the task was aborted
      static_cast<void>(s->register_waker(parker.make_waker()));
      ferrite::thread sender([&] {
        const oneshot_state::send_outcome r = s->send(std::make_unique<int>(1));
        if (r.sent) {
          release(s, r.last);
        } else {
          static_cast<void>(s->take_back());
          release(s, s->release_sender());
        }
      });
      s->unregister().reset();
      release(s, s->drop_receiver());
      sender.join();  // the parker may be woken (harmlessly) until the sender is done
    }
  });
}

// -- channel --------------------------------------------------------------------------------

using channel = detail::channel_core<int>;

/// Capacity 1: a sender sends 1 then 2 (the second may wait), another thread closes, the
/// receiver drains until closed. Every value is received or given back, never both, in
/// order.
TEST(ChannelModel, CloseRacingSends) {
  check_model([] {
    channel c(1);
    int returned_mask = 0;
    ferrite::thread sender([&] {
      for (int v = 1; v <= 2; ++v) {
        if (!detail::blocking_send(c, v)) returned_mask |= 1 << v;
      }
    });
    ferrite::thread closer([&] { c.close(); });
    int received_mask = 0;
    int last = 0;
    while (std::expected<int, ferrite::rt::closed> v = detail::blocking_recv(c)) {
      FERRITE_ASSERT(*v > last, "reordered or duplicated");
      last = *v;
      received_mask |= 1 << *v;
    }
    sender.join();
    closer.join();
    FERRITE_ASSERT((returned_mask & received_mask) == 0, "a value both received and returned");
    FERRITE_ASSERT((returned_mask | received_mask) == 0b110, "a value was lost");
  });
}

/// Capacity 1 and full: a send waits (or is about to) while another thread closes; nobody
/// receives, so the sender must get its value back from close(); the buffered value is
/// still received, then closed is reported.
TEST(ChannelModel, CloseGivesAWaitingSendItsValueBack) {
  check_model([] {
    channel c(1);
    int first = 1;
    FERRITE_ASSERT(c.try_send(first).has_value());
    ferrite::thread sender([&] {
      std::expected<void, ferrite::rt::send_error<int>> r = detail::blocking_send(c, 2);
      FERRITE_ASSERT(
          !r && r.error().value == 2 && r.error().reason == ferrite::rt::send_failure::closed,
          "a send into a closed, full channel did not come back");
    });
    ferrite::thread closer([&] { c.close(); });
    sender.join();
    closer.join();
    FERRITE_ASSERT(detail::blocking_recv(c).value_or(0) == 1, "the buffered value was lost");
    FERRITE_ASSERT(!detail::blocking_recv(c).has_value(), "closed and drained");
  });
}

/// Capacity 1, two senders: a receive moves a waiting sender's value into the freed slot and
/// wakes it; both values arrive once.
TEST(ChannelModel, AReceiveHandsAWaitingSendersValueOn) {
  check_model([] {
    channel c(1);
    ferrite::thread a([&] { FERRITE_ASSERT(detail::blocking_send(c, 1).has_value()); });
    ferrite::thread b([&] { FERRITE_ASSERT(detail::blocking_send(c, 2).has_value()); });
    int sum = 0;
    for (int i = 0; i < 2; ++i) sum += detail::blocking_recv(c).value_or(100);
    a.join();
    b.join();
    FERRITE_ASSERT(sum == 3, "a value lost or duplicated");
  });
}

// -- semaphore / async_mutex ----------------------------------------------------------------

/// One permit (a mutex, with its fast path try_acquire_all): the holder releases while the
/// other thread queues for it; the sections never overlap (a race-checked cell) and the
/// second one gets the lock.
TEST(SemaphoreModel, UnlockRacingAQueuedLock) {
  check_model([] {
    detail::semaphore_core m(1);
    ferrite::cell<int> guarded(0);
    FERRITE_ASSERT(m.try_acquire(1));
    ferrite::thread waiter([&] {
      detail::semaphore_core::node node;
      detail::thread_parker parker;
      if (!m.try_acquire_all(1) && !m.acquire_or_enqueue(node, 1, parker.make_waker())) {
        parker.park();
      }
      guarded.with_mut([](int* g) { ++*g; });
      m.release(1);
    });
    guarded.with_mut([](int* g) { ++*g; });
    m.release(1);
    waiter.join();
    FERRITE_ASSERT(guarded.with([](const int* g) { return *g; }) == 2);
    FERRITE_ASSERT(m.try_acquire_all(1), "the mutex is not free at the end");
  });
}

/// A queued waiter is abandoned (its task aborted: the awaiter's destructor) while the
/// holder's release grants it: the lock is passed on or never taken, so it ends free.
TEST(SemaphoreModel, AGrantRacingTheWaitersAbandonment) {
  check_model([] {
    detail::semaphore_core m(1);
    FERRITE_ASSERT(m.try_acquire(1));
    detail::semaphore_core::node node;
    detail::thread_parker parker;  // woken (harmlessly) if the grant wins
    FERRITE_ASSERT(!m.acquire_or_enqueue(node, 1, parker.make_waker()));
    ferrite::thread holder([&] { m.release(1); });
    m.abandon(node);
    holder.join();
    FERRITE_ASSERT(m.waiters_approx() == 0);
    FERRITE_ASSERT(m.try_acquire_all(1), "the lock died with the abandoned waiter");
  });
}

}  // namespace
