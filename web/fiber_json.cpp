#include "web/fiber_json.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

#include "profiler/dump_builder.hpp"
#include "profiler/site_groups.hpp"
#include "web/json_fields.hpp"
#include "web/json_stream.hpp"
#include "web/json_text.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
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

// "wait": a WaitKind's name; absent is none.
void read_wait_kind(JsonFields& r, WaitKind& out) {
  std::string wait = "none";
  r.string("wait", wait);
  if (!parse_wait_kind(wait, out)) r.problem(r.at("wait"), "unknown wait kind \"" + wait + "\"");
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

// A fiber's labels as one object ({"request": "42"}); keys are unique.
json labels_to_json(const std::vector<Label>& labels) {
  json out = json::object();
  for (const Label& l : labels) out[l.key] = l.value;
  return out;
}

// Absent (producers before labels) is no labels.
std::vector<Label> labels_from_json(JsonFields& r, std::string_view key) {
  std::vector<Label> out;
  const json* object = r.object(key, "expected an object of strings");
  if (object == nullptr) return out;
  JsonFields fields(*object, r.at(key), nullptr);
  for (auto it = object->begin(); it != object->end(); ++it) {
    Label l{it.key(), ""};
    fields.string(it.key(), l.value);
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

namespace {

void write_frame(JsonWriter& w, const DumpFrame& f) {
  w.begin_object();
  w.key("file");
  w.string(f.file);
  w.key("function");
  w.string(f.function);
  w.key("inlined");
  w.boolean(f.inlined);
  w.key("line");
  w.number(f.line);
  w.key("pc");
  w.string(hex(f.pc));
  w.end_object();
}

void write_frames(JsonWriter& w, const std::vector<DumpFrame>& frames) {
  w.begin_array();
  for (const DumpFrame& f : frames) write_frame(w, f);
  w.end_array();
}

// Sorted by key, the last of equal keys kept: what a JSON object of them holds.
void write_labels(JsonWriter& w, const std::vector<Label>& labels) {
  std::vector<const Label*> sorted;
  sorted.reserve(labels.size());
  for (const Label& l : labels) sorted.push_back(&l);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Label* a, const Label* b) { return a->key < b->key; });
  w.begin_object();
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && sorted[i + 1]->key == sorted[i]->key) continue;
    w.key(sorted[i]->key);
    w.string(sorted[i]->value);
  }
  w.end_object();
}

// Byte counts that may be unknown: null (0 stack bytes: unknown).
void write_bytes(JsonWriter& w, std::uint64_t bytes) {
  if (bytes == 0) return w.null();
  w.number(bytes);
}
void write_bytes(JsonWriter& w, const std::optional<std::int64_t>& bytes) {
  if (!bytes) return w.null();
  w.number(*bytes);
}

