// SPDX-License-Identifier: Apache-2.0
// The type-erased entry points between the instrumented primitives (check/primitives.hpp,
// templates compiled into the user's model test) and the checker's engine (src/check). Every
// atomic value crosses this line as up to 64 bits; the engine never sees T.
#pragma once

#include <atomic>
#include <cstdint>
#include <source_location>

namespace ferrite::check::detail {

/// The engine's name for one instrumented object (atomic, cell, mutex) in one execution. An
/// object built in an earlier execution (or outside any) has a stale `exec` and is registered
/// again on first use.
struct handle {
  std::uint32_t exec = 0;
  std::uint32_t index = 0;
};

enum class object_kind : std::uint8_t { atomic, cell, mutex, condvar };

using rmw_fn = std::uint64_t (*)(std::uint64_t old, std::uint64_t arg) noexcept;
using src = std::source_location;

/// True while an execution runs and the caller is one of its model threads.
bool in_execution() noexcept;

/// Slots of a check::thread_local_slot: one per model thread, and the last for code outside
/// the model threads (the explorer, the program's main).
inline constexpr unsigned thread_slots = 9;
/// The caller's slot: its model thread's index, or thread_slots - 1 outside them.
unsigned thread_slot() noexcept;
/// Increases with every execution started (0 before the first): slots reset when it changes.
std::uint32_t execution_serial() noexcept;

void object_created(handle& h, const void* addr, object_kind kind, std::uint64_t init_bits,
                    const char* type);
void object_destroyed(handle& h, const void* addr) noexcept;

std::uint64_t atomic_load(handle& h, const void* addr, std::uint64_t raw, std::memory_order o,
                          const src& at);
void atomic_store(handle& h, const void* addr, std::uint64_t raw, std::uint64_t bits,
                  std::memory_order o, const src& at);
/// Read-modify-write: stores fn(old, arg) and returns old.
std::uint64_t atomic_rmw(handle& h, const void* addr, std::uint64_t raw, rmw_fn fn,
                         std::uint64_t arg, std::memory_order o, const char* name, const src& at);
/// Compare-exchange on the value bits; on failure writes the observed bits to `expected`.
bool atomic_cas(handle& h, const void* addr, std::uint64_t raw, std::uint64_t& expected,
                std::uint64_t desired, bool weak, std::memory_order success,
                std::memory_order failure, const src& at);
void atomic_wait(handle& h, const void* addr, std::uint64_t raw, std::uint64_t old,
                 std::memory_order o, const src& at);
void atomic_notify(handle& h, const void* addr, std::uint64_t raw, bool all, const src& at);

// ORDERING: the engine's model of a thread fence of order `o` (src/check/memory.cpp).
void fence(std::memory_order o, const src& at);
void spin_hint(const src& at);
void yield_now(const src& at);

void cell_access(handle& h, const void* addr, bool write, const src& at);

/// Model threads: spawn runs `fn(arg)` on a new model thread; join blocks until it ends.
unsigned thread_spawn(void (*fn)(void*), void* arg, void (*drop)(void*), const src& at);
void thread_join(unsigned id, const src& at);

void mutex_lock(handle& h, const void* addr, const src& at);
bool mutex_try_lock(handle& h, const void* addr, const src& at);
void mutex_unlock(handle& h, const void* addr, const src& at);
void condvar_wait(handle& cv, const void* cv_addr, handle& m, const void* m_addr, const src& at);
void condvar_notify(handle& cv, const void* cv_addr, bool all, const src& at);

/// Allocations made between enter and exit are not tracked (not leaks, not quarantined).
void untracked_enter() noexcept;
void untracked_exit() noexcept;

/// Reports a failure of the current execution (the checker's own assertion) and does not
/// return to the caller's model thread.
[[noreturn]] void fail(const char* kind, const char* message, const src& at);

}  // namespace ferrite::check::detail
