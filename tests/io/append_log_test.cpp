// SPDX-License-Identifier: Apache-2.0
// append_log: crc32c against its bit-at-a-time definition; records round-trip through
// reopen; a log cut at every byte offset and a byte flipped at every offset lose exactly the
// damaged record and what follows, and replay() reports it and truncates; a write that fails
// part-way leaves no half record; a child killed with SIGKILL mid-append loses nothing it was
// told was appended (the power-cut simulation, repeated over several generations).
#include "ferrite/io/append_log.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ferrite/io/detail/crc32c.hpp"
#include "io_test_support.hpp"

namespace {

using ferrite::errc;
using ferrite::io::append_log;
using ferrite::io::log_damage;
using bytes_vec = std::vector<std::byte>;

std::span<const std::byte> as_span(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(Crc32c, CheckValueAndReference) {
  EXPECT_EQ(ferrite::io::detail::crc32c(as_span("123456789")), 0xE3069283U);
  EXPECT_EQ(ferrite::io::detail::crc32c_reference(as_span("123456789")), 0xE3069283U);
  EXPECT_EQ(ferrite::io::detail::crc32c({}), 0U);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 300; ++i) {
    const auto data = io_test::pattern(rng() % 2000, static_cast<std::uint32_t>(i));
    const auto whole = ferrite::io::detail::crc32c(data);
    ASSERT_EQ(whole, ferrite::io::detail::crc32c_reference(data)) << data.size();
    const std::size_t cut = data.empty() ? 0 : rng() % data.size();
    const auto first = std::span(data).first(cut);
    const auto second = std::span(data).subspan(cut);
    ASSERT_EQ(ferrite::io::detail::crc32c(second, ferrite::io::detail::crc32c(first)), whole);
  }
}

// Payload of record `seq`: its size and bytes are a function of seq.
bytes_vec payload_of(std::uint64_t seq, std::size_t max = 300) {
  const std::size_t n = (seq * 7919) % max;
  auto p = io_test::pattern(n + 8, static_cast<std::uint32_t>(seq));
  std::memcpy(p.data(), &seq, 8);
  return p;
}

std::vector<bytes_vec> replay_all(append_log& log, ferrite::io::replay_result* out = nullptr) {
  std::vector<bytes_vec> got;
  auto r =
      log.replay([&](std::span<const std::byte> rec) { got.emplace_back(rec.begin(), rec.end()); });
  EXPECT_TRUE(r) << r.error().message();
  if (r && out != nullptr) *out = *r;
  return got;
}

TEST(AppendLog, RecordsRoundTripThroughReopen) {
  io_test::temp_dir dir;
  const auto path = dir.file("log");
  std::vector<bytes_vec> expect;
  {
    auto log = append_log::open(path);
    ASSERT_TRUE(log) << log.error().message();
    EXPECT_TRUE(replay_all(*log).empty());
    for (std::uint64_t i = 0; i < 200; ++i) {
      expect.push_back(payload_of(i));
      const auto at = log->append(expect.back());
      ASSERT_TRUE(at) << at.error().message();
    }
    expect.emplace_back();  // an empty record is a record
    ASSERT_TRUE(log->append({}));
    ASSERT_TRUE(log->sync());
    EXPECT_EQ(static_cast<long long>(log->end_offset()), io_test::file_size(path));
  }
  auto log = append_log::open(path);
  ASSERT_TRUE(log);
  ferrite::io::replay_result r;
  EXPECT_EQ(replay_all(*log, &r), expect);
  EXPECT_EQ(r.records, expect.size());
  EXPECT_EQ(r.damage, log_damage::none);
  EXPECT_EQ(static_cast<long long>(r.valid_bytes), io_test::file_size(path));
  EXPECT_EQ(replay_all(*log), expect);  // replay rereads
}

// Writes a log of `n` records to `path`; returns the file bytes and each record's end offset.
bytes_vec make_log(const std::string& path, std::uint64_t n, std::vector<std::size_t>& ends,
                   std::size_t max = 40) {
  {
    auto log = append_log::open(path);
    EXPECT_TRUE(log);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto p = payload_of(i, max);
      const auto at = log->append(p);
      EXPECT_TRUE(at);
      ends.push_back(static_cast<std::size_t>(*at) + 8 + p.size());
    }
  }
  return io_test::read_file(path);
}