// One fiber, its keys sorted as a JSON object holds them. shared: its
// stacks as indexes into `stacks`, which it extends.
void write_fiber(JsonWriter& w, const DumpedFiber& f, const LeakedFibers& leaked, bool shared, StackKeys& keys,
                 std::map<std::string, std::int64_t>& stack_index, std::vector<const SharedStack*>& stacks) {
  auto ref = [&](const SharedStack& stack) -> std::int64_t {
    if (stack.empty()) return -1;
    auto [it, inserted] = stack_index.try_emplace(keys.key(stack), static_cast<std::int64_t>(stacks.size()));
    if (inserted) stacks.push_back(&stack);
    return it->second;
  };
  const auto finding = leaked.find(f.id);
  const bool is_leak = finding != leaked.end();
  const DumpFrame* created_by = top_user_frame(f.creation_stack);
  w.begin_object();
  w.key("blocked_exact");
  w.boolean(f.blocked_exact);
  w.key("blocked_ns");
  w.number(f.blocked_ns);
  w.key("blocked_total_ns");
  w.number(f.blocked_total_ns);
  w.key("created_by");
  if (created_by == nullptr) {
    w.null();
  } else {
    write_frame(w, *created_by);
  }
  w.key("created_ns");
  w.number(f.created_ns);
  if (shared) {
    w.key("creation_stack_ref");
    w.number(ref(f.creation_stack));
  } else {
    w.key("creation_stack");
    write_frames(w, f.creation_stack.frames());
  }
  w.key("heap_live_bytes");
  write_bytes(w, f.heap_live_bytes);
  w.key("id");
  w.number(to_integer(f.id));
  w.key("is_main");
  w.boolean(f.is_main);
  w.key("labels");
  write_labels(w, f.labels);
  w.key("leak");
  w.boolean(is_leak);
  w.key("locked_to_thread");
  w.boolean(f.locked_to_thread);
  w.key("name");
  w.string(f.name);
  w.key("owner_ended");
  w.boolean(f.owner_ended);
  w.key("parent");
  w.number(to_integer(f.parent));
  w.key("parks");
  w.number(f.parks);
  w.key("rearmed");
  w.boolean(f.rearmed);
  w.key("reason");
  if (is_leak) {
    w.string(finding->second->reason);
  } else {
    w.null();
  }
  w.key("rewaits");
  w.boolean(f.rewaits);
  w.key("site");
  w.string(f.state == FiberState::blocked || f.state == FiberState::sleeping ? park_site(f) : std::string());
  if (!shared) {
    w.key("stack");
    write_frames(w, f.stack.frames());
  }
  w.key("stack_bytes");
  write_bytes(w, f.stack_bytes);
  if (shared) {
    w.key("stack_ref");
    w.number(ref(f.stack));
  }
  w.key("state");
  w.string(to_string(f.state));
  w.key("thread");
  w.number(f.thread);
  w.key("verdict");
  if (is_leak) {
    w.string(to_string(finding->second->verdict));
  } else {
    w.null();
  }
  w.key("wait");
  w.string(to_string(f.wait));
  w.key("wait_reason");
  w.string(f.wait_reason);
  w.key("waits_for");
  w.number(to_integer(f.waits_for));
  w.key("waits_on");
  if (f.waits_on == 0) {
    w.null();
  } else {
    w.string(hex(f.waits_on));
  }
  w.end_object();
}

}  // namespace

std::string fibers_json_text(const FiberDump& dump, const LeakedFibers& leaked, const RuntimeCounters* counters,
                             bool shared_stacks, int indent, const FiberTotals* totals) {
  JsonWriter w(indent);
  w.begin_object();
  if (counters != nullptr) {
    w.key("counters");
    w.begin_object();
    for (auto [name, value] : {std::pair{"fibers_created", counters->fibers_created},
                               {"fibers_destroyed", counters->fibers_destroyed},
                               {"fibers_live", counters->fibers_live},
                               {"records_dropped", counters->records_dropped},
                               {"stack_table_size", counters->stack_table_size},
                               {"stacks_dropped", counters->stacks_dropped},
                               {"threads_installed", counters->threads_installed},
                               {"threads_uninstalled", counters->threads_uninstalled}}) {
      w.key(name);
      w.number(value);
    }
    w.end_object();
  }
  StackKeys keys;
  std::map<std::string, std::int64_t> stack_index;
  std::vector<const SharedStack*> stacks;
  w.key("fibers");
  w.begin_array();
  for (const DumpedFiber& f : dump.fibers) write_fiber(w, f, leaked, shared_stacks, keys, stack_index, stacks);
  w.end_array();
  if (totals != nullptr) {
    w.key("groups");
    w.value(totals->groups);
  }
  w.key("schema");
  w.string(kFibersSchema);
  if (shared_stacks) {
    w.key("stacks");
    w.begin_array();
    for (const SharedStack* s : stacks) write_frames(w, s->frames());
    w.end_array();
  }
  w.key("taken_at_ns");
  w.number(dump.taken_at_ns);
  if (totals != nullptr) {
    w.key("total");
    w.number(totals->total);
  }
  w.key("waits_on_recorded");
  w.boolean(dump.waits_on_recorded);
  w.end_object();
  return w.take();
}

