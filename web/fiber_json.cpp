#include "web/fiber_json.hpp"

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <map>

#include "web/json_fields.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

json frames_to_json(const std::vector<DumpFrame>& frames) {
  json out = json::array();
  for (const DumpFrame& f : frames) {
    out.push_back(
        {{"pc", hex(f.pc)}, {"function", f.function}, {"file", f.file}, {"line", f.line}, {"inlined", f.inlined}});
  }
  return out;
}

json ids_to_json(const std::vector<FiberId>& ids) {
  json out = json::array();
  for (FiberId id : ids) out.push_back(to_integer(id));
  return out;
}

// Byte counts that may be unknown: null in JSON (0 stack bytes: unknown).
json bytes_or_null(std::uint64_t bytes) { return bytes == 0 ? json(nullptr) : json(bytes); }
json bytes_or_null(const std::optional<std::int64_t>& bytes) { return bytes ? json(*bytes) : json(nullptr); }

// An address written by hex(): "0x" and 1 to 16 hex digits; untouched and a
// problem otherwise (no sign, no spaces, no overflow).
void read_hex(JsonFields& r, std::string_view key, std::uint64_t& out) {
  std::string text;
  r.string(key, text);
  if (text.empty()) return;
  const bool shape = text.size() > 2 && text.size() <= 18 && text[0] == '0' && text[1] == 'x' &&
                     text.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string::npos;
  if (!shape) return r.problem(r.at(key), "expected a hex address like 0x4a1f");
  out = std::strtoull(text.c_str() + 2, nullptr, 16);
}

// Durations and byte counts: what fiberleak writes is 0 to INT64_MAX, and
// nothing outside that reaches the rules' and formatters' arithmetic.
template <typename T>
void read_amount(JsonFields& r, std::string_view key, T& out) {
  r.integer<T>(key, out, T{0}, static_cast<T>(std::numeric_limits<std::int64_t>::max()),
               "expected an integer from 0 to 9223372036854775807");
}
void read_amount(JsonFields& r, std::string_view key, std::optional<std::int64_t>& out) {
  std::int64_t v = -1;  // untouched when missing or null
  read_amount(r, key, v);
  if (v >= 0) out = v;
}

