// SPDX-License-Identifier: Apache-2.0
// Tests of object_pool<T>: construction and destruction counts, LIFO reuse of freed slots,
// alignment of over-aligned types, a throwing constructor giving its slot back, growth across
// chunks with stable pointers, reserve, handles, destroy_all, a randomized run against a
// std::set model, and (debug builds) death tests for foreign pointers, double destroys and
// leaks.
#include "ferrite/mem/object_pool.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory_resource>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

namespace {

using ferrite::mem::object_pool;
using ferrite::mem::pool_options;

// Counts live instances, constructions and destructions.
struct counted {
  static inline int constructed = 0;
  static inline int destroyed = 0;
  static void reset() { constructed = destroyed = 0; }

  explicit counted(int v) : value(v) { ++constructed; }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  ~counted() { ++destroyed; }

  int value;
  std::uint64_t pad = 0xfeedfacecafebeefULL;
};

// Throws from its constructor when asked to.
struct may_throw {
  explicit may_throw(bool fail) {
    if (fail) throw std::runtime_error("ctor failed");
  }
  std::uint64_t word = 42;
};

struct alignas(64) aligned64 {
  unsigned char bytes[64];
};
struct alignas(256) aligned256 {
  unsigned char bytes[40];
};

// Records the chunk requests a pool makes of its upstream.
class recording_resource final : public std::pmr::memory_resource {
 public:
  struct request {
    std::size_t bytes;
    std::size_t alignment;
  };
  std::vector<request> requests;
  std::size_t live_bytes = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    requests.push_back({bytes, alignment});
    live_bytes += bytes;
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    live_bytes -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

TEST(ObjectPool, SlotLayout) {
  static_assert(object_pool<char>::slot_size == sizeof(void*));
  static_assert(object_pool<char>::slot_align == alignof(void*));
  static_assert(object_pool<counted>::slot_size == sizeof(counted));
  static_assert(object_pool<aligned64>::slot_align == 64);
  static_assert(object_pool<aligned256>::slot_size == 256);
  static_assert(object_pool<aligned256>::slot_align == 256);
  static_assert(!std::is_copy_constructible_v<object_pool<int>>);
  static_assert(!std::is_move_constructible_v<object_pool<int>>);
  static_assert(!std::is_move_assignable_v<object_pool<int>>);
}

TEST(ObjectPool, CreateDestroyCounts) {
  counted::reset();
  {
    object_pool<counted> pool;
    EXPECT_EQ(pool.size(), 0U);
    EXPECT_EQ(pool.capacity(), 0U);  // nothing allocated before the first create
    EXPECT_EQ(pool.chunk_count(), 0U);
    std::vector<counted*> objs;
    objs.reserve(100);
    for (int i = 0; i < 100; ++i) objs.push_back(pool.create(i));
    EXPECT_EQ(counted::constructed, 100);
    EXPECT_EQ(pool.size(), 100U);
    EXPECT_GE(pool.capacity(), 100U);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(objs[static_cast<std::size_t>(i)]->value, i);
    for (int i = 0; i < 100; i += 2) pool.destroy(objs[static_cast<std::size_t>(i)]);
    EXPECT_EQ(counted::destroyed, 50);
    EXPECT_EQ(pool.size(), 50U);
    for (int i = 1; i < 100; i += 2) pool.destroy(objs[static_cast<std::size_t>(i)]);
    EXPECT_EQ(counted::destroyed, 100);
    EXPECT_TRUE(pool.empty());
  }
  EXPECT_EQ(counted::constructed, 100);
  EXPECT_EQ(counted::destroyed, 100);
}

TEST(ObjectPool, DestroyNullIsNoOp) {
  object_pool<int> pool;
  pool.destroy(nullptr);
  EXPECT_EQ(pool.size(), 0U);
}

TEST(ObjectPool, FreedSlotsAreReusedLifo) {
  object_pool<int> pool;
  int* a = pool.create(1);
  int* b = pool.create(2);
  int* c = pool.create(3);
  pool.destroy(a);
  pool.destroy(c);
  pool.destroy(b);
  // The last destroyed is handed out first.
  EXPECT_EQ(pool.create(4), b);
  EXPECT_EQ(pool.create(5), c);
  EXPECT_EQ(pool.create(6), a);
  EXPECT_EQ(pool.capacity(), 4096 / object_pool<int>::slot_size);  // automatic first chunk
  for (int* p : {a, b, c}) pool.destroy(p);
}

template <class T>
void check_alignment() {
  recording_resource upstream;
  {
    object_pool<T> pool(pool_options{.first_chunk_slots = 3, .max_chunk_slots = 8}, &upstream);
    std::vector<T*> objs;
    for (int i = 0; i < 50; ++i) {
      T* p = pool.create();
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(T), 0U) << i;
      objs.push_back(p);
    }
    EXPECT_GE(pool.chunk_count(), 2U);
    for (const auto& r : upstream.requests) EXPECT_EQ(r.alignment, alignof(T));
    for (T* p : objs) pool.destroy(p);
  }
  EXPECT_EQ(upstream.live_bytes, 0U);
}

TEST(ObjectPool, OverAlignedTypes) {
  check_alignment<aligned64>();
  check_alignment<aligned256>();
}

TEST(ObjectPool, ThrowingConstructorReturnsTheSlot) {
  object_pool<may_throw> pool;
  may_throw* a = pool.create(false);
  const std::size_t capacity = pool.capacity();
  may_throw* b = pool.create(false);
  pool.destroy(b);  // b's slot is the top of the free list
  EXPECT_THROW((void)pool.create(true), std::runtime_error);
  EXPECT_EQ(pool.size(), 1U);
  EXPECT_EQ(pool.capacity(), capacity);
  // The slot went back: the next create reuses it.
  may_throw* c = pool.create(false);
  EXPECT_EQ(c, b);
  EXPECT_EQ(c->word, 42U);
  // From the bump region (no free slot) too: slot 2 goes to the free list, then is reused.
  EXPECT_THROW((void)pool.create(true), std::runtime_error);
  EXPECT_EQ(pool.size(), 2U);
  may_throw* d = pool.create(false);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d),
            reinterpret_cast<std::uintptr_t>(a) + 2 * object_pool<may_throw>::slot_size);
  EXPECT_EQ(pool.size(), 3U);
  pool.destroy(a);
  pool.destroy(c);
  pool.destroy(d);
}