namespace {

// A fiber's references into "stacks" (-1: none), resolved once the whole
// document is read: the writer's keys come sorted, "fibers" before "stacks".
struct StackRefs {
  std::int64_t stack = -1;
  std::int64_t creation_stack = -1;
};

DumpedFiber fiber_from_json(const json& obj, const std::string& path, StackRefs& refs) {
  JsonFields r(obj, path, nullptr);
  DumpedFiber f;
  r.id("id", f.id);
  r.id("parent", f.parent);
  r.string("name", f.name);
  f.labels = labels_from_json(r, "labels");
  std::string state = "runnable";
  r.string("state", state);
  if (!parse_state(state, f.state)) r.problem(r.at("state"), "unknown state \"" + state + "\"");
  read_wait_kind(r, f.wait);
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
  r.boolean("rearmed", f.rearmed);
  r.boolean("rewaits", f.rewaits);
  f.stack = frames_from_json(r.array("stack"), r.at("stack"));
  f.creation_stack = frames_from_json(r.array("creation_stack"), r.at("creation_stack"));
  r.integer("stack_ref", refs.stack);
  r.integer("creation_stack_ref", refs.creation_stack);
  return f;
}

SharedStack stack_from_json(const json& frames, const std::string& path) {
  if (!frames.is_array()) throw JsonSchemaError(path + ": expected an array of frames");
  return frames_from_json(&frames, path);
}

void resolve_stack_refs(FiberDump& dump, const std::vector<StackRefs>& refs, const std::vector<SharedStack>& stacks) {
  for (std::size_t i = 0; i < dump.fibers.size(); ++i) {
    for (auto [key, index, into] :
         {std::tuple<const char*, std::int64_t, SharedStack*>{"stack_ref", refs[i].stack, &dump.fibers[i].stack},
          {"creation_stack_ref", refs[i].creation_stack, &dump.fibers[i].creation_stack}}) {
      if (index == -1) continue;
      if (index < 0 || static_cast<std::size_t>(index) >= stacks.size()) {
        throw JsonSchemaError(JsonFields::item("fibers", i) + "." + key + ": refers to no entry of \"stacks\"");
      }
      *into = stacks[static_cast<std::size_t>(index)];
    }
  }
}

// The document's own fields (its "fibers" and "stacks" read elsewhere).
void read_top(const json& doc, FiberDump& dump) {
  JsonFields top(doc, "", nullptr);
  top.schema(kFibersSchema);
  top.integer("taken_at_ns", dump.taken_at_ns);
  top.boolean("waits_on_recorded", dump.waits_on_recorded);
}

}  // namespace

FiberDump fibers_from_json(const json& doc) {
  FiberDump dump;
  read_top(doc, dump);
  std::vector<SharedStack> shared;  // "stacks" of the shared-stack form
  JsonFields top(doc, "", nullptr);
  if (const json* stacks = top.array("stacks")) {
    shared.reserve(stacks->size());
    for (std::size_t i = 0; i < stacks->size(); ++i) {
      shared.push_back(stack_from_json((*stacks)[i], JsonFields::item("stacks", i)));
    }
  }
  const json* fibers = top.array("fibers");
  if (fibers == nullptr) {
    top.problem("fibers", "missing");
    return dump;
  }
  std::vector<StackRefs> refs(fibers->size());
  dump.fibers.reserve(fibers->size());
  for (std::size_t i = 0; i < fibers->size(); ++i) {
    dump.fibers.push_back(fiber_from_json((*fibers)[i], JsonFields::item("fibers", i), refs[i]));
  }
  resolve_stack_refs(dump, refs, shared);
  return dump;
}

FiberDump fibers_from_json_text(std::string_view text) {
  FiberDump dump;
  std::vector<StackRefs> refs;
  std::vector<SharedStack> shared;
  DecodeBudget budget(text.size());
  auto spent = [&](bool within, const std::string& path) {
    if (!within) {
      throw JsonSchemaError(path + ": the document decodes to more than " + std::to_string(DecodeBudget::kExpansion) +
                            " times its size (not one fiberleak wrote)");
    }
  };
  const json top = stream_json(text, {"fibers", "stacks"}, [&](std::string_view key, std::size_t i, json element) {
    const std::string path = JsonFields::item(std::string(key), i);
    if (key == "fibers") {
      refs.emplace_back();
      dump.fibers.push_back(fiber_from_json(element, path, refs.back()));
      spent(budget.spend_appended(dump.fibers) && budget.spend(sizeof(StackRefs) * 2), path);
    } else {
      shared.push_back(stack_from_json(element, path));
      spent(budget.spend(shared.back().frames()), path);
    }
  });
  read_top(top, dump);
  JsonFields fields(top, "", nullptr);
  fields.array("stacks");
  if (fields.array("fibers") == nullptr) fields.problem("fibers", "missing");
  resolve_stack_refs(dump, refs, shared);
  return dump;
}

