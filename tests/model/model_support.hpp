// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the model tests: run a closure under the checker and expect it to fail
// with a given kind of failure (the broken zoo), or to pass after a complete search.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "ferrite/check/model.hpp"

namespace ferrite::check::testing {

#ifndef FERRITE_MODEL_DEFAULT_BOUND
#define FERRITE_MODEL_DEFAULT_BOUND 2  // the zoo is built a second time with -1 (unbounded)
#endif

/// Options of the zoo and unit tests: fixed in code (no environment), so the expected
/// outcomes do not depend on how CI sets FERRITE_CHECK_PREEMPTIONS.
inline options fixed_options(int preemption_bound = FERRITE_MODEL_DEFAULT_BOUND) {
  options o;
  o.preemption_bound = preemption_bound;
  o.verbose = std::getenv("FERRITE_CHECK_VERBOSE") != nullptr;
  // Debugging aids (the bounds themselves stay fixed): replay one execution, print reports.
  if (const char* v = std::getenv("FERRITE_CHECK_REPLAY")) o.replay = v;
  return o;
}

/// Expects `fn` to fail with `kind`, with a trace and a replay token that reproduces it.
inline report expect_failure(failure_kind kind, const std::function<void()>& fn,
                             options o = fixed_options()) {
  report r = explore(o, fn);
  EXPECT_EQ(to_string(r.failure), std::string(to_string(kind))) << r.text();
  EXPECT_FALSE(r.trace.empty());
  EXPECT_FALSE(r.token.empty());
  if (r.failure == kind) {
    options again = o;
    again.replay = r.token;
    report replayed = explore(again, fn);
    EXPECT_EQ(replayed.failure, kind) << "replay of " << r.token << " did not reproduce";
    EXPECT_EQ(replayed.executions, 1U);
  }
  if (o.verbose) std::printf("%s", r.text().c_str());
  std::printf("found %s after %llu executions (%.3f s)\n", to_string(r.failure),
              static_cast<unsigned long long>(r.executions), r.seconds);
  return r;
}

/// Expects a complete search of `fn` to find nothing.
inline report expect_pass(const std::function<void()>& fn, options o = fixed_options()) {
  report r = explore(o, fn);
  EXPECT_TRUE(r.ok()) << r.text();
  EXPECT_TRUE(r.complete) << r.summary();
  std::printf("%s\n", r.summary().c_str());
  return r;
}

}  // namespace ferrite::check::testing