struct throws_by_default {
  throws_by_default() { throw std::runtime_error("default ctor failed"); }
};

TEST(ObjectPool, CreateForOverwriteDefaultInitializes) {
  object_pool<std::uint64_t> raw;
  std::uint64_t* x = raw.create_for_overwrite();  // indeterminate until written
  *x = 5;
  EXPECT_EQ(*x, 5U);
  raw.destroy(x);
  EXPECT_EQ(raw.create_for_overwrite(), x);  // same LIFO reuse
  object_pool<may_throw> with_ctor;
  may_throw* m = with_ctor.create(false);
  EXPECT_EQ(m->word, 42U);
  object_pool<throws_by_default> thrower;
  EXPECT_THROW((void)thrower.create_for_overwrite(), std::runtime_error);
  EXPECT_EQ(thrower.size(), 0U);
  raw.destroy(x);
  with_ctor.destroy(m);
}

TEST(ObjectPool, GrowthDoublesUpToTheCapWithStablePointers) {
  recording_resource upstream;
  object_pool<std::uint64_t> pool(pool_options{.first_chunk_slots = 4, .max_chunk_slots = 16},
                                  &upstream);
  std::vector<std::uint64_t*> objs;
  std::vector<std::size_t> capacities;
  for (std::uint64_t i = 0; i < 100; ++i) {
    objs.push_back(pool.create(i * 3));
    if (capacities.empty() || capacities.back() != pool.capacity()) {
      capacities.push_back(pool.capacity());
    }
  }
  // 4, 8, 16, then 16 each: 4 + 8 + 16 + 5 * 16 = 108 >= 100.
  EXPECT_EQ(capacities, (std::vector<std::size_t>{4, 12, 28, 44, 60, 76, 92, 108}));
  EXPECT_EQ(pool.chunk_count(), 8U);
  ASSERT_EQ(upstream.requests.size(), 8U);
  // Pointers never moved: every value is where it was written.
  for (std::size_t i = 0; i < objs.size(); ++i) EXPECT_EQ(*objs[i], i * 3);
  EXPECT_EQ(std::set<std::uint64_t*>(objs.begin(), objs.end()).size(), objs.size());
  for (auto* p : objs) {
    EXPECT_TRUE(pool.owns(p));
    pool.destroy(p);
  }
  EXPECT_EQ(pool.capacity(), 108U);  // never shrinks
}

