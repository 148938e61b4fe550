// SPDX-License-Identifier: Apache-2.0
// ferrite::check, a model checker for C++ concurrency (a "loom for C++").
//
// Build a test with FERRITE_CHECK=1 (CMake: ferrite_add_model_test) and wrap it in
// check::model: ferrite::atomic, fence, cell and thread then become the checker's
// instrumented primitives, and the closure is run under every interleaving and every
// store a load may read (within a preemption bound, reduced by DPOR) until a bug shows up
// as a failing execution with its trace and a replay token.
//
//   TEST(Flag, PublishesWithRelease) {
//     ferrite::check::model([] {
//       ferrite::atomic<int> data{0};
//       ferrite::atomic<bool> ready{false};
//       ferrite::check::thread t([&] {
//         data.store(42, std::memory_order_relaxed);
//         ready.store(true, std::memory_order_release);
//       });
//       if (ready.load(std::memory_order_acquire))
//         FERRITE_ASSERT(data.load(std::memory_order_relaxed) == 42);
//       t.join();
//     });
//   }
//
// When not to use it: for code that is not concurrent, or whose concurrency lives in a
// library the checker cannot see (real std::thread, std::mutex, system calls): those run
// for real, unexplored. docs/check.md says what the checker does and does not model.
#pragma once

#include "ferrite/check/model.hpp"
#include "ferrite/check/mutex.hpp"
#include "ferrite/check/primitives.hpp"
