// SPDX-License-Identifier: Apache-2.0
// examples/sync: a small order-matching pipeline on ferrite's sync structures.
//   - Clients submit orders to a bounded mpmc_queue (blocking push: back-pressure when full).
//   - Two workers pop orders (blocking pop), price them against the current fee schedule and
//     send fills to a mailbox (mpsc_queue: many producers, one consumer, never full).
//   - The fee schedule is read under an epoch pin on every order, and replaced while the
//     workers run: the old schedule is unlinked and deferred, never freed under a reader.
//   - The main thread drains the mailbox with the same try_pop every queue has.
// Checks every order is filled exactly once, at a fee from a schedule that was live, and
// exits non-zero otherwise.
#include <cstdint>
#include <cstdio>
#include <ferrite/core/atomic.hpp>
#include <ferrite/sync/epoch.hpp>
#include <ferrite/sync/mpmc_queue.hpp>
#include <ferrite/sync/mpsc_queue.hpp>
#include <optional>
#include <vector>

namespace {

struct order {
  std::uint32_t id;
  std::uint32_t quantity;
};
struct fill {
  std::uint32_t id;
  std::uint64_t fee;
};
struct fee_schedule {
  std::uint64_t per_unit;
};

constexpr std::uint32_t order_count = 20'000;
constexpr std::uint32_t poison = UINT32_MAX;  // tells a worker to stop

// The live schedule: readers load it inside a pin; the writer swaps it and defers the delete.
ferrite::atomic<fee_schedule*> g_schedule{nullptr};

void worker(ferrite::sync::mpmc_queue<order>& orders, ferrite::sync::mpsc_queue<fill>& fills) {
  for (;;) {
    const order o = orders.pop();  // blocks while the queue is empty
    if (o.id == poison) return;
    std::uint64_t fee = 0;
    {
      ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();
      // ORDERING: acquire pairs with the release exchange in reprice(): the schedule's
      // fields are visible, and the pin keeps it alive until g dies.
      const fee_schedule* s = g_schedule.load(std::memory_order_acquire);
      fee = s->per_unit * o.quantity;
    }
    fills.push(fill{o.id, fee});
  }
}

void reprice(std::uint64_t per_unit) {
  ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();
  // ORDERING: release publishes the new schedule's fields to the workers' acquire loads;
  // acquire because this thread hands the old one to defer_delete.
  fee_schedule* old = g_schedule.exchange(new fee_schedule{per_unit}, std::memory_order_acq_rel);
  g.defer_delete(old);  // freed once every thread pinned now has unpinned
}

}  // namespace

int main() {
  // ORDERING: relaxed; the workers start after this store (thread creation orders it).
  g_schedule.store(new fee_schedule{3}, std::memory_order_relaxed);
  ferrite::sync::mpmc_queue<order> orders(256);
  ferrite::sync::mpsc_queue<fill> fills;

  std::vector<ferrite::thread> workers;
  for (int w = 0; w < 2; ++w) workers.emplace_back([&] { worker(orders, fills); });

  std::vector<bool> seen(order_count, false);
  std::uint32_t filled = 0;
  std::uint32_t duplicates = 0;
  std::uint32_t mispriced = 0;
  auto drain = [&] {
    while (std::optional<fill> f = fills.try_pop()) {
      // Priced against one of the schedules that were live: 3, then 3 + 1 per 5,000 orders.
      const std::uint64_t per_unit = f->fee / (1 + f->id % 7);
      if (f->fee % (1 + f->id % 7) != 0 || per_unit < 3 || per_unit > 3 + f->id / 5'000 + 1) {
        ++mispriced;
      }
      if (seen[f->id]) ++duplicates;
      seen[f->id] = true;
      ++filled;
    }
  };
  for (std::uint32_t id = 0; id < order_count; ++id) {
    orders.push(order{id, 1 + id % 7});  // blocks while the workers are behind
    if (id % 5'000 == 4'999) reprice(3 + id / 5'000);
    if (id % 64 == 0) drain();
  }
  for (std::size_t w = 0; w < workers.size(); ++w) orders.push(order{poison, 0});
  for (ferrite::thread& t : workers) t.join();
  drain();

  std::printf(
      "sync: %u orders, %u fills, %u duplicates, %u mispriced; the fee schedule was "
      "replaced 4 times under the readers\n",
      order_count, filled, duplicates, mispriced);
  // ORDERING: relaxed; the workers were joined, nobody else reads the schedule.
  delete g_schedule.load(std::memory_order_relaxed);
  return filled == order_count && duplicates == 0 && mispriced == 0 ? 0 : 1;
}
