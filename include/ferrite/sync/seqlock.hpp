// SPDX-License-Identifier: Apache-2.0
// seqlock<T>: one writer publishes a small trivially copyable value that any number of
// readers copy out without ever writing shared memory (no reader count, no cache line
// bouncing between readers). A sequence number is odd while a store is in progress; a reader
// copies the value between two reads of it and retries when they differ. The payload is held
// in relaxed atomic words, not plain memory, following Boehm's analysis of seqlocks under
// the C++ memory model, so the torn copies that readers throw away are not data races: the
// code is race-free by the standard, clean under TSan, and explorable by the model checker.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "ferrite/core/atomic.hpp"
#include "ferrite/core/backoff.hpp"
#include "ferrite/core/contract.hpp"
#include "ferrite/core/platform.hpp"

namespace ferrite::sync {

/// What a seqlock can hold: a trivially copyable object type, unqualified. Readers make
/// their copy with memcpy semantics from words that may come from several stores (a torn
/// copy is detected and discarded afterwards), which is only meaningful for such types.
template <class T>
concept seqlock_value = std::is_trivially_copyable_v<T> && std::is_object_v<T> &&
                        std::is_same_v<T, std::remove_cv_t<T>>;

/// A sequence lock: a single writer `store`s a value of type T, and readers `load` a
/// consistent copy of it, retrying when a store overlapped their copy. Readers never write
/// to shared memory, so read throughput scales with cores and readers never block the
/// writer. Implements the reader and writer of H.-J. Boehm, "Can Seqlocks Get Along With
/// Programming Language Memory Models?" (MSPC 2012): the payload lives in relaxed atomic
/// 64-bit words, the writer puts a release fence after making the sequence odd, and the
/// reader an acquire fence before re-reading it. The protocol, with the numbers used in the
/// ORDERING comments:
///
/// ```
///   writer: store(v)                        reader: try_load()
///   (1) s = seq.load(relaxed)               (6) s1 = seq.load(acquire)
///   (2) seq.store(s + 1, relaxed)               fail if s1 is odd
///   (3) fence(release)                      (7) w[i] = word[i].load(relaxed), every i
///   (4) word[i].store(v[i], relaxed)        (8) fence(acquire)
///   (5) seq.store(s + 2, release)           (9) s2 = seq.load(relaxed)
///                                               success iff s1 == s2
///   pairs: (5) -> (6)  release store / acquire load of seq
///          (3) -> (8)  fence / fence, through any word a load (7) reads from a store (4)
/// ```
///
/// Why it is correct: number the stores 1, 2, ... (the constructor's is store 1); store k
/// moves the sequence from 2k - 2 to 2k - 1 (2) and then to 2k (5). If (6) reads 2k, every
/// word written by stores 1..k happens-before the loads (7), so each word comes from store
/// k or a later one. If one comes from a later store j > k, it was written by (4) after the
/// fence (3) of store j, so that fence synchronizes with the reader's fence (8): (2) of store
/// j happens-before (9), which by coherence reads 2j - 1 or more, not s1 = 2k. The reader
/// retries. So a successful attempt copied exactly the value of store k.
///
/// Progress: store() and try_load() are wait-free (O(sizeof(T)), no loops). load() never
/// waits for other readers, but it is blocking with respect to the writer: it retries while
/// a store is in progress or overlaps its copy, so a writer preempted mid-store stalls it,
/// and a continuous stream of stores can starve it (obstruction-free, not lock-free).
///
/// Layout: the sequence number is followed by the payload words; readers and the writer
/// touch both, so they share cache lines on purpose (there is no reader-only or writer-only
/// field to separate). The object is not padded: wrap it in ferrite::cache_padded when
/// neighbouring data is written by other threads.
///
/// Warnings: one writer only. Concurrent store()/update() calls corrupt the sequence and
/// can let readers accept torn values; serialize writers yourself (a spin_mutex around
/// store). Debug builds assert on a store that begins or ends while another is in
/// progress, which catches most such overlaps, not all. Readers can starve under a
/// continuous stream of stores, and a writer preempted mid-store stalls every load() until
/// it runs again. Each read attempt copies all of T, so keep T small (a few cache lines).
template <seqlock_value T>
class seqlock {
 public:
  /// Payload words: sizeof(T) rounded up to whole 64-bit words.
  static constexpr std::size_t word_count =
      (sizeof(T) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);

  /// Holds a value-initialized T. O(sizeof(T)).
  seqlock() noexcept
    requires std::is_default_constructible_v<T>
      : seqlock(T{}) {}

  /// Holds `initial`. O(sizeof(T)). The stores here are relaxed: whatever hands the seqlock
  /// to other threads (starting them, a release store of its address) orders them before
  /// those threads' loads.
  explicit seqlock(const T& initial) noexcept { write_words(to_words(initial)); }

