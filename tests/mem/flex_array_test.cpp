// SPDX-License-Identifier: Apache-2.0
// Tests of flex_layout and flex_array: the offset/alignment/size arithmetic for several
// header and element types (over-aligned elements, n == 0, headers larger than the
// alignment), overflow of the size (throws, allocates nothing), construction and
// destruction counts and order, a throw from the k-th element constructor (nothing leaks:
// the ASan build checks), and a counting memory_resource that must see exactly one
// allocation of the computed size and alignment.
#include "ferrite/mem/flex_array.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <list>
#include <memory_resource>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using ferrite::mem::flex_array;
using ferrite::mem::flex_layout;
using ferrite::mem::pmr_flex_array;

// ---- layout arithmetic ------------------------------------------------------------------

struct hdr {  // the layout example of the header comment
  std::uint32_t len;
  std::uint16_t kind;
};
struct tag {
  std::uint16_t kind;
  std::uint8_t flags;
};
struct alignas(64) line {
  std::uint64_t words[8];
};
struct big_header {
  char name[100];
};
struct empty_header {};

using hdr_u64 = flex_layout<hdr, std::uint64_t>;
static_assert(hdr_u64::header_size == 8 && hdr_u64::alignment == 8);
static_assert(hdr_u64::elements_offset == 8 && hdr_u64::padding == 0);
static_assert(hdr_u64::allocation_size(0) == 8 && hdr_u64::allocation_size(3) == 32);

using tag_u64 = flex_layout<tag, std::uint64_t>;
static_assert(tag_u64::header_size == 4 && tag_u64::elements_offset == 8);
static_assert(tag_u64::padding == 4 && tag_u64::allocation_size(2) == 24);

using tag_line = flex_layout<tag, line>;
static_assert(tag_line::alignment == 64 && tag_line::elements_offset == 64);
static_assert(tag_line::allocation_size(0) == 64 && tag_line::allocation_size(2) == 192);

using big_u32 = flex_layout<big_header, std::uint32_t>;
static_assert(big_u32::alignment == 4 && big_u32::elements_offset == 100);
static_assert(big_u32::allocation_size(1) == 104);

using big_u64 = flex_layout<big_header, std::uint64_t>;
static_assert(big_u64::elements_offset == 104 && big_u64::padding == 4);

using u64_char = flex_layout<std::uint64_t, char>;  // size rounded up to the header's 8
static_assert(u64_char::alignment == 8 && u64_char::elements_offset == 8);
static_assert(u64_char::allocation_size(1) == 16 && u64_char::allocation_size(8) == 16);

using empty_char = flex_layout<empty_header, char>;
static_assert(empty_char::elements_offset == 1 && empty_char::allocation_size(3) == 4);

constexpr std::size_t max = std::numeric_limits<std::size_t>::max();
static_assert(!hdr_u64::allocation_size(max / 8).has_value());
static_assert(!hdr_u64::allocation_size(max).has_value());
static_assert(hdr_u64::allocation_size(hdr_u64::max_elements()).has_value());
static_assert(!hdr_u64::allocation_size(hdr_u64::max_elements() + 1).has_value());
static_assert(tag_line::allocation_size(tag_line::max_elements()).has_value());
static_assert(!tag_line::allocation_size(tag_line::max_elements() + 1).has_value());
static_assert(u64_char::allocation_size(u64_char::max_elements()).has_value());
static_assert(!u64_char::allocation_size(u64_char::max_elements() + 1).has_value());

static_assert(sizeof(flex_array<hdr, int>) == 2 * sizeof(void*), "empty allocator: no room");
static_assert(!std::is_copy_constructible_v<flex_array<hdr, int>>);
static_assert(std::is_nothrow_move_constructible_v<flex_array<hdr, int>>);
static_assert(std::is_nothrow_move_assignable_v<pmr_flex_array<hdr, int>>);

// ---- instruments ------------------------------------------------------------------------

// A memory_resource that records every call and forwards to new_delete_resource.
class recording_resource : public std::pmr::memory_resource {
 public:
  struct call {
    std::size_t bytes;
    std::size_t alignment;
  };
  std::vector<call> allocations;
  std::vector<call> deallocations;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    allocations.push_back({bytes, alignment});
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    deallocations.push_back({bytes, alignment});
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

// Counts live objects and records destruction order; throws from the k-th construction.
struct tracked {
  static inline int live = 0;
  static inline int throw_countdown = -1;
  static inline std::vector<int> destroyed;
  int id = -1;

