// SPDX-License-Identifier: Apache-2.0
// examples/tour: a short walk through every ferrite module that exists, printing what each
// step did. It is scripts/demo's main job until ferrite-kv exists, and it grows with each
// module (today core, mem, sync, rt). Every step checks its own result and the tour exits
// non-zero if one is wrong.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ferrite/ferrite.hpp>
#include <memory_resource>
#include <span>
#include <string>
#include <vector>

namespace tour {

enum class perm : std::uint8_t { read = 1, write = 2, exec = 4 };
consteval auto ferrite_flags(perm /*tag*/) {
  return std::array{ferrite::flag_def{perm::read, "READ"}, ferrite::flag_def{perm::write, "WRITE"},
                    ferrite::flag_def{perm::exec, "EXEC"}};
}
FERRITE_FLAG_OPERATORS(perm);

struct wire_header {  // a pod: no padding, every bit pattern valid
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t length;
};

inline ferrite::metrics::counter g_steps{"tour.steps", "tour steps completed"};
inline ferrite::metrics::histogram g_sizes{"tour.sizes", "sizes rounded by next_pow2"};

int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("  !! FAILED: %s\n", what);
    ++failures;
  }
  g_steps.add();
}

void core_cpu() {
  std::puts("core/cpu: what this machine offers");
  const auto& f = ferrite::cpu_features();
  std::printf("  cpu: %s\n  features: %s\n", std::string(ferrite::cpu_brand()).c_str(),
              f.to_string().c_str());
  const std::uint64_t t0 = ferrite::rdtsc();
  volatile std::uint64_t sink = 0;
  for (std::uint64_t i = 0; i < 1'000'000; ++i) sink = sink + i;
  const std::uint64_t t1 = ferrite::rdtscp();
  std::printf("  cycle_clock: %.0f MHz (%s), a 1M-iteration loop took %llu ns\n",
              ferrite::cycle_clock::ticks_per_second() / 1e6,
              ferrite::cycle_clock::is_invariant() ? "invariant TSC" : "steady_clock fallback",
              static_cast<unsigned long long>(ferrite::cycle_clock::to_nanoseconds(t1 - t0)));
  expect(t1 >= t0, "the TSC moves forward");
}

