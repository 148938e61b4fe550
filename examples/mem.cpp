// SPDX-License-Identifier: Apache-2.0
// examples/mem: the allocation pattern of a request-serving loop. Each request's scratch
// (its parsed arguments, their copies, a reply being built) comes from an arena that is reset
// after the reply, so steady state costs no malloc; long-lived sessions come from an
// object_pool; short lists live inline in a small_vector and names in an inline_string.
// A counting_resource under the arena proves the steady state allocates nothing.
// Exits non-zero if a check fails.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ferrite/mem.hpp>
#include <memory_resource>
#include <string>
#include <string_view>

namespace {

struct session {
  ferrite::mem::inline_string<32> name;  // fixed capacity, no heap: fits a client name
  std::size_t requests = 0;
};

// "SET key value" -> its words, copied into the request's arena.
ferrite::mem::small_vector<std::string_view, 4> split(ferrite::mem::arena& scratch,
                                                      std::string_view line) {
  ferrite::mem::small_vector<std::string_view, 4> words;
  while (!line.empty()) {
    const std::size_t end = std::min(line.find(' '), line.size());
    if (end > 0) words.push_back(scratch.copy(line.substr(0, end)));
    line.remove_prefix(std::min(end + 1, line.size()));
  }
  return words;
}

}  // namespace

int main() {
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  ferrite::mem::counting_resource upstream;  // counts what the arena asks of the heap
  ferrite::mem::arena scratch(ferrite::mem::arena_options{.upstream = &upstream});
  ferrite::mem::object_pool<session> sessions;
  session* alice = sessions.create();
  alice->name.assign("alice@10.0.0.7");

  const std::string_view requests[] = {"SET greeting hello", "GET greeting",
                                       "APPEND greeting  world", "GET greeting"};
  std::uint64_t allocations_after_first = 0;
  for (int round = 0; round < 3; ++round) {
    for (const std::string_view line : requests) {
      const auto words = split(scratch, line);
      // The reply is built in the arena too: a pmr string over the arena's resource.
      std::pmr::string reply(scratch.resource());
      reply += "+";
      reply += words[0];
      reply += " with ";
      reply += std::to_string(words.size() - 1);
      reply += " argument(s)";
      if (round == 0) std::printf("  %-24s -> %s\n", std::string(line).c_str(), reply.c_str());
      ++alice->requests;
      expect(!words.empty() && words.size() <= 3, "each request split into its words");
    }
    scratch.reset();  // every request's scratch goes at once; the chunk stays for the next
    if (round == 0) allocations_after_first = upstream.stats().allocations;
  }
  const auto st = upstream.stats();
  std::printf(
      "mem: %zu requests served; the arena asked the heap %llu time(s), all in the "
      "first round\n",
      alice->requests, static_cast<unsigned long long>(st.allocations));
  expect(alice->requests == 12, "every request counted");
  expect(st.allocations == allocations_after_first, "steady state allocates nothing");
  expect(alice->name == "alice@10.0.0.7", "the session kept its name");
  sessions.destroy(alice);
  expect(sessions.size() == 0, "the pool is empty again");
  return failures == 0 ? 0 : 1;
}
