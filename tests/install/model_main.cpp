// SPDX-License-Identifier: Apache-2.0
// The install test's model-test consumer, built with ferrite_add_model_test() from the
// installed package: the example, a model-checked SPSC queue, and a broken variant the
// checker must catch. Exits non-zero when either answer is wrong.
#include <cstdio>
#include <ferrite/check.hpp>
#include <ferrite/core/contract.hpp>
#include <ferrite/sync/spsc_queue.hpp>

int main() {
  // Every interleaving within the default bounds: the popped value is the pushed one.
  ferrite::check::model([] {
    ferrite::sync::spsc_queue<int> q(2);
    ferrite::check::thread t([&] { static_cast<void>(q.try_push(1)); });
    int v = 0;
    if (q.try_pop(v)) FERRITE_ASSERT(v == 1);
    t.join();
  });
  // A lost update the checker must report.
  const ferrite::check::report r = ferrite::check::explore({}, [] {
    ferrite::atomic<int> n{0};
    auto bump = [&] { n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); };
    ferrite::check::thread t(bump);
    bump();
    t.join();
    FERRITE_ASSERT(n.load(std::memory_order_relaxed) == 2);
  });
  if (r.failure != ferrite::check::failure_kind::assertion) {
    std::fprintf(stderr, "consumer_model: the lost update was not found\n");
    return 1;
  }
  std::puts("consumer_model: ferrite::check works from this build tree or install");
  return 0;
}
