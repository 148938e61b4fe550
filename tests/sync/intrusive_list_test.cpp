// SPDX-License-Identifier: Apache-2.0
// intrusive_list: every operation on its own (ends, insert, erase, self-unlink, splice in
// all three forms, moves, clear, iteration both ways, membership in two lists at once,
// non-standard-layout elements), a randomized differential test against two std::list
// models, and, in debug builds, death tests for the misuses the hook catches.
#include "ferrite/sync/intrusive_list.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <list>
#include <memory>
#include <random>
#include <ranges>
#include <type_traits>
#include <vector>

#include "ferrite/core/platform.hpp"

namespace {

using ferrite::sync::intrusive_list;
using ferrite::sync::list_hook;

struct node {
  explicit node(int v) : value(v) {}
  int value;
  list_hook hook;   // not at offset 0
  list_hook other;  // a second, independent membership
};
using list = intrusive_list<node, &node::hook>;
using other_list = intrusive_list<node, &node::other>;

static_assert(std::bidirectional_iterator<list::iterator>);
static_assert(std::bidirectional_iterator<list::const_iterator>);
static_assert(std::ranges::bidirectional_range<list>);
static_assert(std::ranges::bidirectional_range<const list>);
static_assert(std::is_convertible_v<list::iterator, list::const_iterator>);
static_assert(!std::is_convertible_v<list::const_iterator, list::iterator>);
static_assert(std::is_same_v<decltype(*std::declval<list::const_iterator>()), const node&>);
static_assert(!std::is_copy_constructible_v<list_hook>);
static_assert(!std::is_move_constructible_v<list_hook>);
static_assert(!std::is_copy_constructible_v<list>);
static_assert(std::is_nothrow_move_constructible_v<list>);
static_assert(sizeof(list_hook) == 3 * sizeof(void*));

std::vector<int> values(const list& l) {
  std::vector<int> out;
  for (const node& n : l) out.push_back(n.value);
  return out;
}

std::vector<int> values_backwards(const list& l) {
  std::vector<int> out;
  for (auto it = l.rbegin(); it != l.rend(); ++it) out.push_back(it->value);
  return out;
}

// Five nodes 0..4 owned by the test; lists only link them.
struct fixture : ::testing::Test {
  std::vector<std::unique_ptr<node>> nodes;
  fixture() {
    for (int i = 0; i < 5; ++i) nodes.push_back(std::make_unique<node>(i));
  }
  node& n(int i) { return *nodes[static_cast<std::size_t>(i)]; }
};

using IntrusiveList = fixture;

TEST_F(IntrusiveList, StartsEmpty) {
  list l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0U);
  EXPECT_EQ(l.begin(), l.end());
  EXPECT_EQ(l.rbegin(), l.rend());
  EXPECT_EQ(l.pop_front(), nullptr);
  EXPECT_EQ(l.pop_back(), nullptr);
}

