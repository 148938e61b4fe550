// SPDX-License-Identifier: Apache-2.0
// Element types shared by the queue tests: one that counts live instances across threads,
// and one whose constructor throws on request.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>

namespace ferrite_test {

// Counts live instances (copies and moves included); atomic because producers and consumers
// construct and destroy them on different threads.
struct counted {
  static inline std::atomic<std::int64_t> live{0};

  explicit counted(std::uint64_t v) noexcept : value(v) { live.fetch_add(1); }
  counted(const counted& o) noexcept : value(o.value) { live.fetch_add(1); }
  counted(counted&& o) noexcept : value(o.value) { live.fetch_add(1); }
  counted& operator=(const counted&) noexcept = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { live.fetch_sub(1); }

  std::uint64_t value;
};

// Nothrow to copy and move, but its constructor from bool throws when asked to.
struct may_throw {
  explicit may_throw(bool fail) {
    if (fail) throw std::runtime_error("ctor failed");
  }
  int word = 7;
};

}  // namespace ferrite_test