TEST(ObjectPool, ReserveAllocatesOnceAndKeepsTheTail) {
  recording_resource upstream;
  object_pool<int> pool(pool_options{.first_chunk_slots = 8, .max_chunk_slots = 64}, &upstream);
  pool.reserve(0);
  EXPECT_EQ(upstream.requests.size(), 0U);
  int* first = pool.create(0);  // chunk of 8: 7 slots left unused
  pool.reserve(20);
  EXPECT_EQ(pool.capacity(), 20U);
  EXPECT_EQ(upstream.requests.size(), 2U);
  std::set<int*> seen{first};
  for (int i = 1; i < 20; ++i) EXPECT_TRUE(seen.insert(pool.create(i)).second);
  EXPECT_EQ(upstream.requests.size(), 2U);  // the old tail and the reserved chunk sufficed
  EXPECT_EQ(pool.size(), 20U);
  pool.reserve(10);  // already there
  EXPECT_EQ(upstream.requests.size(), 2U);
  (void)pool.create(20);  // grows by the unchanged sequence: 16 slots
  EXPECT_EQ(pool.capacity(), 36U);
  pool.destroy_all();
  EXPECT_EQ(pool.size(), 0U);
}

TEST(ObjectPool, HandlesDestroyThroughThePool) {
  counted::reset();
  object_pool<counted> pool;
  {
    object_pool<counted>::handle h = pool.create_handle(7);
    EXPECT_EQ(h->value, 7);
    EXPECT_EQ(h.get_deleter().pool(), &pool);
    EXPECT_EQ(pool.size(), 1U);
    object_pool<counted>::handle moved = std::move(h);
    EXPECT_EQ(pool.size(), 1U);
  }
  EXPECT_EQ(pool.size(), 0U);
  EXPECT_EQ(counted::destroyed, 1);
  static_assert(sizeof(object_pool<counted>::handle) == 2 * sizeof(void*));
}

TEST(ObjectPool, DestroyAllDestroysOnlyTheLiveObjects) {
  counted::reset();
  object_pool<counted> pool(pool_options{.first_chunk_slots = 4, .max_chunk_slots = 8});
  std::vector<counted*> objs;
  objs.reserve(30);
  for (int i = 0; i < 30; ++i) objs.push_back(pool.create(i));
  for (std::size_t i = 0; i < objs.size(); i += 3) pool.destroy(objs[i]);
  EXPECT_EQ(counted::destroyed, 10);
  pool.destroy_all();
  EXPECT_EQ(counted::destroyed, 30);
  EXPECT_EQ(pool.size(), 0U);
  // Every slot is free again: refilling to capacity allocates no chunk.
  const std::size_t capacity = pool.capacity();
  const std::size_t chunks = pool.chunk_count();
  std::vector<counted*> again;
  again.reserve(capacity);
  for (std::size_t i = 0; i < capacity; ++i) again.push_back(pool.create(1));
  EXPECT_EQ(pool.chunk_count(), chunks);
  pool.destroy_all();
  EXPECT_EQ(counted::destroyed, 30 + static_cast<int>(capacity));
}

TEST(ObjectPool, OwnsOnlyItsSlotStarts) {
  object_pool<std::uint64_t> pool;
  object_pool<std::uint64_t> other;
  std::uint64_t* p = pool.create(1U);
  std::uint64_t* q = other.create(2U);
  std::uint64_t local = 0;
  EXPECT_TRUE(pool.owns(p));
  EXPECT_FALSE(pool.owns(q));
  EXPECT_FALSE(pool.owns(&local));
  object_pool<counted> pc;
  counted* c = pc.create(1);
  // An address inside a slot is not a slot start.
  EXPECT_FALSE(pc.owns(reinterpret_cast<counted*>(reinterpret_cast<std::byte*>(c) + 8)));
  pool.destroy(p);
  other.destroy(q);
  pc.destroy(c);
}

