// SPDX-License-Identifier: Apache-2.0
// Contract failure reporting: the replaceable handler and the default stderr printer.
#include "ferrite/core/contract.hpp"

#include <cstdio>
#include <cstdlib>

#include "ferrite/core/atomic.hpp"

namespace ferrite {
namespace {
// ORDERING: acq_rel exchange in set_contract_handler pairs with the acquire load in
// contract_failed, so a handler's own initialization is visible before it is called.
atomic<contract_handler> g_handler{nullptr};
}  // namespace

contract_handler set_contract_handler(contract_handler handler) noexcept {
  // ORDERING: publishes `handler` (see g_handler).
  return g_handler.exchange(handler, std::memory_order_acq_rel);
}

void print_contract_violation(const contract_violation& v) noexcept {
  std::fprintf(stderr, "ferrite: %s failed: %s%s%s%s at %s:%d in %s\n", v.kind, v.expression,
               v.message[0] != '\0' ? " (" : "", v.message, v.message[0] != '\0' ? ")" : "", v.file,
               v.line, v.function);
  std::fflush(stderr);
}

namespace detail {
void contract_failed(const char* kind, const char* expr, const char* msg, const char* file,
                     int line, const char* function) {
  const contract_violation v{kind, expr, msg, file, line, function};
  // ORDERING: pairs with the exchange in set_contract_handler.
  if (contract_handler h = g_handler.load(std::memory_order_acquire); h != nullptr) {
    h(v);
  } else {
    print_contract_violation(v);
  }
  std::abort();
}
}  // namespace detail

}  // namespace ferrite
