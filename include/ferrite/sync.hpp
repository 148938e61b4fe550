// SPDX-License-Identifier: Apache-2.0
// ferrite sync: lock-free and low-lock structures for sharing data between threads, each
// written against the check indirection (core/atomic.hpp) so the model checker explores the
// same source, and each carrying numbered ORDERING comments that name their partners.
//
// What is here
//   seqlock.hpp         one writer publishes a small POD; readers copy it without writing
//   spin_mutex.hpp      a one-byte test-and-test-and-set lock with backoff (Lockable)
//   intrusive_list.hpp  O(1) link/unlink doubly linked list through member hooks
//   spsc_queue.hpp      bounded wait-free single-producer/single-consumer ring
//   mpmc_queue.hpp      bounded MPMC queue (Vyukov slot turns), try_ and blocking push/pop
//   mpsc_queue.hpp      unbounded MPSC queue of blocks (includes intrusive_mpsc_queue.hpp,
//                       Vyukov's intrusive queue for caller-owned nodes)
//   asymmetric_fence.hpp  light (compiler) / heavy (membarrier) fence pair
//   hazard_pointer.hpp  C++26-shaped hazard pointers (P2530), default and user domains
//   epoch.hpp           crossbeam-style epoch reclamation: collector, pin(), guard::defer
//   treiber_stack.hpp   lock-free stack over either reclaimer
//   seg_queue.hpp       unbounded MPMC queue of 31-slot blocks (crossbeam's SegQueue)
//   ws_deque.hpp        Chase-Lev work-stealing deque: owner push/pop, any thread steals
//
// A taste:
// ```cpp
// ferrite::sync::seqlock<quote> last{quote{}};
// last.store(q);                     // writer thread
// quote seen = last.load();          // any reader: never torn, never blocks the writer
//
// ferrite::sync::spin_mutex m;
// { std::scoped_lock lock(m); ++shared; }
// ```
//
// When not to use it: a spin_mutex around long critical sections, or with more threads than
// cores, burns CPU; use std::mutex. Which structure for which job: docs/sync.md.
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