TEST(AppendLog, TornTailAtEveryByteOffsetKeepsTheRecordsBefore) {
  io_test::temp_dir dir;
  const auto path = dir.file("torn");
  std::vector<std::size_t> ends;
  const bytes_vec full = make_log(path, 12, ends);
  const std::size_t header = ferrite::io::detail::log_header_size;
  for (std::size_t cut = header; cut < full.size(); ++cut) {
    ASSERT_TRUE(io_test::write_file(path, std::span(full).first(cut)));
    const std::size_t intact = static_cast<std::size_t>(
        std::ranges::upper_bound(ends, cut) - ends.begin());  // records ending at or before cut
    const std::size_t boundary = intact == 0 ? header : ends[intact - 1];
    auto log = append_log::open(path);
    ASSERT_TRUE(log) << cut;
    ferrite::io::replay_result r;
    const auto got = replay_all(*log, &r);
    ASSERT_EQ(got.size(), intact) << cut;
    for (std::size_t i = 0; i < intact; ++i) ASSERT_EQ(got[i], payload_of(i, 40)) << cut;
    if (cut == boundary) {
      EXPECT_EQ(r.damage, log_damage::none) << cut;
    } else {
      EXPECT_EQ(r.damage, log_damage::torn) << cut;
      EXPECT_EQ(r.damage_offset, boundary) << cut;
      EXPECT_EQ(r.truncated_bytes, cut - boundary) << cut;
    }
    EXPECT_EQ(io_test::file_size(path), static_cast<long long>(boundary)) << cut;
    // The log continues right after the last intact record.
    const auto next = payload_of(99, 40);
    ASSERT_TRUE(log->append(next));
    EXPECT_EQ(replay_all(*log).size(), intact + 1);
  }
}

TEST(AppendLog, ATornLogContinuesAfterItsLastIntactRecord) {
  io_test::temp_dir dir;
  const auto path = dir.file("cont");
  std::vector<std::size_t> ends;
  const bytes_vec full = make_log(path, 5, ends);
  ASSERT_TRUE(io_test::write_file(path, std::span(full).first(ends[2] + 5)));
  {
    auto log = append_log::open(path);
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->append(as_span("after")));  // append before replay: recovers first
    EXPECT_EQ(log->end_offset(), ends[2] + 8 + 5);
  }
  auto log = append_log::open(path);
  ASSERT_TRUE(log);
  const auto got = replay_all(*log);
  ASSERT_EQ(got.size(), 4U);
  EXPECT_EQ(got[2], payload_of(2, 40));
  EXPECT_EQ(got[3], bytes_vec(as_span("after").begin(), as_span("after").end()));
}

TEST(AppendLog, AFlippedByteAnywhereIsDetected) {
  io_test::temp_dir dir;
  const auto path = dir.file("flip");
  std::vector<std::size_t> ends;
  const bytes_vec full = make_log(path, 8, ends);
  const std::size_t header = ferrite::io::detail::log_header_size;
  for (std::size_t at = header; at < full.size(); ++at) {
    for (const unsigned mask : {0x01U, 0x80U, 0xFFU}) {
      bytes_vec bad = full;
      bad[at] ^= static_cast<std::byte>(mask);
      ASSERT_TRUE(io_test::write_file(path, bad));
      const std::size_t hit = static_cast<std::size_t>(std::ranges::upper_bound(ends, at) -
                                                       ends.begin());  // the record holding `at`
      const std::size_t start = hit == 0 ? header : ends[hit - 1];
      auto log = append_log::open(path);
      ASSERT_TRUE(log);
      ferrite::io::replay_result r;
      const auto got = replay_all(*log, &r);
      ASSERT_EQ(got.size(), hit) << at << " " << mask;
      for (std::size_t i = 0; i < hit; ++i) ASSERT_EQ(got[i], payload_of(i, 40));
      ASSERT_NE(r.damage, log_damage::none) << at;
      EXPECT_EQ(r.damage_offset, start) << at;
      EXPECT_EQ(io_test::file_size(path), static_cast<long long>(start));
    }
  }
}

TEST(AppendLog, ZeroFilledTailIsDamage) {
  io_test::temp_dir dir;
  const auto path = dir.file("zero");
  std::vector<std::size_t> ends;
  bytes_vec full = make_log(path, 3, ends);
  full.resize(full.size() + 4096);
  ASSERT_TRUE(io_test::write_file(path, full));
  auto log = append_log::open(path);
  ASSERT_TRUE(log);
  ferrite::io::replay_result r;
  EXPECT_EQ(replay_all(*log, &r).size(), 3U);
  EXPECT_EQ(r.damage, log_damage::checksum);
  EXPECT_EQ(r.damage_offset, ends.back());
}

TEST(AppendLog, HostileLengthIsTooLongNotAllocated) {
  io_test::temp_dir dir;
  const auto path = dir.file("long");
  std::vector<std::size_t> ends;
  bytes_vec full = make_log(path, 2, ends);
  const std::byte huge[8] = {std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}, std::byte{0x7F}};
  full.insert(full.end(), huge, huge + 8);
  ASSERT_TRUE(io_test::write_file(path, full));
  auto log = append_log::open(path);
  ASSERT_TRUE(log);
  ferrite::io::replay_result r;
  EXPECT_EQ(replay_all(*log, &r).size(), 2U);
  EXPECT_EQ(r.damage, log_damage::too_long);
  const auto big = log->append(bytes_vec(log->options().max_record + 1));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), errc::invalid_argument);
  EXPECT_EQ(static_cast<long long>(log->end_offset()), io_test::file_size(path));
}

