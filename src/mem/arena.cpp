// SPDX-License-Identifier: Apache-2.0
// arena's out-of-line parts: the slow path that opens a new chunk (or a dedicated chunk for
// a request bigger than the cap), rewind, reset/release with their "keep the largest chunk"
// policy, stats, and the pmr adapter. The inline fast path lives in the header.
#include "ferrite/mem/arena.hpp"

#include <cstring>

#include "ferrite/core/metrics.hpp"

namespace ferrite::mem {

namespace {

using detail::chunk_header;

// The "current chunk" of an arena that holds none: cur_ == begin_ == this address, so every
// request of size > 0 takes the slow path, and a size-0 request of any alignment up to
// max_alignment succeeds on the fast path with a valid non-null pointer. Never written.
alignas(arena::max_alignment) std::byte empty_chunk[1];

// Alignment asked of upstream for every chunk, and the granularity of upstream chunk sizes:
// a fresh chunk's end (where the downward bump starts) and its payload (at +32) are then
// 16-aligned, and requests up to 16-byte alignment pay no padding in a fresh chunk.
constexpr std::size_t chunk_align = alignof(std::max_align_t);

std::byte* payload(chunk_header* c) noexcept {
  // SAFETY: every chunk is at least min_chunk_size bytes, so +32 is inside it.
  return reinterpret_cast<std::byte*>(c) + sizeof(chunk_header);
}

std::byte* chunk_end(chunk_header* c) noexcept {
  // SAFETY: c->size is the size of the block c heads.
  return reinterpret_cast<std::byte*>(c) + c->size;
}

std::size_t double_or_cap(std::size_t size, std::size_t cap) noexcept {
  return size > cap / 2 ? cap : size * 2;
}

// Process-wide upstream traffic of all arenas, counted on the slow path only (empty no-ops
// with FERRITE_METRICS=0). Created on the first chunk, so a program that never opens one
// never touches the registry; never destroyed, so an arena used during static destruction
// cannot reach a dead counter.
struct arena_metrics {
  metrics::counter chunks{"mem.arena.chunks_allocated", "chunks requested from upstream"};
  metrics::counter bytes{"mem.arena.chunk_bytes_allocated", "bytes of those chunks"};
  metrics::counter dedicated{"mem.arena.dedicated_chunks",
                             "chunks opened for a single request larger than the chunk cap"};
};

arena_metrics& counters() {
  static arena_metrics& m = *new arena_metrics;
  return m;
}

}  // namespace

namespace detail {

void throw_bad_alloc() { throw std::bad_alloc(); }

void* arena_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  return owner_->allocate(bytes, alignment);
}

}  // namespace detail

arena::arena(const arena_options& options) noexcept
    : cur_(empty_chunk),
      begin_(empty_chunk),
      upstream_(options.upstream != nullptr ? options.upstream : std::pmr::new_delete_resource()),
      first_chunk_size_(align_up(options.first_chunk_size, chunk_align)),
      max_chunk_size_(align_up(options.max_chunk_size, chunk_align)),
      next_chunk_size_(first_chunk_size_) {
  FERRITE_ASSERT(options.first_chunk_size >= min_chunk_size &&
                     options.first_chunk_size <= options.max_chunk_size &&
                     options.max_chunk_size <= max_size(),
                 "arena: need min_chunk_size <= first_chunk_size <= max_chunk_size");
}

arena::arena(std::span<std::byte> buffer, const arena_options& options) noexcept : arena(options) {
  // SAFETY: the address is read as an integer only to compute the padding to the header.
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  const std::size_t pad = static_cast<std::size_t>(0 - addr) & (alignof(chunk_header) - 1);
  FERRITE_ASSERT(buffer.size() >= pad && buffer.size() - pad >= min_chunk_size,
                 "arena: the initial buffer is smaller than min_chunk_size");
  // SAFETY: pad + sizeof(chunk_header) <= buffer.size() (checked above) and the header's
  // address is aligned for it; the buffer outlives the arena (precondition).
  auto* c = ::new (static_cast<void*>(buffer.data() + pad))
      chunk_header{nullptr, buffer.size() - pad, 0, detail::chunk_external, 0};
  reserved_ = c->size;
  chunks_ = 1;
  enter_chunk(c);
}

