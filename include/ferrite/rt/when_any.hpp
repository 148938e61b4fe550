// SPDX-License-Identifier: Apache-2.0
// rt::when_any: runs tasks concurrently (each spawned on the current executor) and gives the
// result of the first to finish, as a std::variant whose index() says which; the others are
// cancelled, and when_any returns only after they ended (nothing outlives it). The winner's
// exception is rethrown; the losers' results and exceptions are dropped. With rt::biased, of
// several finished by the time it looks, the first in argument order wins (the seed's
// `select! { biased; ... }`); without, a pseudo-random one, so no branch starves another.
// rt::timeout(d, task) is when_any of the task and a sleep.
//
// ```cpp
// auto r = co_await rt::when_any(read_reply(conn), rt::sleep_task(1s));
// if (r.index() == 1) { /* timed out: the read was cancelled */ }
// std::expected<reply, rt::timed_out> got = co_await rt::timeout(1s, read_reply(conn));
// ```
//
// When not to use it: a loser is cancelled at its next suspension point, so only
// cancellation-safe work belongs in a race (docs/rt.md has the table).
#pragma once

#include <array>
#include <cstddef>
#include <expected>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <variant>

#include "ferrite/rt/clock.hpp"
#include "ferrite/rt/detail/compose.hpp"
#include "ferrite/rt/executor.hpp"
#include "ferrite/rt/task.hpp"
#include "ferrite/rt/time.hpp"

namespace ferrite::rt {

/// Tag: when_any prefers the earliest argument among those finished.
struct biased_t {
  explicit biased_t() = default;
};
inline constexpr biased_t biased{};

namespace detail {
/// Waits for the first of `hs` to end, cancels the others and waits for them; returns the
/// winner's index (the first finished in order when `in_order`, else from a random start).
task<std::size_t> race(std::span<task_header* const> hs, bool in_order);

template <class... T>
task<std::variant<nonvoid_t<T>...>> when_any_of(bool in_order, task<T>... tasks) {
  std::tuple<join_handle<T>...> handles{rt::spawn(std::move(tasks))...};
  const std::array<task_header*, sizeof...(T)> hs = std::apply(
      [](auto&... h) { return std::array<task_header*, sizeof...(T)>{h.header()...}; }, handles);
  abort_guard cancel_children_if_cancelled(hs);
  const std::size_t winner = co_await race(hs, in_order);
  cancel_children_if_cancelled.release();
  std::optional<std::variant<nonvoid_t<T>...>> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I == winner ? static_cast<void>(
                        out.emplace(std::in_place_index<I>, take_nonvoid(std::get<I>(handles))))
                  : void()),
     ...);
  }(std::index_sequence_for<T...>{});
  co_return std::move(*out);
}
}  // namespace detail

/// The first of the tasks to finish; the others are cancelled. Preconditions: in a task.
template <class... T>
task<std::variant<detail::nonvoid_t<T>...>> when_any(task<T>... tasks) {
  return detail::when_any_of(false, std::move(tasks)...);
}
/// As when_any, the earliest argument winning among those finished.
template <class... T>
task<std::variant<detail::nonvoid_t<T>...>> when_any(biased_t, task<T>... tasks) {
  return detail::when_any_of(true, std::move(tasks)...);
}

/// A task that sleeps until `t` (a branch for when_any).
task<> sleep_task_until(clock::time_point t);
/// A task that sleeps for `d` from now.
inline task<> sleep_task(clock::duration d) { return sleep_task_until(clock::now() + d); }

/// Runs `t` with a deadline `d` from now: its result, or timed_out (and `t` cancelled).
/// A result ready together with the deadline wins.
template <class T>
task<std::expected<T, timed_out>> timeout(clock::duration d, task<T> t) {
  auto r = co_await when_any(biased, std::move(t), sleep_task(d));
  if (r.index() == 1) co_return std::unexpected(timed_out{});
  if constexpr (std::is_void_v<T>) {
    co_return std::expected<void, timed_out>{};
  } else {
    co_return std::move(std::get<0>(r));
  }
}

}  // namespace ferrite::rt