TEST(ObjectPool, RandomOpsMatchASetModel) {
  counted::reset();
  std::mt19937_64 rng(12345);
  object_pool<counted> pool(pool_options{.first_chunk_slots = 2, .max_chunk_slots = 64});
  std::map<counted*, int> model;  // live object -> its value
  std::vector<counted*> live;
  std::size_t reused = 0;
  std::set<counted*> ever;
  for (int op = 0; op < 20000; ++op) {
    const bool create = live.empty() || rng() % 100 < 55;
    if (create) {
      const int v = static_cast<int>(rng() % 1000000);
      counted* p = pool.create(v);
      ASSERT_EQ(model.count(p), 0U) << "slot handed out twice";
      if (!ever.insert(p).second) ++reused;
      model.emplace(p, v);
      live.push_back(p);
    } else {
      const std::size_t i = static_cast<std::size_t>(rng() % live.size());
      counted* p = live[i];
      ASSERT_EQ(p->value, model.at(p));
      live[i] = live.back();
      live.pop_back();
      model.erase(p);
      pool.destroy(p);
    }
    ASSERT_EQ(pool.size(), model.size());
    ASSERT_GE(pool.capacity(), pool.size());
  }
  for (const auto& [p, v] : model) {
    ASSERT_EQ(p->value, v);
    ASSERT_TRUE(pool.owns(p));
  }
  EXPECT_GT(reused, 1000U);
  // Capacity stays bounded by the high-water mark plus growth slack.
  EXPECT_LE(pool.capacity(), 2 * ever.size() + 64);
  for (counted* p : live) pool.destroy(p);
  EXPECT_EQ(counted::constructed, counted::destroyed);
}

#if FERRITE_DEBUG
using ObjectPoolDeathTest = ::testing::Test;

TEST(ObjectPoolDeathTest, ForeignPointerIsCaught) {
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a;
        object_pool<std::uint64_t> b;
        std::uint64_t* p = a.create(1U);
        (void)b.create(2U);
        b.destroy(p);
      },
      "not from this pool");
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a;
        std::uint64_t local = 0;
        (void)a.create(1U);
        a.destroy(&local);
      },
      "not from this pool");
}

TEST(ObjectPoolDeathTest, InteriorPointerIsCaught) {
  EXPECT_DEATH(
      {
        object_pool<counted> a;
        counted* c = a.create(1);
        a.destroy(reinterpret_cast<counted*>(reinterpret_cast<std::byte*>(c) + 8));
      },
      "not a slot start");
}

TEST(ObjectPoolDeathTest, DoubleDestroyIsCaught) {
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a;
        std::uint64_t* p = a.create(1U);
        (void)a.create(2U);
        a.destroy(p);
        a.destroy(p);
      },
      "double destroy");
}

TEST(ObjectPoolDeathTest, NeverCreatedSlotIsNotLive) {
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a(pool_options{.first_chunk_slots = 8});
        std::uint64_t* p = a.create(1U);
        a.destroy(p + 3);  // a slot of the chunk that was never handed out
      },
      "double destroy");
}

TEST(ObjectPoolDeathTest, LeakAtDestructionIsReported) {
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a;
        (void)a.create(1U);
        (void)a.create(2U);
      },
      "destroyed with 2 live object");
}
#endif  // FERRITE_DEBUG

#if FERRITE_ASAN
using ObjectPoolAsanDeathTest = ::testing::Test;

// Free slots are poisoned: touching a destroyed object is an ASan report, not silent reuse.
TEST(ObjectPoolAsanDeathTest, UseAfterDestroyIsReported) {
  EXPECT_DEATH(
      {
        object_pool<std::uint64_t> a;
        std::uint64_t* p = a.create(1U);
        (void)a.create(2U);
        a.destroy(p);
        const volatile std::uint64_t* vp = p;
        std::printf("%llu\n", static_cast<unsigned long long>(*vp));
      },
      "use-after-poison");
}
#endif  // FERRITE_ASAN

}  // namespace
