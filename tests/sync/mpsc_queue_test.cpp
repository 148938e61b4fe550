// SPDX-License-Identifier: Apache-2.0
// Tests of mpsc_queue<T> and intrusive_mpsc_queue<Node, &Node::next>: FIFO and the empty
// state on one thread, move-only elements, a throwing constructor leaving the queue unchanged
// (and leaking nothing), destruction of the elements left, an allocator that sees every node
// returned; then 4-producer stress runs (oversubscribed on small machines) where every item
// arrives exactly once and in order per producer, through try_pop and through pop(), and an
// intrusive run that recycles its nodes through the queue.
#include "ferrite/sync/mpsc_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "queue_test_support.hpp"

namespace {

using ferrite::sync::intrusive_mpsc_queue;
using ferrite::sync::mpsc_pop_result;
using ferrite::sync::mpsc_queue;

using ferrite_test::counted;
using ferrite_test::may_throw;

// std::allocator that counts live allocations (shared by all rebound copies).
template <class T>
struct counting_allocator {
  using value_type = T;
  std::atomic<std::int64_t>* live;

  explicit counting_allocator(std::atomic<std::int64_t>* counter) noexcept : live(counter) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : live(o.live) {}  // NOLINT

  T* allocate(std::size_t n) {
    live->fetch_add(static_cast<std::int64_t>(n));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    live->fetch_sub(static_cast<std::int64_t>(n));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const counting_allocator<U>& o) const noexcept {
    return live == o.live;
  }
};

TEST(MpscQueue, FifoAndEmpty) {
  mpsc_queue<int> q;
  int out = -1;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.try_pop_state(out), mpsc_pop_result::empty);
  EXPECT_FALSE(q.pop(out));
  for (int i = 0; i < 100; ++i) q.push(i);
  EXPECT_FALSE(q.empty());
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(q.try_pop_state(out), mpsc_pop_result::item);
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_TRUE(q.empty());
  q.emplace(5);
  ASSERT_TRUE(q.pop(out));
  EXPECT_EQ(out, 5);
}

TEST(MpscQueue, MoveOnlyElements) {
  mpsc_queue<std::unique_ptr<int>> q;
  q.push(std::make_unique<int>(1));
  q.emplace(new int(2));
  std::unique_ptr<int> out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 1);
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(*out, 2);
}

TEST(MpscQueue, ThrowingConstructorLeavesTheQueueUnchanged) {
  std::atomic<std::int64_t> nodes{0};
  {
    mpsc_queue<may_throw, counting_allocator<may_throw>> q{ferrite::sync::mpsc_recycling::off,
                                                           counting_allocator<may_throw>(&nodes)};
    q.emplace(false);
    EXPECT_THROW(q.emplace(true), std::runtime_error);
    EXPECT_EQ(nodes.load(), 2) << "the stub and one element; the failed node was freed";
    may_throw out(false);
    EXPECT_TRUE(q.try_pop(out));
    EXPECT_FALSE(q.try_pop(out));
  }
  EXPECT_EQ(nodes.load(), 0);
}

TEST(MpscQueue, DestructorDestroysTheElementsLeftAndFreesEveryNode) {
  std::atomic<std::int64_t> nodes{0};
  counted::live = 0;
  {
    mpsc_queue<counted, counting_allocator<counted>> q{ferrite::sync::mpsc_recycling::off,
                                                       counting_allocator<counted>(&nodes)};
    for (std::uint64_t i = 0; i < 10; ++i) q.emplace(i);
    counted out(0);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(counted::live.load(), 7);  // 6 queued + out
    EXPECT_EQ(nodes.load(), 7);          // 6 + the stub
  }
  EXPECT_EQ(counted::live.load(), 0);
  EXPECT_EQ(nodes.load(), 0);
}

