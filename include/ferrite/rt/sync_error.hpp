// SPDX-License-Identifier: Apache-2.0
// The results of the runtime's synchronization primitives when a wait, a send or a receive
// does not complete: rt::closed (the other side is gone), rt::stopped (the operation's
// std::stop_token was triggered first), rt::recv_error for receives that can fail in more
// than one way, and rt::send_error<T>, which gives the unsent value back with the reason.
// Empty tags and a one-byte enum: no allocation and no message on the failure path, so a
// closed channel costs what an empty one does.
//
// The rule every primitive follows: an operation's error type lists exactly the ways it can
// fail. A plain receive fails only when closed (`std::expected<T, rt::closed>`); a wait that
// takes a stop_token but has no peer that can close fails only when stopped
// (`std::expected<guard, rt::stopped>`); a receive that can be closed and stopped, or a
// try_recv (closed or empty), uses rt::recv_error; every send uses rt::send_error<T>.
//
// ```cpp
// while (std::expected<job, rt::closed> j = co_await rx.recv()) run(*j);   // until closed
// if (auto r = co_await tx.send(std::move(j), stop); !r) {
//   retry_later(std::move(r.error().value));                             // never lost
// }
// ```
#pragma once

#include <cstdint>

namespace ferrite::rt {

/// The other side is gone and nothing is left to receive: every sender of a channel was
/// dropped or one called close() (and the buffer is drained), a oneshot's sender was dropped
/// without sending, a watch's sender was dropped.
struct closed {
  friend constexpr bool operator==(closed /*a*/, closed /*b*/) noexcept { return true; }
};

/// The operation's std::stop_token was triggered before it completed; it left no trace in
/// the primitive (no waiter queued, nothing acquired).
struct stopped {
  friend constexpr bool operator==(stopped /*a*/, stopped /*b*/) noexcept { return true; }
};

/// Why a receive gave no value. A plain recv() reports only rt::closed; this enum is the
/// error of try_recv() (closed or empty) and of receives given a stop_token (closed or
/// stopped).
enum class recv_error : std::uint8_t {
  closed,   ///< see rt::closed
  empty,    ///< try_recv only: nothing to receive right now
  stopped,  ///< see rt::stopped
};

/// Why a send did not happen.
enum class send_failure : std::uint8_t {
  closed,   ///< every receiver is gone or the channel was closed
  full,     ///< try_send only: the buffer is full
  stopped,  ///< the send's stop_token was triggered before the value was taken
};

/// A send that did not happen: the value, given back untouched, and why.
template <class T>
struct send_error {
  T value;
  send_failure reason;
};

}  // namespace ferrite::rt
