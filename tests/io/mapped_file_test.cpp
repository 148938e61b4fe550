// SPDX-License-Identifier: Apache-2.0
// mapped_file against real files in a temporary directory: errors name the path and errno,
// empty files map without mmap, contents match what was written, writes and grow() reach
// the file, and read_checked() turns a truncation by another (forked) process into an error
// where touching the mapping dies of SIGBUS.
#include "ferrite/io/mapped_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <random>
#include <vector>

#include "io_test_support.hpp"

namespace {

using ferrite::errc;
using ferrite::io::mapped_file;

TEST(MappedFile, OpenMissingFileNamesPathAndErrno) {
  io_test::temp_dir dir;
  const auto path = dir.file("missing");
  const auto f = mapped_file::open(path);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), errc::system);
  EXPECT_EQ(f.error().errno_value(), ENOENT);
  EXPECT_EQ(f.error().path(), path);
  const std::string msg = f.error().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("errno 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("mapped_file::open"), std::string::npos) << msg;
}

TEST(MappedFile, DirectoryIsRejected) {
  io_test::temp_dir dir;
  const auto f = mapped_file::open(dir.path());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), errc::unsupported);
}

TEST(MappedFile, EmptyFileMapsToEmptyView) {
  io_test::temp_dir dir;
  const auto path = dir.file("empty");
  ASSERT_TRUE(io_test::write_file(path, {}));
  for (auto m : {mapped_file::mode::read_only, mapped_file::mode::read_write}) {
    auto f = mapped_file::open(path, m);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_TRUE(f->is_open());
    EXPECT_TRUE(f->empty());
    EXPECT_EQ(f->bytes().data(), nullptr);  // no mapping was made
    EXPECT_TRUE(f->advise(mapped_file::advice::sequential));
    EXPECT_TRUE(f->flush());
    EXPECT_TRUE(f->read_checked(0, 0));
  }
}

TEST(MappedFile, BytesMatchTheFileAtEverySize) {
  io_test::temp_dir dir;
  const auto path = dir.file("data");
  for (std::size_t n : {1UL, 7UL, 4095UL, 4096UL, 4097UL, 65536UL + 13}) {
    const auto expect = io_test::pattern(n, static_cast<std::uint32_t>(n));
    ASSERT_TRUE(io_test::write_file(path, expect));
    const auto f = mapped_file::open(path);
    ASSERT_TRUE(f) << f.error().message();
    ASSERT_EQ(f->size(), n);
    EXPECT_TRUE(std::ranges::equal(f->bytes(), expect)) << n;
  }
}

TEST(MappedFile, ReadWriteChangesReachTheFile) {
  io_test::temp_dir dir;
  const auto path = dir.file("rw");
  auto expect = io_test::pattern(10000);
  ASSERT_TRUE(io_test::write_file(path, expect));
  {
    auto f = mapped_file::open(path, mapped_file::mode::read_write);
    ASSERT_TRUE(f) << f.error().message();
    auto w = f->writable_bytes();
    for (std::size_t i = 0; i < w.size(); i += 7) {
      w[i] = ~w[i];
      expect[i] = ~expect[i];
    }
    EXPECT_TRUE(f->flush(100, 5000, mapped_file::flush_mode::async));
    EXPECT_TRUE(f->flush());
    EXPECT_FALSE(f->flush(9000, 1001));  // past the end
  }
  EXPECT_EQ(io_test::read_file(path), expect);
}

TEST(MappedFile, ReadWriteCreatesAMissingFile) {
  io_test::temp_dir dir;
  const auto path = dir.file("new");
  auto f = mapped_file::open(path, mapped_file::mode::read_write);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_TRUE(f->empty());
  EXPECT_EQ(io_test::file_size(path), 0);
}

