// SPDX-License-Identifier: Apache-2.0
// The spawn_blocking pool: a FIFO of tasks under a mutex, threads started on demand up to
// blocking_pool_max_threads, each leaving after keep_alive without work. A task here never
// suspends (it is one blocking call), so a thread polls it once, to its end, and completes it
// with the pool tasks' state word (joins work as for thread_pool tasks). A blocking task
// aborted before a thread took it is cancelled; one already running finishes.
// The pool lives until the process exits: its destructor (static destruction) waits for its
// threads to leave; tasks still queued then are cancelled.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/rt/detail/task_header.hpp"
#include "ferrite/rt/spawn_blocking.hpp"

namespace ferrite::rt::detail {

#if FERRITE_CHECK
// Model tests do not run blocking calls (the pool's threads wait on a real condition variable).
executor_base* blocking_executor() noexcept {
  FERRITE_ASSERT(false, "rt::spawn_blocking: not available in model-checked builds");
  return nullptr;
}
void blocking_submit(task_header* /*t*/) noexcept {
  FERRITE_ASSERT(false, "rt::spawn_blocking: not available in model-checked builds");
}
#else
namespace {

constexpr auto keep_alive = std::chrono::seconds(10);

class blocking_pool final : public executor_base {
 public:
  blocking_pool() noexcept : executor_base(executor_kind::blocking) {}
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  ~blocking_pool() {
    std::unique_lock guard(lock_);
    stopping_ = true;
    work_.notify_all();
    exited_.wait(guard, [&] { return threads_ == 0; });
    while (task_header* const t = pop_locked()) {
      guard.unlock();
      t->finish_pool_task(true);
      t->release_ref();
      guard.lock();
    }
  }

  void submit(task_header* t) {
    std::lock_guard guard(lock_);
    t->next_ready = nullptr;
    if (tail_ == nullptr) {
      head_ = t;
    } else {
      tail_->next_ready = t;
    }
    tail_ = t;
    ++queued_;
    if (idle_ >= queued_) {
      work_.notify_one();  // an idle thread takes it
    } else if (threads_ < blocking_pool_max_threads) {
      ++threads_;
      thread([this] { serve(); }).detach();  // leaves by itself; counted in threads_
    }
  }

 private:
  task_header* pop_locked() noexcept {
    task_header* const t = head_;
    if (t != nullptr) {
      head_ = t->next_ready;
      if (head_ == nullptr) tail_ = nullptr;
      --queued_;
    }
    return t;
  }

  void serve() {
    std::unique_lock guard(lock_);
    for (;;) {
      if (task_header* const t = pop_locked()) {
        guard.unlock();
        run(t);
        guard.lock();
        continue;
      }
      if (stopping_) break;
      ++idle_;
      const bool woken =
          work_.wait_for(guard, keep_alive, [&] { return head_ != nullptr || stopping_; });
      --idle_;
      if (!woken) break;  // idle for keep_alive: leave
    }
    --threads_;
    exited_.notify_all();
  }

  static void run(task_header* t) noexcept {
    const std::uint32_t before = t->start_poll();
    if ((before & state_abort) != 0) {
      t->finish_pool_task(true);
    } else {
      t->leaf.resume();  // the whole blocking call: the task never suspends
      t->finish_pool_task(false);
    }
    t->release_ref();  // the pool's reference
  }

  std::mutex lock_;
  std::condition_variable work_;
  std::condition_variable exited_;
  task_header* head_ = nullptr;
  task_header* tail_ = nullptr;
  std::size_t queued_ = 0;   // tasks waiting for a thread
  std::size_t threads_ = 0;  // threads started and not yet gone
  std::size_t idle_ = 0;     // threads waiting for work (more than queued_: none is started)
  bool stopping_ = false;
};

blocking_pool& the_pool() {
  static blocking_pool pool;
  return pool;
}

}  // namespace

executor_base* blocking_executor() noexcept { return &the_pool(); }

void blocking_submit(task_header* t) noexcept { the_pool().submit(t); }

#endif  // FERRITE_CHECK

}  // namespace ferrite::rt::detail
