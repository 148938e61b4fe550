// SPDX-License-Identifier: Apache-2.0
// Broken zoo: a Treiber stack that deletes a popped node at once. A concurrent pop that
// loaded the same head reads the node's `next` after the delete: use after free (and, were
// the memory reused, ABA). Deferring the deletes until no thread can hold the node fixes it.
#include <gtest/gtest.h>

#include <vector>

#include "../model_support.hpp"
#include "ferrite/check.hpp"
#include "ferrite/core/atomic.hpp"
#include "ferrite/core/contract.hpp"

namespace {

using namespace ferrite::check::testing;  // NOLINT(google-build-using-namespace)
using ferrite::check::failure_kind;

struct node {
  explicit node(int v) : value(v) {}
  int value;
  ferrite::cell<node*> next;
};

struct toy_stack {
  ferrite::atomic<node*> head{nullptr};

  void push(node* n) {
    node* h = head.load(std::memory_order_relaxed);
    do {
      n->next.with_mut([h](node** p) { *p = h; });
    } while (
        !head.compare_exchange_weak(h, n, std::memory_order_release, std::memory_order_relaxed));
  }
  node* pop() {
    node* h = head.load(std::memory_order_acquire);
    while (h != nullptr) {
      node* next = h->next.with([](node* const* p) { return *p; });
      if (head.compare_exchange_weak(h, next, std::memory_order_acquire, std::memory_order_acquire))
        return h;
    }
    return nullptr;
  }
};

void run(bool free_at_once) {
  toy_stack s;
  s.push(new node(1));
  s.push(new node(2));
  std::vector<node*>* later = nullptr;
  {
    ferrite::check::untracked_scope bookkeeping;
    later = new std::vector<node*>();
    later->reserve(4);
  }
  auto pop_one = [&] {
    node* n = s.pop();
    if (n == nullptr) return;
    if (free_at_once) {
      delete n;
    } else {
      ferrite::check::untracked_scope bookkeeping;
      later->push_back(n);  // capacity reserved: no allocation
    }
  };
  ferrite::thread t(pop_one);
  pop_one();
  t.join();
  while (node* n = s.pop()) delete n;
  for (node* n : *later) delete n;
  ferrite::check::untracked_scope bookkeeping;
  delete later;
}

TEST(BrokenTreiber, FreeOnPopIsUseAfterFree) {
  expect_failure(failure_kind::use_after_free, [] { run(true); });
}

TEST(FixedTreiber, DeferredFree) {
  expect_pass([] { run(false); });
}

}  // namespace
