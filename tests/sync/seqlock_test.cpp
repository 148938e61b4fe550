// SPDX-License-Identifier: Apache-2.0
// seqlock: single-threaded semantics (round trips of payloads of awkward sizes, alignments
// and padding, non-default-constructible payloads, update(), try_load()), then the stress
// tests: one writer storing a counter-derived record as fast as it can while more readers
// than cores load it; every value a reader gets must be a record the writer really stored
// (each field derived from its sequence number, so a torn copy shows), and each reader's
// sequence numbers must never go backwards.
#include "ferrite/sync/seqlock.hpp"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/platform.hpp"

namespace {

using ferrite::sync::seqlock;

struct one_byte {
  std::uint8_t v;
};

// 7 bytes of fields, 1 of padding: the last word is partial.
struct padded {
  std::uint32_t a;
  std::uint16_t b;
  std::uint8_t c;
  friend bool operator==(const padded&, const padded&) = default;
};

struct three_and_a_half_words {
  std::array<std::uint64_t, 3> a;
  std::uint32_t b;
  friend bool operator==(const three_and_a_half_words&, const three_and_a_half_words&) = default;
};

struct alignas(32) over_aligned {
  std::array<std::uint64_t, 4> a;
  friend bool operator==(const over_aligned&, const over_aligned&) = default;
};

// Trivially copyable but not default-constructible: load() must still produce one.
struct no_default {
  explicit no_default(int x) : v(x) {}
  int v;
};

static_assert(seqlock<one_byte>::word_count == 1);
static_assert(seqlock<padded>::word_count == 1);
static_assert(seqlock<three_and_a_half_words>::word_count == 4);
static_assert(seqlock<over_aligned>::word_count == 4);
static_assert(ferrite::sync::seqlock_value<no_default>);
static_assert(!ferrite::sync::seqlock_value<std::vector<int>>);  // not trivially copyable
static_assert(!ferrite::sync::seqlock_value<const int>);
static_assert(!std::is_copy_constructible_v<seqlock<int>>);
static_assert(!std::is_move_constructible_v<seqlock<int>>);

TEST(Seqlock, DefaultHoldsValueInitializedValue) {
  const seqlock<padded> a;
  EXPECT_EQ(a.load(), (padded{0, 0, 0}));
  const seqlock<std::uint64_t> b;
  EXPECT_EQ(b.load(), 0U);
}

TEST(Seqlock, RoundTripsAwkwardSizes) {
  seqlock<one_byte> a{one_byte{7}};
  EXPECT_EQ(a.load().v, 7);
  a.store(one_byte{255});
  EXPECT_EQ(a.load().v, 255);

  seqlock<padded> b{padded{1, 2, 3}};
  b.store(padded{0xdeadbeef, 0xbeef, 0xef});
  EXPECT_EQ(b.load(), (padded{0xdeadbeef, 0xbeef, 0xef}));

  seqlock<three_and_a_half_words> c;
  const three_and_a_half_words v{{1, 2, std::numeric_limits<std::uint64_t>::max()}, 0xabcdef01};
  c.store(v);
  EXPECT_EQ(c.load(), v);

  seqlock<over_aligned> d;
  const over_aligned w{{9, 8, 7, 6}};
  d.store(w);
  EXPECT_EQ(d.load(), w);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&d) % alignof(std::uint64_t), 0U);
}

