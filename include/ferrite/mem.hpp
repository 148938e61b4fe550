// SPDX-License-Identifier: Apache-2.0
// ferrite mem: how hot paths stop allocating. Allocators that are faster than malloc because
// they know more (lifetimes that end together, objects of one size), and containers that keep
// small things inline.
//
// What is here
//   arena.hpp              chunked bump arena: make<T>, checkpoint/rewind, pmr adapter
//   concurrent_bump.hpp    lock-free bump allocation over one fixed buffer (one CAS each)
//   object_pool.hpp        fixed-size slots with an intrusive free list; O(1) create/destroy
//   counting_resource.hpp  a pmr resource that counts what passes through (and feeds metrics)
//   small_vector.hpp       std::vector with N elements inline; spills to the heap
//   inline_vector.hpp      fixed-capacity vector that never allocates (std::inplace_vector)
//   inline_string.hpp      fixed-capacity string, NUL-terminated, constexpr, to_chars helpers
//   flex_array.hpp         a header and a trailing array of n T in one allocation
//
// A taste:
// ```cpp
// ferrite::mem::arena a;                                   // 4 KiB first chunk, doubling
// auto* req = a.make<request>(id);                        // destructor registered
// std::pmr::vector<int> ids(a.resource());                // pmr containers allocate from it
// auto cp = a.checkpoint();
// scratch_work(a);
// a.rewind(cp);                                            // scratch freed, dtors run
// a.reset();                                               // everything, keeps one chunk
//
// ferrite::mem::object_pool<order> pool;
// order* o = pool.create(42, 100.5);
// pool.destroy(o);
// ```
//
// When not to use it: objects with unrelated lifetimes freed one by one at any size want the
// general-purpose allocator; an arena only gives memory back at reset/rewind. None of these
// allocators is thread-safe except concurrent_bump and counting_resource.
#pragma once

#include "ferrite/mem/arena.hpp"
#include "ferrite/mem/concurrent_bump.hpp"
#include "ferrite/mem/counting_resource.hpp"
#include "ferrite/mem/flex_array.hpp"
#include "ferrite/mem/inline_string.hpp"
#include "ferrite/mem/inline_vector.hpp"
#include "ferrite/mem/object_pool.hpp"
#include "ferrite/mem/small_vector.hpp"
