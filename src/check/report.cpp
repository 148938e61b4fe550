// SPDX-License-Identifier: Apache-2.0
// Failure reports: the trace of the failing execution (one line per operation), location
// names, the replay token that encodes the path, and the report text.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine.hpp"

namespace ferrite::check::detail {

std::string where(const std::source_location& at) {
  if (at.line() == 0) return "?";
  std::string file = at.file_name();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(at.line());
}

std::string format_value(std::uint64_t v) {
  if (v < (1U << 20)) return std::to_string(v);
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

const char* order_name(std::memory_order o) noexcept {
  switch (o) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}

namespace {

std::string demangle(const char* name) {
  if (name == nullptr || *name == '\0') return "";
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                           &std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(name);
}

const char* kind_name(object_kind k) noexcept {
  switch (k) {
    case object_kind::atomic: return "atomic";
    case object_kind::cell: return "cell";
    case object_kind::mutex: return "mutex";
    case object_kind::condvar: return "condvar";
  }
  return "?";
}

}  // namespace

std::string engine::describe(const location& l) const {
  std::string s = std::string(kind_name(l.kind)) + "#" + std::to_string(l.id);
  if (auto it = exec_.labels.find(l.addr); it != exec_.labels.end())
    return s + " '" + it->second + "'";
  if (l.kind == object_kind::atomic || l.kind == object_kind::cell) {
    std::string type = demangle(l.type);
    if (!type.empty()) s += "<" + type + ">";
  }
  return s;
}

void engine::trace_op(const char* what, const location* l, const std::string& detail,
                      const std::source_location& at) {
  char head[48];
  std::snprintf(head, sizeof head, "%5u  t%u  %-11s", exec_.events,
                exec_.current == main_context ? 9U : exec_.current, what);
  std::string line = head;
  if (l != nullptr) line += describe(*l) + " ";
  line += detail;
  if (at.line() != 0) {
    if (line.size() < 78) line.append(78 - line.size(), ' ');
    line += "  " + where(at);
  }
  exec_.trace += line + "\n";
}

// The token: one character per path choice, 'a'+thread for a scheduling choice and
// '0'+index for a value choice, runs of four or more written as c*N; ("v1." prefix).
std::string engine::token() const {
  std::string out = "v1.";
  for (std::size_t i = 0; i < path_.size();) {
    const node& n = path_[i];
    const char c = n.sched ? static_cast<char>('a' + n.chosen) : static_cast<char>('0' + n.chosen);
    std::size_t run = 1;
    while (i + run < path_.size() && path_[i + run].sched == n.sched &&
           path_[i + run].chosen == n.chosen)
      ++run;
    if (run >= 4) {
      out += c;
      out += '*' + std::to_string(run) + ';';
    } else {
      out.append(run, c);
    }
    i += run;
  }
  return out;
}

bool engine::parse_token(const std::string& token, std::vector<node>& out) {
  out.clear();
  if (token.rfind("v1.", 0) != 0) return false;
  for (std::size_t i = 3; i < token.size();) {
    const char c = token[i++];
    node n;
    if (c >= 'a' && c < 'a' + static_cast<int>(max_threads)) {
      n.sched = true;
      n.chosen = static_cast<std::uint8_t>(c - 'a');
      n.enabled = 0xff;
    } else if (c >= '0' && c <= '0' + 32) {
      n.sched = false;
      n.chosen = static_cast<std::uint8_t>(c - '0');
      n.count = static_cast<std::uint8_t>(n.chosen + 1);
    } else {
      return false;
    }
    std::size_t run = 1;
    if (i < token.size() && token[i] == '*') {
      const std::size_t end = token.find(';', i);
      if (end == std::string::npos) return false;
      run = std::strtoull(token.c_str() + i + 1, nullptr, 10);
      i = end + 1;
    }
    out.insert(out.end(), run, n);
  }
  return true;
}

}  // namespace ferrite::check::detail

namespace ferrite::check {

const char* to_string(failure_kind k) noexcept {
  switch (k) {
    case failure_kind::none: return "no failure";
    case failure_kind::assertion: return "assertion failed";
    case failure_kind::data_race: return "data race";
    case failure_kind::use_after_free: return "use after free";
    case failure_kind::double_free: return "double free";
    case failure_kind::leak: return "memory leak";
    case failure_kind::deadlock: return "deadlock";
    case failure_kind::livelock: return "livelock";
    case failure_kind::misuse: return "misuse";
    case failure_kind::nondeterminism: return "nondeterministic test";
    case failure_kind::exception: return "uncaught exception";
  }
  return "?";
}

std::string report::summary() const {
  char pruned_text[64] = "";
  if (pruned != 0)
    std::snprintf(pruned_text, sizeof pruned_text, " (%llu cut short by sleep sets)",
                  static_cast<unsigned long long>(pruned));
  char buf[224];
  std::snprintf(buf, sizeof buf, "%llu executions%s in %.3f s, longest %llu operations%s",
                static_cast<unsigned long long>(executions), pruned_text, seconds,
                static_cast<unsigned long long>(max_depth),
                ok() ? (complete ? " (complete)" : " (bounded by the options)") : "");
  return buf;
}

std::string report::text() const {
  if (ok()) return "ferrite::check: " + summary() + "\n";
  std::string s = "ferrite::check: ";
  s += to_string(failure);
  s += " in execution " + std::to_string(executions) + " (" + summary() + ")\n";
  s += message + "\n\n";
  s += "the failing execution (operation number, thread, operation, location, value, source):\n";
  s += trace;
  s += "\nreplay it: FERRITE_CHECK_REPLAY='" + token + "' (same test binary and filter)\n";
  return s;
}

}  // namespace ferrite::check
