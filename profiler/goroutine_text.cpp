#include "profiler/goroutine_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <map>

#include "profiler/dump_builder.hpp"

namespace fiberleak {
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

std::string stack_key(const DumpedFiber& f) {
  std::string key;
  for (const DumpFrame& fr : f.stack) {
    key += std::to_string(fr.pc);
    if (fr.pc == 0) key += fr.function + ':' + std::to_string(fr.line);
    key += ',';
  }
  return key;
}

// The status Go prints in brackets.
std::string status(const DumpedFiber& f) {
  std::string s = f.wait_reason.empty() ? std::string(to_string(f.state)) : f.wait_reason;
  const std::int64_t minutes = f.blocked_ns / 60'000'000'000;
  if (minutes >= 1) s += ", " + std::to_string(minutes) + " minutes";
  if (f.locked_to_thread) s += ", locked to thread";
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

std::string render_debug1(const FiberDump& dump, Symbolizer* symbolizer) {
  struct Group {
    const DumpedFiber* example;
    std::size_t count;
  };
  std::map<std::string, Group> groups;
  for (const DumpedFiber& f : dump.fibers) {
    auto [it, inserted] = groups.try_emplace(stack_key(f), Group{&f, 0});
    ++it->second.count;
  }
  std::vector<const Group*> sorted;
  for (const auto& [key, g] : groups) sorted.push_back(&g);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Group* a, const Group* b) { return a->count > b->count; });

  std::string out;
  appendf(out, "goroutine profile: total %zu\n", dump.fibers.size());
  for (const Group* g : sorted) {
    appendf(out, "%zu @", g->count);
    std::uint64_t last_pc = 0;
    for (const DumpFrame& f : g->example->stack) {
      if (f.pc != last_pc || f.pc == 0) appendf(out, " 0x%" PRIx64, f.pc);
      last_pc = f.pc;
    }
    out += '\n';
    for (const DumpFrame& f : g->example->stack) {
      appendf(out, "#\t0x%" PRIx64 "\t%s+0x%" PRIx64 "\t%s:%d\n", f.pc == 0 ? 0 : f.pc - 1, f.function.c_str(),
              offset_of(f, symbolizer), f.file.empty() ? "?" : f.file.c_str(), f.line);
    }
    out += '\n';
  }
  return out;
}

std::string render_debug2(const FiberDump& dump, Symbolizer* symbolizer) {
  std::string out;
  bool first = true;
  for (const DumpedFiber& f : dump.fibers) {
    if (!first) out += '\n';
    first = false;
    appendf(out, "goroutine %" PRIu64 " [%s]:\n", f.id, status(f).c_str());
    for (const DumpFrame& fr : f.stack) render_frame(out, fr, symbolizer);
    if (f.parent != 0 || !f.creation_stack.empty()) {
      const DumpFrame* creator = top_user_frame(f.creation_stack);
      DumpFrame unknown;
      unknown.function = "?";
      const DumpFrame& c = creator != nullptr ? *creator : unknown;
      out += "created by ";
      out += c.function;
      if (f.parent != 0) appendf(out, " in goroutine %" PRIu64, f.parent);
      out += "\n\t";
      out += c.file.empty() ? "?" : c.file;
      appendf(out, ":%d +0x%" PRIx64 "\n", c.line, offset_of(c, symbolizer));
    }
  }
  return out;
}

}  // namespace fiberleak
