// SPDX-License-Identifier: Apache-2.0
// Tests of inline_vector<T, N>: every member, constant evaluation with int, the capacity
// failures (bad_alloc with the state unchanged, nullptr from try_), a counting element type
// whose live count must return to zero, a throwing element type for the exception
// guarantees, move-only elements, N == 0, swap, comparisons and erase/erase_if.
#include "ferrite/mem/inline_vector.hpp"

#include <gtest/gtest.h>

#include <array>
#include <compare>
#include <list>
#include <memory>
#include <new>
#include <ranges>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "single_pass_iterator.hpp"

namespace {

using ferrite::mem::inline_vector;
using ferrite::mem::test::single_pass_it;

// ---- compile-time properties ------------------------------------------------------------

static_assert(sizeof(inline_vector<char, 15>) == 16, "15 chars + a one-byte size");
static_assert(sizeof(inline_vector<char, 255>) == 256);
static_assert(sizeof(inline_vector<std::uint16_t, 300>) == 602);
// The size widens to alignof(T) where that costs nothing: int elements get a 32-bit size.
static_assert(sizeof(inline_vector<int, 8>) == 36);
static_assert(sizeof(inline_vector<std::uint64_t, 3>) == 32);
static_assert(std::is_trivially_copyable_v<inline_vector<int, 4>>);
static_assert(std::is_trivially_destructible_v<inline_vector<int, 4>>);
static_assert(!std::is_trivially_copyable_v<inline_vector<std::string, 4>>);
static_assert(std::is_nothrow_move_constructible_v<inline_vector<std::string, 4>>);
static_assert(inline_vector<int, 7>::capacity() == 7 && inline_vector<int, 7>::max_size() == 7);
static_assert(std::contiguous_iterator<inline_vector<int, 3>::iterator>);
static_assert(std::ranges::contiguous_range<inline_vector<std::string, 3>>);

consteval int constexpr_sum() {
  inline_vector<int, 8> v{1, 2, 3};
  v.push_back(4);
  v.emplace_back(5);
  v.insert(v.begin(), 0);
  v.erase(v.begin() + 1);         // 0 2 3 4 5
  v.insert(v.begin() + 1, 2, 9);  // 0 9 9 2 3 4 5
  v.pop_back();
  int sum = 0;
  for (int x : v) sum += x;
  return sum + static_cast<int>(v.size()) * 100;  // 27 + 600
}
static_assert(constexpr_sum() == 627);

consteval bool constexpr_try_and_compare() {
  inline_vector<int, 2> v;
  const bool ok = v.try_push_back(1) != nullptr && v.try_push_back(2) != nullptr &&
                  v.try_push_back(3) == nullptr;
  inline_vector<int, 2> w{1, 3};
  return ok && v < w && v != w && (v <=> w) == std::strong_ordering::less;
}
static_assert(constexpr_try_and_compare());

constexpr inline_vector<int, 4> table{10, 20, 30};
static_assert(table.size() == 3 && table[2] == 30 && table.back() == 30);

// ---- instrumented element types ---------------------------------------------------------

// Counts live objects; can be told to throw from its k-th copy/construction.
struct counted {
  static inline int live = 0;
  static inline int throw_countdown = -1;  // throws when it reaches 0; -1: never
  int value = 0;

  static void maybe_throw() {
    if (throw_countdown >= 0 && throw_countdown-- == 0) throw std::runtime_error("boom");
  }
  counted() {
    maybe_throw();
    ++live;
  }
  counted(int v) : value(v) {  // NOLINT: implicit on purpose, for brevity in tests
    maybe_throw();
    ++live;
  }
  counted(const counted& o) : value(o.value) {
    maybe_throw();
    ++live;
  }
  counted(counted&& o) noexcept : value(o.value) { ++live; }
  counted& operator=(const counted& o) {
    maybe_throw();
    value = o.value;
    return *this;
  }
  counted& operator=(counted&&) noexcept = default;
  ~counted() { --live; }
  friend bool operator==(const counted& a, const counted& b) { return a.value == b.value; }
  friend auto operator<=>(const counted& a, const counted& b) { return a.value <=> b.value; }
};

class CountedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    counted::live = 0;
    counted::throw_countdown = -1;
  }
  void TearDown() override {
    counted::throw_countdown = -1;
    EXPECT_EQ(counted::live, 0) << "leaked or double-destroyed elements";
  }
};