TEST(MappedFile, GrowExtendsTheFileAndBumpsTheGeneration) {
  io_test::temp_dir dir;
  const auto path = dir.file("log");
  auto f = mapped_file::open(path, mapped_file::mode::read_write);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->generation(), 0U);
  std::vector<std::byte> expect;
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    const std::size_t old = f->size();
    const std::size_t grown = old + 1 + rng() % 10000;
    ASSERT_TRUE(f->grow(grown)) << round;
    EXPECT_EQ(f->generation(), static_cast<std::uint64_t>(round + 1));
    ASSERT_EQ(f->size(), grown);
    auto w = f->writable_bytes();
    EXPECT_TRUE(std::all_of(w.begin() + static_cast<std::ptrdiff_t>(old), w.end(),
                            [](std::byte b) { return b == std::byte{0}; }));
    const auto fresh = io_test::pattern(grown - old, static_cast<std::uint32_t>(round));
    std::ranges::copy(fresh, w.begin() + static_cast<std::ptrdiff_t>(old));
    expect.insert(expect.end(), fresh.begin(), fresh.end());
    EXPECT_TRUE(std::ranges::equal(f->bytes(), expect));
  }
  EXPECT_TRUE(f->grow(f->size()));  // same size: no-op, generation unchanged
  EXPECT_EQ(f->generation(), 20U);
  const auto shrink = f->grow(f->size() - 1);
  ASSERT_FALSE(shrink);
  EXPECT_EQ(shrink.error().code(), errc::invalid_argument);
  ASSERT_TRUE(f->flush());
  EXPECT_EQ(io_test::read_file(path), expect);

  auto ro = mapped_file::open(path);
  ASSERT_TRUE(ro);
  const auto g = ro->grow(ro->size() + 1);
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code(), errc::unsupported);
}

TEST(MappedFile, AdviseAcceptsEveryHintAndChecksTheRange) {
  io_test::temp_dir dir;
  const auto path = dir.file("adv");
  ASSERT_TRUE(io_test::write_file(path, io_test::pattern(3 * 4096 + 5)));
  const auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  using a = mapped_file::advice;
  for (auto hint : {a::normal, a::sequential, a::random, a::willneed, a::dontneed}) {
    EXPECT_TRUE(f->advise(hint));
    EXPECT_TRUE(f->advise(hint, 4097, 100));
  }
  EXPECT_EQ(f->advise(a::willneed, 1, f->size()).error().code(), errc::out_of_range);
  // dontneed on a shared file mapping drops pages, never contents.
  EXPECT_TRUE(std::ranges::equal(f->bytes(), io_test::pattern(3 * 4096 + 5)));
}

TEST(MappedFile, MoveTransfersTheMapping) {
  io_test::temp_dir dir;
  const auto path = dir.file("mv");
  ASSERT_TRUE(io_test::write_file(path, io_test::pattern(100)));
  auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  const std::byte* data = f->bytes().data();
  mapped_file g = std::move(*f);
  EXPECT_FALSE(f->is_open());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(f->bytes().empty());
  EXPECT_EQ(g.bytes().data(), data);
  mapped_file h;
  h = std::move(g);
  EXPECT_EQ(h.size(), 100U);
  EXPECT_TRUE(std::ranges::equal(h.bytes(), io_test::pattern(100)));
}

TEST(MappedFile, ReadCheckedMatchesTheMappingAtRandomRanges) {
  io_test::temp_dir dir;
  const auto path = dir.file("rc");
  const auto expect = io_test::pattern(50000, 3);
  ASSERT_TRUE(io_test::write_file(path, expect));
  const auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  std::mt19937 rng(11);
  for (int i = 0; i < 500; ++i) {
    const std::size_t off = rng() % expect.size();
    const std::size_t n = rng() % (expect.size() - off + 1);
    const auto got = f->read_checked(off, n);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_TRUE(std::ranges::equal(*got, f->bytes().subspan(off, n)));
  }
  const auto past = f->read_checked(expect.size() - 10, 11);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code(), errc::out_of_range);
}