arena::~arena() {
  run_destructors(nullptr);
  for (chunk_header* list : {head_, large_, spare_}) {
    while (list != nullptr) {
      chunk_header* older = list->prev;
      if ((list->flags & detail::chunk_external) == 0) free_chunk(list);
      list = older;
    }
  }
}

void* arena::allocate_slow(std::size_t size, std::size_t align) {
  if (size > max_size()) detail::throw_bad_alloc();
  // A fresh upstream chunk's end and payload are chunk_align-aligned: larger alignments may
  // need up to align - chunk_align bytes of padding. <= max_size() + 4144: no overflow.
  const std::size_t pad_max = align > chunk_align ? align - chunk_align : 0;
  const std::size_t needed = align_up(sizeof(chunk_header) + pad_max + size, chunk_align);
  if (needed > max_chunk_size_) return allocate_dedicated(size, align, needed);
  chunk_header* c = nullptr;
  if (spare_ != nullptr && spare_->size >= needed) {
    c = spare_;  // already counted in reserved_ and chunks_
    spare_ = nullptr;
  } else {
    std::size_t chunk_size = next_chunk_size_;
    while (chunk_size < needed) chunk_size = double_or_cap(chunk_size, max_chunk_size_);
    c = new_chunk(chunk_size);  // may throw: nothing has changed yet
    next_chunk_size_ = double_or_cap(chunk_size, max_chunk_size_);
  }
  close_current();
  enter_chunk(c);
  // The new chunk has `needed` bytes free, padding included: the bump succeeds without coming
  // back here. (allocate() checked the alignment already; the bump does not check it again.)
  return bump_or_slow(size, align);
}

void* arena::allocate_dedicated(std::size_t size, std::size_t align, std::size_t needed) {
  chunk_header* c = new_chunk(needed);
  counters().dedicated.add();
  c->prev = large_;
  large_ = c;
  std::byte* base = payload(c);
  // SAFETY: read as an integer only to compute the padding.
  const auto addr = reinterpret_cast<std::uintptr_t>(base);
  const std::size_t pad = static_cast<std::size_t>(0 - addr) & (align - 1);
  c->used = pad + size;  // a dedicated chunk is closed from the start
  used_closed_ += c->used;
  // SAFETY: pad <= align - chunk_align and the chunk has room for pad_max + size bytes.
  return base + pad;
}

chunk_header* arena::new_chunk(std::size_t size) {
  void* block = upstream_->allocate(size, chunk_align);
  // SAFETY: block is `size` >= min_chunk_size bytes, aligned to chunk_align >= the header's.
  auto* c = ::new (block) chunk_header{nullptr, size, 0, 0, 0};
  reserved_ += size;
  ++chunks_;
  counters().chunks.add();
  counters().bytes.add(size);
  return c;
}

void arena::free_chunk(chunk_header* c) noexcept {
  FERRITE_DEBUG_ASSERT((c->flags & detail::chunk_external) == 0, "freeing the user buffer");
  upstream_->deallocate(c, c->size, chunk_align);
}

void arena::enter_chunk(chunk_header* c) noexcept {
  c->prev = head_;
  head_ = c;
  cur_ = chunk_end(c);
  begin_ = payload(c);
}

void arena::close_current() noexcept {
  if (head_ == nullptr) return;
  head_->used = static_cast<std::size_t>(chunk_end(head_) - cur_);
  used_closed_ += head_->used;
}

void arena::run_destructors(const detail::dtor_record* stop) noexcept {
  while (dtors_ != stop) {
    detail::dtor_record* r = dtors_;
    dtors_ = r->next;
    r->fn(r);
  }
}