TEST_F(IntrusiveList, PushAndPopAtBothEnds) {
  list l;
  l.push_back(n(1));
  l.push_back(n(2));
  l.push_front(n(0));
  EXPECT_EQ(values(l), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(values_backwards(l), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(l.size(), 3U);
  EXPECT_EQ(l.front().value, 0);
  EXPECT_EQ(l.back().value, 2);
  EXPECT_TRUE(n(1).hook.is_linked());
  EXPECT_FALSE(n(1).other.is_linked());
  EXPECT_EQ(l.pop_front(), &n(0));
  EXPECT_EQ(l.pop_back(), &n(2));
  EXPECT_FALSE(n(0).hook.is_linked());
  EXPECT_FALSE(n(2).hook.is_linked());
  EXPECT_EQ(values(l), (std::vector<int>{1}));
  EXPECT_EQ(l.pop_back(), &n(1));
  EXPECT_TRUE(l.empty());
}

TEST_F(IntrusiveList, InsertBeforeAndEraseReturnIterators) {
  list l;
  l.push_back(n(0));
  l.push_back(n(3));
  auto it = l.insert(std::next(l.begin()), n(2));
  EXPECT_EQ(&*it, &n(2));
  it = l.insert(it, n(1));
  EXPECT_EQ(it->value, 1);
  l.insert(l.end(), n(4));
  EXPECT_EQ(values(l), (std::vector<int>{0, 1, 2, 3, 4}));

  it = l.erase(l.iterator_to(n(2)));
  EXPECT_EQ(it->value, 3);
  it = l.erase(n(4));
  EXPECT_EQ(it, l.end());
  it = l.erase(l.begin(), std::next(l.begin(), 2));
  EXPECT_EQ(it->value, 3);
  EXPECT_EQ(values(l), (std::vector<int>{3}));
  EXPECT_EQ(l.size(), 1U);
  for (int i : {0, 1, 2, 4}) EXPECT_FALSE(n(i).hook.is_linked()) << i;
}

TEST_F(IntrusiveList, HookUnlinksItselfAndTheSizeFollows) {
  list l;
  for (int i = 0; i < 5; ++i) l.push_back(n(i));
  n(2).hook.unlink();  // middle
  n(0).hook.unlink();  // front
  n(4).hook.unlink();  // back
  EXPECT_EQ(l.size(), 2U);
  EXPECT_EQ(values(l), (std::vector<int>{1, 3}));
  EXPECT_EQ(values_backwards(l), (std::vector<int>{3, 1}));
  n(2).hook.unlink();  // not linked: no-op
  EXPECT_EQ(l.size(), 2U);
  n(1).hook.unlink();
  n(3).hook.unlink();
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.begin(), l.end());
  l.push_back(n(2));  // reusable after unlinking
  EXPECT_EQ(values(l), (std::vector<int>{2}));
}

TEST_F(IntrusiveList, ElementCanBeInTwoListsThroughTwoHooks) {
  list a;
  other_list b;
  for (int i = 0; i < 5; ++i) a.push_back(n(i));
  for (int i = 4; i >= 0; i -= 2) b.push_back(n(i));
  EXPECT_TRUE(a.contains(n(1)));
  EXPECT_FALSE(b.contains(n(1)));
  EXPECT_TRUE(b.contains(n(2)));
  n(2).hook.unlink();
  EXPECT_FALSE(a.contains(n(2)));
  EXPECT_TRUE(b.contains(n(2)));
  std::vector<int> in_b;
  for (const node& x : b) in_b.push_back(x.value);
  EXPECT_EQ(in_b, (std::vector<int>{4, 2, 0}));
  EXPECT_EQ(a.size(), 4U);
  EXPECT_EQ(b.size(), 3U);
}

TEST_F(IntrusiveList, ContainsTellsListsApart) {
  list a;
  list b;
  a.push_back(n(0));
  b.push_back(n(1));
  EXPECT_TRUE(a.contains(n(0)));
  EXPECT_FALSE(b.contains(n(0)));
  EXPECT_FALSE(a.contains(n(2)));
}

TEST_F(IntrusiveList, IteratesBothWaysWithStandardAlgorithms) {
  list l;
  for (int i = 0; i < 5; ++i) l.push_back(n(i));
  const list& cl = l;
  EXPECT_EQ(std::ranges::distance(cl), 5);
  auto found = std::ranges::find(cl, 3, &node::value);
  ASSERT_NE(found, cl.end());
  EXPECT_EQ(&*found, &n(3));
  std::vector<int> rev;
  for (const node& x : std::views::reverse(l)) rev.push_back(x.value);
  EXPECT_EQ(rev, (std::vector<int>{4, 3, 2, 1, 0}));
  for (node& x : l) x.value *= 10;
  EXPECT_EQ(values(l), (std::vector<int>{0, 10, 20, 30, 40}));
  auto it = l.end();
  --it;
  EXPECT_EQ(it->value, 40);
  auto post = it--;
  EXPECT_EQ(post->value, 40);
  EXPECT_EQ(it->value, 30);
  list::const_iterator cit = it;  // mixed comparison both ways
  EXPECT_TRUE(cit == it);
  EXPECT_TRUE(it == cit);
  EXPECT_EQ(cl.iterator_to(n(1)), std::next(cl.begin()));
  EXPECT_EQ(cl.cbegin(), l.begin());
  EXPECT_EQ(cl.crbegin()->value, 40);
  EXPECT_EQ(std::prev(cl.crend())->value, 0);
}

TEST_F(IntrusiveList, SpliceWholeListMovesOwnership) {
  list a;
  list b;
  a.push_back(n(0));
  a.push_back(n(4));
  b.push_back(n(1));
  b.push_back(n(2));
  b.push_back(n(3));
  a.splice(std::next(a.begin()), b);
  EXPECT_EQ(values(a), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(values_backwards(a), (std::vector<int>{4, 3, 2, 1, 0}));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.size(), 5U);
  EXPECT_TRUE(a.contains(n(2)));
  // A moved node now counts against its new list when it unlinks itself.
  n(2).hook.unlink();
  EXPECT_EQ(a.size(), 4U);
  EXPECT_EQ(b.size(), 0U);
  a.splice(a.end(), a);  // self: no-op
  EXPECT_EQ(values(a), (std::vector<int>{0, 1, 3, 4}));
  b.splice(b.end(), a);
  EXPECT_EQ(values(b), (std::vector<int>{0, 1, 3, 4}));
  EXPECT_TRUE(a.empty());
}

TEST_F(IntrusiveList, SpliceOneElementAndRanges) {
  list a;
  list b;
  for (int i = 0; i < 5; ++i) a.push_back(n(i));
  // Within one list: move 4 to the front, then 4 before itself / after itself (no-ops).
  a.splice(a.begin(), a, a.iterator_to(n(4)));
  EXPECT_EQ(values(a), (std::vector<int>{4, 0, 1, 2, 3}));
  a.splice(a.begin(), a, a.begin());
  a.splice(std::next(a.begin()), a, a.begin());
  EXPECT_EQ(values(a), (std::vector<int>{4, 0, 1, 2, 3}));
  // Within one list, a range: [0, 2) to the end.
  a.splice(a.end(), a, a.iterator_to(n(0)), a.iterator_to(n(2)));
  EXPECT_EQ(values(a), (std::vector<int>{4, 2, 3, 0, 1}));
  EXPECT_EQ(a.size(), 5U);
  // Across lists: one element, then a range, then an empty range.
  b.splice(b.end(), a, a.iterator_to(n(3)));
  EXPECT_EQ(values(b), (std::vector<int>{3}));
  b.splice(b.begin(), a, a.begin(), a.iterator_to(n(0)));
  EXPECT_EQ(values(b), (std::vector<int>{4, 2, 3}));
  EXPECT_EQ(values(a), (std::vector<int>{0, 1}));
  b.splice(b.begin(), a, a.begin(), a.begin());
  EXPECT_EQ(a.size(), 2U);
  EXPECT_EQ(b.size(), 3U);
  EXPECT_TRUE(b.contains(n(4)));
  EXPECT_FALSE(a.contains(n(4)));
  EXPECT_EQ(values_backwards(b), (std::vector<int>{3, 2, 4}));
}

TEST_F(IntrusiveList, MoveConstructionAndAssignment) {
  list a;
  for (int i = 0; i < 3; ++i) a.push_back(n(i));
  list b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented as left empty
  EXPECT_EQ(values(b), (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(b.contains(n(1)));
  list c;
  c.push_back(n(3));
  c = std::move(b);
  EXPECT_FALSE(n(3).hook.is_linked());  // c's old element was unlinked
  EXPECT_EQ(values(c), (std::vector<int>{0, 1, 2}));
  n(0).hook.unlink();
  EXPECT_EQ(c.size(), 2U);
  auto& self = c;
  c = std::move(self);
  EXPECT_EQ(values(c), (std::vector<int>{1, 2}));
}

TEST_F(IntrusiveList, ClearAndDestructionUnlinkElements) {
  {
    list l;
    for (int i = 0; i < 5; ++i) l.push_back(n(i));
    l.clear();
    EXPECT_TRUE(l.empty());
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(n(i).hook.is_linked());
    for (int i = 0; i < 5; ++i) l.push_back(n(i));
  }  // the list goes first; the nodes (destroyed later by the fixture) are unlinked
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(n(i).hook.is_linked());
}

// An element that is not standard-layout (virtual functions, a base with data): the hook's
// offset still comes from the member pointer.
struct base_with_data {
  virtual ~base_with_data() = default;
  long long payload = 7;
};
struct fancy : base_with_data {
  explicit fancy(int v) : value(v) {}
  int value;
  list_hook hook;
};

TEST(IntrusiveListLayout, NonStandardLayoutElements) {
  static_assert(!std::is_standard_layout_v<fancy>);
  intrusive_list<fancy, &fancy::hook> l;
  fancy a{1};
  fancy b{2};
  l.push_back(a);
  l.push_front(b);
  EXPECT_EQ(&l.front(), &b);
  EXPECT_EQ(&l.back(), &a);
  EXPECT_EQ(l.back().payload, 7);
  l.clear();
}

#if !FERRITE_DEBUG
TEST(IntrusiveListRelease, DestroyingALinkedElementUnlinksIt) {
  intrusive_list<node, &node::hook> l;
  node keep{1};
  l.push_back(keep);
  {
    node temporary{2};
    l.push_back(temporary);
    EXPECT_EQ(l.size(), 2U);
  }  // a bug (debug builds assert), but release builds leave no dangling link
  EXPECT_EQ(l.size(), 1U);
  EXPECT_EQ(&l.front(), &keep);
  EXPECT_EQ(&l.back(), &keep);
  l.clear();
}
#endif

// ---- randomized differential test against std::list -------------------------------------

// Two lists a and b over a pool of nodes, mirrored by two std::list<node*> models. Each step
// applies one random operation to both; after each step the contents (both directions), the
// sizes and every node's linked state must agree.
class differential {
 public:
  explicit differential(std::uint64_t seed) : rng_(seed) {
    for (int i = 0; i < pool; ++i) pool_.push_back(std::make_unique<node>(i));
  }
  ~differential() {
    a_.clear();
    b_.clear();
  }
  differential(const differential&) = delete;
  differential& operator=(const differential&) = delete;

  void step() {
    switch (pick(11)) {
      case 0: push(true); break;
      case 1: push(false); break;
      case 2: pop(true); break;
      case 3: pop(false); break;
      case 4: insert_random(); break;
      case 5: erase_random(); break;
      case 6: self_unlink_random(); break;
      case 7: splice_one(); break;
      case 8: splice_range(); break;
      case 9: splice_all(); break;
      default: rotate_within(); break;
    }
  }

  void check() const {
    expect_same(a_, ma_);
    expect_same(b_, mb_);
    for (const auto& p : pool_) {
      const bool in_model = std::ranges::find(ma_, p.get()) != ma_.end() ||
                            std::ranges::find(mb_, p.get()) != mb_.end();
      ASSERT_EQ(p->hook.is_linked(), in_model) << "node " << p->value;
    }
  }

 private:
  static constexpr int pool = 48;

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool coin() { return pick(2) == 0; }

  node* free_node() {
    std::vector<node*> free;
    for (const auto& p : pool_) {
      if (!p->hook.is_linked()) free.push_back(p.get());
    }
    return free.empty() ? nullptr : free[pick(free.size())];
  }
  static list::iterator nth(list& l, std::size_t i) {
    return std::next(l.begin(), static_cast<std::ptrdiff_t>(i));
  }
  static std::list<node*>::iterator nth(std::list<node*>& l, std::size_t i) {
    return std::next(l.begin(), static_cast<std::ptrdiff_t>(i));
  }

  void push(bool front) {
    node* x = free_node();
    if (x == nullptr) return;
    const bool to_a = coin();
    list& l = to_a ? a_ : b_;
    std::list<node*>& m = to_a ? ma_ : mb_;
    if (front) {
      l.push_front(*x);
      m.push_front(x);
    } else {
      l.push_back(*x);
      m.push_back(x);
    }
  }

  void pop(bool front) {
    const bool from_a = coin();
    list& l = from_a ? a_ : b_;
    std::list<node*>& m = from_a ? ma_ : mb_;
    node* got = front ? l.pop_front() : l.pop_back();
    if (m.empty()) {
      ASSERT_EQ(got, nullptr);
      return;
    }
    ASSERT_EQ(got, front ? m.front() : m.back());
    if (front) {
      m.pop_front();
    } else {
      m.pop_back();
    }
  }

  void insert_random() {
    node* x = free_node();
    if (x == nullptr) return;
    const bool to_a = coin();
    list& l = to_a ? a_ : b_;
    std::list<node*>& m = to_a ? ma_ : mb_;
    const std::size_t at = pick(m.size() + 1);
    const auto it = l.insert(nth(l, at), *x);
    ASSERT_EQ(&*it, x);
    m.insert(nth(m, at), x);
  }

  void erase_random() {
    const bool from_a = coin();
    list& l = from_a ? a_ : b_;
    std::list<node*>& m = from_a ? ma_ : mb_;
    if (m.empty()) return;
    const std::size_t at = pick(m.size());
    const auto next = coin() ? l.erase(nth(l, at)) : l.erase(*nth(l, at));
    const auto mnext = m.erase(nth(m, at));
    ASSERT_EQ(next == l.end(), mnext == m.end());
    if (mnext != m.end()) {
      ASSERT_EQ(&*next, *mnext);
    }
  }

  void self_unlink_random() {
    node& x = *pool_[pick(pool_.size())];
    x.hook.unlink();  // whichever list holds it, if any
    ma_.remove(&x);
    mb_.remove(&x);
  }

  void splice_one() {
    const bool from_a = coin();
    const bool to_a = coin();
    list& from = from_a ? a_ : b_;
    list& to = to_a ? a_ : b_;
    std::list<node*>& mfrom = from_a ? ma_ : mb_;
    std::list<node*>& mto = to_a ? ma_ : mb_;
    if (mfrom.empty()) return;
    const std::size_t src = pick(mfrom.size());
    const std::size_t dst = pick(mto.size() + 1);
    to.splice(nth(to, dst), from, nth(from, src));
    mto.splice(nth(mto, dst), mfrom, nth(mfrom, src));
  }

  // A range of the other list (a different list, so no overlap with the position).
  void splice_range() {
    const bool to_a = coin();
    list& to = to_a ? a_ : b_;
    list& from = to_a ? b_ : a_;
    std::list<node*>& mto = to_a ? ma_ : mb_;
    std::list<node*>& mfrom = to_a ? mb_ : ma_;
    const std::size_t first = pick(mfrom.size() + 1);
    const std::size_t last = first + pick(mfrom.size() - first + 1);
    const std::size_t dst = pick(mto.size() + 1);
    to.splice(nth(to, dst), from, nth(from, first), nth(from, last));
    mto.splice(nth(mto, dst), mfrom, nth(mfrom, first), nth(mfrom, last));
  }

  void splice_all() {
    if (pick(4) != 0) return;  // rarer: it empties a list
    const bool to_a = coin();
    list& to = to_a ? a_ : b_;
    list& from = to_a ? b_ : a_;
    std::list<node*>& mto = to_a ? ma_ : mb_;
    std::list<node*>& mfrom = to_a ? mb_ : ma_;
    const std::size_t dst = pick(mto.size() + 1);
    to.splice(nth(to, dst), from);
    mto.splice(nth(mto, dst), mfrom);
  }

  // A range within one list moved to a position outside it.
  void rotate_within() {
    const bool in_a = coin();
    list& l = in_a ? a_ : b_;
    std::list<node*>& m = in_a ? ma_ : mb_;
    if (m.size() < 2) return;
    const std::size_t first = pick(m.size());
    const std::size_t last = first + 1 + pick(m.size() - first);
    // Valid positions: before any of [0, first) or of [last, size], end() included.
    const std::size_t outside = pick(first + (m.size() - last) + 1);
    const std::size_t dst = outside < first ? outside : last + (outside - first);
    l.splice(nth(l, dst), l, nth(l, first), nth(l, last));
    m.splice(nth(m, dst), m, nth(m, first), nth(m, last));
  }

  static void expect_same(const list& l, const std::list<node*>& m) {
    ASSERT_EQ(l.size(), m.size());
    ASSERT_EQ(l.empty(), m.empty());
    auto it = l.begin();
    for (const node* x : m) {
      ASSERT_NE(it, l.end());
      ASSERT_EQ(&*it, x);
      ASSERT_TRUE(l.contains(*x));
      ++it;
    }
    ASSERT_EQ(it, l.end());
    auto rit = l.rbegin();
    for (auto mit = m.rbegin(); mit != m.rend(); ++mit, ++rit) ASSERT_EQ(&*rit, *mit);
    ASSERT_EQ(rit, l.rend());
  }

  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<node>> pool_;
  list a_;
  list b_;
  std::list<node*> ma_;
  std::list<node*> mb_;
};

TEST(IntrusiveListDifferential, MatchesStdListModel) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    differential d(seed);
    for (int i = 0; i < 3000; ++i) {
      d.step();
      ASSERT_NO_FATAL_FAILURE(d.check()) << "after step " << i;
    }
  }
}

// ---- misuse caught in debug builds -------------------------------------------------------

#if FERRITE_DEBUG
TEST(IntrusiveListDeathTest, DoubleInsertIsCaught) {
  EXPECT_DEATH(
      {
        list l;
        node x{1};
        l.push_back(x);
        l.push_back(x);
      },
      "already linked");
}

TEST(IntrusiveListDeathTest, InsertingANodeOfAnotherListIsCaught) {
  EXPECT_DEATH(
      {
        list a;
        list b;
        node x{1};
        a.push_back(x);
        b.push_front(x);
      },
      "already linked");
}

TEST(IntrusiveListDeathTest, DestroyingALinkedHookIsCaught) {
  EXPECT_DEATH(
      {
        list l;
        {
          node x{1};
          l.push_back(x);
        }
      },
      "destroyed while still linked");
}

TEST(IntrusiveListDeathTest, ErasingThroughTheWrongListIsCaught) {
  EXPECT_DEATH(
      {
        list a;
        list b;
        node x{1};
        a.push_back(x);
        (void)b.erase(x);
      },
      "not in this list");
}

TEST(IntrusiveListDeathTest, FrontOfEmptyListIsCaught) {
  EXPECT_DEATH(
      {
        list l;
        (void)l.front();
      },
      "empty list");
}
#endif  // FERRITE_DEBUG

}  // namespace
