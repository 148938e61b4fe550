// SPDX-License-Identifier: Apache-2.0
// Differential property tests: thousands of random operation sequences (fixed seeds,
// std::mt19937_64) applied side by side to std::vector<E> (the reference), small_vector<E, 4>,
// small_vector<E, 0>, small_vector<E, 1> and inline_vector<E, 64>, comparing contents after
// every operation. E counts live objects (the count must always equal the sum of the sizes,
// and return to 0: no leak, no double destroy) and its copies throw on demand from a global
// countdown. Arming the countdown at k <= the copies an operation must make (1 for push_back
// of an lvalue, n for insert of n copies, ...) makes every container throw in that same
// operation; each must then keep its documented guarantee (strong: contents unchanged). For
// the type whose move may throw, reallocation copies too, and countdowns past the semantic
// copies check the guarantees of relocation. inline_vector must throw std::bad_alloc, leaving
// its contents unchanged, where the operation would overflow it. A trivially copyable type
// (int) exercises the memcpy paths.
#include <gtest/gtest.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <iterator>
#include <new>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "ferrite/mem/inline_vector.hpp"
#include "ferrite/mem/small_vector.hpp"
#include "single_pass_iterator.hpp"

namespace {

using ferrite::mem::inline_vector;
using ferrite::mem::small_vector;
using ferrite::mem::test::single_pass_it;

// ---- the element types ---------------------------------------------------------------------

struct copy_error : std::exception {};

struct counters {
  static inline long live = 0;
  static inline long countdown = 0;  // 0: disarmed; otherwise the copy that throws
  static inline long bad_destroys = 0;
  static void on_copy() {
    if (countdown > 0 && --countdown == 0) throw copy_error();
  }
};

constexpr std::uint32_t alive = 0xA11FE;
constexpr std::uint32_t dead = 0xDEAD;

/// Counts live objects, detects destroying a dead one, throws on the armed copy. Moves are
/// noexcept when NothrowMove (so std::vector relocates by moving), else potentially
/// throwing (so relocation copies, and those copies can throw) though they never do.
template <bool NothrowMove>
struct elem {
  int value = 0;
  std::uint32_t state = alive;

