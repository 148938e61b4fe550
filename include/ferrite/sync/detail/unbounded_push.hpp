// SPDX-License-Identifier: Apache-2.0
// The bounded queues' try_push / try_emplace shape for the unbounded structures (mpsc_queue,
// seg_queue, treiber_stack), written once: each forwards to the structure's emplace and
// returns true. Not a public header.
#pragma once

#include <type_traits>
#include <utility>

namespace ferrite::sync::detail {

/// Mixed into an unbounded structure `Derived` of T whose `emplace(args...)` never fails
/// short of an exception. Empty: adds nothing to the structure's layout.
template <class Derived, class T>
class unbounded_try_push {
 public:
  /// emplace(args...), for code written against a bounded queue's shape: always true (the
  /// structure grows). Throws what emplace throws (then the structure is unchanged).
  template <class... Args>
    requires std::is_constructible_v<T, Args...>
  bool try_emplace(Args&&... args) {
    self().emplace(std::forward<Args>(args)...);
    return true;
  }

  /// emplace(value); always true (see try_emplace).
  bool try_push(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    self().emplace(value);
    return true;
  }

  /// emplace(std::move(value)); always true (see try_emplace).
  bool try_push(T&& value)
    requires std::is_move_constructible_v<T>
  {
    self().emplace(std::move(value));
    return true;
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace ferrite::sync::detail