  static void maybe_throw() {
    if (throw_countdown >= 0 && throw_countdown-- == 0) throw std::runtime_error("boom");
  }
  tracked() {
    maybe_throw();
    ++live;
  }
  explicit tracked(int i) : id(i) {
    maybe_throw();
    ++live;
  }
  tracked(const tracked& o) : id(o.id) {
    maybe_throw();
    ++live;
  }
  tracked& operator=(const tracked&) = default;
  ~tracked() {
    --live;
    destroyed.push_back(id);
  }
};

struct tracked_header {
  static inline int live = 0;
  static inline bool throw_next = false;
  std::string name;
  explicit tracked_header(std::string n) : name(std::move(n)) {
    if (std::exchange(throw_next, false)) throw std::runtime_error("header boom");
    ++live;
  }
  tracked_header(const tracked_header&) = delete;
  tracked_header& operator=(const tracked_header&) = delete;
  ~tracked_header() { --live; }
};

class FlexArrayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tracked::live = 0;
    tracked::throw_countdown = -1;
    tracked::destroyed.clear();
    tracked_header::live = 0;
    tracked_header::throw_next = false;
  }
  void TearDown() override {
    EXPECT_EQ(tracked::live, 0);
    EXPECT_EQ(tracked_header::live, 0);
    EXPECT_EQ(rec_.allocations.size(), rec_.deallocations.size()) << "leaked block";
  }
  recording_resource rec_;
  using pmr_tracked = pmr_flex_array<tracked_header, tracked>;
};

// ---- construction -----------------------------------------------------------------------

TEST_F(FlexArrayTest, CreateValueInitializesAndAddressesAreAligned) {
  auto a = flex_array<hdr, std::uint64_t>::create(5, 5U, std::uint16_t{7});
  ASSERT_TRUE(a);
  EXPECT_EQ(a.header().len, 5U);
  EXPECT_EQ(a.header().kind, 7);
  EXPECT_EQ(a.size(), 5U);
  for (std::uint64_t x : a) EXPECT_EQ(x, 0U);
  const auto* base = a.bytes();
  EXPECT_EQ(reinterpret_cast<const std::byte*>(&a.header()), base);
  EXPECT_EQ(reinterpret_cast<const std::byte*>(a.data()), base + 8);
  EXPECT_EQ(a.allocation_size(), 48U);
  a[4] = 9;
  EXPECT_EQ(a.span().back(), 9U);

  auto b = flex_array<tag, line>::create(3);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.bytes()) % 64, 0U);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0U);
  EXPECT_EQ(reinterpret_cast<const std::byte*>(b.data()) - b.bytes(), 64);
  EXPECT_EQ(b[2].words[7], 0U);
}

TEST_F(FlexArrayTest, EmptyArray) {
  auto a = flex_array<big_header, std::uint64_t>::create(0);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.span().size(), 0U);
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(a.allocation_size(), 104U);
  a.header().name[99] = 'x';
  flex_array<big_header, std::uint64_t> none;
  EXPECT_FALSE(none);
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_TRUE(none.span().empty());
}

TEST_F(FlexArrayTest, GenerateAndFromRange) {
  auto sq = flex_array<int, std::uint64_t>::generate(
      4, [](std::size_t i) { return std::uint64_t{i * i}; }, 42);
  EXPECT_EQ(sq.header(), 42);
  EXPECT_EQ(std::vector<std::uint64_t>(sq.begin(), sq.end()),
            (std::vector<std::uint64_t>{0, 1, 4, 9}));
  const std::list<std::string> words{"a", "bb", "ccc"};
  auto w = flex_array<std::size_t, std::string>::from_range(words, words.size());
  EXPECT_EQ(w.header(), 3U);
  EXPECT_EQ(w[2], "ccc");
  auto e = flex_array<int, int>::from_range(std::vector<int>{}, 1);
  EXPECT_TRUE(e.empty());
}

// ---- destruction, ownership -------------------------------------------------------------

