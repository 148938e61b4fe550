// SPDX-License-Identifier: Apache-2.0
// Contracts: FERRITE_ASSERT (always on), FERRITE_DEBUG_ASSERT (on when FERRITE_DEBUG) and
// FERRITE_UNREACHABLE. A failed contract reports "expr (message) at file:line in function"
// and aborts. The failure handler is replaceable so the model checker (and tests) can turn a
// failed assertion into a reported failure of the current execution instead of an abort.
#pragma once

#include "ferrite/core/platform.hpp"

namespace ferrite {

/// Where and why a contract failed. All strings are static (literals), never null.
struct contract_violation {
  const char* kind;        ///< "assertion", "debug assertion" or "unreachable"
  const char* expression;  ///< the checked expression as written
  const char* message;     ///< the caller's message, "" when none was given
  const char* file;
  int line;
  const char* function;
};

/// A failure handler. It may throw or switch context (the model checker does); if it
/// returns, the process aborts.
using contract_handler = void (*)(const contract_violation&);

/// Installs `handler` (nullptr restores the default: print to stderr) and returns the
/// previous one. Thread-safe.
contract_handler set_contract_handler(contract_handler handler) noexcept;

/// The default handler: prints the violation to stderr in one line.
void print_contract_violation(const contract_violation& v) noexcept;

namespace detail {
[[noreturn]] FERRITE_COLD void contract_failed(const char* kind, const char* expr, const char* msg,
                                               const char* file, int line, const char* function);
}  // namespace detail

}  // namespace ferrite

/// FERRITE_ASSERT(cond) / FERRITE_ASSERT(cond, "message"): always checked, in every build.
/// Use for invariants whose violation would make continuing unsound.
#define FERRITE_ASSERT(cond, ...)                                                         \
  (static_cast<bool>(cond)                                                                \
       ? void(0)                                                                          \
       : ::ferrite::detail::contract_failed("assertion", #cond, "" __VA_ARGS__, __FILE__, \
                                            __LINE__, __func__))

/// FERRITE_DEBUG_ASSERT(cond[, "message"]): checked when FERRITE_DEBUG is 1 (debug builds);
/// otherwise the condition is type-checked but never evaluated. For cheap preconditions.
#if FERRITE_DEBUG
#define FERRITE_DEBUG_ASSERT(cond, ...)                                                         \
  (static_cast<bool>(cond)                                                                      \
       ? void(0)                                                                                \
       : ::ferrite::detail::contract_failed("debug assertion", #cond, "" __VA_ARGS__, __FILE__, \
                                            __LINE__, __func__))
#else
#define FERRITE_DEBUG_ASSERT(cond, ...) static_cast<void>(sizeof(static_cast<bool>(cond)))
#endif

/// FERRITE_UNREACHABLE(["message"]): marks a path that cannot be taken. Reports and aborts
/// in every build (never undefined behaviour: a cold call costs nothing on the hot path).
#define FERRITE_UNREACHABLE(...)                                                           \
  ::ferrite::detail::contract_failed("unreachable", "FERRITE_UNREACHABLE", "" __VA_ARGS__, \
                                     __FILE__, __LINE__, __func__)
