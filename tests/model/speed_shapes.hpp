// SPDX-License-Identifier: Apache-2.0
// The checker's benchmark algorithms, shared by the speed tests and the reduction tests: a
// Treiber stack whose nodes are freed only after every thread has finished, and Vyukov's
// bounded MPMC queue. Written directly against ferrite::atomic/cell, as a user would.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

#include "ferrite/core/atomic.hpp"

namespace ferrite::check::testing {

struct tnode {
  explicit tnode(int v) : value(v) {}
  ferrite::cell<int> value;
  ferrite::cell<tnode*> next;
};

struct treiber {
  ferrite::atomic<tnode*> head{nullptr};
  void push(tnode* n) {
    tnode* h = head.load(std::memory_order_relaxed);
    do {
      n->next.with_mut([h](tnode** p) { *p = h; });
    } while (
        !head.compare_exchange_weak(h, n, std::memory_order_release, std::memory_order_relaxed));
  }
  tnode* pop() {
    tnode* h = head.load(std::memory_order_acquire);
    while (h != nullptr &&
           !head.compare_exchange_weak(h, h->next.with([](tnode* const* p) { return *p; }),
                                       std::memory_order_acquire, std::memory_order_acquire)) {
    }
    return h;
  }
};

template <std::size_t N>
struct vyukov {
  struct slot {
    ferrite::atomic<std::size_t> turn{0};
    ferrite::cell<int> value{0};
  };
  std::array<slot, N> slots;
  ferrite::atomic<std::size_t> enqueue_pos{0};
  ferrite::atomic<std::size_t> dequeue_pos{0};

  vyukov() {
    for (std::size_t i = 0; i < N; ++i) slots[i].turn.store(i, std::memory_order_relaxed);
  }
  bool try_push(int v) {
    std::size_t pos = enqueue_pos.load(std::memory_order_relaxed);
    for (;;) {
      slot& s = slots[pos % N];
      const std::size_t turn = s.turn.load(std::memory_order_acquire);
      if (turn == pos) {
        if (enqueue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
          s.value.with_mut([v](int* p) { *p = v; });
          s.turn.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (turn < pos) {
        return false;  // full
      } else {
        pos = enqueue_pos.load(std::memory_order_relaxed);
      }
    }
  }
  bool try_pop(int& v) {
    std::size_t pos = dequeue_pos.load(std::memory_order_relaxed);
    for (;;) {
      slot& s = slots[pos % N];
      const std::size_t turn = s.turn.load(std::memory_order_acquire);
      if (turn == pos + 1) {
        if (dequeue_pos.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed,
                                              std::memory_order_relaxed)) {
          v = s.value.with([](const int* p) { return *p; });
          s.turn.store(pos + N, std::memory_order_release);
          return true;
        }
      } else if (turn < pos + 1) {
        return false;  // empty
      } else {
        pos = dequeue_pos.load(std::memory_order_relaxed);
      }
    }
  }
};

}  // namespace ferrite::check::testing
