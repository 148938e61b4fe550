// SPDX-License-Identifier: Apache-2.0
// The timer wheel against a reference (a sorted multimap of deadlines): random deadlines at
// every distance (same slot, every level, past the horizon), random cancels and random
// advances; each entry fires in the first advance that reaches its deadline, never before,
// in deadline order, exactly once.
#include "ferrite/rt/detail/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace {

using ferrite::rt::detail::timer_wheel;
using ferrite::rt::detail::wheel_entry;

struct entry : wheel_entry {
  int id = 0;
  int fired = 0;
};

}  // namespace

TEST(TimerWheel, FiresInDeadlineOrderAndNeverEarly) {
  timer_wheel w;
  std::vector<std::unique_ptr<entry>> es;
  for (std::uint64_t d : {5ULL, 1ULL, 64ULL, 63ULL, 4096ULL, 70ULL, 1ULL}) {
    es.push_back(std::make_unique<entry>());
    es.back()->deadline = d;
    ASSERT_TRUE(w.insert(*es.back()));
  }
  std::vector<std::uint64_t> order;
  w.advance(4, [&](wheel_entry& e) { order.push_back(e.deadline); });
  EXPECT_EQ(order, (std::vector<std::uint64_t>{1, 1}));
  w.advance(100, [&](wheel_entry& e) {
    EXPECT_LE(e.deadline, w.now());
    order.push_back(e.deadline);
  });
  EXPECT_EQ(order, (std::vector<std::uint64_t>{1, 1, 5, 63, 64, 70}));
  EXPECT_EQ(w.next_expiration().value_or(0), 4096U);
  w.advance(4095, [&](wheel_entry&) { ADD_FAILURE() << "fired early"; });
  w.advance(4096, [&](wheel_entry& e) { order.push_back(e.deadline); });
  EXPECT_EQ(order.back(), 4096U);
  EXPECT_TRUE(w.empty());
  entry past;
  past.deadline = 10;
  EXPECT_FALSE(w.insert(past));  // not after now: the caller fires it
}

TEST(TimerWheel, RandomScheduleMatchesTheReference) {
  std::mt19937_64 rng(20261204);
  for (int round = 0; round < 20; ++round) {
    timer_wheel w;
    std::vector<std::unique_ptr<entry>> es;
    std::multimap<std::uint64_t, entry*> pending;
    auto arm = [&] {
      es.push_back(std::make_unique<entry>());
      entry& e = *es.back();
      e.id = static_cast<int>(es.size());
      const int kind = static_cast<int>(rng() % 5);
      const std::uint64_t spans[] = {64, 4096, 262144, 1ULL << 30, timer_wheel::horizon * 2};
      e.deadline = w.now() + 1 + rng() % spans[kind];
      ASSERT_TRUE(w.insert(e));
      pending.emplace(e.deadline, &e);
    };
    for (int i = 0; i < 300; ++i) arm();
    for (int step = 0; step < 400 && !pending.empty(); ++step) {
      if (rng() % 4 == 0) {  // cancel one at random
        auto it = pending.begin();
        std::advance(it, static_cast<long>(rng() % pending.size()));
        w.remove(*it->second);
        pending.erase(it);
      }
      if (rng() % 3 == 0) arm();
      // Advance to the next deadline, or a random distance, sometimes far.
      const std::uint64_t to = rng() % 2 == 0
                                   ? pending.begin()->first
                                   : w.now() + rng() % (rng() % 8 == 0 ? (1ULL << 34) : 5000);
      std::uint64_t last = 0;
      w.advance(to, [&](wheel_entry& fired) {
        auto& e = static_cast<entry&>(fired);
        ++e.fired;
        EXPECT_LE(e.deadline, to) << "fired early";
        EXPECT_GE(e.deadline, last) << "out of order";
        last = e.deadline;
        auto range = pending.equal_range(e.deadline);
        bool found = false;
        for (auto it = range.first; it != range.second; ++it) {
          if (it->second == &e) {
            pending.erase(it);
            found = true;
            break;
          }
        }
        EXPECT_TRUE(found) << "fired a cancelled or unknown entry";
      });
      EXPECT_TRUE(pending.empty() || pending.begin()->first > to)
          << "an entry was not fired: " << pending.begin()->first << " <= " << to << " now "
          << w.now() << " level " << int(pending.begin()->second->level) << " armed "
          << pending.begin()->second->armed();
      EXPECT_EQ(w.size(), pending.size());
    }
    for (auto& e : es) EXPECT_LE(e->fired, 1);
  }
}
