// SPDX-License-Identifier: Apache-2.0
// Shared by the rt tests. heap_allocations(): the global operator new counts its calls
// (counting_new.cpp replaces it in the test binaries that link that file), so a test can
// assert that a path never reaches the heap; it is kept in its own translation unit because
// GCC's -Wmismatched-new-delete misreads a malloc-backed operator new defined next to the
// code that uses it. frame_local: a local whose constructions and destructions are counted,
// to see frames die.
#pragma once

#include <cstdint>

namespace ferrite_test {

/// Calls of the global operator new (every form) so far, on all threads.
std::uint64_t heap_allocations() noexcept;

/// Counts live instances (one thread: the tests that use it run their tasks on one).
struct frame_local {
  static inline int alive = 0;
  frame_local() { ++alive; }
  frame_local(const frame_local&) = delete;
  frame_local& operator=(const frame_local&) = delete;
  ~frame_local() { --alive; }
};

}  // namespace ferrite_test
