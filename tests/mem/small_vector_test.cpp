// SPDX-License-Identifier: Apache-2.0
// Unit tests of ferrite::mem::small_vector: every member of the std::vector interface, the
// inline/heap transitions (spill, shrink back inline, swap of every inline/heap pairing),
// aliasing arguments (inserting an element or a range of the vector into itself), the
// exception guarantees with a type whose copies throw on demand, move-only, over-aligned
// and non-trivial element types, the pmr flavour and a propagating stateful allocator.
#include "ferrite/mem/small_vector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <memory_resource>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "single_pass_iterator.hpp"

#if __has_include(<absl/container/inlined_vector.h>)
#include <absl/container/inlined_vector.h>
#define FERRITE_TEST_HAVE_ABSL 1
#endif

namespace {

using ferrite::mem::small_vector;
using ferrite::mem::test::single_pass_it;

// ---- helpers ------------------------------------------------------------------------------

/// Counts live objects; copies throw when the global countdown reaches zero.
struct tracked {
  static inline int live = 0;
  static inline int copies_until_throw = -1;  // < 0: never throw
  int value = 0;

  static void maybe_throw() {
    if (copies_until_throw > 0 && --copies_until_throw == 0) throw std::runtime_error("copy");
  }
  tracked(int v = 0) : value(v) { ++live; }  // NOLINT(google-explicit-constructor)
  tracked(const tracked& o) : value(o.value) {
    maybe_throw();
    ++live;
  }
  tracked(tracked&& o) noexcept : value(o.value) { ++live; }
  tracked& operator=(const tracked& o) {
    maybe_throw();
    value = o.value;
    return *this;
  }
  tracked& operator=(tracked&& o) noexcept {
    value = o.value;
    return *this;
  }
  ~tracked() { --live; }
};

/// Like tracked, but its move constructor may throw, so reallocation must copy.
struct copy_on_grow : tracked {
  using tracked::tracked;
  copy_on_grow(const copy_on_grow&) = default;
  copy_on_grow(copy_on_grow&& o) noexcept(false) : tracked(static_cast<tracked&&>(o)) {}
  copy_on_grow& operator=(const copy_on_grow&) = default;
  copy_on_grow& operator=(copy_on_grow&&) noexcept(false) = default;
  ~copy_on_grow() = default;
};

/// Resets the counters around a test and checks that nothing leaked.
class tracked_scope {
 public:
  tracked_scope() {
    tracked::live = 0;
    tracked::copies_until_throw = -1;
  }
  tracked_scope(const tracked_scope&) = delete;
  tracked_scope& operator=(const tracked_scope&) = delete;
  ~tracked_scope() {
    tracked::copies_until_throw = -1;
    EXPECT_EQ(tracked::live, 0) << "leak or double destroy";
  }
};

template <class V>
std::vector<int> values(const V& v) {
  std::vector<int> out;
  for (const auto& e : v) {
    if constexpr (std::is_same_v<std::decay_t<decltype(e)>, int>) {
      out.push_back(e);
    } else {
      out.push_back(e.value);
    }
  }
  return out;
}

template <class V>
bool holds_inline(const V& v) {
  const auto* p = reinterpret_cast<const std::byte*>(v.data());
  const auto* self = reinterpret_cast<const std::byte*>(&v);
  return p >= self && p < self + sizeof(V);
}

// ---- layout --------------------------------------------------------------------------------

static_assert(sizeof(small_vector<int, 8>) <= 40, "no bigger than absl::InlinedVector<int, 8>");
static_assert(sizeof(small_vector<int, 8>) == 40);
static_assert(sizeof(small_vector<int, 0>) == 24, "N == 0: meta + {ptr, capacity}");
static_assert(sizeof(small_vector<char, 1>) == 24, "the union is at least {ptr, capacity}");
static_assert(sizeof(ferrite::mem::pmr::small_vector<int, 8>) == 48);
#if defined(FERRITE_TEST_HAVE_ABSL)
static_assert(sizeof(small_vector<int, 8>) <= sizeof(absl::InlinedVector<int, 8>));
static_assert(sizeof(small_vector<std::string, 4>) <= sizeof(absl::InlinedVector<std::string, 4>));
#endif
static_assert(std::is_nothrow_move_constructible_v<small_vector<std::string, 4>>);
static_assert(std::is_nothrow_move_assignable_v<small_vector<std::string, 4>>);
static_assert(std::is_nothrow_swappable_v<small_vector<std::string, 4>>);
static_assert(!std::is_nothrow_move_constructible_v<small_vector<copy_on_grow, 4>>);
static_assert(std::contiguous_iterator<small_vector<int, 4>::iterator>);
static_assert(std::ranges::contiguous_range<small_vector<int, 4>>);

TEST(SmallVector, DefaultIsEmptyAndInline) {
  small_vector<int, 8> v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.size(), 0U);
  EXPECT_EQ(v.capacity(), 8U);
  EXPECT_TRUE(v.is_inline());
  EXPECT_TRUE(holds_inline(v));
  EXPECT_EQ(v.begin(), v.end());
  EXPECT_EQ(v.rbegin(), v.rend());
  EXPECT_GE(v.max_size(), 1U << 30);
  small_vector<int, 0> z;
  EXPECT_EQ(z.capacity(), 0U);
  EXPECT_TRUE(z.is_inline());
}

