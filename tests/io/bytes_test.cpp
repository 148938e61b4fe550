// SPDX-License-Identifier: Apache-2.0
// bytes / bytes_mut / buffer_pool / writev_all: random operation sequences against a
// std::vector reference, shared storage without copies (pointers and use counts), disjoint
// split parts, the pool's recycling (also from other threads), and writev_all through a pipe
// with partial writes, signals interrupting it and more pieces than IOV_MAX.
#include "ferrite/io/bytes.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ferrite/io/buffer_pool.hpp"
#include "ferrite/io/writev.hpp"
#include "io_test_support.hpp"

namespace {

using ferrite::io::buffer_pool;
using ferrite::io::bytes;
using ferrite::io::bytes_mut;
using bytes_vec = std::vector<std::byte>;

bytes_vec to_vec(std::span<const std::byte> s) { return {s.begin(), s.end()}; }

TEST(Bytes, SlicesAndClonesShareTheStorage) {
  const auto src = io_test::pattern(1000);
  const bytes b = bytes::copy_from(src);
  EXPECT_EQ(b.use_count(), 1U);
  EXPECT_EQ(to_vec(b.span()), src);
  {
    const bytes s = b.slice(100, 250);
    EXPECT_EQ(s.data(), b.data() + 100);  // no copy
    EXPECT_EQ(s.size(), 150U);
    EXPECT_EQ(to_vec(s.span()), to_vec(std::span(src).subspan(100, 150)));
    const bytes c = s;  // NOLINT(performance-unnecessary-copy-initialization): the point
    EXPECT_EQ(b.use_count(), 3U);
    const bytes inner = c.slice(10, 10);
    EXPECT_TRUE(inner.empty());
  }
  EXPECT_EQ(b.use_count(), 1U);
  bytes rest = b;
  const bytes head = rest.split_to(10);
  const bytes tail = rest.split_off(rest.size() - 10);
  EXPECT_EQ(head.size() + rest.size() + tail.size(), 1000U);
  EXPECT_EQ(tail.data(), b.data() + 990);
  EXPECT_EQ(head, b.slice(0, 10));
  const auto iov = tail.as_iovec();
  EXPECT_EQ(iov.iov_base, static_cast<const void*>(tail.data()));
  EXPECT_EQ(iov.iov_len, 10U);
  static constexpr char text[] = "static";
  const bytes st = bytes::from_static(std::as_bytes(std::span(text, 6)));
  EXPECT_EQ(st.use_count(), 0U);
  EXPECT_EQ(st.as_string_view(), "static");
  EXPECT_EQ(st.slice(1, 3).as_string_view(), "ta");
}

TEST(BytesMut, RandomOperationsMatchAVectorReference) {
  std::mt19937_64 rng(17);
  for (int round = 0; round < 200; ++round) {
    bytes_mut m(rng() % 3 == 0 ? 0 : rng() % 100);
    bytes_vec ref;
    std::vector<std::pair<bytes, bytes_vec>> frozen;  // parts split off and frozen
    for (int op = 0; op < 60; ++op) {
      switch (rng() % 6) {
        case 0:
        case 1: {
          const auto chunk = io_test::pattern(rng() % 200, static_cast<std::uint32_t>(rng()));
          m.extend(chunk);
          ref.insert(ref.end(), chunk.begin(), chunk.end());
          break;
        }
        case 2: {
          const std::size_t n = ref.empty() ? 0 : rng() % (ref.size() + 1);
          bytes_mut front = m.split_to(n);
          ASSERT_EQ(to_vec(front.span()), to_vec(std::span(ref).first(n)));
          frozen.emplace_back(std::move(front).freeze(),
                              bytes_vec(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(n)));
          ref.erase(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(n));
          break;
        }
        case 3: {
          const std::size_t at = ref.empty() ? 0 : rng() % (ref.size() + 1);
          bytes_mut back = m.split_off(at);
          ASSERT_EQ(to_vec(back.span()), to_vec(std::span(ref).subspan(at)));
          // Writing into the split-off part must not touch this one (disjoint ranges).
          for (auto& b : back.span()) b = ~b;
          bytes_vec flipped(ref.begin() + static_cast<std::ptrdiff_t>(at), ref.end());
          for (auto& b : flipped) b = ~b;
          frozen.emplace_back(std::move(back).freeze(), flipped);
          ref.resize(at);
          break;
        }
        case 4: {
          m.reserve(rng() % 500);
          break;
        }
        case 5: {
          auto spare = m.spare_capacity();
          const std::size_t n = spare.empty() ? 0 : rng() % (spare.size() + 1);
          const auto chunk = io_test::pattern(n, static_cast<std::uint32_t>(op));
          if (n > 0) std::memcpy(spare.data(), chunk.data(), n);
          m.commit(n);
          ref.insert(ref.end(), chunk.begin(), chunk.end());
          break;
        }
      }
      ASSERT_EQ(to_vec(m.span()), ref) << round << " " << op;
      ASSERT_LE(m.size(), m.capacity());
    }
    for (const auto& [b, expect] : frozen) ASSERT_EQ(to_vec(b.span()), expect);
    const bytes all = std::move(m).freeze();
    EXPECT_EQ(to_vec(all.span()), ref);
  }
}

TEST(BytesMut, ReserveReusesAnUnsharedBlockInPlace) {
  bytes_mut m(100);
  m.extend(std::string(60, 'a'));
  bytes_mut front = m.split_to(50);  // m now views [50, 60) of the block, capacity 50
  const std::byte* block_start = front.data();
  EXPECT_EQ(m.capacity(), 50U);
  {
    const bytes gone = std::move(front).freeze();
  }  // m is the block's only holder again
  m.reserve(80);  // fits in the block once slid to the front
  EXPECT_EQ(m.data(), block_start);
  EXPECT_EQ(m.capacity(), 100U);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()),
            std::string(10, 'a'));
}

