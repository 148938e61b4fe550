// SPDX-License-Identifier: Apache-2.0
// node_cache<Node>: a bounded per-thread free list of node-sized memory blocks, for node-based
// lock-free structures whose nodes are freed in batches by a reclaimer (a hazard pointer scan,
// an epoch collection) and allocated one by one by pushes. Reclaimed nodes are kept for the
// thread's next allocations instead of going back to malloc, whose own per-thread cache is too
// small for such batches. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "ferrite/core/platform.hpp"

namespace ferrite::sync::detail {

/// Per-thread cache of blocks for objects of type Node (which must be at least pointer-sized).
/// Memory only: callers construct and destroy the objects. Blocks migrate freely between
/// threads (allocated by one, reclaimed into another's cache). Each thread keeps at most
/// `capacity` blocks (64 KiB) and frees them when it exits.
///
/// Disabled under ASan (so a use after reclamation is reported as a use after free), TSan and
/// the model checker (whose threads are fibers): then it is plain operator new/delete.
template <class Node>
class node_cache {
 public:
  /// Blocks kept per thread: 64 KiB worth, at least 64 (a reclaimer frees in batches of 64+).
  static constexpr std::uint32_t capacity =
      sizeof(Node) * 64 >= 65536 ? 64 : static_cast<std::uint32_t>(65536 / sizeof(Node));
  static constexpr bool enabled = !(FERRITE_ASAN || FERRITE_TSAN || FERRITE_CHECK);

  /// A block for one Node. Throws std::bad_alloc. O(1).
  [[nodiscard]] static void* allocate() {
    if constexpr (enabled) {
      state& s = tls_;
      if (s.head != nullptr) {
        link* const block = s.head;
        s.head = block->next;
        --s.size;
        return block;
      }
    }
    return allocate_upstream();
  }

  /// Gives back a block from allocate() (of any thread). O(1).
  static void deallocate(void* p) noexcept {
    if constexpr (enabled) {
      state& s = tls_;
      if (!s.exited && s.size < capacity) {
        if (!s.hooked) hook();
        // SAFETY: `p` is an unused block of sizeof(Node) >= sizeof(link) bytes, suitably
        // aligned for link (alignof(Node) >= alignof(link) is checked below).
        s.head = ::new (p) link{s.head};
        ++s.size;
        return;
      }
    }
    deallocate_upstream(p);
  }

 private:
  struct link {
    link* next;
  };
  static_assert(sizeof(Node) >= sizeof(link) && alignof(Node) >= alignof(link),
                "node_cache: a free block stores a pointer");

  // Constant-initialized and trivially destructible: one TLS offset to reach.
  struct state {
    link* head;
    std::uint32_t size;
    bool hooked;  // the exit hook is registered
    bool exited;  // the exit hook ran: blocks go straight back upstream
  };
  static inline thread_local constinit state tls_{};

  static void hook() noexcept {
    struct exit_hook {
      exit_hook() noexcept = default;
      exit_hook(const exit_hook&) = delete;
      exit_hook& operator=(const exit_hook&) = delete;
      ~exit_hook() {
        state& s = tls_;
        s.exited = true;
        while (s.head != nullptr) {
          link* const next = s.head->next;
          deallocate_upstream(s.head);
          s.head = next;
        }
        s.size = 0;
      }
    };
    // Constructed, and its destructor registered, the first time control passes here.
    static thread_local exit_hook hook_object;
    static_cast<void>(&hook_object);
    tls_.hooked = true;
  }

  // SAFETY: raw storage of sizeof(Node) with Node's alignment; node's class operator new
  // constructs into it and deallocate() returns it with the matching operator delete.
  static void* allocate_upstream() {
    if constexpr (alignof(Node) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return ::operator new(sizeof(Node), std::align_val_t{alignof(Node)});
    } else {
      // SAFETY: as above, default-aligned.
      return ::operator new(sizeof(Node));
    }
  }
  static void deallocate_upstream(void* p) noexcept {
    if constexpr (alignof(Node) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(p, std::align_val_t{alignof(Node)});
    } else {
      ::operator delete(p);
    }
  }
};

}  // namespace ferrite::sync::detail