  // Non-copyable and non-movable: readers spin on this object's address.
  seqlock(const seqlock&) = delete;
  seqlock& operator=(const seqlock&) = delete;

  /// Publishes `value`: later load()s return it or a newer value.
  /// Preconditions: no other store()/update() runs concurrently (single writer).
  /// Complexity: O(sizeof(T)): a relaxed load, a relaxed and a release store of the
  /// sequence, a release fence (no instruction on x86-64) and one relaxed store per word.
  /// Progress: wait-free; never waits for readers.
  void store(const T& value) noexcept { write_words(to_words(value)); }

  /// Replaces the value with `fn(copy)` applied in place: reads the current value, calls
  /// `fn(T&)` on a local copy (outside the write section, so a slow `fn` does not stall
  /// readers), then store()s the copy. Returns nothing; readers see the old or the new value.
  /// Preconditions: called by the single writer (its own earlier stores are the newest, so it
  /// reads them without the reader protocol).
  /// Complexity: O(sizeof(T)) plus `fn`. Progress: wait-free if `fn` is.
  template <class F>
    requires std::invocable<F&, T&>
  void update(F&& fn) noexcept(std::is_nothrow_invocable_v<F&, T&>) {
    word_array current;
    for (std::size_t i = 0; i < word_count; ++i) {
      // ORDERING: (10) relaxed load by the single writer of words only it stores (4):
      // coherence alone gives it its own latest stores; no other thread is involved.
      current[i] = words_[i].load(std::memory_order_relaxed);
    }
    T value = from_words(current);
    std::invoke(fn, value);
    store(value);
  }

  /// A consistent copy of the latest value (or of one stored concurrently with this call).
  /// Retries torn copies, backing off with ferrite::backoff (spin hints, then yielding).
  /// Complexity: O(sizeof(T)) per attempt; the number of attempts is unbounded while stores
  /// keep overlapping the reads.
  /// Progress: blocking with respect to the writer (waits while a store is in progress, so a
  /// preempted writer stalls it; starves under continuous stores); never waits for, or
  /// slows, other readers.
  [[nodiscard]] T load() const noexcept {
    backoff wait;
    if constexpr (std::is_trivially_default_constructible_v<T>) {
      // Words go straight into the returned object (NRVO): copying them through a buffer
      // would reload 8-byte stores as 16-byte vectors, a store-forwarding stall per pair.
      T result;  // every byte is written by the successful attempt before it is read
      while (!read_into(bytes_of(result))) wait.snooze();
      return result;
    } else {
      std::array<std::byte, sizeof(T)> bytes;
      while (!read_into(bytes.data())) wait.snooze();
      return std::bit_cast<T>(bytes);
    }
  }

  /// One read attempt: the value, or std::nullopt when a store was in progress or
  /// overlapped the copy. O(sizeof(T)). Progress: wait-free.
  [[nodiscard]] std::optional<T> try_load() const noexcept {
    if constexpr (std::is_trivially_default_constructible_v<T>) {
      T result;  // as in load()
      if (!read_into(bytes_of(result))) return std::nullopt;
      return result;
    } else {
      std::array<std::byte, sizeof(T)> bytes;
      if (!read_into(bytes.data())) return std::nullopt;
      return std::bit_cast<T>(bytes);
    }
  }

 private:
  using word = std::uint64_t;
  using word_array = std::array<word, word_count>;

  // The payload must be copied with single-instruction atomic loads and stores.
  static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "seqlock needs lock-free 64-bit atomics");
  static_assert(sizeof(std::array<std::byte, sizeof(T)>) == sizeof(T));

  /// The words of `value`, its tail (past sizeof(T)) zeroed, and, where the compiler can
  /// do it, its padding bytes cleared so that no indeterminate byte reaches the shared words.
  static word_array to_words(const T& value) noexcept {
    word_array out{};
#if __has_builtin(__builtin_clear_padding)
    T clean = value;
    __builtin_clear_padding(std::addressof(clean));
    const T& source = clean;
#else
    const T& source = value;
#endif
    // SAFETY: T is trivially copyable (seqlock_value) and `out` spans word_count * 8 >=
    // sizeof(T) bytes; the two objects do not overlap.
    std::memcpy(out.data(), std::addressof(source), sizeof(T));
    return out;
  }

  /// The T whose bytes are the first sizeof(T) bytes of `in`.
  static T from_words(const word_array& in) noexcept {
    std::array<std::byte, sizeof(T)> bytes;
    // SAFETY: `in` spans word_count * 8 >= sizeof(T) bytes and `bytes` exactly sizeof(T); these
    // bytes are a complete copy of one value stored by store() (the caller validated it),
    // so bit_cast yields that value (T is trivially copyable, the sizes are equal).
    std::memcpy(bytes.data(), in.data(), sizeof(T));
    return std::bit_cast<T>(bytes);
  }