  elem(int v = 0) : value(v) { ++counters::live; }  // NOLINT(google-explicit-constructor)
  elem(const elem& o) : value(o.value) {
    counters::on_copy();
    ++counters::live;
  }
  elem(elem&& o) noexcept(NothrowMove) : value(o.value) { ++counters::live; }
  elem& operator=(const elem& o) {
    counters::on_copy();
    value = o.value;
    return *this;
  }
  elem& operator=(elem&& o) noexcept(NothrowMove) {
    value = o.value;
    return *this;
  }
  ~elem() {
    if (state != alive) ++counters::bad_destroys;
    state = dead;
    --counters::live;
  }
  friend bool operator==(const elem& a, const elem& b) { return a.value == b.value; }
  friend std::strong_ordering operator<=>(const elem& a, const elem& b) {
    return a.value <=> b.value;
  }
};

using nothrow_elem = elem<true>;
using throwing_move_elem = elem<false>;

int value_of(int v) { return v; }
template <bool B>
int value_of(const elem<B>& e) {
  return e.value;
}

template <class C>
std::vector<int> values(const C& c) {
  std::vector<int> out;
  out.reserve(c.size());
  for (const auto& e : c) out.push_back(value_of(e));
  return out;
}

// ---- operations ------------------------------------------------------------------------------

enum class kind {
  push_copy,
  push_self,
  push_move,
  emplace_back,
  pop_back,
  insert_copy,
  insert_self,
  insert_move,
  insert_count,
  insert_count_self,
  insert_range,
  insert_il,
  insert_input,
  emplace,
  erase_one,
  erase_range,
  resize,
  resize_value,
  assign_count,
  assign_range,
  assign_il,
  copy_assign,
  move_assign,
  swap,
  clear,
  reserve,
  shrink,
  erase_if,
  copy_roundtrip,
  move_roundtrip,
  at,
  compare,
  count_
};

enum class guarantee { nothrow, strong, basic };

struct op {
  kind what = kind::clear;
  std::size_t pos = 0;    // insertion / erasure position, or element index
  std::size_t pos2 = 0;   // end of an erased range
  std::size_t count = 0;  // count for insert/resize/assign/reserve
  int value = 0;
  std::vector<int> src;      // values of a source range or of the other container
  std::size_t copies = 0;    // copies every implementation must make
  std::size_t new_size = 0;  // size after the operation
  bool grows = false;        // may need more room than the current size
};

/// Which guarantee a container family gives for an operation that threw.
enum class family { std_vector, small, inline_fixed };

guarantee guarantee_of(const op& o, family f, std::size_t old_size) {
  switch (o.what) {
    case kind::push_copy:
    case kind::push_self:
    case kind::push_move:
    case kind::emplace_back:
    case kind::resize:
    case kind::resize_value:
    case kind::reserve:
    case kind::shrink:
    case kind::copy_roundtrip: return guarantee::strong;
    case kind::insert_copy:
    case kind::insert_self:
    case kind::insert_move:
    case kind::emplace:
      if (f == family::small || o.pos == old_size) return guarantee::strong;
      return guarantee::basic;
    case kind::insert_count:
    case kind::insert_count_self:
    case kind::insert_input: return f == family::small ? guarantee::strong : guarantee::basic;
    case kind::insert_range:
    case kind::insert_il: return f == family::std_vector ? guarantee::basic : guarantee::strong;
    case kind::assign_count:
    case kind::assign_range:
    case kind::assign_il:
    case kind::copy_assign: return guarantee::basic;
    case kind::swap:  // small_vector moves inline elements (copies, for throwing_move_elem)
      return f == family::small ? guarantee::basic : guarantee::nothrow;
    default: return guarantee::nothrow;
  }
}

std::size_t pick(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {  // [lo, hi]
  return lo + static_cast<std::size_t>(rng() % (hi - lo + 1));
}

std::vector<int> random_values(std::mt19937_64& rng, std::size_t n) {
  std::vector<int> v(n);
  for (auto& x : v) x = static_cast<int>(rng() % 1000);
  return v;
}

/// Fills the parameters that depend on the current size `n`.
void shape(op& o, std::mt19937_64& rng, std::size_t n) {
  o.pos = pick(rng, 0, n);
  o.value = static_cast<int>(rng() % 1000);
  o.count = pick(rng, 0, 12);
  o.src = random_values(rng, pick(rng, 0, 10));
  if (n > 0) o.pos2 = pick(rng, std::min(o.pos, n - 1), n);
}

void count_copies(op& o, std::size_t n) {
  const std::size_t m = o.src.size();
  switch (o.what) {
    case kind::push_copy:
    case kind::push_self:
    case kind::insert_copy:
    case kind::insert_self: o.copies = 1, o.new_size = n + 1, o.grows = true; break;
    case kind::push_move:
    case kind::emplace_back:
    case kind::insert_move:
    case kind::emplace: o.new_size = n + 1, o.grows = true; break;
    case kind::insert_count:
    case kind::insert_count_self:
      o.copies = o.count, o.new_size = n + o.count, o.grows = true;
      break;
    case kind::insert_range:
    case kind::insert_input: o.copies = m, o.new_size = n + m, o.grows = true; break;
    // An initializer list of 3 copies is built first (3 copies), then inserted (3 more).
    case kind::insert_il: o.copies = 6, o.new_size = n + 3, o.grows = true; break;
    case kind::resize: o.new_size = o.count, o.grows = true; break;
    case kind::resize_value:
      o.copies = o.count > n ? o.count - n : 0, o.new_size = o.count, o.grows = true;
      break;
    case kind::assign_count: o.copies = o.count, o.new_size = o.count, o.grows = true; break;
    case kind::assign_range:
    case kind::copy_assign: o.copies = m, o.new_size = m; break;
    case kind::assign_il: o.copies = 6, o.new_size = 3; break;
    case kind::move_assign:
    case kind::swap: o.new_size = m; break;
    case kind::copy_roundtrip: o.copies = n, o.new_size = n; break;
    case kind::pop_back: o.new_size = n - 1; break;
    case kind::erase_one: o.new_size = n - 1; break;
    case kind::erase_range: o.new_size = n - (o.pos2 - std::min(o.pos, o.pos2)); break;
    case kind::clear: o.new_size = 0; break;
    default: o.new_size = n; break;
  }
}

op random_op(std::mt19937_64& rng, std::size_t n) {
  op o;
  for (;;) {
    o.what = static_cast<kind>(rng() % static_cast<unsigned>(kind::count_));
    const bool needs_element = o.what == kind::push_self || o.what == kind::insert_self ||
                               o.what == kind::pop_back || o.what == kind::insert_count_self ||
                               o.what == kind::erase_one || o.what == kind::erase_range;
    if (!needs_element || n > 0) break;
  }
  shape(o, rng, n);
  if (o.what == kind::resize || o.what == kind::resize_value) o.count = pick(rng, 0, 70);
  if (o.what == kind::erase_one) o.pos = std::min(o.pos, n - 1);
  if (o.what == kind::erase_range) o.pos = std::min(o.pos, o.pos2);
  if (o.what == kind::reserve) o.count = pick(rng, 0, 40);
  // inline_vector finds an input range's overflow on the way (basic guarantee): keep the
  // single-pass insertion within its capacity.
  if (o.what == kind::insert_input && n + o.src.size() > 64) o.what = kind::insert_range;
  count_copies(o, n);
  return o;
}

// ---- applying an operation to one container ------------------------------------------------

template <class C>
constexpr family family_of = family::small;
template <class E>
constexpr family family_of<std::vector<E>> = family::std_vector;
template <class E, std::size_t N>
constexpr family family_of<inline_vector<E, N>> = family::inline_fixed;

template <class C>
C make(const std::vector<int>& vals) {
  C c;
  for (int v : vals) c.emplace_back(v);
  return c;
}

/// What an operation returned, for the ones whose result is compared (at, compare).
using observation = long long;

template <class C, class E, class Arm>
observation apply_insert(C& c, const op& o, const E& ext, const std::vector<E>& src, Arm arm) {
  const auto at = c.begin() + static_cast<std::ptrdiff_t>(o.pos);
  switch (o.what) {
    case kind::insert_copy:
      arm();
      c.insert(at, ext);
      break;
    case kind::insert_self:
      arm();
      c.insert(at, c[o.pos2 % c.size()]);
      break;
    case kind::insert_move: {
      E moved(o.value);
      arm();
      c.insert(at, std::move(moved));
      break;
    }
    case kind::insert_count:
      arm();
      c.insert(at, o.count, ext);
      break;
    case kind::insert_count_self:
      arm();
      c.insert(at, o.count, c[o.pos2 % c.size()]);
      break;
    case kind::insert_range:
      arm();
      c.insert(at, src.begin(), src.end());
      break;
    case kind::insert_il:
      arm();
      c.insert(at, {ext, ext, ext});
      break;
    case kind::insert_input:
      arm();
      c.insert(at, single_pass_it<E>{src.data()}, single_pass_it<E>{src.data() + src.size()});
      break;
    case kind::emplace:
      arm();
      c.emplace(at, o.value);
      break;
    default: break;
  }
  return 0;
}

template <class C, class E, class Arm>
observation apply_grow(C& c, const op& o, const E& ext, const std::vector<E>& src, Arm arm) {
  switch (o.what) {
    case kind::push_copy:
      arm();
      c.push_back(ext);
      break;
    case kind::push_self:
      arm();
      c.push_back(c[o.pos % c.size()]);
      break;
    case kind::push_move: {
      E moved(o.value);
      arm();
      c.push_back(std::move(moved));
      break;
    }
    case kind::emplace_back:
      arm();
      c.emplace_back(o.value);
      break;
    case kind::resize:
      arm();
      c.resize(o.count);
      break;
    case kind::resize_value:
      arm();
      c.resize(o.count, c.empty() ? ext : c[o.pos % c.size()]);
      break;
    case kind::reserve:
      if constexpr (requires { c.reserve(o.count); }) {
        arm();
        c.reserve(o.count);
      }
      break;
    case kind::shrink:
      if constexpr (requires { c.shrink_to_fit(); }) {
        arm();
        c.shrink_to_fit();
      }
      break;
    default: return apply_insert(c, o, ext, src, arm);
  }
  return 0;
}

template <class C, class E, class Arm>
observation apply_assign(C& c, const op& o, const E& ext, const std::vector<E>& src, Arm arm) {
  switch (o.what) {
    case kind::assign_count:
      arm();
      c.assign(o.count, ext);
      break;
    case kind::assign_range:
      arm();
      c.assign(src.begin(), src.end());
      break;
    case kind::assign_il:
      arm();
      c.assign({ext, ext, ext});
      break;
    case kind::copy_assign: {
      const C other = make<C>(o.src);
      arm();
      c = other;
      break;
    }
    case kind::move_assign: {
      C other = make<C>(o.src);
      arm();
      c = std::move(other);
      if constexpr (family_of<C> == family::small) {
        EXPECT_TRUE(other.empty());  // NOLINT(bugprone-use-after-move): documented state
      }
      break;
    }
    case kind::swap: {
      C other = make<C>(o.src);
      const auto before = values(c);
      arm();
      c.swap(other);
      EXPECT_EQ(values(other), before);
      break;
    }
    case kind::copy_roundtrip: {
      arm();
      C copy(c);
      c = std::move(copy);
      break;
    }
    default: return apply_grow(c, o, ext, src, arm);
  }
  return 0;
}

template <class C, class E, class Arm>
observation apply(C& c, const op& o, const E& ext, const std::vector<E>& src, Arm arm) {
  switch (o.what) {
    case kind::pop_back:
      arm();
      c.pop_back();
      break;
    case kind::erase_one:
      arm();
      c.erase(c.begin() + static_cast<std::ptrdiff_t>(o.pos));
      break;
    case kind::erase_range:
      arm();
      c.erase(c.begin() + static_cast<std::ptrdiff_t>(o.pos),
              c.begin() + static_cast<std::ptrdiff_t>(o.pos2));
      break;
    case kind::clear:
      arm();
      c.clear();
      break;
    case kind::erase_if:
      arm();
      return static_cast<observation>(erase_if(c, [](const E& e) { return value_of(e) % 3 == 0; }));
    case kind::move_roundtrip: {
      arm();
      C moved(std::move(c));
      c = std::move(moved);
      break;
    }
    case kind::at:
      try {
        arm();
        return value_of(c.at(o.pos));
      } catch (const std::out_of_range&) {
        return -1;
      }
    case kind::compare: {
      const C other = make<C>(o.src);
      arm();
      const auto order = c <=> other;
      return (order < 0 ? -1 : (order > 0 ? 1 : 0)) + (c == other ? 10 : 0);
    }
    default: return apply_assign(c, o, ext, src, arm);
  }
  return 0;
}

// ---- the harness ------------------------------------------------------------------------------

struct outcome {
  bool copy_threw = false;
  bool bad_alloc = false;
  observation seen = 0;
};

template <class E, class... C>
class harness {
 public:
  explicit harness(std::uint64_t seed) : rng_(seed) {}

  /// Runs one sequence of `ops` random operations; returns false on the first mismatch.
  void run_sequence(int ops) {
    for (int i = 0; i < ops && !::testing::Test::HasFailure(); ++i) step();
  }

 private:
  static constexpr bool counted = !std::is_same_v<E, int>;
  static constexpr std::size_t inline_limit = 64;

  void step() {
    const std::vector<int> before = values(ref());
    const op o = random_op(rng_, before.size());
    const long armed = choose_countdown(o, before.size());
    {
      const E ext(o.value);
      const std::vector<E> src(o.src.begin(), o.src.end());
      const outcome want = run_one(ref(), o, ext, src, armed, before);
      bool resync = want.copy_threw;
      std::apply(
          [&](auto&... cs) { ((resync |= check(cs, o, ext, src, armed, before, want)), ...); },
          others_);
      if (resync || o.new_size > inline_limit) resync_all(before);
    }
    if constexpr (counted) expect_live_matches(o);
  }

  long choose_countdown(const op& o, std::size_t n) {
    if constexpr (!counted) {
      return 0;
    } else {
      if (rng_() % 6 != 0) return 0;
      if (o.copies > 0 && rng_() % 2 == 0) return static_cast<long>(pick(rng_, 1, o.copies));
      if constexpr (!std::is_nothrow_move_constructible_v<E>) {
        // Past the semantic copies: may hit a relocation copy (or nothing at all).
        return static_cast<long>(pick(rng_, o.copies + 1, o.copies + n + 1));
      }
      return 0;
    }
  }

  template <class Ct>
  outcome run_one(Ct& c, const op& o, const E& ext, const std::vector<E>& src, long armed,
                  const std::vector<int>& before) {
    outcome out;
    try {
      out.seen = apply(c, o, ext, src, [armed] { counters::countdown = armed; });
    } catch (const copy_error&) {
      out.copy_threw = true;
    } catch (const std::bad_alloc&) {
      out.bad_alloc = true;
    }
    counters::countdown = 0;
    if (out.copy_threw || out.bad_alloc) {
      const guarantee g = guarantee_of(o, family_of<Ct>, before.size());
      EXPECT_NE(g, guarantee::nothrow) << "op " << static_cast<int>(o.what) << " threw";
      if (g == guarantee::strong || out.bad_alloc) {
        EXPECT_EQ(values(c), before)
            << "strong guarantee broken by op " << static_cast<int>(o.what);
      }
    }
    return out;
  }

  /// Runs `o` on one container and compares it with the reference; true when it threw.
  template <class Ct>
  bool check(Ct& c, const op& o, const E& ext, const std::vector<E>& src, long armed,
             const std::vector<int>& before, const outcome& want) {
    const outcome got = run_one(c, o, ext, src, armed, before);
    const bool overflow =
        family_of<Ct> == family::inline_fixed && o.grows && o.new_size > inline_limit;
    const int what = static_cast<int>(o.what);
    const bool must_throw = armed > 0 && static_cast<std::size_t>(armed) <= o.copies;
    if (overflow) {
      // bad_alloc, or the copy error when the armed copy is made before the call (building
      // an initializer list).
      EXPECT_TRUE(got.bad_alloc || (must_throw && got.copy_threw))
          << "inline_vector overflow not reported, op " << what;
    } else if (must_throw) {
      EXPECT_TRUE(got.copy_threw && want.copy_threw) << "not the same throwing op " << what;
    } else if (!got.copy_threw && !want.copy_threw) {
      EXPECT_FALSE(got.bad_alloc) << "op " << what;
      EXPECT_EQ(got.seen, want.seen) << "op " << what;
      EXPECT_EQ(values(c), values(ref())) << "op " << what;
    }
    return got.copy_threw || got.bad_alloc;
  }

  void resync_all(const std::vector<int>& vals) {
    auto reset = [&vals](auto& c) {
      c.clear();
      for (int v : vals) c.emplace_back(v);
    };
    reset(ref());
    std::apply([&](auto&... cs) { (reset(cs), ...); }, others_);
  }

  void expect_live_matches(const op& o) {
    std::size_t total = ref().size();
    std::apply([&](auto&... cs) { ((total += cs.size()), ...); }, others_);
    EXPECT_EQ(counters::live, static_cast<long>(total)) << "after op " << static_cast<int>(o.what);
    EXPECT_EQ(counters::bad_destroys, 0);
  }

  std::vector<E>& ref() { return ref_; }

  std::mt19937_64 rng_;
  std::vector<E> ref_;
  std::tuple<C...> others_;
};

template <class E>
void run_many(std::uint64_t seed0, int sequences, int ops) {
  counters::live = 0;
  counters::bad_destroys = 0;
  for (int s = 0; s < sequences && !::testing::Test::HasFailure(); ++s) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(s);
    {
      harness<E, small_vector<E, 4>, small_vector<E, 0>, small_vector<E, 1>, inline_vector<E, 64>>
          h(seed);
      h.run_sequence(ops);
    }
    if constexpr (!std::is_same_v<E, int>) {
      ASSERT_EQ(counters::live, 0) << "leak after sequence with seed " << seed;
    }
    if (::testing::Test::HasFailure()) ADD_FAILURE() << "first failing seed: " << seed;
  }
  EXPECT_EQ(counters::bad_destroys, 0);
}

TEST(VectorDifferential, NothrowMoveElements) { run_many<nothrow_elem>(1000, 5000, 50); }

TEST(VectorDifferential, ThrowingMoveElementsCopyOnRelocation) {
  run_many<throwing_move_elem>(900000, 2000, 50);
}

TEST(VectorDifferential, TriviallyCopyableInts) { run_many<int>(5000000, 2000, 50); }

}  // namespace