void core_bits() {
  std::puts("core/bits: branch-free power-of-two arithmetic");
  for (const std::uint32_t n : {0U, 1U, 3U, 1000U, 4097U, 0x8000'0001U}) {
    const std::uint32_t p = ferrite::next_pow2(n);
    std::printf("  next_pow2(%u) = %u\n", n, p);
    g_sizes.record(p);
  }
  expect(ferrite::next_pow2(1000U) == 1024U, "next_pow2(1000)");
  expect(ferrite::next_pow2(0x8000'0001U) == 0U, "next_pow2 wraps above the largest power");
  expect(ferrite::align_up(std::size_t{13}, std::size_t{8}) == 16, "align_up");
  expect(!ferrite::checked_align_up(~std::size_t{0}, std::size_t{64}).has_value(),
         "checked_align_up reports overflow");
}

void core_flags() {
  std::puts("core/flags: type-safe flag sets");
  ferrite::flags<perm> p = perm::read | perm::write;
  std::printf("  read|write = %s, complement = %s\n", p.to_string().c_str(),
              (~p).to_string().c_str());
  const auto bad = ferrite::flags<perm>::from_bits(0x18);
  std::printf("  from_bits(0x18): %s\n", bad ? "accepted?!" : bad.error().message().c_str());
  expect(p.contains(perm::write) && !p.contains(perm::exec), "contains");
  expect(!bad.has_value(), "from_bits rejects undeclared bits");
  expect(ferrite::flags<perm>::from_bits_truncate(0x1c).to_string() == "EXEC", "truncate");
}

void core_pod() {
  std::puts("core/pod: checked casts from bytes");
  alignas(wire_header) std::array<std::byte, 12> buf{};
  const wire_header h{0xfe77'17e0U, 1, 12};
  ferrite::write_unaligned(buf.data(), h);
  const auto ok = ferrite::try_cast<wire_header>(std::span<const std::byte>(buf).first(8));
  const auto short_read = ferrite::try_cast<wire_header>(std::span<const std::byte>(buf).first(5));
  const auto skewed = ferrite::try_cast<wire_header>(std::span<const std::byte>(buf).subspan(1, 8));
  std::printf("  8 bytes: magic 0x%x; 5 bytes: %s; offset 1: %s\n", ok ? (*ok)->magic : 0U,
              short_read ? "?!" : short_read.error().message().c_str(),
              skewed ? "?!" : skewed.error().message().c_str());
  expect(ok && (*ok)->magic == 0xfe77'17e0U, "try_cast round trip");
  expect(!short_read && short_read.error() == ferrite::errc::size_mismatch, "size mismatch");
  expect(!skewed && skewed.error() == ferrite::errc::misaligned, "misalignment");
}

void core_concurrency() {
  std::puts("core/atomic + backoff + cache_padded: 4 threads, one padded counter each");
  constexpr int threads = 4;
  constexpr std::uint64_t per_thread = 100'000;
  std::array<ferrite::cache_padded<ferrite::atomic<std::uint64_t>>, threads> counters{};
  ferrite::atomic<int> ready{0};
  std::vector<ferrite::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // ORDERING: relaxed; the start line only aligns the threads, it publishes nothing.
      ready.fetch_add(1, std::memory_order_relaxed);
      ferrite::backoff b;
      while (ready.load(std::memory_order_relaxed) < threads) b.snooze();
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        // ORDERING: relaxed; join() below publishes the totals.
        counters[static_cast<std::size_t>(t)]->fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& th : pool) th.join();
  std::uint64_t total = 0;
  for (auto& c : counters) total += c->load(std::memory_order_relaxed);
  std::printf("  total %llu, sizeof(cache_padded<atomic<u64>>) = %zu\n",
              static_cast<unsigned long long>(total), sizeof(counters[0]));
  expect(total == threads * per_thread, "every increment counted once");
}

void mem_allocators() {
  std::puts("mem: an arena, an object pool and a small_vector");
  ferrite::mem::arena a;
  std::pmr::vector<int> ids(a.resource());
  for (int i = 0; i < 100; ++i) ids.push_back(i);
  auto* name = a.make<std::string>("allocated in the arena, destroyed by reset()");
  const auto st = a.stats();
  std::printf("  arena: %zu bytes used of %zu reserved in %zu chunk(s); \"%s\"\n", st.bytes_used,
              st.bytes_reserved, st.chunks, name->c_str());
  a.reset();
  ferrite::mem::object_pool<wire_header> pool;
  wire_header* h = pool.create(wire_header{1, 2, 3});
  std::printf("  object_pool: %zu live, capacity %zu\n", pool.size(), pool.capacity());
  pool.destroy(h);
  ferrite::mem::small_vector<int, 8> small{1, 2, 3};
  const bool inline_before = small.capacity() == 8;
  for (int i = 0; i < 10; ++i) small.push_back(i);
  std::printf("  small_vector<int,8>: %zu bytes, inline at 3 elements: %s, %zu elements now\n",
              sizeof(small), inline_before ? "yes" : "no", small.size());
  expect(st.bytes_used >= 100 * sizeof(int) && st.bytes_used <= st.bytes_reserved, "arena stats");
  expect(pool.size() == 0, "pool empty after destroy");
  expect(small.size() == 13 && small[3] == 0, "small_vector spilled and kept its elements");
}

void sync_structures() {
  std::puts("sync: an SPSC ring between two threads, and a seqlock");
  constexpr std::uint64_t items = 200'000;
  ferrite::sync::spsc_queue<std::uint64_t> q(1024);
  std::uint64_t sum = 0;
  ferrite::thread consumer([&] {
    for (std::uint64_t got = 0; got < items;) {
      std::uint64_t v = 0;
      if (q.try_pop(v)) {
        sum += v;
        ++got;
      } else {
        ferrite::spin_hint();
      }
    }
  });
  for (std::uint64_t i = 1; i <= items; ++i) {
    while (!q.try_push(i)) ferrite::spin_hint();
  }
  consumer.join();
  std::printf("  spsc_queue: %llu items, sum %llu\n", static_cast<unsigned long long>(items),
              static_cast<unsigned long long>(sum));
  ferrite::sync::seqlock<wire_header> latest(wire_header{7, 1, 12});
  latest.store(wire_header{8, 2, 24});
  const wire_header seen = latest.load();
  std::printf("  seqlock: latest magic %u, version %u\n", seen.magic, seen.version);
  expect(sum == items * (items + 1) / 2, "every item delivered once");
  expect(seen.magic == 8 && seen.length == 24, "seqlock load");
}

ferrite::rt::task<std::uint64_t> square(std::uint64_t v) {
  co_await ferrite::rt::yield_now();  // lets the sibling tasks run between the two halves
  co_return v* v;
}

ferrite::rt::task<std::uint64_t> sum_of_squares(std::uint64_t n) {
  std::vector<ferrite::rt::join_handle<std::uint64_t>> parts;
  for (std::uint64_t i = 1; i <= n; ++i) parts.push_back(ferrite::rt::spawn(square(i)));
  std::uint64_t total = 0;
  for (auto& h : parts) total += co_await h;
  co_return total;
}

void rt_tasks() {
  std::puts("rt: 100 tasks spawned on a local executor, each yielding once, joined in order");
  const std::uint64_t total = ferrite::rt::block_on(sum_of_squares(100));
  std::printf("  sum of squares 1..100 = %llu\n", static_cast<unsigned long long>(total));
  expect(total == 338'350, "every task joined once");
}

void core_metrics() {
  std::puts("core/metrics: what the tour recorded (Prometheus text)");
  const auto snap = ferrite::metrics::take_snapshot();
  std::string text = snap.to_text();
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    if (line.rfind("tour_", 0) == 0 && line.find("_bucket") == std::string::npos) {
      std::printf("  %s\n", line.c_str());
    }
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  expect(text.find("tour_steps") != std::string::npos, "the step counter is exposed");
}

}  // namespace tour

int main() {
  std::puts("ferrite tour\n");
  tour::core_cpu();
  tour::core_bits();
  tour::core_flags();
  tour::core_pod();
  tour::core_concurrency();
  tour::mem_allocators();
  tour::sync_structures();
  tour::rt_tasks();
  tour::core_metrics();
  std::printf("\n%s (%d failed checks)\n", tour::failures == 0 ? "tour complete" : "tour FAILED",
              tour::failures);
  return tour::failures == 0 ? 0 : 1;
}
