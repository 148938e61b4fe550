// SPDX-License-Identifier: Apache-2.0
// examples/rt: coroutine tasks on ferrite's local executor.
//   - A request handler is a task; parsing is a nested task awaited inline (no hop).
//   - The server spawns one handler per request and joins them all (the results come back in
//     spawn order whatever order they finish in); handlers yield so that they interleave.
//   - A "disk" thread outside the runtime completes reads: the waiting task parks with
//     current_waker(), and the thread wakes it.
//   - The same handlers on a two-worker thread_pool, fanned out with when_all, a slow lookup
//     raced against a deadline with timeout, and a task_scope of background jobs.
// Checks every result and exits non-zero if one is wrong.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ferrite/rt.hpp>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace rt = ferrite::rt;

namespace {

// An event source outside the runtime: one pending read at a time, completed by a thread.
class fake_disk {
 public:
  // Awaitable: suspends the task until the disk thread has "read" the block.
  struct read {
    fake_disk& disk;
    std::uint64_t block;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> /*self*/) {
      std::scoped_lock lock(disk.m_);
      disk.waiting_ = rt::current_waker();  // what the disk thread will wake
      disk.block_ = block;
      disk.worker_ = std::thread([&d = disk] { d.complete(); });
    }
    std::uint64_t await_resume() {
      disk.worker_.join();
      std::scoped_lock lock(disk.m_);
      return disk.result_;
    }
  };

 private:
  void complete() {
    rt::waker to_wake;
    {
      std::scoped_lock lock(m_);
      result_ = block_ * 4096;  // the block's byte offset stands in for its contents
      to_wake = std::move(waiting_);
    }
    std::move(to_wake).wake();  // from a foreign thread: through the injection queue
  }

  std::mutex m_;
  rt::waker waiting_;
  std::uint64_t block_ = 0;
  std::uint64_t result_ = 0;
  std::thread worker_;
};

rt::task<std::size_t> parse_length(std::string_view request) {
  co_return request.size();  // a nested task: runs inline where it is awaited
}

rt::task<std::string> handle(std::string request) {
  const std::size_t n = co_await parse_length(request);
  co_await rt::yield_now();  // let the other handlers run
  co_return "+" + request + " (" + std::to_string(n) + " bytes)";
}

rt::task<int> serve(fake_disk& disk) {
  const std::vector<std::string> requests{"GET a", "SET b 1", "PING", "INCR counter"};
  std::vector<rt::join_handle<std::string>> handlers;
  for (const std::string& r : requests) handlers.push_back(rt::spawn(handle(r)));
  int failures = 0;
  for (std::size_t i = 0; i < handlers.size(); ++i) {
    const std::string reply = co_await handlers[i];
    std::printf("  %-14s -> %s\n", requests[i].c_str(), reply.c_str());
    if (reply != "+" + requests[i] + " (" + std::to_string(requests[i].size()) + " bytes)") {
      ++failures;
    }
  }
  const std::uint64_t offset = co_await fake_disk::read{disk, 7};
  std::printf("  block 7 read by another thread: offset %llu\n",
              static_cast<unsigned long long>(offset));
  if (offset != 7 * 4096) ++failures;
  co_return failures;
}

rt::task<std::string> slow_lookup() {
  co_await rt::sleep_for(std::chrono::seconds(10));  // longer than anyone waits
  co_return "never";
}

rt::task<int> serve_on_pool() {
  int failures = 0;
  auto [a, b] = co_await rt::when_all(handle("GET a"), handle("PING"));
  std::printf("  when_all on the pool -> %s | %s\n", a.c_str(), b.c_str());
  if (a != "+GET a (5 bytes)" || b != "+PING (4 bytes)") ++failures;
  const auto r = co_await rt::timeout(std::chrono::milliseconds(20), slow_lookup());
  std::printf("  a 10 s lookup under a 20 ms timeout -> %s\n", r ? r->c_str() : "timed out");
  if (r.has_value()) ++failures;
  std::atomic<int> jobs{0};
  rt::task_scope scope;
  for (int i = 0; i < 8; ++i) {
    scope.spawn([](std::atomic<int>& done) -> rt::task<> {
      co_await rt::yield_now();
      done.fetch_add(1);
    }(jobs));
  }
  co_await scope.join();  // every job ended before this returns
  std::printf("  task_scope joined %d background jobs\n", jobs.load());
  if (jobs.load() != 8) ++failures;
  co_return failures;
}

}  // namespace

int main() {
  std::puts("rt: four handlers on one local executor, and a wake from outside");
  fake_disk disk;
  int failures = rt::block_on(serve(disk));
  std::puts("rt: the same runtime on a thread_pool of two workers");
  rt::thread_pool pool(rt::pool_options{.workers = 2});
  failures += rt::block_on(serve_on_pool(), pool);
  std::printf("rt: %s\n", failures == 0 ? "every reply checked" : "FAILED");
  return failures == 0 ? 0 : 1;
}