std::vector<DumpFrame> frames_from_json(const json* arr, const std::string& path) {
  std::vector<DumpFrame> out;
  if (arr == nullptr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    JsonFields r((*arr)[i], JsonFields::item(path, i), nullptr);
    DumpFrame f;
    read_hex(r, "pc", f.pc);
    r.string("function", f.function);
    r.string("file", f.file);
    r.integer("line", f.line);
    r.boolean("inlined", f.inlined);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

json fibers_to_json(const FiberDump& dump, const std::set<FiberId>& leaked, const RuntimeCounters* counters,
                    bool shared_stacks) {
  json fibers = json::array();
  json stacks = json::array();
  StackKeys keys;
  std::map<std::string, std::int64_t> stack_index;
  auto ref = [&](const SharedStack& stack) -> std::int64_t {
    if (stack.empty()) return -1;
    auto [it, inserted] = stack_index.try_emplace(keys.key(stack), static_cast<std::int64_t>(stacks.size()));
    if (inserted) stacks.push_back(frames_to_json(stack.frames()));
    return it->second;
  };
  for (const DumpedFiber& f : dump.fibers) {
    fibers.push_back({
        {"id", to_integer(f.id)},
        {"parent", to_integer(f.parent)},
        {"name", f.name},
        {"state", to_string(f.state)},
        {"wait", to_string(f.wait)},
        {"wait_reason", f.wait_reason},
        {"blocked_ns", f.blocked_ns},
        {"blocked_exact", f.blocked_exact},
        {"created_ns", f.created_ns},
        {"blocked_total_ns", f.blocked_total_ns},
        {"parks", f.parks},
        {"is_main", f.is_main},
        {"locked_to_thread", f.locked_to_thread},
        {"thread", f.thread},
        {"leak", leaked.count(f.id) != 0},
        {"stack_bytes", bytes_or_null(f.stack_bytes)},
        {"heap_live_bytes", bytes_or_null(f.heap_live_bytes)},
        {"waits_on", f.waits_on == 0 ? json(nullptr) : json(hex(f.waits_on))},
        {"waits_for", to_integer(f.waits_for)},
        {"owner_ended", f.owner_ended},
    });
    json& out = fibers.back();
    if (shared_stacks) {
      out["stack_ref"] = ref(f.stack);
      out["creation_stack_ref"] = ref(f.creation_stack);
    } else {
      out["stack"] = frames_to_json(f.stack.frames());
      out["creation_stack"] = frames_to_json(f.creation_stack.frames());
    }
  }
  json doc = {{"schema", kFibersSchema},
              {"taken_at_ns", dump.taken_at_ns},
              {"waits_on_recorded", dump.waits_on_recorded},
              {"fibers", std::move(fibers)}};
  if (shared_stacks) doc["stacks"] = std::move(stacks);
  if (counters != nullptr) {
    doc["counters"] = {
        {"fibers_created", counters->fibers_created},
        {"fibers_destroyed", counters->fibers_destroyed},
        {"fibers_live", counters->fibers_live},
        {"records_dropped", counters->records_dropped},
        {"stacks_dropped", counters->stacks_dropped},
        {"stack_table_size", counters->stack_table_size},
        {"threads_installed", counters->threads_installed},
        {"threads_uninstalled", counters->threads_uninstalled},
    };
  }
  return doc;
}

FiberDump fibers_from_json(const json& doc) {
  JsonFields top(doc, "", nullptr);
  top.schema(kFibersSchema);
  FiberDump dump;
  top.integer("taken_at_ns", dump.taken_at_ns);
  top.boolean("waits_on_recorded", dump.waits_on_recorded);
  std::vector<SharedStack> shared;  // "stacks" of the shared-stack form
  if (const json* stacks = top.array("stacks")) {
    shared.reserve(stacks->size());
    for (std::size_t i = 0; i < stacks->size(); ++i) {
      const std::string p = JsonFields::item("stacks", i);
      if (!(*stacks)[i].is_array()) top.problem(p, "expected an array of frames");
      shared.emplace_back(frames_from_json(&(*stacks)[i], p));
    }
  }
  const json* fibers = top.array("fibers");
  if (fibers == nullptr) {
    top.problem("fibers", "missing");
    return dump;
  }
  dump.fibers.reserve(fibers->size());
  for (std::size_t i = 0; i < fibers->size(); ++i) {
    JsonFields r((*fibers)[i], JsonFields::item("fibers", i), nullptr);
    DumpedFiber f;
    r.id("id", f.id);
    r.id("parent", f.parent);
    r.string("name", f.name);
    std::string state = "runnable", wait = "none";
    r.string("state", state);
    r.string("wait", wait);
    if (!parse_state(state, f.state)) r.problem(r.at("state"), "unknown state \"" + state + "\"");
    if (!parse_wait_kind(wait, f.wait)) r.problem(r.at("wait"), "unknown wait kind \"" + wait + "\"");
    r.string("wait_reason", f.wait_reason);
    read_amount(r, "blocked_ns", f.blocked_ns);
    r.boolean("blocked_exact", f.blocked_exact);
    r.integer("created_ns", f.created_ns);
    read_amount(r, "blocked_total_ns", f.blocked_total_ns);
    r.integer("parks", f.parks);
    r.boolean("is_main", f.is_main);
    r.boolean("locked_to_thread", f.locked_to_thread);
    r.integer("thread", f.thread);
    read_amount(r, "stack_bytes", f.stack_bytes);
    read_amount(r, "heap_live_bytes", f.heap_live_bytes);
    read_hex(r, "waits_on", f.waits_on);
    r.id("waits_for", f.waits_for);
    r.boolean("owner_ended", f.owner_ended);
    f.stack = frames_from_json(r.array("stack"), r.at("stack"));
    f.creation_stack = frames_from_json(r.array("creation_stack"), r.at("creation_stack"));
    for (auto [key, into] : {std::pair<const char*, SharedStack*>{"stack_ref", &f.stack},
                             std::pair<const char*, SharedStack*>{"creation_stack_ref", &f.creation_stack}}) {
      std::int64_t index = -1;
      r.integer(key, index);
      if (index == -1) continue;
      if (index < 0 || static_cast<std::size_t>(index) >= shared.size()) {
        r.problem(r.at(key), "refers to no entry of \"stacks\"");
      }
      *into = shared[static_cast<std::size_t>(index)];
    }
    dump.fibers.push_back(std::move(f));
  }
  return dump;
}

FiberDump fibers_from_json_text(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw JsonSchemaError("document: not valid JSON");
  return fibers_from_json(doc);
}

json finding_to_json(const LeakFinding& f) {
  return {{"fiber_id", to_integer(f.fiber_id)},
          {"name", f.name},
          {"wait", to_string(f.wait)},
          {"wait_reason", f.wait_reason},
          {"blocked_ns", f.blocked_ns},
          {"blocked_exact", f.blocked_exact},
          {"function", f.function},
          {"file", f.file},
          {"line", f.line},
          {"site", f.site},
          {"stack_bytes", bytes_or_null(f.stack_bytes)},
          {"heap_live_bytes", bytes_or_null(f.heap_live_bytes)},
          {"verdict", to_string(f.verdict)},
          {"reason", f.reason},
          {"chain", ids_to_json(f.chain)},
          {"cycle", ids_to_json(f.cycle)}};
}

json findings_to_json(const std::vector<LeakFinding>& findings, const std::vector<GrowingSite>& growing) {
  json leaks = json::array();
  for (const LeakFinding& f : findings) leaks.push_back(finding_to_json(f));
  json sites = json::array();
  for (const GrowingSite& g : growing) {
    sites.push_back({{"site", g.site},
                     {"function", g.function},
                     {"file", g.file},
                     {"line", g.line},
                     {"wait_reason", g.wait_reason},
                     {"fibers", g.fibers},
                     {"history", g.history}});
  }
  return {{"schema", kLeaksSchema}, {"leaks", std::move(leaks)}, {"growing_sites", std::move(sites)}};
}

Findings findings_from_json(const nlohmann::json& doc) {
  JsonFields top(doc, "", nullptr);
  top.schema(kLeaksSchema);
  Findings out;
  const json* leaks = top.array("leaks");
  if (leaks == nullptr) {
    top.problem("leaks", "missing");
    return out;
  }
  for (std::size_t i = 0; i < leaks->size(); ++i) {
    JsonFields r((*leaks)[i], JsonFields::item("leaks", i), nullptr);
    LeakFinding f;
    r.id("fiber_id", f.fiber_id);
    r.string("name", f.name);
    std::string wait = "none";
    r.string("wait", wait);
    if (!parse_wait_kind(wait, f.wait)) r.problem(r.at("wait"), "unknown wait kind \"" + wait + "\"");
    r.string("wait_reason", f.wait_reason);
    read_amount(r, "blocked_ns", f.blocked_ns);
    r.boolean("blocked_exact", f.blocked_exact);
    r.string("function", f.function);
    r.string("file", f.file);
    r.integer("line", f.line);
    r.string("site", f.site);
    read_amount(r, "stack_bytes", f.stack_bytes);
    read_amount(r, "heap_live_bytes", f.heap_live_bytes);
    std::string verdict = "suspect";  // producers before verdicts: every finding was a suspect
    r.string("verdict", verdict);
    if (verdict == "definite") {
      f.verdict = Verdict::definite;
    } else if (verdict != "suspect") {
      r.problem(r.at("verdict"), "expected \"suspect\" or \"definite\"");
    }
    r.string("reason", f.reason);
    r.ids("chain", f.chain);
    r.ids("cycle", f.cycle);
    out.leaks.push_back(std::move(f));
  }
  if (const json* sites = top.array("growing_sites")) {
    for (std::size_t i = 0; i < sites->size(); ++i) {
      JsonFields r((*sites)[i], JsonFields::item("growing_sites", i), nullptr);
      GrowingSite g;
      r.string("site", g.site);
      r.string("function", g.function);
      r.string("file", g.file);
      r.integer("line", g.line);
      r.string("wait_reason", g.wait_reason);
      r.integer("fibers", g.fibers);
      r.integers("history", g.history);
      out.growing.push_back(std::move(g));
    }
  }
  return out;
}

Findings findings_from_json_text(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw JsonSchemaError("document: not valid JSON");
  return findings_from_json(doc);
}

}  // namespace fiberleak::detail
