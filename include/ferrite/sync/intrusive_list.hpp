// SPDX-License-Identifier: Apache-2.0
// intrusive_list<T, &T::hook>: a doubly linked list threaded through a list_hook member of
// its elements, so linking and unlinking never allocate and an element can be in several
// lists at once (one hook each). The list is circular around a sentinel, which makes every
// link and unlink branch-free, and each hook knows the list holding it, so an element can
// take itself out in O(1) (`hook.unlink()`, say when a waiter is cancelled) while the list
// still reports its size in O(1). Not thread-safe: callers guard it with their own lock.
// Debug builds catch double insertion, erasing from the wrong list and destroying an element
// that is still linked.
#pragma once

#include <bit>
#include <cstddef>
#include <iterator>
#include <memory>
#include <type_traits>

#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::sync {

namespace detail {

/// The two pointers of a node of a circular list; a list's sentinel is a bare list_link.
/// Both are null in a hook that is not linked.
struct list_link {
  list_link* prev = nullptr;
  list_link* next = nullptr;
};

class list_base;

}  // namespace detail

/// The member an element embeds to be linked into an intrusive_list (one hook per list the
/// element may be in at the same time). 24 bytes: two links and the owning list.
///
/// Non-copyable and non-movable: the neighbours of a linked hook point at its address (an
/// element type that must move defines its own move, leaving the new hook unlinked).
/// Destroying a linked hook is a bug: debug builds assert; release builds unlink it, so the
/// list never points at freed memory.
class list_hook : private detail::list_link {
 public:
  constexpr list_hook() noexcept = default;
  list_hook(const list_hook&) = delete;
  list_hook& operator=(const list_hook&) = delete;
  ~list_hook();

  /// Whether the hook is in a list. O(1).
  [[nodiscard]] bool is_linked() const noexcept { return owner_ != nullptr; }

  /// Takes the element out of whatever list holds it (adjusting that list's size); does
  /// nothing if it is not linked. O(1). Not thread-safe: the caller must hold whatever
  /// guards that list.
  void unlink() noexcept;

 private:
  friend class detail::list_base;
  /// The list holding this hook; null when not linked. Invariant: null exactly when
  /// prev and next are null.
  detail::list_base* owner_ = nullptr;
};

namespace detail {

/// The part of intrusive_list that does not depend on the element type: the sentinel, the
/// count, and the link surgery. Not thread-safe.
class list_base {
 public:
  list_base() noexcept { reset(); }
  // Non-copyable and non-movable: the hooks point at this object and its sentinel.
  list_base(const list_base&) = delete;
  list_base& operator=(const list_base&) = delete;
  /// Unlinks every element (they are not destroyed). O(size()).
  ~list_base() { clear(); }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The sentinel: prev of the first node and next of the last.
  [[nodiscard]] list_link* sentinel() const noexcept {
    // SAFETY: a const list hands its links only to const_iterators, which never write
    // through them; only the non-const members of intrusive_list modify links.
    return const_cast<list_link*>(&sentinel_);
  }

  [[nodiscard]] static list_link* link_of(list_hook& hook) noexcept { return &hook; }
  /// Preconditions: `link` is not a sentinel (it is the link of a list_hook).
  [[nodiscard]] static list_hook& hook_of(list_link* link) noexcept {
    return static_cast<list_hook&>(*link);
  }
  [[nodiscard]] bool owns(const list_hook& hook) const noexcept { return hook.owner_ == this; }

  /// Links `hook` just before `pos` (a node of this list, or its sentinel for the back).
  /// Preconditions (debug-checked): `hook` is not linked; `pos` belongs to this list. O(1).
  void link_before(list_link* pos, list_hook& hook) noexcept {
    FERRITE_DEBUG_ASSERT(!hook.is_linked(), "intrusive_list: inserting a node already linked");
    FERRITE_DEBUG_ASSERT(pos == &sentinel_ || owns(hook_of(pos)),
                         "intrusive_list: position is not in this list");
    list_link* const node = link_of(hook);
    node->prev = pos->prev;
    node->next = pos;
    pos->prev->next = node;
    pos->prev = node;
    hook.owner_ = this;
    ++size_;
  }

  /// Unlinks `hook`. Preconditions (debug-checked): `hook` is in this list. O(1).
  void unlink(list_hook& hook) noexcept {
    FERRITE_DEBUG_ASSERT(owns(hook), "intrusive_list: erasing a node that is not in this list");
    list_link* const node = link_of(hook);
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = nullptr;
    node->next = nullptr;
    hook.owner_ = nullptr;
    --size_;
  }

