#include "profiler/goroutine_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "profiler/dump_builder.hpp"

namespace fiberleak::detail {
namespace {

void appendf(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  out.append(big.data(), static_cast<std::size_t>(n));
}

std::uint64_t offset_of(const DumpFrame& f, Symbolizer* symbolizer) {
  return symbolizer != nullptr && f.pc != 0 ? symbolizer->offset_in_function(f.pc) : 0;
}

// The status Go prints in brackets; labels last, as Go 1.27 prints them
// there ("[chan receive, 3 minutes, labels:{"fiber":"worker"}]").
std::string status(const DumpedFiber& f) {
  std::string s = f.wait_reason.empty() ? std::string(to_string(f.state)) : f.wait_reason;
  const std::int64_t minutes = f.blocked_ns / 60'000'000'000;
  if (minutes >= 1) s += ", " + std::to_string(minutes) + " minutes";
  if (f.locked_to_thread) s += ", locked to thread";
  const std::vector<Label> labels = f.shown_labels();
  if (!labels.empty()) s += ", labels:" + labels_text(labels);
  return s;
}

std::string function_line(const std::string& function, bool inlined) {
  // Go writes arguments in parentheses ("main.f(0x1, ...)", "(...)" when
  // inlined); demangled C++ names already end with their parameter list.
  if (!function.empty() && function.back() == ')') return function;
  return function + (inlined ? "(...)" : "()");
}

void render_frame(std::string& out, const DumpFrame& f, Symbolizer* symbolizer) {
  out += function_line(f.function, f.inlined);
  out += "\n\t";
  out += f.file.empty() ? "?" : f.file;
  appendf(out, ":%d", f.line);
  if (!f.inlined) appendf(out, " +0x%" PRIx64, offset_of(f, symbolizer));
  out += '\n';
}

}  // namespace

void append_go_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      appendf(out, "\\x%02x", u);
    } else {
      out += c;  // UTF-8 passes through (valid by the time it gets here)
    }
  }
  out += '"';
}

std::string labels_text(const std::vector<Label>& labels) {
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    append_go_quoted(out, labels[i].key);
    out += ':';
    append_go_quoted(out, labels[i].value);
  }
  out += '}';
  return out;
}

std::string render_debug1(const FiberDump& dump, Symbolizer* symbolizer) {
  struct Group {
    const DumpedFiber* example;
    std::size_t count;
  };
  // Go groups by stack and labels.
  StackKeys keys;
  std::map<std::pair<std::string, std::vector<Label>>, Group> groups;
  for (const DumpedFiber& f : dump.fibers) {
    auto [it, inserted] = groups.try_emplace({keys.key(f.stack), f.shown_labels()}, Group{&f, 0});
    ++it->second.count;
  }
  std::vector<const Group*> sorted;
  for (const auto& [key, g] : groups) sorted.push_back(&g);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Group* a, const Group* b) { return a->count > b->count; });

  std::string out;
  appendf(out, "goroutine profile: total %zu\n", dump.fibers.size());
  for (const Group* g : sorted) {
    appendf(out, "%zu @", g->count);
    // No stack recorded (a fiber that never ran): Go's parsers refuse a
    // group without an address ("malformed profile format"); 0x0 reads as
    // an unknown frame.
    if (g->example->stack.empty()) out += " 0x0";
    std::uint64_t last_pc = 0;
    for (const DumpFrame& f : g->example->stack) {
      if (f.pc != last_pc || f.pc == 0) appendf(out, " 0x%" PRIx64, f.pc);
      last_pc = f.pc;
    }
    out += '\n';
    if (const std::vector<Label> labels = g->example->shown_labels(); !labels.empty()) {
      out += "# labels: " + labels_text(labels) + '\n';
    }
    for (const DumpFrame& f : g->example->stack) {
      appendf(out, "#\t0x%" PRIx64 "\t%s+0x%" PRIx64 "\t%s:%d\n", f.pc == 0 ? 0 : f.pc - 1, f.function.c_str(),
              offset_of(f, symbolizer), f.file.empty() ? "?" : f.file.c_str(), f.line);
    }
    out += '\n';
  }
  return out;
}

std::string render_stack(const SharedStack& stack, Symbolizer* symbolizer) {
  std::string text;
  for (const DumpFrame& fr : stack) render_frame(text, fr, symbolizer);
  return text;
}

std::string render_debug2(const FiberDump& dump, Symbolizer* symbolizer) {
  // Fibers parked at one place share a stack object: render each stack (and
  // each creator) once and copy the text.
  std::unordered_map<const void*, std::string> stack_text;
  std::unordered_map<const void*, std::pair<std::string, std::string>> creator_text;  // name, location
  auto text_of = [&](const SharedStack& stack) -> const std::string& {
    auto it = stack_text.find(stack.identity());
    if (it != stack_text.end() && stack.identity() != nullptr) return it->second;
    return stack_text.insert_or_assign(stack.identity(), render_stack(stack, symbolizer)).first->second;
  };
  auto creator_of = [&](const SharedStack& stack) -> const std::pair<std::string, std::string>& {
    auto it = creator_text.find(stack.identity());
    if (it != creator_text.end() && stack.identity() != nullptr) return it->second;
    // The program's function that created it; a library's when no other
    // (Go names net/http.(*Server).Serve as the creator of its handlers).
    const DumpFrame* creator = top_user_frame(stack);
    if (creator == nullptr && !stack.empty()) creator = &*stack.begin();
    std::pair<std::string, std::string> text{"?", "\t?:0 +0x0\n"};
    if (creator != nullptr) {
      text.first = creator->function;
      text.second = "\t" + (creator->file.empty() ? std::string("?") : creator->file);
      appendf(text.second, ":%d +0x%" PRIx64 "\n", creator->line, offset_of(*creator, symbolizer));
    }
    return creator_text.insert_or_assign(stack.identity(), std::move(text)).first->second;
  };

  // Size the output once: growing a 100 MB string by doubling costs more
  // (page faults on fresh memory) than rendering it.
  std::size_t total = 0;
  for (const DumpedFiber& f : dump.fibers) {
    total += 96 + text_of(f.stack).size();
    if (f.parent != kNoFiber || !f.creation_stack.empty()) {
      const auto& [name, location] = creator_of(f.creation_stack);
      total += 40 + name.size() + location.size();
    }
  }
  std::string out;
  out.reserve(total);
  bool first = true;
  for (const DumpedFiber& f : dump.fibers) {
    if (!first) out += '\n';
    first = false;
    appendf(out, "goroutine %" PRIu64 " [%s]:\n", to_integer(f.id), status(f).c_str());
    out += text_of(f.stack);
    if (f.parent != kNoFiber || !f.creation_stack.empty()) {
      const auto& [name, location] = creator_of(f.creation_stack);
      out += "created by ";
      out += name;
      if (f.parent != kNoFiber) appendf(out, " in goroutine %" PRIu64, to_integer(f.parent));
      out += '\n';
      out += location;
    }
  }
  return out;
}

}  // namespace fiberleak::detail
