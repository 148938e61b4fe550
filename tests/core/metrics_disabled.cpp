// SPDX-License-Identifier: Apache-2.0
// The second translation unit of core_metrics_test, compiled with FERRITE_METRICS=0 while
// metrics_test.cpp is compiled with metrics on: the two link into one program (the inline
// namespaces keep them distinct), the disabled types are empty and their operations are
// constant expressions that do nothing, and increments made here never reach a snapshot.
#undef FERRITE_METRICS
#define FERRITE_METRICS 0
#include <cstdint>
#include <string>
#include <type_traits>

#include "ferrite/core/metrics.hpp"

namespace ferrite_test {
std::string disabled_metrics_run(std::uint64_t n);
}  // namespace ferrite_test

namespace {

namespace fm = ferrite::metrics;

// This unit sees the empty types under the usual names.
static_assert(std::is_same_v<fm::counter, fm::disabled_v1::counter>);
static_assert(std::is_same_v<fm::gauge, fm::disabled_v1::gauge>);
static_assert(std::is_same_v<fm::histogram, fm::disabled_v1::histogram>);

// Empty: no storage, and a member of this type can take none ([[no_unique_address]]).
static_assert(std::is_empty_v<fm::counter> && sizeof(fm::counter) == 1);
static_assert(std::is_empty_v<fm::gauge> && sizeof(fm::gauge) == 1);
static_assert(std::is_empty_v<fm::histogram> && sizeof(fm::histogram) == 1);
static_assert(std::is_trivially_destructible_v<fm::counter>);
static_assert(std::is_trivially_destructible_v<fm::gauge>);
static_assert(std::is_trivially_destructible_v<fm::histogram>);
// Same shape as the enabled types: code that compiles one way compiles the other.
static_assert(!std::is_copy_constructible_v<fm::counter> &&
              !std::is_move_assignable_v<fm::counter>);

struct holder {
  [[no_unique_address]] fm::counter hits{"test.disabled.member"};
  std::uint64_t payload = 0;
};
static_assert(sizeof(holder) == sizeof(std::uint64_t));

// Every operation is a constant expression, so it can have no run-time effect at all.
constexpr bool operations_are_constant_expressions() {
  fm::counter c{"test.disabled.constexpr_counter"};
  c.add();
  c.add(41);
  fm::gauge g{"test.disabled.constexpr_gauge"};
  g.add(3);
  g.sub(7);
  fm::histogram h{"test.disabled.constexpr_histogram"};
  h.record(12345);
  return c.value() == 0 && g.value() == 0 && h.count() == 0 && h.sum() == 0;
}
static_assert(operations_are_constant_expressions());

// Constant-initialized globals: no dynamic initializer, nothing registered at startup.
constinit fm::counter g_counter{"test.disabled.counter", "never observed"};
constinit fm::gauge g_gauge{"test.disabled.gauge"};
constinit fm::histogram g_histogram{"test.disabled.histogram"};

}  // namespace

namespace ferrite_test {

// Increments each disabled metric `n` times and returns this unit's (disabled) snapshot as
// text, which must be empty; metrics_test.cpp checks that its enabled snapshot does not
// list these names either.
std::string disabled_metrics_run(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    g_counter.add();
    g_gauge.add(2);
    g_gauge.sub(1);
    g_histogram.record(i);
  }
  if (g_counter.value() != 0 || g_gauge.value() != 0 || g_histogram.count() != 0) {
    return "a disabled metric reported a value";
  }
  const fm::snapshot s = fm::take_snapshot();
  return s.empty() ? s.to_text() : "the disabled take_snapshot() was not empty";
}

}  // namespace ferrite_test