TEST_F(FlexArrayTest, DestroysElementsInReverseThenHeader) {
  {
    auto a = pmr_tracked::generate(
        std::allocator_arg, &rec_, 3, [](std::size_t i) { return tracked(static_cast<int>(i)); },
        "h");
    EXPECT_EQ(tracked::live, 3);
    EXPECT_EQ(tracked_header::live, 1);
    EXPECT_EQ(a.header().name, "h");
    tracked::destroyed.clear();
  }
  EXPECT_EQ(tracked::destroyed, (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(tracked_header::live, 0);
}

TEST_F(FlexArrayTest, MoveAndSwapTransferOwnership) {
  auto a = pmr_tracked::create(std::allocator_arg, &rec_, 2, "a");
  auto b = pmr_tracked::create(std::allocator_arg, &rec_, 3, "b");
  swap(a, b);
  EXPECT_EQ(a.header().name, "b");
  EXPECT_EQ(b.size(), 2U);
  pmr_tracked c(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): documented empty state
  EXPECT_EQ(a.size(), 0U);
  EXPECT_EQ(c.size(), 3U);
  c = std::move(b);  // frees c's old block
  EXPECT_EQ(rec_.deallocations.size(), 1U);
  EXPECT_EQ(c.header().name, "a");
  EXPECT_EQ(c.get_allocator().resource(), &rec_);
  std::pmr::monotonic_buffer_resource other;
  pmr_tracked d = pmr_tracked::create(std::allocator_arg, &other, 1, "d");
  d = std::move(c);  // the allocator travels with the block
  EXPECT_EQ(d.get_allocator().resource(), &rec_);
  d.reset();
  EXPECT_FALSE(d);
  EXPECT_EQ(tracked::live, 0);
}

// ---- exception safety -------------------------------------------------------------------

TEST_F(FlexArrayTest, ThrowInKthElementLeaksNothing) {
  for (int k = 0; k < 5; ++k) {
    tracked::throw_countdown = k;
    tracked::destroyed.clear();
    const auto before = rec_.allocations.size();
    EXPECT_THROW((void)pmr_tracked::generate(
                     std::allocator_arg, &rec_, 5,
                     [](std::size_t i) { return tracked(static_cast<int>(i)); }, "x"),
                 std::runtime_error);
    EXPECT_EQ(rec_.allocations.size(), before + 1);
    EXPECT_EQ(rec_.deallocations.size(), rec_.allocations.size());
    EXPECT_EQ(tracked::live, 0);
    EXPECT_EQ(tracked_header::live, 0);
    std::vector<int> expected;
    for (int i = k - 1; i >= 0; --i) expected.push_back(i);
    EXPECT_EQ(tracked::destroyed, expected) << "k = " << k;
  }
  tracked::throw_countdown = 2;
  EXPECT_THROW((void)pmr_tracked::create(std::allocator_arg, &rec_, 4, "v"), std::runtime_error);
  const std::array<tracked, 3> src{tracked(0), tracked(1), tracked(2)};
  tracked::throw_countdown = 1;
  EXPECT_THROW((void)pmr_tracked::from_range(std::allocator_arg, &rec_, src, "r"),
               std::runtime_error);
  tracked::throw_countdown = -1;
  EXPECT_EQ(tracked::live, 3);  // just src
}

TEST_F(FlexArrayTest, ThrowInHeaderFreesBlock) {
  tracked_header::throw_next = true;
  EXPECT_THROW((void)pmr_tracked::create(std::allocator_arg, &rec_, 3, "x"), std::runtime_error);
  EXPECT_EQ(rec_.allocations.size(), 1U);
  EXPECT_EQ(rec_.deallocations.size(), 1U);
  EXPECT_EQ(tracked::live, 0) << "no element is built before the header";
}

// ---- allocation -------------------------------------------------------------------------

TEST_F(FlexArrayTest, ResourceSeesOneAllocationOfTheComputedSize) {
  {
    auto a = pmr_flex_array<hdr, std::uint64_t>::create(std::allocator_arg, &rec_, 7, 1U,
                                                        std::uint16_t{2});
    ASSERT_EQ(rec_.allocations.size(), 1U);
    EXPECT_EQ(rec_.allocations[0].bytes, *hdr_u64::allocation_size(7));
    EXPECT_EQ(rec_.allocations[0].bytes, 64U);
    EXPECT_EQ(rec_.allocations[0].alignment, 8U);
  }
  ASSERT_EQ(rec_.deallocations.size(), 1U);
  EXPECT_EQ(rec_.deallocations[0].bytes, 64U);
  EXPECT_EQ(rec_.deallocations[0].alignment, 8U);
  {
    auto b = pmr_flex_array<tag, line>::create(std::allocator_arg, &rec_, 2);
    ASSERT_EQ(rec_.allocations.size(), 2U);
    EXPECT_EQ(rec_.allocations[1].bytes, 192U);
    EXPECT_EQ(rec_.allocations[1].alignment, 64U);
  }
}

TEST_F(FlexArrayTest, SizeOverflowThrowsAndAllocatesNothing) {
  using big = pmr_flex_array<hdr, std::uint64_t>;
  EXPECT_THROW((void)big::create(std::allocator_arg, &rec_, max / 4), std::length_error);
  EXPECT_THROW((void)big::create(std::allocator_arg, &rec_, max), std::length_error);
  EXPECT_THROW((void)big::create(std::allocator_arg, &rec_, hdr_u64::max_elements() + 1),
               std::length_error);
  EXPECT_TRUE(rec_.allocations.empty());
  EXPECT_THROW((void)(flex_array<hdr, std::uint64_t>::create(max / 2)), std::length_error);
}

TEST_F(FlexArrayTest, StdAllocatorRebinding) {
  // A std allocator of any value type is rebound to the aligned block type.
  auto a = flex_array<tag, line, std::allocator<int>>::create(std::allocator_arg,
                                                              std::allocator<int>(), 1);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0U);
  std::allocator<int> copy = a.get_allocator();
  (void)copy;
}

}  // namespace