TEST(Seqlock, PreservesFloatBitsExactly) {
  seqlock<double> s{-0.0};
  EXPECT_EQ(std::bit_cast<std::uint64_t>(s.load()), std::bit_cast<std::uint64_t>(-0.0));
  const double nan = std::bit_cast<double>(std::uint64_t{0x7ff8'0000'dead'beef});
  s.store(nan);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(s.load()), 0x7ff8'0000'dead'beefULL);
}

TEST(Seqlock, NonDefaultConstructiblePayload) {
  seqlock<no_default> s{no_default{41}};
  EXPECT_EQ(s.load().v, 41);
  s.store(no_default{-3});
  EXPECT_EQ(s.load().v, -3);
  const std::optional<no_default> t = s.try_load();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->v, -3);
}

TEST(Seqlock, UpdateAppliesTheFunctionToTheCurrentValue) {
  seqlock<three_and_a_half_words> s{three_and_a_half_words{{1, 2, 3}, 4}};
  s.update([](three_and_a_half_words& v) {
    v.a[1] += 40;
    v.b = 5;
  });
  EXPECT_EQ(s.load(), (three_and_a_half_words{{1, 42, 3}, 5}));
  for (int i = 0; i < 10; ++i) s.update([](three_and_a_half_words& v) { ++v.a[0]; });
  EXPECT_EQ(s.load().a[0], 11U);
}

TEST(Seqlock, TryLoadSucceedsWithoutAConcurrentWriter) {
  seqlock<std::uint64_t> s{5};
  for (std::uint64_t i = 0; i < 100; ++i) {
    s.store(i);
    const std::optional<std::uint64_t> v = s.try_load();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
}

// ---- stress: no torn or stale-going-backwards values ------------------------------------

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 64 bytes, every word a function of `seq`, the last a checksum of the others.
struct record {
  std::uint64_t seq;
  std::array<std::uint64_t, 6> body;
  std::uint64_t check;

  static record make(std::uint64_t n) {
    record r{n, {}, 0};
    std::uint64_t h = mix(n);
    for (std::size_t i = 0; i < r.body.size(); ++i) {
      r.body[i] = mix(n * 8 + i);
      h = mix(h ^ r.body[i]);
    }
    r.check = h;
    return r;
  }
  friend bool operator==(const record&, const record&) = default;
};
static_assert(sizeof(record) == 64);

// 24 bytes with 6 of tail padding: the seqlock's last word is partial.
struct small_record {
  std::uint32_t seq;
  std::uint32_t twin;
  std::uint64_t hash;
  std::uint16_t low;

  static small_record make(std::uint64_t n) {
    const auto s = static_cast<std::uint32_t>(n);
    return small_record{s, ~s, mix(n), static_cast<std::uint16_t>(s & 0xffffU)};
  }
  friend bool operator==(const small_record&, const small_record&) = default;
};
static_assert(sizeof(small_record) == 24);

#if FERRITE_TSAN
constexpr std::uint64_t stores = 20'000;
#else
constexpr std::uint64_t stores = 200'000;
#endif
constexpr int readers = 6;  // with the writer: 7 threads on a 2-core machine
// The writer pauses at this many checkpoints until some reader has seen its latest value,
// so that readers provably run while it is writing (on a loaded machine they might not).
constexpr std::uint64_t checkpoints = 16;

struct reader_result {
  std::uint64_t loads = 0;
  std::uint64_t failed_attempts = 0;  // try_load readers only
  std::uint64_t torn = 0;
  std::uint64_t backwards = 0;
  std::uint64_t distinct = 0;  // how many different sequence numbers it saw
  std::uint64_t final_seq = 0;
};

// One writer stores Record::make(1..stores); readers readers (even ones with load(), odd
// ones with try_load()) check every value until the writer is done, then load once more.
template <class Record>
void stress() {
  seqlock<Record> lock{Record::make(0)};
  ferrite::atomic<int> ready{0};
  ferrite::atomic<bool> done{false};
  ferrite::atomic<std::uint64_t> newest_seen{0};
  std::vector<reader_result> results(readers);
  std::vector<ferrite::thread> threads;

  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      reader_result& out = results[static_cast<std::size_t>(r)];
      std::uint64_t last = 0;
      const auto check = [&](const Record& v) {
        ++out.loads;
        if (!(v == Record::make(v.seq))) ++out.torn;
        if (v.seq < last) ++out.backwards;
        if (v.seq != last) ++out.distinct;
        last = v.seq;
        // ORDERING: relaxed; a progress hint for the writer's checkpoints, nothing more.
        if (newest_seen.load(std::memory_order_relaxed) < v.seq) {
          newest_seen.store(v.seq, std::memory_order_relaxed);
        }
      };
      // ORDERING: relaxed start counter; the writer only waits for it, nothing is published.
      ready.fetch_add(1, std::memory_order_relaxed);
      // ORDERING: acquire; pairs with the writer's release store of `done`, so the final
      // load() below happens after the writer's last store and must return it.
      while (!done.load(std::memory_order_acquire)) {
        if (r % 2 == 0) {
          check(lock.load());
        } else if (const std::optional<Record> v = lock.try_load()) {
          check(*v);
        } else {
          ++out.failed_attempts;
        }
      }
      const Record v = lock.load();
      check(v);
      out.final_seq = v.seq;
    });
  }
  threads.emplace_back([&] {
    // ORDERING: relaxed; see the readers' fetch_add.
    while (ready.load(std::memory_order_relaxed) < readers) ferrite::yield_now();
    for (std::uint64_t n = 1; n <= stores; ++n) {
      lock.store(Record::make(n));
      // Bursts of back-to-back stores (readers' copies overlap them and must be rejected),
      // then a pause (readers get through): a writer storing flat out would starve them.
      if (n % 4 == 0) {
        for (int i = 0; i < 32; ++i) ferrite::spin_hint();
      }
      if (n % (stores / checkpoints) == 0) {
        // ORDERING: relaxed; see the readers' store of newest_seen.
        while (newest_seen.load(std::memory_order_relaxed) < n) ferrite::yield_now();
      }
    }
    // ORDERING: release; pairs with the readers' acquire loads of `done`.
    done.store(true, std::memory_order_release);
  });
  for (ferrite::thread& t : threads) t.join();

  const auto expected_last = static_cast<decltype(Record::seq)>(stores);
  std::uint64_t changes_seen = 0;
  for (int r = 0; r < readers; ++r) {
    const reader_result& res = results[static_cast<std::size_t>(r)];
    SCOPED_TRACE(testing::Message()
                 << "reader " << r << ": " << res.loads << " loads, " << res.failed_attempts
                 << " failed try_loads, " << res.distinct << " distinct values");
    EXPECT_EQ(res.torn, 0U);
    EXPECT_EQ(res.backwards, 0U);
    EXPECT_GT(res.loads, 0U);
    // The writer's last store happens-before `done`, which happens-before the final load.
    EXPECT_EQ(res.final_seq, expected_last);
    changes_seen += res.distinct;
  }
  std::uint64_t failed = 0;
  for (const reader_result& res : results) failed += res.failed_attempts;
  std::printf("[ stats    ] %llu value changes seen, %llu failed try_loads\n",
              static_cast<unsigned long long>(changes_seen),
              static_cast<unsigned long long>(failed));
  EXPECT_EQ(lock.load(), Record::make(stores));
  EXPECT_GE(changes_seen, checkpoints);  // readers saw stores land while the writer ran
}

TEST(SeqlockStress, ReadersNeverSeeTornOrBackwardValues64Bytes) { stress<record>(); }

TEST(SeqlockStress, ReadersNeverSeeTornOrBackwardValuesPartialWord) { stress<small_record>(); }

}  // namespace
