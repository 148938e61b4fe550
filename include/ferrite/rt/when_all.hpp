// SPDX-License-Identifier: Apache-2.0
// rt::when_all: runs tasks concurrently (each spawned on the current executor) and gives all
// their results, in argument order; a child that throws cancels the others (fail fast, as
// tokio's try_join!), and once every child has ended, when_all rethrows that first exception.
// Nothing outlives it: it returns only after every child ended.
//
// ```cpp
// auto [user, cart] = co_await rt::when_all(load_user(id), load_cart(id));
// std::vector<int> sizes = co_await rt::when_all(std::move(tasks));   // a range of task<int>
// ```
//
// When not to use it: for a set of children that grows while they run, use task_scope.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "ferrite/rt/detail/compose.hpp"
#include "ferrite/rt/detail/join_any.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"

namespace ferrite::rt {

namespace detail {
/// Waits until every task in `hs` ended; the first (in completion order) that ended badly
/// cancels the rest. Returns its index, or hs.size() when none did.
task<std::size_t> join_all(std::span<task_header* const> hs, std::span<const failed_fn> failed);
}  // namespace detail

/// Runs the tasks concurrently on the current executor; a tuple of their results (void as
/// std::monostate). Rethrows the first exception after cancelling the other children.
/// Preconditions: awaited inside a task.
template <class... T>
task<std::tuple<detail::nonvoid_t<T>...>> when_all(task<T>... tasks) {
  std::tuple<join_handle<T>...> handles{rt::spawn(std::move(tasks))...};
  const std::array<detail::task_header*, sizeof...(T)> hs = std::apply(
      [](auto&... h) { return std::array<detail::task_header*, sizeof...(T)>{h.header()...}; },
      handles);
  static constexpr std::array<detail::failed_fn, sizeof...(T)> failed{
      &detail::finished_badly<T>...};
  detail::abort_guard cancel_children_if_cancelled(hs);
  const std::size_t bad = co_await detail::join_all(hs, failed);
  cancel_children_if_cancelled.release();
  if (bad < sizeof...(T)) {  // rethrow the failed child's exception
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == bad ? static_cast<void>(detail::take_nonvoid(std::get<I>(handles))) : void()), ...);
    }(std::index_sequence_for<T...>{});
  }
  co_return std::apply(
      [](auto&... h) { return std::tuple<detail::nonvoid_t<T>...>{detail::take_nonvoid(h)...}; },
      handles);
}

/// when_all over a range: a vector of the results, in order.
template <class T>
task<std::vector<detail::nonvoid_t<T>>> when_all(std::vector<task<T>> tasks) {
  std::vector<join_handle<T>> handles;
  handles.reserve(tasks.size());
  for (task<T>& t : tasks) handles.push_back(rt::spawn(std::move(t)));
  std::vector<detail::task_header*> hs;
  hs.reserve(handles.size());
  for (auto& h : handles) hs.push_back(h.header());
  const std::vector<detail::failed_fn> failed(handles.size(), &detail::finished_badly<T>);
  detail::abort_guard cancel_children_if_cancelled(hs);
  const std::size_t bad = co_await detail::join_all(hs, failed);
  cancel_children_if_cancelled.release();
  if (bad < handles.size()) static_cast<void>(detail::take_nonvoid(handles[bad]));
  std::vector<detail::nonvoid_t<T>> out;
  out.reserve(handles.size());
  for (auto& h : handles) out.push_back(detail::take_nonvoid(h));
  co_return out;
}

}  // namespace ferrite::rt
