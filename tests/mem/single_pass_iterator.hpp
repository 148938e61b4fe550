// SPDX-License-Identifier: Apache-2.0
// A single-pass (input, not forward) iterator over an array of E, for the containers' tests of
// their input-iterator paths (count unknown up front, one pass only).
#pragma once

#include <cstddef>
#include <iterator>

namespace ferrite::mem::test {

template <class E>
struct single_pass_it {
  using iterator_category = std::input_iterator_tag;
  using value_type = E;
  using difference_type = std::ptrdiff_t;
  using pointer = const E*;
  using reference = const E&;
  const E* p = nullptr;
  const E& operator*() const { return *p; }
  single_pass_it& operator++() {
    ++p;
    return *this;
  }
  single_pass_it operator++(int) {
    single_pass_it old = *this;
    ++p;
    return old;
  }
  bool operator==(const single_pass_it&) const = default;
};
template <class E>
single_pass_it(const E*) -> single_pass_it<E>;  // from a pointer to E or to const E

static_assert(std::input_iterator<single_pass_it<int>> &&
              !std::forward_iterator<single_pass_it<int>>);

}  // namespace ferrite::mem::test
