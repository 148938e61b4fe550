// SPDX-License-Identifier: Apache-2.0
// check::model: run a closure under the model checker until every distinct execution within
// the bounds has been explored, and fail with a readable trace on the first bug.
//
//   TEST(SpscQueue, Model) {
//     ferrite::check::model([] {
//       ferrite::sync::spsc_queue<int> q(2);
//       ferrite::check::thread t([&] { q.try_push(1); });
//       int v;
//       if (q.try_pop(v)) FERRITE_ASSERT(v == 1);
//       t.join();
//     });
//   }
//
// The closure is re-run from scratch for every execution, so everything it touches must be
// created inside it. See docs/check.md for what is modelled and what is not.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "ferrite/check/mutex.hpp"
#include "ferrite/check/primitives.hpp"

namespace ferrite::check {

enum class mode : std::uint8_t {
  exhaustive,  ///< depth-first over every execution within the bounds (DPOR-reduced)
  random,      ///< PCT: random priorities with change points, `iterations` runs
};

/// Bounds and switches. `from_env()` applies FERRITE_CHECK_PREEMPTIONS, FERRITE_CHECK_MODE
/// (exhaustive|random), FERRITE_CHECK_ITERATIONS, FERRITE_CHECK_SEED, FERRITE_CHECK_REPLAY
/// and FERRITE_CHECK_VERBOSE over the values given in code.
struct options {
  /// Maximum preemptive context switches per execution; negative means unbounded.
  int preemption_bound = 2;
  mode search = mode::exhaustive;
  std::uint64_t iterations = 10'000;  ///< random mode: executions to run
  std::uint64_t seed = 0x5eed;        ///< random mode: first seed
  unsigned pct_depth = 3;             ///< random mode: PCT bug depth d (d-1 change points)
  bool dpor = true;                   ///< partial-order reduction (off: every interleaving)
  unsigned history = 7;               ///< stores kept per atomic location (1..16)
  bool spurious_cas_failures = true;  ///< a weak CAS may fail once per thread and execution
  std::uint64_t max_steps = 100'000;  ///< operations per execution before "livelock"
  std::uint64_t max_executions = 0;   ///< stop after this many (0: no limit); not a failure
  bool check_leaks = true;            ///< tracked allocations alive at the end are a leak
  std::size_t stack_size = std::size_t{256} * 1024;
  std::string replay;    ///< a replay token: run exactly that execution, with its trace
  bool verbose = false;  ///< print the summary line on success too

  [[nodiscard]] static options from_env(options base);
  [[nodiscard]] static options from_env() { return from_env(options{}); }
};

/// What went wrong, by category (the report's first line names it too).
enum class failure_kind : std::uint8_t {
  none,
  assertion,       ///< FERRITE_ASSERT or a contract failed in a model thread
  data_race,       ///< conflicting cell accesses not ordered by happens-before
  use_after_free,  ///< an atomic or cell used after its destruction or its memory freed
  double_free,
  leak,            ///< a tracked allocation still alive at the end of an execution
  deadlock,        ///< no runnable thread while some are blocked
  livelock,        ///< max_steps operations in one execution
  misuse,          ///< API misuse: joinable thread destroyed, too many threads, bad token...
  nondeterminism,  ///< a replayed prefix took a different path (the closure is not pure)
  exception,       ///< an exception escaped a model thread
};

const char* to_string(failure_kind k) noexcept;

struct report {
  failure_kind failure = failure_kind::none;
  std::string message;  ///< one paragraph: what and where
  std::string trace;    ///< the failing execution, one line per operation
  std::string token;    ///< FERRITE_CHECK_REPLAY value that reruns the failing execution
  std::uint64_t executions = 0;
  std::uint64_t pruned = 0;     ///< of those, cut short by sleep sets (unbounded search)
  std::uint64_t max_depth = 0;  ///< most operations in one execution
  double seconds = 0;
  bool complete = false;  ///< exhaustive search finished (not cut by max_executions)

  [[nodiscard]] bool ok() const noexcept { return failure == failure_kind::none; }
  /// The whole report as printed on failure: kind, message, trace, replay hint.
  [[nodiscard]] std::string text() const;
  /// "model: N executions in S s (complete)".
  [[nodiscard]] std::string summary() const;
};

/// Explores `fn` under `opts` and returns what it found. Never throws for a model failure;
/// throws std::invalid_argument for options it cannot run (`history` outside 1..16, a
/// malformed `replay` token) and std::logic_error when called during another exploration,
/// leaving the running engine and the contract handler as they were.
report explore(const options& opts, const std::function<void()>& fn);

/// Thrown by model() when an execution fails; what() is report::text().
class failure : public std::runtime_error {
 public:
  explicit failure(report r) : std::runtime_error(r.text()), report_(std::move(r)) {}
  [[nodiscard]] const check::report& result() const noexcept { return report_; }

 private:
  check::report report_;
};

/// Explores `fn` with options::from_env(opts); prints the summary and throws check::failure
/// on the first failing execution (GoogleTest shows what() as the test's failure).
void model(const options& opts, const std::function<void()>& fn);
inline void model(const std::function<void()>& fn) { model(options{}, fn); }

/// Inside a model thread, allocations made while one of these lives are the test's
/// bookkeeping, not the code under test: they are neither tracked for leaks nor quarantined.
/// Use it to collect outcomes into a container that outlives the execution.
class untracked_scope {
 public:
  untracked_scope() noexcept { detail::untracked_enter(); }
  ~untracked_scope() { detail::untracked_exit(); }
  untracked_scope(const untracked_scope&) = delete;
  untracked_scope& operator=(const untracked_scope&) = delete;
};

/// Gives the object at `addr` a name for failure traces ("head", "slot[1]").
void name(const void* addr, const char* label);

}  // namespace ferrite::check