template <class V>
std::vector<int> values(const V& v) {
  std::vector<int> out;
  for (const auto& x : v) out.push_back(static_cast<int>(x.value));
  return out;
}

// ---- construction and access ------------------------------------------------------------

TEST(InlineVector, ConstructorsAndAccess) {
  inline_vector<int, 5> a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.size(), 0U);
  inline_vector<int, 5> b(3);
  EXPECT_EQ(b.size(), 3U);
  EXPECT_EQ(b[0], 0);
  inline_vector<int, 5> c(2, 7);
  EXPECT_EQ(c.size(), 2U);
  EXPECT_EQ(c[1], 7);
  const std::list<int> l{4, 5, 6};
  inline_vector<int, 5> d(l.begin(), l.end());
  EXPECT_EQ(d.front(), 4);
  EXPECT_EQ(d.back(), 6);
  EXPECT_EQ(d.at(1), 5);
  EXPECT_THROW((void)d.at(3), std::out_of_range);
  EXPECT_EQ(*d.data(), 4);
  inline_vector<int, 5> e{1, 2, 3, 4, 5};
  EXPECT_TRUE(e.full());
  EXPECT_EQ(e.remaining(), 0U);
  EXPECT_THROW((inline_vector<int, 2>{1, 2, 3}), std::bad_alloc);
  EXPECT_THROW((inline_vector<int, 2>(3)), std::bad_alloc);
  EXPECT_THROW((inline_vector<int, 2>(l.begin(), l.end())), std::bad_alloc);
}

TEST(InlineVector, Iterators) {
  inline_vector<int, 4> v{1, 2, 3};
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(std::vector<int>(v.rbegin(), v.rend()), (std::vector<int>{3, 2, 1}));
  const auto& cv = v;
  EXPECT_EQ(std::vector<int>(cv.crbegin(), cv.crend()), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(cv.cend() - cv.cbegin(), 3);
}

TEST(InlineVector, AssignVariants) {
  inline_vector<int, 4> v{1, 2, 3};
  v.assign(2, 9);
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{9, 9}));
  v.assign({4, 5, 6, 7});
  EXPECT_EQ(v.size(), 4U);
  v.assign(3, v[3]);  // aliasing an element is allowed
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{7, 7, 7}));
  EXPECT_THROW(v.assign(5, 1), std::bad_alloc);
  EXPECT_THROW(v.assign({1, 2, 3, 4, 5}), std::bad_alloc);
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{7, 7, 7})) << "unchanged";
  std::istringstream in("1 2 3");
  v.assign(std::istream_iterator<int>(in), std::istream_iterator<int>());
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{1, 2, 3}));
  v = {8};
  EXPECT_EQ(v.size(), 1U);
}

// ---- capacity failures -------------------------------------------------------------------

TEST_F(CountedTest, PushBackWhenFullThrowsAndLeavesStateUnchanged) {
  inline_vector<counted, 3> v{1, 2, 3};
  EXPECT_THROW(v.push_back(counted(4)), std::bad_alloc);
  EXPECT_THROW(v.emplace_back(4), std::bad_alloc);
  EXPECT_THROW(v.insert(v.begin(), counted(0)), std::bad_alloc);
  EXPECT_THROW(v.insert(v.begin(), 1, counted(0)), std::bad_alloc);
  const std::array<counted, 1> one{counted(0)};
  EXPECT_THROW(v.insert(v.begin(), one.begin(), one.end()), std::bad_alloc);
  EXPECT_THROW(v.resize(4), std::bad_alloc);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(counted::live, 4);  // 3 + the array
}

TEST_F(CountedTest, InputRangeOverflowRollsBack) {
  inline_vector<counted, 4> v{1, 2};
  std::istringstream in("7 8 9");
  std::vector<counted> src;
  for (std::istream_iterator<int> it(in), end; it != end; ++it) src.emplace_back(*it);
  // An input-only view over src: the overflow is found on the third element.
  EXPECT_THROW(v.insert(v.begin() + 1, single_pass_it{src.data()}, single_pass_it{src.data() + 3}),
               std::bad_alloc);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2}));
  v.insert(v.begin() + 1, single_pass_it{src.data()}, single_pass_it{src.data() + 2});
  EXPECT_EQ(values(v), (std::vector<int>{1, 7, 8, 2}));
}