  /// Unlinks every node. O(size()).
  void clear() noexcept {
    list_link* node = sentinel_.next;
    while (node != &sentinel_) {
      list_link* const next = node->next;
      node->prev = nullptr;
      node->next = nullptr;
      hook_of(node).owner_ = nullptr;
      node = next;
    }
    reset();
  }

  /// Moves the nodes [first, last) of `from` (which may be this list) before `pos`.
  /// Preconditions: [first, last) is a range of `from`; `pos` is in this list and, when
  /// `from` is this list, not in [first, last). O(1) within one list; otherwise
  /// O(distance(first, last)), to repoint each moved hook at its new list.
  void transfer(list_link* pos, list_base& from, list_link* first, list_link* last) noexcept {
    FERRITE_DEBUG_ASSERT(pos == &sentinel_ || owns(hook_of(pos)),
                         "intrusive_list: splice position is not in this list");
    if (first == last) return;
    if (&from != this) {
      std::size_t moved = 0;
      for (list_link* node = first; node != last; node = node->next) {
        FERRITE_DEBUG_ASSERT(from.owns(hook_of(node)), "intrusive_list: bad splice range");
        hook_of(node).owner_ = this;
        ++moved;
      }
      from.size_ -= moved;
      size_ += moved;
    }
    list_link* const before = first->prev;
    list_link* const back = last->prev;
    before->next = last;  // close the gap in `from`
    last->prev = before;
    back->next = pos;  // open one before `pos`
    first->prev = pos->prev;
    pos->prev->next = first;
    pos->prev = back;
  }

 private:
  void reset() noexcept {
    sentinel_.prev = &sentinel_;
    sentinel_.next = &sentinel_;
    size_ = 0;
  }

  list_link sentinel_;
  std::size_t size_ = 0;
};

}  // namespace detail

inline list_hook::~list_hook() {
  FERRITE_DEBUG_ASSERT(!is_linked(), "list_hook destroyed while still linked in an intrusive_list");
  unlink();
}

inline void list_hook::unlink() noexcept {
  if (owner_ != nullptr) owner_->unlink(*this);
}

/// A doubly linked list of T objects it does not own, linked through their `Hook` member
/// (`intrusive_list<task, &task::queue_hook>`). Elements are inserted by reference and must
/// outlive their membership; destroying the list unlinks them (without destroying them).
///
/// Complexity: push/pop at both ends, insert, erase, hook.unlink(), size(), contains() and
/// iterator_to() are O(1). Splicing within a list, and a single element between lists, are
/// O(1); splicing a range or a whole list from another list, moving a list and clear() are
/// O(moved nodes), since each hook records its list (that is what makes unlink() and size()
/// both O(1)). Iterators are bidirectional, stay valid until their element is unlinked, and
/// follow an element spliced into another list.
///
/// Progress: not thread-safe (plain memory, no atomics); guard each list with a lock.
///
/// Warnings: converting a hook back to its element relies on the Itanium C++ ABI (GCC,
/// Clang) representing a data member pointer as the member's offset, as Boost.Intrusive's
/// member hooks do; debug builds check it on every insertion. Double insertion, erasing
/// through the wrong list and destroying a linked element are checked in debug builds only.
template <class T, list_hook T::* Hook>
class intrusive_list {
  template <bool Const>
  class basic_iterator;

 public:
  using value_type = T;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  intrusive_list() noexcept = default;
  /// Takes over `other`'s elements, leaving it empty. O(other.size()).
  intrusive_list(intrusive_list&& other) noexcept { splice(end(), other); }
  /// Unlinks this list's elements, then takes over `other`'s. O(size() + other.size()).
  intrusive_list& operator=(intrusive_list&& other) noexcept {
    if (this != &other) {
      clear();
      splice(end(), other);
    }
    return *this;
  }
  ~intrusive_list() = default;

  [[nodiscard]] bool empty() const noexcept { return base_.empty(); }
  /// Elements linked. O(1).
  [[nodiscard]] size_type size() const noexcept { return base_.size(); }