TEST(Bytes, ClonesDroppedOnOtherThreadsFreeOnce) {
  // Many clones of one buffer released concurrently: ASan reports a double free or a leak,
  // TSan a missing happens-before between the readers and the free.
  for (int round = 0; round < 50; ++round) {
    bytes b = bytes::copy_from(io_test::pattern(256, static_cast<std::uint32_t>(round)));
    std::vector<std::thread> threads;
    std::vector<int> sums(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([copy = b, &sums, t]() mutable {
        int s = 0;
        for (const std::byte x : copy.slice(0, 256)) s += std::to_integer<int>(x);
        sums[static_cast<std::size_t>(t)] = s;
        copy = bytes();
      });
    }
    b = bytes();
    for (auto& th : threads) th.join();
    EXPECT_TRUE(std::ranges::all_of(sums, [&](int s) { return s == sums[0]; }));
  }
}

TEST(BufferPool, RecyclesBlocksWhenTheLastViewGoes) {
  buffer_pool pool(4096, 2);
  const std::byte* first = nullptr;
  {
    bytes_mut a = pool.acquire();
    EXPECT_EQ(a.capacity(), 4096U);
    EXPECT_EQ(pool.outstanding(), 1U);
    first = a.data();
    a.extend(std::string(100, 'x'));
    const bytes keep = a.split_to(10).freeze();
    a = bytes_mut();  // the rest goes; `keep` still holds the block
    EXPECT_EQ(pool.cached(), 0U);
    EXPECT_EQ(pool.outstanding(), 1U);
  }
  EXPECT_EQ(pool.outstanding(), 0U);
  EXPECT_EQ(pool.cached(), 1U);
  bytes_mut b = pool.acquire();
  EXPECT_EQ(b.data(), first);  // the same block, reused
  EXPECT_EQ(b.size(), 0U);
  bytes_mut c = pool.acquire();
  bytes_mut d = pool.acquire();
  b = bytes_mut();
  c = bytes_mut();
  d = bytes_mut();
  EXPECT_EQ(pool.cached(), 2U);  // max_cached: the third was freed
  bytes_mut e = pool.acquire();
  e.extend(io_test::pattern(5000));  // past the block size: moves to the heap
  EXPECT_EQ(pool.outstanding(), 0U);
  EXPECT_EQ(e.size(), 5000U);
}