TEST(AppendLog, OpenChecksTheHeaderAndTheLock) {
  io_test::temp_dir dir;
  const auto path = dir.file("hdr");
  ASSERT_TRUE(io_test::write_file(path, as_span("not a log at all")));
  auto bad = append_log::open(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), errc::parse_error);
  EXPECT_EQ(bad.error().path(), path);
  // A creation cut short (a prefix of the magic) is re-initialized.
  ASSERT_TRUE(io_test::write_file(path, std::span(ferrite::io::detail::log_magic).first(3)));
  auto log = append_log::open(path);
  ASSERT_TRUE(log) << log.error().message();
  EXPECT_EQ(io_test::file_size(path), 8);
  auto second = append_log::open(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), errc::would_block);
  auto missing = append_log::open(dir.file("no/such/dir"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errno_value(), ENOENT);
}

TEST(AppendLog, AFailedWriteLeavesNoHalfRecord) {
  // In a child with RLIMIT_FSIZE just past two records, the third append fails part-way
  // (EFBIG); the file must end exactly after the second record, and a reopened log (without
  // the limit) must hold exactly the two.
  io_test::temp_dir dir;
  const auto path = dir.file("efbig");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    auto log = append_log::open(path);
    if (!log || !log->append(bytes_vec(100)) || !log->append(bytes_vec(100))) ::_exit(1);
    const rlimit lim{static_cast<rlim_t>(log->end_offset() + 50),
                     static_cast<rlim_t>(log->end_offset() + 50)};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(2);
    const auto third = log->append(bytes_vec(100));
    if (third || third.error().errno_value() != EFBIG) ::_exit(3);
    if (io_test::file_size(path) != static_cast<long long>(log->end_offset())) ::_exit(4);
    if (!log->append(bytes_vec(10))) ::_exit(5);  // a record that fits still goes in
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto log = append_log::open(path);
  ASSERT_TRUE(log);
  ferrite::io::replay_result r;
  const auto got = replay_all(*log, &r);
  EXPECT_EQ(got.size(), 3U);
  EXPECT_EQ(r.damage, log_damage::none);
}

// The power cut: a child appends numbered records in a loop and reports each completed
// append through a pipe; the parent SIGKILLs it once it has heard `acks` reports, at an
// arbitrary point of an append, then reopens the log. Every record reported must be there,
// in order and intact, and nothing but a prefix of the child's sequence may be there.
TEST(AppendLog, KillNineMidAppendLosesNothingAcknowledged) {
  io_test::temp_dir dir;
  const auto path = dir.file("powercut");
  std::uint64_t next = 0;  // records in the log so far
  int torn = 0;            // generations that ended in a torn record
  for (int generation = 0; generation < 6; ++generation) {
    int acks[2];
    ASSERT_EQ(::pipe(acks), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(acks[0]);
      auto log = append_log::open(path);
      if (!log) ::_exit(1);
      std::uint64_t seq = 0;
      if (!log->replay([&](std::span<const std::byte>) { ++seq; })) ::_exit(2);
      for (;; ++seq) {
        if (!log->append(payload_of(seq, 9000))) ::_exit(3);  // up to 9000 bytes: page splits
        if (seq % 64 == 0 && !log->sync()) ::_exit(4);
        if (::write(acks[1], &seq, sizeof seq) != sizeof seq) ::_exit(5);
      }
    }
    ::close(acks[1]);
    std::uint64_t acked = 0;
    std::uint64_t last = 0;
    const std::uint64_t want = 300 + 97 * static_cast<std::uint64_t>(generation);
    while (acked < want && ::read(acks[0], &last, sizeof last) == sizeof last) ++acked;
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(acks[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child failed: " << status;
    ASSERT_EQ(acked, want);

    auto log = append_log::open(path);
    ASSERT_TRUE(log) << log.error().message();
    std::uint64_t seen = 0;
    bool ok = true;
    auto r = log->replay([&](std::span<const std::byte> rec) {
      const auto expect = payload_of(seen, 9000);
      ok = ok && std::ranges::equal(rec, expect);
      ++seen;
    });
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(ok) << "a record differs from what was appended";
    EXPECT_GT(seen, last) << "an acknowledged record was lost";  // last acked seq is in
    EXPECT_GE(seen, next + acked);
    EXPECT_EQ(static_cast<long long>(r->valid_bytes), io_test::file_size(path));
    next = seen;
    torn += r->damage != log_damage::none ? 1 : 0;
  }
  RecordProperty("torn_generations", torn);
}

}  // namespace