void arena::rewind(const arena_checkpoint& cp) noexcept {
  FERRITE_ASSERT(cp.owner_ == this, "arena::rewind: checkpoint of another arena");
  FERRITE_ASSERT(cp.depth_ < checkpoint_depth_ &&
                     (cp.depth_ >= tracked_checkpoints || live_checkpoints_[cp.depth_] == cp.id_),
                 "arena::rewind: stale checkpoint (rewound out of LIFO order, or after reset)");
  run_destructors(cp.dtors_);
  while (large_ != cp.large_) {
    chunk_header* c = large_;
    large_ = c->prev;
    used_closed_ -= c->used;
    reserved_ -= c->size;
    --chunks_;
    free_chunk(c);
  }
  if (head_ != cp.chunk_) {
    bool current = true;  // the first chunk popped is the open one: not in used_closed_
    while (head_ != cp.chunk_) {
      chunk_header* c = head_;
      head_ = c->prev;
      if (!current) used_closed_ -= c->used;
      current = false;
      if ((c->flags & detail::chunk_spare) != 0) {
        c->prev = nullptr;  // it was the spare at cp: back to being the spare
        spare_ = c;
      } else {
        reserved_ -= c->size;
        --chunks_;
        free_chunk(c);
      }
    }
    if (head_ != nullptr) used_closed_ -= head_->used;  // cp's chunk is open again
  }
  if (head_ != nullptr) {
    cur_ = cp.cur_;
    begin_ = payload(head_);
  } else {
    cur_ = begin_ = empty_chunk;
  }
  checkpoint_depth_ = cp.depth_ + 1;
}

void arena::reset() noexcept { reset_to(true); }

void arena::release() noexcept {
  reset_to(false);
  next_chunk_size_ = first_chunk_size_;
}

void arena::reset_to(bool keep_largest) noexcept {
  run_destructors(nullptr);
  chunk_header* external = nullptr;
  chunk_header* keep = nullptr;
  for (chunk_header* list : {head_, large_, spare_}) {
    while (list != nullptr) {
      chunk_header* c = list;
      list = c->prev;
      if ((c->flags & detail::chunk_external) != 0) {
        external = c;
      } else if (keep_largest && (keep == nullptr || c->size > keep->size)) {
        if (keep != nullptr) free_chunk(keep);
        keep = c;
      } else {
        free_chunk(c);
      }
    }
  }
  if (external != nullptr && keep != nullptr && keep->size <= external->size) {
    free_chunk(keep);  // the user buffer is at least as big: it is all we keep
    keep = nullptr;
  }
  head_ = large_ = spare_ = nullptr;
  cur_ = begin_ = empty_chunk;
  reserved_ = chunks_ = used_closed_ = 0;
  checkpoint_depth_ = 0;
  for (chunk_header* c : {external, keep}) {
    if (c == nullptr) continue;
    c->prev = nullptr;
    c->used = 0;
    reserved_ += c->size;
    ++chunks_;
  }
  if (external != nullptr) enter_chunk(external);
  if (keep != nullptr) {
    keep->flags = external != nullptr ? detail::chunk_spare : 0;
    if (external != nullptr) {
      spare_ = keep;
    } else {
      enter_chunk(keep);
    }
  }
}

arena_stats arena::stats() const noexcept {
  const std::size_t open = head_ != nullptr ? static_cast<std::size_t>(chunk_end(head_) - cur_) : 0;
  arena_stats s;
  s.bytes_used = used_closed_ + open;
  s.bytes_reserved = reserved_;
  s.bytes_available = static_cast<std::size_t>(cur_ - begin_);
  s.chunks = chunks_;
  s.waste = reserved_ - s.bytes_used;
  return s;
}

std::string_view arena::copy(std::string_view s) {
  auto* p = static_cast<char*>(allocate(s.size() + 1, 1));
  // SAFETY: p holds s.size() + 1 fresh bytes; s does not overlap them.
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return {p, s.size()};
}

}  // namespace ferrite::mem