TEST(InlineVector, TryPushBackReturnsNullptrWhenFull) {
  inline_vector<std::string, 2> v;
  ASSERT_NE(v.try_push_back("a"), nullptr);
  std::string* p = v.try_emplace_back(3, 'b');
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, "bbb");
  std::string keep = "kept";
  EXPECT_EQ(v.try_push_back(std::move(keep)), nullptr);
  EXPECT_EQ(keep, "kept") << "argument not consumed on failure";
  EXPECT_EQ(v.size(), 2U);
}

TEST(InlineVector, UncheckedPushBack) {
  inline_vector<int, 2> v;
  v.unchecked_push_back(1);
  EXPECT_EQ(v.unchecked_emplace_back(2), 2);
  EXPECT_TRUE(v.full());
}

// ---- modifiers ---------------------------------------------------------------------------

TEST_F(CountedTest, InsertEmplaceErase) {
  inline_vector<counted, 8> v{1, 2, 3};
  auto it = v.emplace(v.begin() + 1, 10);
  EXPECT_EQ(it->value, 10);
  EXPECT_EQ(values(v), (std::vector<int>{1, 10, 2, 3}));
  v.insert(v.begin(), v.back());  // aliasing an element
  EXPECT_EQ(values(v), (std::vector<int>{3, 1, 10, 2, 3}));
  it = v.insert(v.end() - 1, 2, counted(7));
  EXPECT_EQ(it - v.begin(), 4);
  EXPECT_EQ(values(v), (std::vector<int>{3, 1, 10, 2, 7, 7, 3}));
  it = v.erase(v.begin() + 2);
  EXPECT_EQ(it->value, 2);
  it = v.erase(v.begin() + 1, v.begin() + 4);
  EXPECT_EQ(values(v), (std::vector<int>{3, 7, 3}));
  EXPECT_EQ(it->value, 7);
  it = v.insert(v.begin() + 1, {counted(5), counted(6)});
  EXPECT_EQ(values(v), (std::vector<int>{3, 5, 6, 7, 3}));
  it = v.erase(v.end() - 1, v.end());
  EXPECT_EQ(it, v.end());
  EXPECT_EQ(v.erase(v.begin(), v.begin()), v.begin());
  EXPECT_EQ(counted::live, 4);
  v.clear();
  EXPECT_EQ(counted::live, 0);
}

TEST_F(CountedTest, ThrowingConstructorsGiveStrongGuarantee) {
  inline_vector<counted, 8> v{1, 2, 3};
  counted::throw_countdown = 1;  // the second copy throws
  EXPECT_THROW(v.insert(v.begin(), 3, v[0]), std::runtime_error);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3}));
  counted::throw_countdown = 2;
  EXPECT_THROW(v.resize(7), std::runtime_error);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3}));
  counted::throw_countdown = 0;
  EXPECT_THROW(v.emplace(v.begin(), 5), std::runtime_error);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3}));
  counted::throw_countdown = 0;
  EXPECT_THROW(v.push_back(v[0]), std::runtime_error);
  EXPECT_EQ(values(v), (std::vector<int>{1, 2, 3}));
  counted::throw_countdown = 2;
  EXPECT_THROW((inline_vector<counted, 8>(v)), std::runtime_error);
}

TEST_F(CountedTest, ResizeAndPopBack) {
  inline_vector<counted, 6> v;
  v.resize(3);
  EXPECT_EQ(counted::live, 3);
  v.resize(5, counted(9));
  EXPECT_EQ(values(v), (std::vector<int>{0, 0, 0, 9, 9}));
  v.resize(2);
  EXPECT_EQ(counted::live, 2);
  v.pop_back();
  EXPECT_EQ(values(v), (std::vector<int>{0}));
}