  /// The first / last element. Preconditions (debug-checked): !empty(). O(1).
  [[nodiscard]] T& front() noexcept { return object_of(checked_sentinel()->next); }
  [[nodiscard]] const T& front() const noexcept { return object_of(checked_sentinel()->next); }
  [[nodiscard]] T& back() noexcept { return object_of(checked_sentinel()->prev); }
  [[nodiscard]] const T& back() const noexcept { return object_of(checked_sentinel()->prev); }

  /// Links `value` first / last. Preconditions (debug-checked): its hook is not linked. O(1).
  void push_front(T& value) noexcept { insert(begin(), value); }
  void push_back(T& value) noexcept { insert(end(), value); }

  /// Unlinks the first / last element and returns it, or returns nullptr when empty. O(1).
  T* pop_front() noexcept { return empty() ? nullptr : take(base_.sentinel()->next); }
  T* pop_back() noexcept { return empty() ? nullptr : take(base_.sentinel()->prev); }

  /// Links `value` before `pos` and returns an iterator to it.
  /// Preconditions (debug-checked): `value`'s hook is not linked; `pos` is in this list. O(1).
  iterator insert(const_iterator pos, T& value) noexcept {
    list_hook& hook = value.*Hook;
    FERRITE_DEBUG_ASSERT(
        std::addressof(object_of(detail::list_base::link_of(hook))) == std::addressof(value),
        "intrusive_list: member pointer is not an offset (non-Itanium ABI?)");
    base_.link_before(pos.node_, hook);
    return iterator(detail::list_base::link_of(hook));
  }

  /// Unlinks the element at `pos`; returns the iterator after it.
  /// Preconditions (debug-checked): `pos` is a dereferenceable iterator of this list. O(1).
  iterator erase(const_iterator pos) noexcept {
    FERRITE_DEBUG_ASSERT(pos != end(), "intrusive_list: erase(end())");
    detail::list_link* const next = pos.node_->next;
    base_.unlink(detail::list_base::hook_of(pos.node_));
    return iterator(next);
  }

  /// Unlinks [first, last); returns `last`. O(distance(first, last)).
  iterator erase(const_iterator first, const_iterator last) noexcept {
    while (first != last) first = erase(first);
    return iterator(last.node_);
  }

  /// Unlinks `value`; returns the iterator after it.
  /// Preconditions (debug-checked): contains(value). O(1).
  iterator erase(T& value) noexcept { return erase(iterator_to(value)); }

  /// Unlinks every element (they are not destroyed). O(size()).
  void clear() noexcept { base_.clear(); }

  /// Whether `value` is linked in this list (not in another list through the same hook).
  /// O(1).
  [[nodiscard]] bool contains(const T& value) const noexcept { return base_.owns(value.*Hook); }

  /// The iterator to `value`. Preconditions: contains(value). O(1).
  [[nodiscard]] iterator iterator_to(T& value) noexcept {
    FERRITE_DEBUG_ASSERT(contains(value), "intrusive_list: iterator_to a node not in this list");
    return iterator(detail::list_base::link_of(value.*Hook));
  }
  [[nodiscard]] const_iterator iterator_to(const T& value) const noexcept {
    FERRITE_DEBUG_ASSERT(contains(value), "intrusive_list: iterator_to a node not in this list");
    // SAFETY: the link only goes into a const_iterator, which never writes through it.
    return const_iterator(detail::list_base::link_of(const_cast<list_hook&>(value.*Hook)));
  }

  /// Moves all of `other`'s elements before `pos`. Preconditions: `pos` is in this list.
  /// O(other.size()) (each moved hook is repointed at this list); no-op if &other == this.
  void splice(const_iterator pos, intrusive_list& other) noexcept {
    if (&other == this) return;
    base_.transfer(pos.node_, other.base_, other.base_.sentinel()->next, other.base_.sentinel());
  }

  /// Moves the element at `it` (of `other`, which may be this list) before `pos`. O(1).
  void splice(const_iterator pos, intrusive_list& other, const_iterator it) noexcept {
    if (pos == it) return;
    base_.transfer(pos.node_, other.base_, it.node_, it.node_->next);
  }

  /// Moves [first, last) of `other` (which may be this list; then `pos` must not be in the
  /// range) before `pos`. O(1) within this list, else O(distance(first, last)).
  void splice(const_iterator pos, intrusive_list& other, const_iterator first,
              const_iterator last) noexcept {
    base_.transfer(pos.node_, other.base_, first.node_, last.node_);
  }