TEST(BufferPool, BlocksReturnFromOtherThreads) {
  buffer_pool pool(512, 64);
  for (int round = 0; round < 20; ++round) {
    std::vector<bytes> parts;
    for (int i = 0; i < 16; ++i) {
      bytes_mut m = pool.acquire();
      m.extend(std::string(64, static_cast<char>('a' + i)));
      parts.push_back(std::move(m).freeze());
    }
    std::thread t([moved = std::move(parts)]() mutable { moved.clear(); });
    t.join();
    EXPECT_EQ(pool.outstanding(), 0U);
  }
  EXPECT_EQ(pool.cached(), 16U);
}

// The bytes read from `fd` until EOF.
bytes_vec drain(int fd, std::size_t chunk) {
  bytes_vec out;
  std::vector<std::byte> buf(chunk);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
  return out;
}

extern "C" void on_alarm(int) {}

TEST(WritevAll, WritesEverythingThroughPartialWritesAndSignals) {
  // 3000 pieces (more than IOV_MAX per call) of random sizes, 8 MB in all, into a pipe
  // (64 KiB buffer: many partial writes) read in 1 KiB reads by another thread, while an
  // interval timer interrupts the writer (SIGALRM without SA_RESTART: EINTR).
  std::mt19937_64 rng(23);
  std::vector<bytes_vec> pieces(3000);
  bytes_vec expect;
  ferrite::io::iovec_list list;
  for (auto& p : pieces) {
    p = io_test::pattern(rng() % 5000, static_cast<std::uint32_t>(rng()));
    expect.insert(expect.end(), p.begin(), p.end());
  }
  for (const auto& p : pieces) list.push(std::span<const std::byte>(p));
  EXPECT_EQ(list.total_bytes(), expect.size());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  struct sigaction sa{};
  sa.sa_handler = on_alarm;
  ASSERT_EQ(::sigaction(SIGALRM, &sa, nullptr), 0);
  bytes_vec got;
  std::thread reader([&] { got = drain(fds[0], 1024); });
  const itimerval every{{0, 200}, {0, 200}};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every, nullptr), 0);
  const auto w = ferrite::io::writev_all(fds[1], list.span());
  const itimerval off{};
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  ::signal(SIGALRM, SIG_DFL);
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(*w, expect.size());
  EXPECT_EQ(got, expect);
}

TEST(WritevAll, FullNonBlockingPipeIsWouldBlockWithTheBytesWritten) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  const auto big = io_test::pattern(1 << 20);
  const ::iovec iov[] = {{const_cast<std::byte*>(big.data()), big.size()}};
  const auto w = ferrite::io::writev_all(fds[1], iov);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), ferrite::errc::would_block);
  const auto written = w.error().base().detail_b();
  EXPECT_GT(written, 0U);
  EXPECT_LT(written, big.size());
  ::close(fds[1]);
  const auto got = drain(fds[0], 65536);
  ::close(fds[0]);
  EXPECT_EQ(got.size(), written);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), big.begin()));
}

TEST(WritevAll, EmptyPiecesAndNoPieces) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ferrite::io::iovec_list list;
  list.push(std::string_view(""));
  list.push(std::string_view("ab"));
  list.push(bytes());
  list.push(std::string_view("c"));
  EXPECT_EQ(list.pieces(), 2U);
  EXPECT_EQ(*ferrite::io::writev_all(fds[1], list.span()), 3U);
  EXPECT_EQ(*ferrite::io::writev_all(fds[1], {}), 0U);
  ::close(fds[1]);
  EXPECT_EQ(drain(fds[0], 16).size(), 3U);
  ::close(fds[0]);
}

}  // namespace