json finding_to_json(const LeakFinding& f) {
  return {{"fiber_id", to_integer(f.fiber_id)},
          {"name", f.name},
          {"labels", labels_to_json(f.labels)},
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
          {"cycle", ids_to_json(f.cycle)},
          {"waits_on", f.waits_on == 0 ? json(nullptr) : json(hex(f.waits_on))}};
}

json findings_to_json(const std::vector<LeakFinding>& findings, const std::vector<GrowingSite>& growing,
                      std::size_t limit) {
  json leaks = json::array();
  if (limit == 0 || limit >= findings.size()) {
    for (const LeakFinding& f : findings) leaks.push_back(finding_to_json(f));
  } else {
    std::vector<const LeakFinding*> first;
    for (const LeakFinding& f : findings) first.push_back(&f);
    std::partial_sort(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(limit), first.end(),
                      [](const LeakFinding* a, const LeakFinding* b) {
                        if ((a->verdict == Verdict::definite) != (b->verdict == Verdict::definite))
                          return a->verdict == Verdict::definite;
                        return a->blocked_ns > b->blocked_ns;
                      });
    for (std::size_t i = 0; i < limit; ++i) leaks.push_back(finding_to_json(*first[i]));
  }
  json sites = json::array();
  for (const GrowingSite& g : growing) {
    sites.push_back({{"site", g.site},
                     {"function", g.function},
                     {"file", g.file},
                     {"line", g.line},
                     {"wait_reason", g.wait_reason},
                     {"fibers", g.fibers},
                     {"history", g.history},
                     {"reason", g.reason}});
  }
  // Derived, for people and dashboards: decoders regroup the findings.
  json groups = json::array();
  for (const SiteGroup& g : group_by_site(findings, growing)) {
    groups.push_back({{"site", g.site},
                      {"verdict", g.verdict},
                      {"fibers", ids_to_json(g.fibers)},
                      {"primitives", g.primitives},
                      {"oldest", g.oldest ? json(to_integer(g.oldest->fiber_id)) : json(nullptr)},
                      {"blocked_ns", g.oldest ? json(g.oldest->blocked_ns) : json(nullptr)},
                      {"reason", g.oldest ? json(g.oldest->reason) : json(nullptr)},
                      {"growing", g.growing ? json(g.growing->reason) : json(nullptr)}});
  }
  return {{"schema", kLeaksSchema},
          {"total", findings.size()},
          {"leaks", std::move(leaks)},
          {"growing_sites", std::move(sites)},
          {"sites", std::move(groups)}};
}

json fiber_groups_to_json(const FiberDump& dump, const LeakedFibers& leaked) {
  struct Group {
    std::size_t fibers = 0, leaks = 0;
    std::int64_t oldest_blocked_ns = 0;
  };
  std::map<std::tuple<FiberState, std::string, std::string>, Group> groups;
  for (const DumpedFiber& f : dump.fibers) {
    const bool parked = f.state == FiberState::blocked || f.state == FiberState::sleeping;
    Group& g = groups[{f.state, f.wait_reason, parked ? park_site(f) : std::string()}];
    ++g.fibers;
    if (leaked.count(f.id) != 0) ++g.leaks;
    if (parked) g.oldest_blocked_ns = std::max(g.oldest_blocked_ns, f.blocked_ns);
  }
  std::vector<std::pair<const std::tuple<FiberState, std::string, std::string>*, const Group*>> order;
  for (const auto& [key, g] : groups) order.emplace_back(&key, &g);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second->fibers > b.second->fibers; });
  json out = json::array();
  for (const auto& [key, g] : order) {
    out.push_back({{"state", to_string(std::get<0>(*key))},
                   {"wait_reason", std::get<1>(*key)},
                   {"site", std::get<2>(*key)},
                   {"fibers", g->fibers},
                   {"leaks", g->leaks},
                   {"oldest_blocked_ns", g->oldest_blocked_ns}});
  }
  return out;
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
    f.labels = labels_from_json(r, "labels");
    read_wait_kind(r, f.wait);
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
    read_hex(r, "waits_on", f.waits_on);
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
      r.string("reason", g.reason);
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
