// SPDX-License-Identifier: Apache-2.0
// The standard library's synth-three-way, shared by mem's containers for operator<=>:
// `<=>` when the element type has it, otherwise a weak order built from `<`.
#pragma once

#include <compare>
#include <concepts>

namespace ferrite::mem::detail {

/// std::vector's synth-three-way: <=> when U has it, otherwise a weak order derived from <.
struct synth_three_way {
  template <class U>
  constexpr auto operator()(const U& a, const U& b) const {
    if constexpr (std::three_way_comparable<U>) {
      return a <=> b;
    } else {
      if (a < b) return std::weak_ordering::less;
      if (b < a) return std::weak_ordering::greater;
      return std::weak_ordering::equivalent;
    }
  }
};

}  // namespace ferrite::mem::detail