TEST_F(CountedTest, CopyMoveAndDestructionBalance) {
  {
    inline_vector<counted, 4> a{1, 2, 3};
    inline_vector<counted, 4> b(a);
    EXPECT_EQ(a, b);
    inline_vector<counted, 4> c(std::move(a));
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
    EXPECT_EQ(c, b);
    a = c;
    a.push_back(4);
    b = a;
    EXPECT_EQ(values(b), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_LT(c, b);
    c = std::move(b);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
    auto& alias = c;
    c = alias;  // self-assignment
    EXPECT_EQ(values(c), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(counted::live, 8);
  }
  EXPECT_EQ(counted::live, 0);
}

TEST(InlineVector, MoveOnlyElements) {
  inline_vector<std::unique_ptr<int>, 4> v;
  v.push_back(std::make_unique<int>(1));
  v.emplace_back(std::make_unique<int>(3));
  v.emplace(v.begin() + 1, std::make_unique<int>(2));
  v.insert(v.begin(), std::make_unique<int>(0));
  EXPECT_EQ(*v[0] + *v[1] + *v[2] + *v[3], 6);
  auto w = std::move(v);
  EXPECT_TRUE(v.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(*w[3], 3);
  w.erase(w.begin());
  EXPECT_EQ(*w.front(), 1);
  v.swap(w);
  EXPECT_EQ(v.size(), 3U);
  EXPECT_TRUE(w.empty());
}

TEST(InlineVector, ZeroCapacity) {
  inline_vector<std::string, 0> v;
  static_assert(sizeof(v) == 1);
  static_assert(decltype(v)::capacity() == 0);
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.full());
  EXPECT_EQ(v.begin(), v.end());
  EXPECT_EQ(v.try_push_back("x"), nullptr);
  EXPECT_THROW(v.push_back("x"), std::bad_alloc);
  inline_vector<std::string, 0> w;
  EXPECT_EQ(v, w);
  v.swap(w);
  v.clear();
  inline_vector<int, 0> z{};
  EXPECT_EQ(z.data(), nullptr);
}

TEST_F(CountedTest, SwapDifferentSizes) {
  inline_vector<counted, 5> a{1, 2, 3, 4};
  inline_vector<counted, 5> b{9};
  a.swap(b);
  EXPECT_EQ(values(a), (std::vector<int>{9}));
  EXPECT_EQ(values(b), (std::vector<int>{1, 2, 3, 4}));
  swap(a, b);
  EXPECT_EQ(values(a), (std::vector<int>{1, 2, 3, 4}));
  a.swap(a);
  EXPECT_EQ(values(a), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(counted::live, 5);
}

struct only_less {
  int v;
  friend bool operator<(const only_less& a, const only_less& b) { return a.v < b.v; }
};

TEST(InlineVector, Comparisons) {
  inline_vector<int, 4> a{1, 2, 3};
  inline_vector<int, 4> b{1, 2, 4};
  inline_vector<int, 4> c{1, 2};
  EXPECT_EQ(a, a);
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_GT(a, c);
  EXPECT_EQ(a <=> a, std::strong_ordering::equal);
  inline_vector<only_less, 2> x{{1}};
  inline_vector<only_less, 2> y{{2}};
  EXPECT_EQ(x <=> y, std::weak_ordering::less);
  inline_vector<double, 2> d{1.0};
  EXPECT_EQ(d <=> d, std::partial_ordering::equivalent);
}

TEST(InlineVector, EraseAndEraseIf) {
  inline_vector<int, 8> v{1, 2, 3, 2, 5, 2};
  EXPECT_EQ(erase(v, 2), 3U);
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(erase_if(v, [](int x) { return x > 2; }), 2U);
  EXPECT_EQ(v.size(), 1U);
  EXPECT_EQ(erase_if(v, [](int) { return false; }), 0U);
}

TEST(InlineVector, InsertAndAppendRange) {
  inline_vector<int, 6> v{1, 5};
  const std::list<int> mid{2, 3, 4};
  auto it = v.insert_range(v.begin() + 1, mid);
  EXPECT_EQ(*it, 2);
  v.append_range(std::vector<int>{6});
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_THROW(v.append_range(std::vector<int>{7}), std::bad_alloc);
  v.resize(2);
  std::istringstream in("8 9 10 11 12");
  EXPECT_THROW(v.append_range(std::ranges::istream_view<int>(in)), std::bad_alloc);
  EXPECT_EQ(std::vector<int>(v.begin(), v.end()), (std::vector<int>{1, 2})) << "rolled back";
}

TEST(InlineVector, TrivialCopyOfPartlyFilledVector) {
  inline_vector<int, 8> a{1, 2};
  inline_vector<int, 8> b = a;
  EXPECT_EQ(a, b);
  b.push_back(3);
  a = b;
  EXPECT_EQ(a.size(), 3U);
  inline_vector<int, 8> c = std::move(b);
  EXPECT_EQ(c, a);
}

TEST(InlineVector, LargeCapacityUsesWiderSize) {
  inline_vector<std::uint8_t, 70000> v(70000, std::uint8_t{1});
  EXPECT_EQ(v.size(), 70000U);
  EXPECT_TRUE(v.full());
  static_assert(sizeof(v) == 70000 + 4);
}

}  // namespace
