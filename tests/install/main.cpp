// SPDX-License-Identifier: Apache-2.0
// The install test's consumer: uses ferrite through its installed headers and libraries and
// exits non-zero if anything it computes is wrong.
#include <cstdio>
#include <ferrite/ferrite.hpp>

int main() {
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "consumer: FAILED %s\n", what);
      ++failures;
    }
  };
  const ferrite::error e(ferrite::errc::size_mismatch, "consumer", 8, 3);
  check(e.message() == "consumer: size mismatch (expected 8 bytes, got 3)", "error message");
  ferrite::atomic<int> a{1};
  // ORDERING: single-threaded; relaxed suffices.
  check(a.fetch_add(1, std::memory_order_relaxed) == 1, "atomic");
  check(sizeof(ferrite::cache_padded<char>) == ferrite::cache_line_size, "cache_padded");
  if (failures == 0) std::puts("consumer: ferrite works from this build tree or install");
  return failures == 0 ? 0 : 1;
}
