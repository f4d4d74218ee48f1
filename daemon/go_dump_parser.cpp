#include "daemon/go_dump_parser.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <unordered_map>

namespace fiberleak::detail {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool parse_u64(std::string_view s, std::uint64_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

// The length of the UTF-8 character at s[i] (RFC 3629: no overlong forms,
// surrogates or code points past U+10FFFF), 0 if none starts there.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = at(0);
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const bool second = c == 0xE0 ? cont(1, 0xA0) : c == 0xED ? cont(1, 0x80, 0x9F) : cont(1);
    return second && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const bool second = c == 0xF0 ? cont(1, 0x90) : c == 0xF4 ? cont(1, 0x80, 0x8F) : cont(1);
    return second && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Text from the target, as valid UTF-8: every writer downstream (JSON,
// Prometheus labels) needs it, so each byte that starts no character
// becomes U+FFFD here, as the JSON writer would write it (web/json_text.hpp).
// (Boost.Locale's utf_to_utf drops the valid byte after a cut character.)
std::string target_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

[[noreturn]] void fail(std::size_t line, const std::string& why) {
  throw GoDumpError("line " + std::to_string(line) + ": " + why);
}

// "main.f(0x1, {0x2, 0x3})" -> "main.f"; names may hold parentheses
// themselves ("main.(*T).m(...)"), so the argument list is the parenthesised
// group that ends the line.
std::string_view function_name(std::string_view line) {
  if (line.empty() || line.back() != ')') return line;
  int depth = 0;
  for (std::size_t i = line.size(); i-- > 0;) {
    if (line[i] == ')') ++depth;
    if (line[i] == '(' && --depth == 0) return line.substr(0, i);
  }
  return line;
}

// "\t/src/main.go:12 +0x1d" -> file, line.
bool parse_location(std::string_view text, DumpFrame& frame) {
  if (text.empty() || text[0] != '\t') return false;
  text.remove_prefix(1);
  if (const auto space = text.rfind(" +0x"); space != std::string_view::npos) text = text.substr(0, space);
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t line = 0;
  if (!parse_u64(text.substr(colon + 1), line) || line > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return false;
  }
  frame.file = target_text(text.substr(0, colon));
  frame.line = static_cast<int>(line);
  return true;
}

// A Go-quoted string at the start of `text` ("\"a\\\"b\""), consumed.
bool take_quoted(std::string_view& text, std::string& out) {
  if (text.empty() || text[0] != '"') return false;
  out.clear();
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      text.remove_prefix(i + 1);
      return true;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= text.size()) return false;
    switch (text[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'x': {
        unsigned value = 0;
        if (i + 2 >= text.size() ||
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr != text.data() + i + 3) {
          return false;
        }
        out += static_cast<char>(value);
        i += 2;
        break;
      }
      default: out += text[i];  // \" and \\ (and anything else, as itself)
    }
  }
  return false;
}

// Go 1.27's labels in the status, `{"k":"v", "k2": "v2"}`; the fiber's
// "fiber" label is its name. Malformed labels are skipped, not an error:
// the stacks are what a dump is read for.
void apply_labels(std::string_view text, DumpedFiber& g) {
  std::vector<Label> labels;
  if (text.empty() || text[0] != '{') return;
  text.remove_prefix(1);
  while (!text.empty() && text[0] != '}') {
    Label l;
    if (!take_quoted(text, l.key) || text.empty() || text[0] != ':') return;
    text.remove_prefix(1);
    if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
    if (!take_quoted(text, l.value)) return;
    if (starts_with(text, ", ")) text.remove_prefix(2);
    labels.push_back(std::move(l));
  }
  std::sort(labels.begin(), labels.end());
  for (Label& l : labels) {
    if (l.key == "fiber") {
      g.name = std::move(l.value);
    } else {
      g.labels.push_back(std::move(l));
    }
  }
}

void apply_status(std::string_view status, DumpedFiber& g) {
  // "chan receive, 3 minutes, locked to thread, labels:{...}"
  if (const auto at = status.find(", labels:{"); at != std::string_view::npos) {
    apply_labels(status.substr(at + 9), g);
    status = status.substr(0, at);
  }
  bool first = true;
  while (!status.empty()) {
    const auto comma = status.find(", ");
    const std::string_view part = status.substr(0, comma);
    status = comma == std::string_view::npos ? std::string_view() : status.substr(comma + 2);
    if (first) {
      g.wait_reason = target_text(part);
      first = false;
      continue;
    }
    if (part == "locked to thread") {
      g.locked_to_thread = true;
    } else if (const auto sp = part.find(' ');
               sp != std::string_view::npos && starts_with(part.substr(sp), " minute")) {
      // A lower bound: more minutes than nanoseconds fit say "at least INT64_MAX".
      constexpr std::int64_t kMinute = 60'000'000'000;
      constexpr std::uint64_t kMaxMinutes = std::numeric_limits<std::int64_t>::max() / kMinute;
      std::uint64_t minutes = 0;
      if (parse_u64(part.substr(0, sp), minutes)) {
        g.blocked_ns = minutes > kMaxMinutes ? std::numeric_limits<std::int64_t>::max()
                                             : static_cast<std::int64_t>(minutes) * kMinute;
      }
    }
  }
  g.blocked_exact = false;
  if (g.wait_reason == "running" || g.wait_reason == "syscall") {
    g.state = FiberState::running;
  } else if (g.wait_reason == "runnable") {
    g.state = FiberState::runnable;
  } else {
    g.wait = wait_kind_of_go_reason(g.wait_reason);
    g.state = g.wait == WaitKind::sleep ? FiberState::sleeping : FiberState::blocked;
  }
}

}  // namespace

WaitKind wait_kind_of_go_reason(std::string_view r) {
  if (starts_with(r, "chan receive")) return WaitKind::channel_pop;
  if (starts_with(r, "chan send")) return WaitKind::channel_push;
  if (r == "sleep") return WaitKind::sleep;
  if (starts_with(r, "sync.Mutex") || starts_with(r, "sync.RWMutex") || r == "semacquire") return WaitKind::mutex;
  if (r == "sync.Cond.Wait") return WaitKind::condition_variable;
  if (r == "sync.WaitGroup.Wait") return WaitKind::join;
  return WaitKind::unknown;  // select, IO wait, GC waits, ...
}

FiberDump parse_go_dump(std::string_view text) {
  FiberDump dump;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  auto next_line = [&](std::string_view& out) {
    if (pos >= text.size()) return false;
    const auto nl = text.find('\n', pos);
    out = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
    ++line_no;
    return true;
  };

  std::string_view line;
  DumpedFiber* g = nullptr;
  std::vector<DumpFrame> stack, created;
  // Goroutines parked at one place share one stack: 10k of them hold one
  // copy of its frames, not 10k. Keyed by the frames as parsed (Go prints
  // each goroutine's own argument values, so the text differs).
  std::unordered_map<std::string, SharedStack> interned;
  DecodeBudget budget(text.size());
  auto over_budget = [&] {
    fail(line_no, "the dump decodes to more than " + std::to_string(DecodeBudget::kExpansion) +
                      " times its size (not a goroutine dump)");
  };
  auto intern = [&](std::vector<DumpFrame>& frames) {
    SharedStack shared;
    if (frames.empty()) return shared;
    std::string key;
    for (const DumpFrame& f : frames) {
      key += f.function;
      key += '\0';
      key += f.file;
      key += ':';
      key += std::to_string(f.line);
      key += f.inlined ? "i\n" : "\n";
    }
    if (auto it = interned.find(key); it != interned.end()) {
      shared = it->second;
    } else {
      if (!budget.spend(frames) || !budget.spend(key.capacity() + sizeof(SharedStack) + 64)) over_budget();
      shared = SharedStack(std::move(frames));
      interned.emplace(std::move(key), shared);
    }
    frames.clear();
    return shared;
  };
  auto finish = [&] {
    if (g == nullptr) return;
    if (!budget.spend_appended(dump.fibers)) over_budget();
    g->stack = intern(stack);
    g->creation_stack = intern(created);
    g = nullptr;
  };
  while (next_line(line)) {
    if (line.empty()) {
      finish();
      continue;
    }
    if (starts_with(line, "goroutine ")) {
      finish();
      // "goroutine 7 [chan receive, 3 minutes]:" (newer Go may add "gp=… m=…" before the bracket)
      const auto open = line.find(" [");
      const auto close = line.rfind("]:");
      if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        fail(line_no, "expected 'goroutine N [status]:'");
      }
      std::string_view id_text = line.substr(10, open - 10);
      id_text = id_text.substr(0, id_text.find(' '));
      DumpedFiber fresh;
      std::uint64_t id = 0;
      if (!parse_u64(id_text, id)) fail(line_no, "bad goroutine id \"" + std::string(id_text) + "\"");
      fresh.id = static_cast<FiberId>(id);
      apply_status(line.substr(open + 2, close - open - 2), fresh);
      dump.fibers.push_back(std::move(fresh));
      g = &dump.fibers.back();
      continue;
    }
    if (g == nullptr) fail(line_no, "expected 'goroutine N [status]:'");
    if (starts_with(line, "...")) continue;  // "...additional frames elided...", "...N frames elided..."
    const bool creator = starts_with(line, "created by ");
    DumpFrame frame;
    std::string_view name = creator ? line.substr(11) : line;
    if (creator) {
      if (const auto in = name.find(" in goroutine "); in != std::string_view::npos) {
        std::uint64_t parent = 0;
        if (!parse_u64(name.substr(in + 14), parent)) fail(line_no, "bad 'in goroutine' id");
        g->parent = static_cast<FiberId>(parent);
        name = name.substr(0, in);
      }
    } else {
      frame.inlined = name.size() >= 5 && name.substr(name.size() - 5) == "(...)";
      name = function_name(name);
    }
    frame.function = target_text(name);
    std::string_view location;
    if (!next_line(location) || !parse_location(location, frame)) {
      fail(line_no, "a frame without its file:line (truncated dump?)");
    }
    (creator ? created : stack).push_back(std::move(frame));
  }
  finish();
  if (dump.fibers.empty()) throw GoDumpError("line 1: no goroutines: not a goroutine dump");
  return dump;
}

}  // namespace fiberleak::detail