// 4 producers push (producer, seq); the consumer checks exactly-once and per-producer order.
void mpsc_stress(bool use_pop, std::uint32_t per_producer) {
  constexpr std::uint32_t producers = 4;
  struct item {
    std::uint32_t producer;
    std::uint32_t seq;
  };
  mpsc_queue<item> q;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&q, p, per_producer] {
      for (std::uint32_t s = 0; s < per_producer; ++s) q.push(item{p, s});
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  std::uint64_t inconsistent = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * per_producer;) {
    item it{};
    bool ok = false;
    if (use_pop) {
      ok = q.pop(it);
    } else {
      const mpsc_pop_result r = q.try_pop_state(it);
      ok = r == mpsc_pop_result::item;
      inconsistent += r == mpsc_pop_result::inconsistent ? 1U : 0U;
    }
    if (!ok) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    if (it.seq != next[it.producer]) ++errors;
    next[it.producer] = it.seq + 1;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
  EXPECT_TRUE(q.empty());
  ::testing::Test::RecordProperty("inconsistent_observed", static_cast<int>(inconsistent));
}

TEST(MpscQueueStress, FourProducersTryPop) { mpsc_stress(false, 50'000); }
TEST(MpscQueueStress, FourProducersPop) { mpsc_stress(true, 50'000); }

// Leftovers under concurrency: the consumer stops before the producers finish.
TEST(MpscQueueStress, DestructionWithItemsLeftAfterConcurrentUse) {
  counted::live = 0;
  {
    mpsc_queue<counted> q;
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&q] {
        for (std::uint64_t i = 0; i < 5'000; ++i) q.emplace(i);
      });
    }
    counted out(0);
    for (int popped = 0; popped < 10'000;) popped += q.pop(out) ? 1 : 0;
    for (auto& t : producers) t.join();
  }
  EXPECT_EQ(counted::live.load(), 0);
}

// ---- node recycling -----------------------------------------------------------------------

// A stateless allocator (so recycling is allowed) counting allocations of its own type.
template <class T>
struct global_counting_allocator {
  using value_type = T;
  static inline std::atomic<std::int64_t> allocations{0};

  global_counting_allocator() = default;
  template <class U>
  global_counting_allocator(const global_counting_allocator<U>& /*other*/) noexcept {}  // NOLINT

  T* allocate(std::size_t n) {
    allocations.fetch_add(1);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  template <class U>
  bool operator==(const global_counting_allocator<U>& /*other*/) const noexcept {
    return true;
  }
};

struct recycled_item {  // a type of its own: this thread's node cache starts empty
  std::uint64_t value;
};

TEST(MpscQueue, RecyclingReusesNodes) {
  using queue = mpsc_queue<recycled_item, global_counting_allocator<recycled_item>>;
  static_assert(queue::can_recycle);
  static_assert(!mpsc_queue<int, counting_allocator<int>>::can_recycle);
  using node_alloc_count = std::atomic<std::int64_t>;
  node_alloc_count& allocations =
      global_counting_allocator<ferrite::sync::detail::mpsc_node<recycled_item>>::allocations;
  const std::int64_t before = allocations.load();
  {
    queue q(ferrite::sync::mpsc_recycling::on);
    recycled_item out{};
    for (std::uint64_t i = 0; i < 1000; ++i) {
      q.push(recycled_item{i});
      q.push(recycled_item{i + 1});
      ASSERT_TRUE(q.try_pop(out));
      EXPECT_EQ(out.value, i);
      ASSERT_TRUE(q.try_pop(out));
      EXPECT_EQ(out.value, i + 1);
    }
  }
  EXPECT_LE(allocations.load() - before, 2 * queue::recycle_batch + 4)
      << "2000 pushes should reuse nodes after the first batches";
}

// 4 producers (fresh threads: their node caches are freed when they exit) through a
// recycling queue: exactly once, in order per producer; ASan checks no node leaks. The
// producers stay at most ~512 items ahead of the consumer, so nodes really circulate
// (consumer batch -> free stack -> a producer's cache -> the queue) while TSan watches.
TEST(MpscQueueStress, FourProducersRecycling) {
  constexpr std::uint32_t producers = 4;
  constexpr std::uint32_t per_producer = 50'000;
  struct item {
    std::uint32_t producer;
    std::uint32_t seq;
  };
  mpsc_queue<item> q(ferrite::sync::mpsc_recycling::on);
  std::atomic<std::uint64_t> pushed{0};
  std::atomic<std::uint64_t> popped{0};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::uint32_t s = 0; s < per_producer; ++s) {
        while (pushed.load() > popped.load() + 512) std::this_thread::yield();
        q.push(item{p, s});
        pushed.fetch_add(1);
      }
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * per_producer;) {
    item it{};
    if (!q.pop(it)) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    popped.store(got);
    if (it.seq != next[it.producer]) ++errors;
    next[it.producer] = it.seq + 1;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  EXPECT_TRUE(q.empty());
}

// ---- intrusive ---------------------------------------------------------------------------

// Not default-constructible, like an executor's task: the queue needs no stub Node.
struct task {
  task(std::uint32_t p, std::uint32_t s) : producer(p), seq(s) {}
  ferrite::atomic<task*> next{nullptr};
  std::uint32_t producer;
  std::uint32_t seq;
};
using task_queue = intrusive_mpsc_queue<task, &task::next>;

TEST(IntrusiveMpscQueue, FifoEmptyAndReuse) {
  task_queue q;
  mpsc_pop_result state{};
  EXPECT_EQ(q.try_pop_state(state), nullptr);
  EXPECT_EQ(state, mpsc_pop_result::empty);
  task a(0, 0);
  task b(0, 1);
  task c(0, 2);
  q.push(&a);
  EXPECT_EQ(q.try_pop(), &a);  // the single-node path (detach with the CAS)
  EXPECT_TRUE(q.empty());
  q.push(&a);
  q.push(&b);
  q.push(&c);
  EXPECT_EQ(q.pop(), &a);
  q.push(&a);  // re-push a popped node at once
  EXPECT_EQ(q.pop(), &b);
  EXPECT_EQ(q.pop(), &c);
  EXPECT_EQ(q.pop(), &a);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_TRUE(q.empty());
}

// 4 producers push their own nodes; the consumer checks order and re-pushes nothing.
TEST(IntrusiveMpscQueueStress, FourProducers) {
  constexpr std::uint32_t producers = 4;
  constexpr std::uint32_t per_producer = 50'000;
  std::vector<std::deque<task>> nodes(producers);  // deque: task is not movable
  for (std::uint32_t p = 0; p < producers; ++p) {
    for (std::uint32_t s = 0; s < per_producer; ++s) nodes[p].emplace_back(p, s);
  }
  task_queue q;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (task& t : nodes[p]) q.push(&t);
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * per_producer;) {
    task* t = q.pop();
    if (t == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    if (t->seq != next[t->producer]) ++errors;
    next[t->producer] = t->seq + 1;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) EXPECT_EQ(next[p], per_producer);
  EXPECT_TRUE(q.empty());
}

// Nodes circulate: producers take nodes back from a per-producer return queue (the consumer
// pushes each popped node to its producer's return queue), so every node is pushed many
// times and the queue often drains to one node (the CAS detach path).
TEST(IntrusiveMpscQueueStress, NodesCirculate) {
  constexpr std::uint32_t producers = 4;
  constexpr std::uint32_t nodes_each = 4;
  constexpr std::uint32_t rounds = 10'000;
  std::vector<std::deque<task>> nodes(producers);  // deque: task is not movable
  std::vector<std::unique_ptr<task_queue>> returns;
  for (std::uint32_t p = 0; p < producers; ++p) {
    returns.push_back(std::make_unique<task_queue>());
    for (std::uint32_t i = 0; i < nodes_each; ++i) {
      nodes[p].emplace_back(p, 0);
      returns[p]->push(&nodes[p].back());
    }
  }
  task_queue q;
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      // Each producer is the only consumer of its return queue.
      for (std::uint32_t r = 0; r < rounds; ++r) {
        task* t = nullptr;
        while ((t = returns[p]->pop()) == nullptr) std::this_thread::yield();
        t->seq = r;
        q.push(t);
      }
    });
  }
  std::vector<std::uint32_t> next(producers, 0);
  std::uint64_t errors = 0;
  for (std::uint64_t got = 0; got < std::uint64_t{producers} * rounds;) {
    task* t = q.pop();
    if (t == nullptr) {
      std::this_thread::yield();
      continue;
    }
    ++got;
    if (t->seq != next[t->producer]) ++errors;
    next[t->producer] = t->seq + 1;
    returns[t->producer]->push(t);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0U);
  for (std::uint32_t p = 0; p < producers; ++p) {
    while (returns[p]->pop() != nullptr) {
    }
  }
  EXPECT_TRUE(q.empty());
}

}  // namespace