// Truncates `path` to `size` from a forked child and waits for it.
void truncate_in_child(const std::string& path, off_t size) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    ::_exit(fd >= 0 && ::ftruncate(fd, size) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(MappedFile, ReadCheckedReportsATruncationByAnotherProcess) {
  io_test::temp_dir dir;
  const auto path = dir.file("trunc");
  const auto expect = io_test::pattern(5 * 4096, 9);
  ASSERT_TRUE(io_test::write_file(path, expect));
  const auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  truncate_in_child(path, 4096 + 100);

  const auto inside = f->read_checked(10, 4096);  // still inside the file: fine
  ASSERT_TRUE(inside) << inside.error().message();
  EXPECT_TRUE(std::ranges::equal(*inside, std::span(expect).subspan(10, 4096)));

  const auto cut = f->read_checked(4096, 8192);  // crosses the new end: an error, no SIGBUS
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code(), errc::size_mismatch);
  EXPECT_EQ(cut.error().base().detail_a(), 8192U);
  EXPECT_EQ(cut.error().base().detail_b(), 100U);  // the bytes that were still there
  EXPECT_NE(cut.error().message().find("truncated"), std::string::npos);

  const auto gone = f->read_checked(3 * 4096, 10);  // wholly past the new end
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), errc::size_mismatch);
}

TEST(MappedFileDeathTest, TouchingATruncatedPageRaisesSigbus) {
  // The hazard read_checked exists for: the unchecked view dies (SIGBUS, or the sanitizer's
  // report of it).
  io_test::temp_dir dir;
  const auto path = dir.file("bus");
  ASSERT_TRUE(io_test::write_file(path, io_test::pattern(4 * 4096)));
  const auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  truncate_in_child(path, 0);
  const volatile std::byte* p = f->bytes().data() + 3 * 4096;
  EXPECT_DEATH({ [[maybe_unused]] std::byte b = *p; }, "");
}

TEST(MappedFile, ReadCheckedSurvivesATruncatingProcess) {
  // A child shrinks and regrows the file in a loop while the parent reads the whole
  // mapping with read_checked: every read is either complete and correct or an error.
  io_test::temp_dir dir;
  const auto path = dir.file("race");
  const std::size_t size = 16 * 4096;
  const auto expect = io_test::pattern(size, 1);
  ASSERT_TRUE(io_test::write_file(path, expect));
  const auto f = mapped_file::open(path);
  ASSERT_TRUE(f);
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_RDWR);
    char c = 0;
    if (fd < 0 || ::read(go[0], &c, 1) != 1) ::_exit(1);
    for (std::size_t i = 0; i < 2000; ++i) {
      if (::ftruncate(fd, static_cast<off_t>((i * 4099) % size)) != 0) ::_exit(2);
      if (::pwrite(fd, expect.data(), size, 0) != static_cast<ssize_t>(size)) ::_exit(3);
    }
    ::_exit(0);
  }
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  std::vector<std::byte> buf(size);
  int ok = 0;
  int truncated = 0;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    const auto r = f->read_checked(0, std::span(buf));
    if (r) {
      ++ok;
      // A read racing the child's pwrite may see a page it has not rewritten yet (zero after
      // the truncation), never anything else.
      for (std::size_t i = 0; i < size; ++i) {
        ASSERT_TRUE(buf[i] == expect[i] || buf[i] == std::byte{0}) << i;
      }
    } else {
      ++truncated;
      ASSERT_EQ(r.error().code(), errc::size_mismatch) << r.error().message();
    }
    if (done == pid) break;
  }
  ::close(go[0]);
  ::close(go[1]);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(f->read_checked(0, std::span(buf)));  // the child restored the file
  EXPECT_EQ(buf, expect);
  EXPECT_GT(ok, 0);
  RecordProperty("truncated_reads", truncated);
}

}  // namespace