  [[nodiscard]] iterator begin() noexcept { return iterator(base_.sentinel()->next); }
  [[nodiscard]] const_iterator begin() const noexcept {
    return const_iterator(base_.sentinel()->next);
  }
  [[nodiscard]] const_iterator cbegin() const noexcept { return begin(); }
  [[nodiscard]] iterator end() noexcept { return iterator(base_.sentinel()); }
  [[nodiscard]] const_iterator end() const noexcept { return const_iterator(base_.sentinel()); }
  [[nodiscard]] const_iterator cend() const noexcept { return end(); }
  [[nodiscard]] reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  [[nodiscard]] const_reverse_iterator rbegin() const noexcept {
    return const_reverse_iterator(end());
  }
  [[nodiscard]] const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  [[nodiscard]] reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  [[nodiscard]] const_reverse_iterator rend() const noexcept {
    return const_reverse_iterator(begin());
  }
  [[nodiscard]] const_reverse_iterator crend() const noexcept { return rend(); }

 private:
  static_assert(!std::is_const_v<T>, "intrusive_list links mutable elements");
  static_assert(sizeof(list_hook T::*) == sizeof(std::ptrdiff_t),
                "member hooks need the Itanium C++ ABI's member pointer layout (an offset)");

  /// The element whose hook has link `link`.
  /// Preconditions: `link` is the hook of a T inserted into a list of this type.
  static T& object_of(detail::list_link* link) noexcept {
    FERRITE_DEBUG_ASSERT(link != nullptr, "intrusive_list: singular iterator");
    std::byte* const hook =
        reinterpret_cast<std::byte*>(std::addressof(detail::list_base::hook_of(link)));
    // SAFETY: every linked hook of this list type was reached as `value.*Hook` of a T
    // (insert() is the only way in), and under the Itanium ABI the bits of `Hook` are that
    // member's byte offset in T (checked in insert() in debug builds). Subtracting it from
    // the hook's address gives the enclosing T (the container_of idiom): the pointer stays
    // within that T's storage, and the T is alive since a linked hook is (its destructor
    // unlinks it).
    return *reinterpret_cast<T*>(hook - std::bit_cast<std::ptrdiff_t>(Hook));
  }

  /// The sentinel, after checking (debug builds) that the list has a first and last node.
  detail::list_link* checked_sentinel() const noexcept {
    FERRITE_DEBUG_ASSERT(!empty(), "intrusive_list: front()/back() of an empty list");
    return base_.sentinel();
  }

  /// Unlinks the element at `link` and returns it. Preconditions: `link` is in this list.
  T* take(detail::list_link* link) noexcept {
    T& value = object_of(link);
    base_.unlink(value.*Hook);
    return std::addressof(value);
  }

  detail::list_base base_;
};

/// The iterator of intrusive_list; `Const` ones give const access to the elements.
template <class T, list_hook T::* Hook>
template <bool Const>
class intrusive_list<T, Hook>::basic_iterator {
 public:
  using iterator_category = std::bidirectional_iterator_tag;
  using iterator_concept = std::bidirectional_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = std::conditional_t<Const, const T*, T*>;
  using reference = std::conditional_t<Const, const T&, T&>;

  basic_iterator() noexcept = default;
  /// iterator -> const_iterator.
  template <bool OtherConst>
    requires(Const && !OtherConst)
  basic_iterator(const basic_iterator<OtherConst>& other) noexcept  // NOLINT: implicit
      : node_(other.node_) {}

  /// Preconditions: dereferenceable (not end(), not singular).
  reference operator*() const noexcept { return object_of(node_); }
  pointer operator->() const noexcept { return std::addressof(object_of(node_)); }

  basic_iterator& operator++() noexcept {
    node_ = node_->next;
    return *this;
  }
  basic_iterator operator++(int) noexcept {
    basic_iterator old = *this;
    node_ = node_->next;
    return old;
  }
  basic_iterator& operator--() noexcept {
    node_ = node_->prev;
    return *this;
  }
  basic_iterator operator--(int) noexcept {
    basic_iterator old = *this;
    node_ = node_->prev;
    return old;
  }

  friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
    return a.node_ == b.node_;
  }

 private:
  friend class intrusive_list;
  template <bool>
  friend class basic_iterator;
  explicit basic_iterator(detail::list_link* node) noexcept : node_(node) {}

  /// The element's hook link, or the list's sentinel for end(); null when singular.
  detail::list_link* node_ = nullptr;
};

}  // namespace ferrite::sync
