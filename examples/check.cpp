// SPDX-License-Identifier: Apache-2.0
// examples/check: model-checking a lock-free handoff with ferrite::check. A producer fills a
// plain buffer and raises a flag; a consumer that sees the flag reads the buffer. The code is
// written against core/atomic.hpp (ferrite::atomic, ferrite::cell, ferrite::thread), so this
// program, built with ferrite_add_model_test() (FERRITE_CHECK=1), runs it under every
// interleaving and every weak-memory outcome within the bounds. The release/acquire version
// is proved; the relaxed one, which passes every stress test on x86, is caught with a trace
// and a replay token. Exits non-zero if either verdict is wrong.
#include <cstdio>
#include <ferrite/check.hpp>
#include <ferrite/core/atomic.hpp>
#include <ferrite/core/contract.hpp>

namespace {

// The algorithm under test, parameterized by the orderings it uses.
struct handoff {
  ferrite::cell<int> payload{0};  // plain data: the checker reports a race on it
  ferrite::atomic<bool> ready{false};

  void produce(std::memory_order publish) {
    payload.with_mut([](int* p) { *p = 42; });
    // ORDERING: `publish`: release pairs with the consumer's acquire load of `ready`.
    ready.store(true, publish);
  }
  void consume(std::memory_order observe) {
    // ORDERING: `observe`: acquire pairs with the producer's release store of `ready`.
    if (ready.load(observe)) {
      payload.with([](const int* p) { FERRITE_ASSERT(*p == 42); });
    }
  }
};

ferrite::check::report run(std::memory_order publish, std::memory_order observe) {
  return ferrite::check::explore(ferrite::check::options::from_env(), [=] {
    handoff h;  // created inside the closure: every execution starts from scratch
    ferrite::check::thread producer([&] { h.produce(publish); });
    h.consume(observe);
    producer.join();
  });
}

}  // namespace

int main() {
  const ferrite::check::report good = run(std::memory_order_release, std::memory_order_acquire);
  std::printf("release/acquire: %s\n  %s\n", good.ok() ? "proved" : "FAILED",
              good.summary().c_str());

  const ferrite::check::report bad = run(std::memory_order_relaxed, std::memory_order_relaxed);
  std::printf("relaxed/relaxed: %s (%s)\n", bad.ok() ? "NOT CAUGHT" : "caught",
              ferrite::check::to_string(bad.failure));
  if (!bad.ok()) std::printf("%s\n", bad.text().c_str());

  const bool right =
      good.ok() && good.complete && bad.failure == ferrite::check::failure_kind::data_race;
  return right ? 0 : 1;
}
