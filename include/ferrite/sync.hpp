// SPDX-License-Identifier: Apache-2.0
// ferrite sync: lock-free and low-lock structures for sharing data between threads, each
// written against the check indirection (core/atomic.hpp) so the model checker explores the
// same source, and each carrying numbered ORDERING comments that name their partners.
//
// What is here
//   seqlock.hpp           one writer publishes a small POD; readers copy it without writing
//   spin_mutex.hpp        a one-byte test-and-test-and-set lock with backoff (Lockable)
//   intrusive_list.hpp    O(1) link/unlink doubly linked list through member hooks
//   spsc_queue.hpp        bounded wait-free single-producer/single-consumer ring
//   mpmc_queue.hpp        bounded MPMC queue (Vyukov slot turns), try_ and blocking push/pop
//   mpsc_queue.hpp        unbounded MPSC queue of blocks (includes intrusive_mpsc_queue.hpp,
//                         Vyukov's intrusive queue for caller-owned nodes)
//   seg_queue.hpp         unbounded MPMC queue of 31-slot blocks (crossbeam's SegQueue)
//   treiber_stack.hpp     lock-free stack over either reclaimer
//   ws_deque.hpp          Chase-Lev work-stealing deque: owner push/pop, any thread steals
//   hazard_pointer.hpp    C++26-shaped hazard pointers (P2530), default and user domains
//   epoch.hpp             crossbeam-style epochs, in ferrite::sync::epoch: pin(), guard::defer
//   asymmetric_fence.hpp  light (compiler) / heavy (membarrier) fence pair
//
// 1. Queues. Every queue and the stack have one shape, so swapping one for another changes one
//    name: try_push(v) / try_emplace(args...) return false only when a bounded queue is full;
//    try_pop() returns std::optional<T> (try_pop(T&) fills an existing object); a queue that
//    can block (mpmc_queue) adds push(v) and T pop(), which wait.
// ```cpp
// ferrite::sync::mpmc_queue<job> jobs(1024);        // bounded: back-pressure when full
// jobs.push(job{42});                               // producer: waits while full
// job next = jobs.pop();                            // worker: waits while empty
// ferrite::sync::mpsc_queue<event> mailbox;         // unbounded: push never fails
// mailbox.push(event{});                            // any thread
// while (std::optional<event> e = mailbox.try_pop()) handle(*e);   // the one consumer
// ```
//
// 2. Hazard pointers: a reader protects one object at a time; a writer that unlinked an object
//    retires it, and it is deleted once no hazard pointer holds it.
// ```cpp
// struct node : ferrite::sync::hazard_pointer_obj_base<node> { int value; node* next; };
// ferrite::atomic<node*> head;
//
// ferrite::sync::hazard_pointer h = ferrite::sync::make_hazard_pointer();  // reader
// if (node* n = h.protect(head)) use(n->value);  // n stays alive until h is reset or dies
//
// node* old = head.load(std::memory_order_acquire);                        // writer
// if (old && head.compare_exchange_strong(old, old->next, std::memory_order_acq_rel,
//                                         std::memory_order_acquire))
//   old->retire();  // reclaimed by a later scan that finds no hazard pointer on it
// ```
//
// 3. Epochs: a pinned reader may read any number of objects; unlinked objects are deferred
//    and deleted once every thread pinned at the unlink has unpinned.
// ```cpp
// {
//   ferrite::sync::epoch::guard g = ferrite::sync::epoch::pin();  // two stores, no fence
//   const config* c = current.load(std::memory_order_acquire);   // safe until g dies
//   route(c->table);
// }
// config* old = current.exchange(fresh, std::memory_order_acq_rel);  // writer
// ferrite::sync::epoch::pin().defer_delete(old);
// ```
//
// 4. A seqlock for one writer and many readers of a small POD:
// ```cpp
// ferrite::sync::seqlock<quote> last{quote{}};
// last.store(q);                     // writer thread
// quote seen = last.load();          // any reader: never torn, never blocks the writer
// ```
//
// When not to use it: a spin_mutex around long critical sections, or with more threads than
// cores, burns CPU; use std::mutex. A thread that stays pinned stops epoch reclamation; use
// hazard pointers when readers may block. Which structure for which job: docs/sync.md; why
// each is correct and what was measured: docs/sync-design.md. A complete program:
// examples/sync.cpp.
#pragma once

#include "ferrite/sync/asymmetric_fence.hpp"
#include "ferrite/sync/epoch.hpp"
#include "ferrite/sync/hazard_pointer.hpp"
#include "ferrite/sync/intrusive_list.hpp"
#include "ferrite/sync/mpmc_queue.hpp"
#include "ferrite/sync/mpsc_queue.hpp"
#include "ferrite/sync/seg_queue.hpp"
#include "ferrite/sync/seqlock.hpp"
#include "ferrite/sync/spin_mutex.hpp"
#include "ferrite/sync/spsc_queue.hpp"
#include "ferrite/sync/treiber_stack.hpp"
#include "ferrite/sync/ws_deque.hpp"
