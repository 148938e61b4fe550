// SPDX-License-Identifier: Apache-2.0
// rt::task and rt::block_on: laziness, results of every kind (values, move-only, references,
// void), exceptions propagated to the awaiter and out of block_on, a million nested
// co_awaits in constant stack (symmetric transfer), frames destroyed exactly once (a task
// dropped before it ran, after it ran, moved from), and steady-state creation without
// operator new (this binary counts every global operator new).
#include "ferrite/rt/task.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "ferrite/rt/block_on.hpp"
#include "rt_test_support.hpp"

namespace {

namespace rt = ferrite::rt;
using ferrite_test::frame_local;

rt::task<int> constant(int v) { co_return v; }

rt::task<int> sum_of_two() {
  const int a = co_await constant(20);
  const int b = co_await constant(22);
  co_return a + b;
}

TEST(Task, IsLazyAndRunsWhenAwaited) {
  bool ran = false;
  auto body = [&]() -> rt::task<> {
    ran = true;
    co_return;
  };
  rt::task<> t = body();
  EXPECT_FALSE(ran) << "a task must not start before it is awaited";
  EXPECT_TRUE(t.valid());
  EXPECT_FALSE(t.done());
  rt::block_on(std::move(t));
  EXPECT_TRUE(ran);
}

TEST(Task, NestedAwaitsDeliverResults) { EXPECT_EQ(rt::block_on(sum_of_two()), 42); }

TEST(Task, MoveOnlyResultsAndReferences) {
  auto make = []() -> rt::task<std::unique_ptr<std::string>> {
    co_return std::make_unique<std::string>("frame");
  };
  auto outer = [&]() -> rt::task<std::size_t> {
    std::unique_ptr<std::string> s = co_await make();
    co_return s->size();
  };
  EXPECT_EQ(rt::block_on(outer()), 5U);

  int target = 1;
  auto ref = [&]() -> rt::task<int&> { co_return target; };
  int& r = rt::block_on(ref());
  EXPECT_EQ(&r, &target);
}

struct boom : std::runtime_error {
  boom() : std::runtime_error("boom") {}
};

rt::task<int> throws_after(int depth) {
  if (depth == 0) throw boom();
  co_return co_await throws_after(depth - 1) + 1;
}

TEST(Task, ExceptionsReachTheAwaiterAndBlockOn) {
  auto catcher = []() -> rt::task<std::string> {
    try {
      co_await throws_after(3);
    } catch (const boom& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(rt::block_on(catcher()), "caught boom");
  EXPECT_THROW(rt::block_on(throws_after(5)), boom);
}

// Each level awaits the next: without symmetric transfer every co_await would nest a resume()
// frame on the machine stack, and a million of them overflow any default stack (8 MiB at
// about 100 bytes a level); with it the chain runs in constant stack.
rt::task<std::uint64_t> chain(std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return co_await chain(depth - 1) + 1;
}

// GCC emits symmetric transfer's tail call only when it optimizes (clang always does), and
// ThreadSanitizer's function-exit hooks keep it from tail-calling at all: those builds grow
// the stack per level, so there the chain is kept short enough for the default stack.
#if (defined(__GNUC__) && !defined(__clang__) && !defined(__OPTIMIZE__)) || FERRITE_TSAN
constexpr std::uint64_t chain_depth = 10'000;
#else
constexpr std::uint64_t chain_depth = 1'000'000;
#endif

TEST(Task, AMillionNestedAwaitsDoNotGrowTheStack) {
  EXPECT_EQ(rt::block_on(chain(chain_depth)), chain_depth);
}

rt::task<int> holds_local() {
  frame_local keep;
  co_return frame_local::alive;
}

TEST(Task, FramesAreDestroyedExactlyOnce) {
  frame_local::alive = 0;
  {
    rt::task<int> never_run = holds_local();  // destroyed before it ran: nothing to undo
    rt::task<int> moved = std::move(never_run);
    EXPECT_FALSE(never_run.valid());
    EXPECT_TRUE(moved.valid());
  }
  EXPECT_EQ(frame_local::alive, 0);
  EXPECT_EQ(rt::block_on(holds_local()), 1) << "the local was alive while the task ran";
  EXPECT_EQ(frame_local::alive, 0) << "the local died with its frame";
  auto awaits_and_drops = []() -> rt::task<int> {
    rt::task<int> t = holds_local();
    const int seen = co_await t;  // lvalue await: t keeps the finished frame until it dies
    EXPECT_TRUE(t.done());
    co_return seen;
  };
  EXPECT_EQ(rt::block_on(awaits_and_drops()), 1);
  EXPECT_EQ(frame_local::alive, 0);
}

// Steady state: once the frame allocator's lists hold frames of these sizes, creating,
// running and destroying tasks reaches operator new zero times. (The first round may
// allocate: it fills the lists.)
TEST(Task, SteadyStateCreatesTasksWithoutOperatorNew) {
  for (int warm = 0; warm < 4; ++warm) {
    ASSERT_EQ(rt::block_on(sum_of_two()), 42);
    ASSERT_EQ(rt::block_on(chain(64)), 64U);
  }
  const std::uint64_t before = ferrite_test::heap_allocations();
  std::uint64_t total = 0;
  for (int i = 0; i < 10'000; ++i) {
    total += static_cast<std::uint64_t>(rt::block_on(sum_of_two()));
    total += rt::block_on(chain(64));
  }
  const std::uint64_t after = ferrite_test::heap_allocations();
  EXPECT_EQ(total, 10'000U * (42 + 64));
  if (!ferrite::rt::frame_cache_enabled) {
    GTEST_SKIP() << "this build bypasses the frame cache (sanitizers see every frame); "
                 << (after - before) << " operator new calls";
  }
  EXPECT_EQ(after - before, 0U) << "tasks reached operator new in steady state";
}

}  // namespace