  /// The writer's protocol, steps (1) to (5).
  void write_words(const word_array& in) noexcept {
    // ORDERING: (1) relaxed load of the sequence: the single writer is its only storer
    // ((2), (5)), so program order already makes its latest value visible here.
    const word s = seq_.load(std::memory_order_relaxed);
    FERRITE_DEBUG_ASSERT((s & 1U) == 0, "seqlock: concurrent store() calls (one writer only)");
    // ORDERING: (2) relaxed store of the odd sequence; published by the release fence (3):
    // a reader whose fence (8) synchronizes with (3) reads this value or a later one at (9).
    seq_.store(s + 1, std::memory_order_relaxed);
    // ORDERING: (3) release fence; pairs with the acquire fence (8) in read_words: a reader
    // whose relaxed load (7) reads any word stored by (4) below sees (2) at its load (9),
    // and so rejects its copy.
    fence(std::memory_order_release);
    for (std::size_t i = 0; i < word_count; ++i) {
      // ORDERING: (4) relaxed word stores, ordered after (2) by the fence (3) and before
      // (5) by its release.
      words_[i].store(in[i], std::memory_order_relaxed);
    }
    // ORDERING: (1) again (debug builds only): a relaxed re-read of the sequence; any
    // change since (2) means another writer ran concurrently.
    FERRITE_DEBUG_ASSERT(seq_.load(std::memory_order_relaxed) == s + 1,
                         "seqlock: concurrent store() calls (one writer only)");
    // ORDERING: (5) release store of the even sequence; pairs with the acquire load (6) in
    // read_words: a reader that reads s + 2 sees every word stored by (4) before it.
    seq_.store(s + 2, std::memory_order_release);
  }

  /// The reader's protocol, steps (6) to (9): one attempt, copying the payload's sizeof(T)
  /// bytes to `out`; true when they are a complete copy of one stored value.
  bool read_into(std::byte* out) const noexcept {
    // ORDERING: (6) acquire load; pairs with the release store (5) in write_words: reading
    // the even value 2k makes the words of store k (and earlier) visible to (7).
    const word s1 = seq_.load(std::memory_order_acquire);
    if ((s1 & 1U) != 0) return false;  // a store is in progress
    if constexpr (word_count <= unrolled_words) {
      copy_words(out, std::make_index_sequence<word_count>{});
    } else {
      for (std::size_t i = 0; i < word_count; ++i) copy_word(out, i);
    }
    // ORDERING: (8) acquire fence; pairs with the release fence (3) in write_words, through
    // any word a load (7) read from a store (4): orders (9) after that store's (2).
    fence(std::memory_order_acquire);
    // ORDERING: (9) relaxed re-read of the sequence, ordered after (7) by the fence (8);
    // differs from s1 if any word (7) read came from a later store than the one (6) saw.
    const word s2 = seq_.load(std::memory_order_relaxed);
    return s1 == s2;
  }

  /// Payloads up to this many words are copied by straight-line code: the compiler can then
  /// keep the words in registers when the caller only reads fields, instead of staging them
  /// in memory (where 8-byte stores reloaded as wider vectors stall store forwarding).
  static constexpr std::size_t unrolled_words = 16;

  template <std::size_t... I>
  FERRITE_ALWAYS_INLINE void copy_words(std::byte* out,
                                        std::index_sequence<I...> /*words*/) const noexcept {
    (copy_word(out, I), ...);
  }

  /// Step (7) for word `i`: its relaxed load, and its bytes copied to `out`.
  FERRITE_ALWAYS_INLINE void copy_word(std::byte* out, std::size_t i) const noexcept {
    // ORDERING: (7) relaxed word load; reads store k's word or a later one (4). A later
    // one is detected through the fence pair (3)/(8).
    const word w = words_[i].load(std::memory_order_relaxed);
    // SAFETY: `out` spans sizeof(T) bytes and this writes bytes [8i, 8i + bytes_in(i)),
    // within them; `w` is a local, so the two do not overlap.
    std::memcpy(out + (i * sizeof(word)), &w, bytes_in(i));
  }

  /// How many bytes of T word `i` holds: 8, except for a partial last word.
  static constexpr std::size_t bytes_in(std::size_t i) noexcept {
    return i + 1 < word_count ? sizeof(word) : sizeof(T) - ((word_count - 1) * sizeof(word));
  }

  /// The bytes of `value`, to be overwritten with those of a stored value.
  static std::byte* bytes_of(T& value) noexcept {
    // SAFETY: any object's bytes may be accessed through std::byte*; T is trivially
    // copyable, so once all of them hold a copy of another T's bytes it has that value.
    return reinterpret_cast<std::byte*>(std::addressof(value));
  }

  /// Twice the number of completed stores, plus one while a store is in progress.
  atomic<word> seq_{0};
  /// The payload of the latest store, word by word (see to_words for the byte layout).
  std::array<atomic<word>, word_count> words_{};
};

}  // namespace ferrite::sync