TEST(SmallVector, SpillsAtNPlusOneAndDoubles) {
  small_vector<int, 4> v;
  for (int i = 0; i < 4; ++i) {
    int* p = &v.emplace_back(i);
    EXPECT_EQ(p, &v.back());
  }
  EXPECT_TRUE(v.is_inline());
  v.push_back(4);
  EXPECT_FALSE(v.is_inline());
  EXPECT_FALSE(holds_inline(v));
  EXPECT_EQ(v.capacity(), 8U);
  for (int i = 5; i < 9; ++i) v.push_back(i);
  EXPECT_EQ(v.capacity(), 16U);
  EXPECT_EQ(values(v), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(SmallVector, ZeroInlineCapacityAlwaysHeap) {
  small_vector<std::string, 0> v;
  v.push_back("a");
  EXPECT_FALSE(v.is_inline());
  EXPECT_EQ(v.capacity(), 1U);
  v.push_back("b");
  v.push_back("c");
  EXPECT_EQ(v.capacity(), 4U);
  v.clear();
  v.shrink_to_fit();
  EXPECT_TRUE(v.is_inline());
  EXPECT_EQ(v.capacity(), 0U);
}

// ---- constructors --------------------------------------------------------------------------

TEST(SmallVector, Constructors) {
  const small_vector<int, 4> count(3);
  EXPECT_EQ(values(count), (std::vector<int>{0, 0, 0}));
  const small_vector<int, 4> filled(6, 7);
  EXPECT_EQ(values(filled), (std::vector<int>(6, 7)));
  EXPECT_FALSE(filled.is_inline());
  EXPECT_EQ(filled.capacity(), 6U);
  EXPECT_EQ((small_vector<int, 4>(5).capacity()), 5U);
  const std::list<int> l{1, 2, 3, 4, 5};
  const small_vector<int, 4> ranged(l.begin(), l.end());
  EXPECT_EQ(values(ranged), (std::vector<int>{1, 2, 3, 4, 5}));
  const int raw[] = {9, 8, 7};
  const small_vector<int, 4> single_pass(single_pass_it{raw}, single_pass_it{raw + 3});
  EXPECT_EQ(values(single_pass), (std::vector<int>{9, 8, 7}));
  const small_vector<int, 4> il{1, 2};
  EXPECT_EQ(values(il), (std::vector<int>{1, 2}));
  const small_vector<int, 4> two_ints(2, 5);  // (count, value), not an iterator pair
  EXPECT_EQ(values(two_ints), (std::vector<int>{5, 5}));
}

TEST(SmallVector, CopyAndMoveConstruct) {
  tracked_scope scope;
  for (int n : {0, 2, 4, 9}) {
    small_vector<tracked, 4> src;
    for (int i = 0; i < n; ++i) src.emplace_back(i);
    small_vector<tracked, 4> copy(src);
    EXPECT_EQ(values(copy), values(src));
    EXPECT_EQ(copy.capacity(), n > 4 ? static_cast<std::size_t>(n) : 4U);  // exact
    const bool was_inline = src.is_inline();
    const tracked* heap = src.data();
    small_vector<tracked, 4> moved(std::move(src));
    EXPECT_EQ(values(moved), values(copy));
    EXPECT_TRUE(src.empty());  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_EQ(moved.is_inline(), was_inline);
    if (!was_inline) {
      EXPECT_EQ(moved.data(), heap);  // the block was stolen
    }
    EXPECT_EQ(tracked::live, 2 * n);
  }
}

// ---- assignment ----------------------------------------------------------------------------

TEST(SmallVector, AssignForms) {
  small_vector<int, 4> v{1, 2, 3};
  v.assign(2, 9);
  EXPECT_EQ(values(v), (std::vector<int>{9, 9}));
  v.assign(7, 1);
  EXPECT_EQ(values(v), (std::vector<int>(7, 1)));
  const std::list<int> l{4, 5, 6};
  v.assign(l.begin(), l.end());
  EXPECT_EQ(values(v), (std::vector<int>{4, 5, 6}));
  v.assign({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  const int raw[] = {3, 2};
  v.assign(single_pass_it{raw}, single_pass_it{raw + 2});
  EXPECT_EQ(values(v), (std::vector<int>{3, 2}));
  v.assign_range(std::views::iota(0, 5));
  EXPECT_EQ(values(v), (std::vector<int>{0, 1, 2, 3, 4}));
  v = {8, 8};
  EXPECT_EQ(values(v), (std::vector<int>{8, 8}));
}

TEST(SmallVector, AssignAliasingSelf) {
  small_vector<std::string, 2> v{"a", "b", "c", "d"};
  v.assign(v.begin() + 1, v.end());  // a subrange of itself
  EXPECT_EQ(v, (small_vector<std::string, 2>{"b", "c", "d"}));
  v.assign(3, v[1]);  // value is an element
  EXPECT_EQ(v, (small_vector<std::string, 2>{"c", "c", "c"}));
  v.assign(10, v.back());  // reallocates while reading an element
  EXPECT_EQ(v.size(), 10U);
  EXPECT_TRUE(std::all_of(v.begin(), v.end(), [](const auto& s) { return s == "c"; }));
}

TEST(SmallVector, CopyAndMoveAssignAllPairings) {
  tracked_scope scope;
  for (int a : {0, 3, 7}) {
    for (int b : {0, 2, 9}) {
      small_vector<tracked, 4> x;
      small_vector<tracked, 4> y;
      for (int i = 0; i < a; ++i) x.emplace_back(i);
      for (int i = 0; i < b; ++i) y.emplace_back(100 + i);
      x = y;
      EXPECT_EQ(values(x), values(y));
      small_vector<tracked, 4> z;
      for (int i = 0; i < a; ++i) z.emplace_back(i);
      z = std::move(y);
      EXPECT_EQ(values(z), values(x));
      EXPECT_TRUE(y.empty());  // NOLINT(bugprone-use-after-move): documented state
      const auto& same = x;
      x = same;  // self copy-assignment
      EXPECT_EQ(values(x), values(z));
    }
  }
}

// ---- access and iteration -------------------------------------------------------------------

TEST(SmallVector, ElementAccess) {
  small_vector<int, 4> v{1, 2, 3};
  EXPECT_EQ(v.at(2), 3);
  EXPECT_THROW((void)v.at(3), std::out_of_range);
  const auto& c = v;
  EXPECT_THROW((void)c.at(10), std::out_of_range);
  EXPECT_EQ(c.at(0), 1);
  EXPECT_EQ(v[1], 2);
  EXPECT_EQ(v.front(), 1);
  EXPECT_EQ(v.back(), 3);
  EXPECT_EQ(v.data(), &v[0]);
  EXPECT_EQ(c.data(), &c.front());
  v.front() = 10;
  v.back() = 30;
  EXPECT_EQ(values(v), (std::vector<int>{10, 2, 30}));
}

TEST(SmallVector, Iterators) {
  small_vector<int, 2> v{1, 2, 3, 4};
  EXPECT_EQ(std::vector<int>(v.rbegin(), v.rend()), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(std::vector<int>(v.crbegin(), v.crend()), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(v.cend() - v.cbegin(), 4);
  const auto& c = v;
  EXPECT_EQ(*c.rbegin(), 4);
  EXPECT_EQ(c.end() - c.begin(), 4);
  int sum = 0;
  for (int x : v) sum += x;
  EXPECT_EQ(sum, 10);
}

// ---- capacity -------------------------------------------------------------------------------

TEST(SmallVector, ReserveAndShrinkBackInline) {
  small_vector<std::string, 4> v{"a", "b"};
  v.reserve(3);  // fits inline: no change
  EXPECT_TRUE(v.is_inline());
  v.reserve(100);
  EXPECT_FALSE(v.is_inline());
  EXPECT_EQ(v.capacity(), 100U);
  v.shrink_to_fit();  // size 2 <= N: back into the inline buffer
  EXPECT_TRUE(v.is_inline());
  EXPECT_TRUE(holds_inline(v));
  EXPECT_EQ(v, (small_vector<std::string, 4>{"a", "b"}));
  for (int i = 0; i < 10; ++i) v.push_back(std::to_string(i));
  v.shrink_to_fit();  // 12 > N: an exact heap block
  EXPECT_EQ(v.capacity(), 12U);
  EXPECT_EQ(v[11], "9");
  v.shrink_to_fit();  // already exact: no change
  EXPECT_EQ(v.capacity(), 12U);
}

TEST(SmallVector, LengthErrors) {
  small_vector<int, 4> v{1};
  EXPECT_THROW(v.reserve(v.max_size() + 1), std::length_error);
  EXPECT_THROW(v.resize(v.max_size() + 1), std::length_error);
  EXPECT_THROW(v.insert(v.begin(), v.max_size(), 0), std::length_error);
  EXPECT_THROW(v.assign(v.max_size() + 1, 0), std::length_error);
  EXPECT_EQ(values(v), (std::vector<int>{1}));
  small_vector<std::array<char, 1024>, 1> big;
  EXPECT_LE(big.max_size(), static_cast<std::size_t>(PTRDIFF_MAX) / 1024);
}

TEST(SmallVector, ClearKeepsCapacity) {
  small_vector<int, 2> v{1, 2, 3};
  const auto cap = v.capacity();
  v.clear();
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.capacity(), cap);
  EXPECT_FALSE(v.is_inline());
}

// ---- insertion ------------------------------------------------------------------------------

TEST(SmallVector, InsertForms) {
  for (std::size_t reserve : {0U, 64U}) {  // with and without reallocation
    small_vector<std::string, 4> v{"a", "b", "c"};
    v.reserve(reserve);
    const std::string x = "x";
    EXPECT_EQ(*v.insert(v.begin() + 1, x), "x");
    EXPECT_EQ(*v.insert(v.end(), std::string("y")), "y");
    EXPECT_EQ(*v.insert(v.begin(), 2, std::string("z")), "z");
    const std::list<std::string> l{"p", "q"};
    EXPECT_EQ(*v.insert(v.begin() + 3, l.begin(), l.end()), "p");
    EXPECT_EQ(*v.insert(v.end() - 1, {"m", "n"}), "m");
    EXPECT_EQ(*v.emplace(v.begin() + 2, 3, 'e'), "eee");
    const auto at = v.insert(v.begin(), 0, x);
    EXPECT_EQ(at, v.begin());
    EXPECT_EQ(v, (small_vector<std::string, 4>{"z", "z", "eee", "a", "p", "q", "x", "b", "c", "m",
                                               "n", "y"}));
  }
}

TEST(SmallVector, InsertRangesAndInputIterators) {
  small_vector<int, 4> v{1, 2};
  v.insert_range(v.begin() + 1, std::views::iota(10, 13));
  EXPECT_EQ(values(v), (std::vector<int>{1, 10, 11, 12, 2}));
  v.append_range(std::vector<int>{7, 8});
  EXPECT_EQ(values(v), (std::vector<int>{1, 10, 11, 12, 2, 7, 8}));
  const int raw[] = {5, 6};
  v.insert(v.begin(), single_pass_it{raw}, single_pass_it{raw + 2});
  EXPECT_EQ(values(v), (std::vector<int>{5, 6, 1, 10, 11, 12, 2, 7, 8}));
  std::istringstream in("3 4");
  v.insert(v.end(), std::istream_iterator<int>(in), std::istream_iterator<int>());
  EXPECT_EQ(v.back(), 4);
}

TEST(SmallVector, SelfInsertOfAnElement) {
  for (int n : {2, 4, 7, 8}) {  // 4 and 8 are full: the insertion reallocates
    small_vector<std::string, 4> v;
    std::vector<std::string> ref;
    for (int i = 0; i < n; ++i) {
      v.push_back(std::string(20, static_cast<char>('a' + i)));  // not SSO: a dangling
      ref.push_back(v.back());                                   // read would show
    }
    v.insert(v.begin(), v.back());
    ref.insert(ref.begin(), ref.back());
    v.push_back(v.front());
    ref.push_back(ref.front());
    v.insert(v.begin() + 1, 3, v[2]);
    ref.insert(ref.begin() + 1, 3, std::string(ref[2]));
    v.emplace(v.begin() + 2, v.back());
    ref.emplace(ref.begin() + 2, ref.back());
    EXPECT_TRUE(std::equal(v.begin(), v.end(), ref.begin(), ref.end())) << n;
  }
}

TEST(SmallVector, InsertRangeOfOwnElements) {
  for (int n : {2, 3, 5}) {
    small_vector<std::string, 6> v;
    for (int i = 0; i < n; ++i) v.push_back(std::string(20, static_cast<char>('a' + i)));
    std::vector<std::string> ref(v.begin(), v.end());
    const std::vector<std::string> copy(ref);
    v.insert(v.begin() + 1, v.begin(), v.end());  // all of itself, before its second element
    ref.insert(ref.begin() + 1, copy.begin(), copy.end());
    EXPECT_TRUE(std::equal(v.begin(), v.end(), ref.begin(), ref.end())) << n;
    v.insert(v.end(), v.rbegin(), v.rbegin() + 2);  // reverse iterators into itself
    ref.insert(ref.end(), {ref.back(), ref[ref.size() - 2]});
    EXPECT_TRUE(std::equal(v.begin(), v.end(), ref.begin(), ref.end())) << n;
  }
}

// ---- erasure --------------------------------------------------------------------------------

TEST(SmallVector, EraseAndPopBack) {
  tracked_scope scope;
  small_vector<tracked, 4> v{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(v.erase(v.begin() + 1)->value, 3);
  EXPECT_EQ(values(v), (std::vector<int>{1, 3, 4, 5, 6}));
  EXPECT_EQ(v.erase(v.begin() + 1, v.begin() + 3)->value, 5);
  EXPECT_EQ(values(v), (std::vector<int>{1, 5, 6}));
  const auto none = v.erase(v.begin(), v.begin());
  EXPECT_EQ(none, v.begin());
  const auto after_last = v.erase(v.end() - 1);
  EXPECT_EQ(after_last, v.end());
  v.pop_back();
  EXPECT_EQ(values(v), (std::vector<int>{1}));
  EXPECT_EQ(tracked::live, 1);
  const auto after_all = v.erase(v.begin(), v.end());
  EXPECT_EQ(after_all, v.end());
  EXPECT_TRUE(v.empty());
}

TEST(SmallVector, FreeEraseAndEraseIf) {
  small_vector<int, 4> v{1, 2, 3, 2, 5, 2};
  EXPECT_EQ(erase(v, 2), 3U);
  EXPECT_EQ(values(v), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(erase_if(v, [](int x) { return x > 2; }), 2U);
  EXPECT_EQ(values(v), (std::vector<int>{1}));
  using std::erase_if;  // the usual generic spelling finds ours by ADL
  EXPECT_EQ(erase_if(v, [](int) { return true; }), 1U);
  EXPECT_TRUE(v.empty());
}

// ---- resize ---------------------------------------------------------------------------------

TEST(SmallVector, ResizeBothForms) {
  small_vector<int, 4> v{1, 2};
  v.resize(5);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 0, 0, 0}));
  v.resize(1);
  EXPECT_EQ(values(v), (std::vector<int>{1}));
  v.resize(3, 9);
  EXPECT_EQ(values(v), (std::vector<int>{1, 9, 9}));
  v.resize(9, v[0]);  // value is an element; reallocates
  EXPECT_EQ(values(v), (std::vector<int>{1, 9, 9, 1, 1, 1, 1, 1, 1}));
  v.resize(0);
  EXPECT_TRUE(v.empty());
}

// ---- swap -----------------------------------------------------------------------------------

TEST(SmallVector, SwapEveryPairing) {
  tracked_scope scope;
  for (int a : {0, 1, 3, 4, 6, 11}) {
    for (int b : {0, 2, 4, 5, 9}) {
      small_vector<tracked, 4> x;
      small_vector<tracked, 4> y;
      for (int i = 0; i < a; ++i) x.emplace_back(i);
      for (int i = 0; i < b; ++i) y.emplace_back(100 + i);
      const auto vx = values(x);
      const auto vy = values(y);
      const bool x_inline = x.is_inline();
      const bool y_inline = y.is_inline();
      swap(x, y);
      EXPECT_EQ(values(x), vy);
      EXPECT_EQ(values(y), vx);
      EXPECT_EQ(x.is_inline(), y_inline);
      EXPECT_EQ(y.is_inline(), x_inline);
      x.swap(x);
      EXPECT_EQ(values(x), vy);
      EXPECT_EQ(tracked::live, a + b);
    }
  }
}

// ---- comparison -----------------------------------------------------------------------------

TEST(SmallVector, Comparison) {
  const small_vector<int, 4> a{1, 2, 3};
  const small_vector<int, 2> b{1, 2, 3};
  const small_vector<int, 4> c{1, 2, 4};
  const small_vector<int, 4> d{1, 2};
  EXPECT_TRUE(a == b);  // different inline capacities
  EXPECT_FALSE(a != b);
  EXPECT_TRUE(a < c);
  EXPECT_TRUE(d < a);
  EXPECT_TRUE(c > d);
  EXPECT_EQ(a <=> b, std::strong_ordering::equal);
  EXPECT_EQ(a <=> c, std::strong_ordering::less);
  struct only_less {
    int v;
    bool operator<(const only_less& o) const { return v < o.v; }
  };
  const small_vector<only_less, 2> x{{1}, {2}};
  const small_vector<only_less, 2> y{{1}, {3}};
  EXPECT_EQ(x <=> y, std::weak_ordering::less);
}

// ---- element types --------------------------------------------------------------------------

TEST(SmallVector, MoveOnlyElements) {
  small_vector<std::unique_ptr<int>, 2> v;
  for (int i = 0; i < 5; ++i) v.push_back(std::make_unique<int>(i));
  v.emplace(v.begin(), std::make_unique<int>(-1));
  v.insert(v.begin() + 2, std::make_unique<int>(42));
  v.erase(v.begin() + 1);
  small_vector<std::unique_ptr<int>, 2> w(std::move(v));
  small_vector<std::unique_ptr<int>, 2> small;
  small.push_back(std::make_unique<int>(7));
  swap(w, small);
  EXPECT_EQ(*w[0], 7);
  EXPECT_EQ(*small[0], -1);
  EXPECT_EQ(*small[1], 42);
  small.resize(2);
  small.shrink_to_fit();
  EXPECT_TRUE(small.is_inline());
  EXPECT_EQ(*small[1], 42);
  w = std::move(small);
  EXPECT_EQ(*w[0], -1);
}

struct alignas(64) over_aligned {
  int v = 0;
};

TEST(SmallVector, OverAlignedElements) {
  small_vector<over_aligned, 2> v;
  static_assert(alignof(small_vector<over_aligned, 2>) == 64);
  v.push_back({1});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % 64, 0U);
  for (int i = 0; i < 9; ++i) v.push_back({i});
  EXPECT_FALSE(v.is_inline());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % 64, 0U);
  v.resize(1);
  v.shrink_to_fit();
  EXPECT_TRUE(v.is_inline());
  EXPECT_EQ(v[0].v, 1);
}

TEST(SmallVector, NonTrivialElementsDoNotLeak) {
  tracked_scope scope;
  {
    small_vector<tracked, 3> v;
    for (int i = 0; i < 20; ++i) v.emplace_back(i);
    v.insert(v.begin() + 5, 7, tracked(1));
    v.erase(v.begin(), v.begin() + 10);
    v.resize(4);
    v.shrink_to_fit();
    v.assign(12, tracked(3));
    EXPECT_EQ(tracked::live, 12);
  }
}

// ---- exception guarantees -------------------------------------------------------------------

template <class E>
void expect_strong_push_back(int n) {
  tracked_scope scope;
  small_vector<E, 4> v;
  for (int i = 0; i < n; ++i) v.emplace_back(i);
  const auto before = values(v);
  const auto cap = v.capacity();
  const E extra(99);
  for (int k = 1; k <= n + 1; ++k) {  // throw on the k-th copy, wherever it falls
    tracked::copies_until_throw = k;
    try {
      v.push_back(extra);
    } catch (const std::runtime_error&) {
      EXPECT_EQ(values(v), before) << "k=" << k;
      EXPECT_EQ(v.capacity(), cap);
    }
    tracked::copies_until_throw = -1;
    if (v.size() > before.size()) {
      v.pop_back();
      v.shrink_to_fit();
    }
    EXPECT_EQ(tracked::live, n + 1);
  }
}

TEST(SmallVector, PushBackStrongGuarantee) {
  for (int n : {0, 3, 4, 8}) {
    expect_strong_push_back<tracked>(n);
    expect_strong_push_back<copy_on_grow>(n);  // reallocation copies: those throw too
  }
}

TEST(SmallVector, ReserveAndInsertStrongGuarantee) {
  tracked_scope scope;
  small_vector<copy_on_grow, 2> v;
  for (int i = 0; i < 5; ++i) v.emplace_back(i);
  const auto before = values(v);
  tracked::copies_until_throw = 3;
  EXPECT_THROW(v.reserve(64), std::runtime_error);  // relocation copies, the third throws
  EXPECT_EQ(values(v), before);
  small_vector<tracked, 8> w{1, 2, 3};
  const tracked x(9);
  tracked::copies_until_throw = 2;
  EXPECT_THROW(w.insert(w.begin() + 1, 3, x), std::runtime_error);
  EXPECT_EQ(values(w), (std::vector<int>{1, 2, 3}));
  tracked::copies_until_throw = 2;
  EXPECT_THROW(w.resize(6, x), std::runtime_error);
  EXPECT_EQ(values(w), (std::vector<int>{1, 2, 3}));
  tracked::copies_until_throw = 1;
  EXPECT_THROW(w.emplace(w.begin(), x), std::runtime_error);
  EXPECT_EQ(values(w), (std::vector<int>{1, 2, 3}));
}

TEST(SmallVector, ConstructorThrowDoesNotLeak) {
  tracked_scope scope;
  const std::vector<tracked> src{1, 2, 3, 4, 5, 6};
  for (int k = 1; k <= 6; ++k) {
    tracked::copies_until_throw = k;
    EXPECT_THROW((small_vector<tracked, 4>(src.begin(), src.end())), std::runtime_error);
    tracked::copies_until_throw = k;
    EXPECT_THROW((small_vector<tracked, 4>(6, src[0])), std::runtime_error);
  }
  tracked::copies_until_throw = -1;
  EXPECT_EQ(tracked::live, 6);
}

#if FERRITE_DEBUG
TEST(SmallVectorDeathTest, DebugAssertsCatchMisuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  small_vector<int, 2> v{1, 2, 3};
  EXPECT_DEATH((void)v[3], "index out of range");
  small_vector<int, 2> empty;
  EXPECT_DEATH(empty.pop_back(), "pop_back on empty");
  small_vector<int, 2> other{4};
  EXPECT_DEATH(v.insert(other.begin(), 5), "iterator not in range");
}
#endif

// ---- allocators ------------------------------------------------------------------------------

/// A memory_resource counting its allocations.
class counting_resource : public std::pmr::memory_resource {
 public:
  int allocations = 0;
  int live = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    ++allocations;
    ++live;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    --live;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

TEST(SmallVector, PmrAllocatesFromItsResource) {
  counting_resource r1;
  counting_resource r2;
  {
    ferrite::mem::pmr::small_vector<int, 4> v(&r1);
    for (int i = 0; i < 4; ++i) v.push_back(i);
    EXPECT_EQ(r1.allocations, 0);  // inline: no allocation
    v.push_back(4);
    EXPECT_EQ(r1.allocations, 1);
    ferrite::mem::pmr::small_vector<int, 4> same(std::move(v), &r1);  // steals
    EXPECT_EQ(r1.allocations, 1);
    ferrite::mem::pmr::small_vector<int, 4> other(std::move(same), &r2);  // copies over
    EXPECT_EQ(r2.allocations, 1);
    EXPECT_EQ(values(other), (std::vector<int>{0, 1, 2, 3, 4}));
    ferrite::mem::pmr::small_vector<int, 4> w(&r1);
    w = std::move(other);  // unequal, non-propagating: element-wise into r1
    EXPECT_EQ(w.get_allocator().resource(), &r1);
    EXPECT_EQ(values(w), (std::vector<int>{0, 1, 2, 3, 4}));
    const auto copy(w);  // pmr's copy uses the default resource
    EXPECT_EQ(copy.get_allocator().resource(), std::pmr::get_default_resource());
  }
  EXPECT_EQ(r1.live, 0);
  EXPECT_EQ(r2.live, 0);
}

TEST(SmallVector, PmrElementsGetTheResource) {
  counting_resource r;
  ferrite::mem::pmr::small_vector<std::pmr::string, 2> v(&r);
  v.emplace_back(40, 'x');  // uses-allocator construction through the vector's allocator
  EXPECT_EQ(v[0].get_allocator().resource(), &r);
  EXPECT_EQ(r.allocations, 1);
}

/// A stateful allocator that propagates on every operation, with an id.
template <class T>
struct tagged_alloc {
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  int id = 0;
  static inline int live = 0;
  tagged_alloc() = default;
  explicit tagged_alloc(int i) : id(i) {}
  template <class U>
  tagged_alloc(const tagged_alloc<U>& o) : id(o.id) {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) {
    ++live;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    --live;
    std::allocator<T>().deallocate(p, n);
  }
  bool operator==(const tagged_alloc& o) const { return id == o.id; }
};

TEST(SmallVector, PropagatingAllocator) {
  using vec = small_vector<std::string, 2, tagged_alloc<std::string>>;
  {
    vec a(tagged_alloc<std::string>(1));
    vec b(tagged_alloc<std::string>(2));
    a.assign({"a", "b", "c"});
    b.assign({"x"});
    a = b;  // copy-propagates: a's old block is freed with allocator 1 first
    EXPECT_EQ(a.get_allocator().id, 2);
    vec c(tagged_alloc<std::string>(3));
    c.assign({"p", "q", "r", "s"});
    a = std::move(c);
    EXPECT_EQ(a.get_allocator().id, 3);
    EXPECT_EQ(a.size(), 4U);
    swap(a, b);
    EXPECT_EQ(a.get_allocator().id, 2);
    EXPECT_EQ(b.get_allocator().id, 3);
    EXPECT_EQ(b.size(), 4U);
  }
  EXPECT_EQ(tagged_alloc<std::string>::live, 0);
}

}  // namespace
