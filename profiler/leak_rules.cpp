#include "profiler/leak_rules.hpp"

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "profiler/byte_size.hpp"
#include "profiler/dump_builder.hpp"
#include "profiler/duration.hpp"
#include "profiler/wait_graph.hpp"

namespace fiberleak {

std::string_view to_string(Verdict verdict) noexcept { return verdict == Verdict::definite ? "definite" : "suspect"; }

}  // namespace fiberleak

namespace fiberleak::detail {
namespace {

bool contains_any(const std::string& text, const std::vector<std::string>& needles) {
  for (const std::string& n : needles) {
    if (!n.empty() && text.find(n) != std::string::npos) return true;
  }
  return false;
}

const DumpFrame* site_frame(const DumpedFiber& f) {
  const DumpFrame* user = top_user_frame(f.stack);
  if (user != nullptr) return user;
  return f.stack.empty() ? nullptr : &f.stack.front();
}

// One-look growth (grows_at_one_look()): how much longer than its wait a
// fiber may have lived and still count as parked since it arrived, and how
// much evidence it takes.
constexpr std::int64_t kStuckSlackNs = 100'000'000;
constexpr std::size_t kOneLookMinFibers = 4;
constexpr std::int64_t kOneLookMinSpanNs = 1'000'000'000;

bool is_parked(const DumpedFiber& f) { return f.state == FiberState::blocked || f.state == FiberState::sleeping; }

// Primitives some fiber came back to within its threshold after the
// primitive itself woke it (DumpedFiber::rewaits): in use, as a worker
// pool's job channel that is still fed, so nobody parked on them is a
// suspect however long each has waited. Only recorded by fiberleak targets.
std::unordered_set<std::uint64_t> primitives_in_use(const FiberDump& dump, const LeakRules& rules) {
  std::unordered_set<std::uint64_t> out;
  for (const DumpedFiber& f : dump.fibers) {
    if (is_parked(f) && f.rewaits && f.waits_on != 0 && f.blocked_ns < rules.threshold_for(f.wait).count())
      out.insert(f.waits_on);
  }
  return out;
}

}  // namespace

bool name_matches(const std::string& name, const std::string& pattern) {
  if (!pattern.empty() && pattern.back() == '*') return name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0;
  return name == pattern;
}

bool label_matches(const DumpedFiber& f, const std::string& pattern) {
  const std::size_t colon = pattern.find(':');
  if (colon == std::string::npos) return false;
  const std::string key = pattern.substr(0, colon), value = pattern.substr(colon + 1);
  for (const Label& l : f.shown_labels()) {
    if (l.key == key && name_matches(l.value, value)) return true;
  }
  return false;
}

std::optional<std::string> ignored_by(const LeakRules& rules, const DumpedFiber& f) {
  for (const std::string& n : rules.ignore_names) {
    if (name_matches(f.name, n)) return "ignore_names: " + n;
  }
  for (const std::string& l : rules.ignore_labels) {
    if (label_matches(f, l)) return "ignore_labels: " + l;
  }
  // The very top frame (goleak's IgnoreTopFunction) or the top user frame.
  for (const DumpFrame* top : {f.stack.empty() ? nullptr : &f.stack.front(), site_frame(f)}) {
    if (top == nullptr) continue;
    for (const std::string& n : rules.ignore_top_functions) {
      if (top->function.find(n) != std::string::npos) return "ignore_top_functions: " + n;
    }
  }
  for (const DumpFrame& fr : f.stack) {
    for (const std::string& n : rules.ignore_any_functions) {
      if (fr.function.find(n) != std::string::npos) return "ignore_any_functions: " + n;
    }
  }
  if (const DumpFrame* creator = top_user_frame(f.creation_stack); creator != nullptr) {
    if (contains_any(creator->function, rules.ignore_created_by)) {
      for (const std::string& n : rules.ignore_created_by) {
        if (creator->function.find(n) != std::string::npos) return "ignore_created_by: " + n;
      }
    }
  }
  return std::nullopt;
}

std::string describe(const LeakFinding& f) {
  std::string out = "fiber " + std::to_string(to_integer(f.fiber_id));
  if (!f.name.empty()) out += " \"" + f.name + "\"";
  out +=
      " blocked in " + f.wait_reason + " for " + (f.blocked_exact ? "" : "at least ") + format_duration(f.blocked_ns);
  out += " at " + f.function + " (" + (f.file.empty() ? "?" : f.file) + ":" + std::to_string(f.line) + ")";
  const char* sep = ", holding ";
  if (f.stack_bytes != 0) {
    out += sep + ("stack " + format_bytes(static_cast<std::int64_t>(f.stack_bytes)));
    sep = ", ";
  }
  if (f.heap_live_bytes) out += sep + ("heap " + format_bytes(*f.heap_live_bytes));
  if (!f.reason.empty())
    out += std::string(" [") + std::string(fiberleak::to_string(f.verdict)) + ": " + f.reason + "]";
  return out;
}

std::string park_site(const DumpedFiber& f) {
  std::string site = f.wait_reason.empty() ? std::string(to_string(f.state)) : f.wait_reason;
  if (const DumpFrame* fr = site_frame(f); fr != nullptr) {
    site += " @ " + fr->function;
    if (!fr->file.empty()) site += " at " + fr->file.substr(fr->file.rfind('/') + 1) + ":" + std::to_string(fr->line);
  }
  return site;
}

std::string site_without_line(const std::string& site) {
  // park_site() ends "<function> at <file>:<line>"; no function name ends
  // in ":<digits>", so the suffix is the line.
  const std::size_t colon = site.rfind(':');
  if (colon == std::string::npos || colon + 1 == site.size() || site.find(" at ") == std::string::npos) return site;
  for (std::size_t i = colon + 1; i < site.size(); ++i) {
    if (site[i] < '0' || site[i] > '9') return site;
  }
  return site.substr(0, colon);
}

std::vector<LeakFinding> find_leaks(const FiberDump& dump, const LeakRules& rules) {
  std::vector<LeakFinding> out;
  std::optional<WaitGraph> graph;
  if (dump.waits_on_recorded) graph.emplace(dump);
  const std::unordered_set<std::uint64_t> in_use = primitives_in_use(dump, rules);
  for (const DumpedFiber& f : dump.fibers) {
    if (!is_parked(f) || (f.is_main && !rules.include_main_fibers)) continue;
    const DefiniteLeak* definite = nullptr;
    if (graph) {
      auto it = graph->definite().find(f.id);
      if (it != graph->definite().end()) definite = &it->second;
    }
    const std::int64_t threshold = rules.threshold_for(f.wait).count();
    if (definite == nullptr && (f.blocked_ns < threshold || in_use.count(f.waits_on) != 0)) continue;
    if (ignored_by(rules, f)) continue;
    LeakFinding finding;
    finding.fiber_id = f.id;
    finding.name = f.name;
    finding.labels = f.labels;
    finding.wait = f.wait;
    finding.wait_reason = f.wait_reason;
    finding.blocked_ns = f.blocked_ns;
    finding.blocked_exact = f.blocked_exact;
    if (const DumpFrame* fr = site_frame(f); fr != nullptr) {
      finding.function = fr->function;
      finding.file = fr->file;
      finding.line = fr->line;
    }
    finding.site = park_site(f);
    finding.stack_bytes = f.stack_bytes;
    finding.heap_live_bytes = f.heap_live_bytes;
    finding.waits_on = f.waits_on;
    if (definite != nullptr) {
      finding.verdict = Verdict::definite;
      finding.reason = definite->reason;
      finding.cycle = definite->cycle;
    } else {
      finding.reason = "parked for " + std::string(f.blocked_exact ? "" : "at least ") + format_duration(f.blocked_ns) +
                       (f.rearmed ? " (a timed wait re-armed after every timeout)" : "") + ", past the " +
                       format_duration(threshold) + " threshold";
    }
    if (graph) {
      finding.chain = graph->chain(f.id);
      if (const std::string waits = graph->describe_chain(f.id); !waits.empty() && finding.cycle.empty()) {
        finding.reason += "; " + waits;
      }
    }
    out.push_back(std::move(finding));
  }
  // Definite leaks first, then the longest blocked.
  std::stable_sort(out.begin(), out.end(), [](const LeakFinding& a, const LeakFinding& b) {
    if (a.verdict != b.verdict) return a.verdict == Verdict::definite;
    return a.blocked_ns > b.blocked_ns;
  });
  return out;
}

std::optional<std::string> grows_at_one_look(const std::vector<const DumpedFiber*>& fibers, std::int64_t now_ns,
                                             std::size_t min_fibers) {
  // Parked here since it arrived: alive for hardly longer than it has waited.
  std::vector<std::int64_t> arrivals;
  for (const DumpedFiber* f : fibers) {
    if (f->created_ns <= 0 || now_ns <= f->created_ns || !f->blocked_exact) continue;
    const std::int64_t age = now_ns - f->created_ns;
    if (age - f->blocked_ns <= std::max(kStuckSlackNs, age / 10)) arrivals.push_back(f->created_ns);
  }
  if (arrivals.size() < std::max(min_fibers, kOneLookMinFibers)) return std::nullopt;
  const std::int64_t first = *std::min_element(arrivals.begin(), arrivals.end());
  const std::int64_t span = now_ns - first;
  if (span < kOneLookMinSpanNs) return std::nullopt;
  // Steady: arrivals in every quarter of the time since the first, the
  // latest included (a burst long ago, as a pool started at once, is not).
  bool quarter[4] = {};
  std::int64_t latest = first;
  for (std::int64_t t : arrivals) {
    quarter[std::min<std::int64_t>(3, (t - first) * 4 / span)] = true;
    latest = std::max(latest, t);
  }
  if (!(quarter[0] && quarter[1] && quarter[2] && quarter[3])) return std::nullopt;
  return std::to_string(arrivals.size()) + " fibers arrived steadily over " + format_duration(span) + " (the latest " +
         format_duration(now_ns - latest) + " ago), each parked here since it was created";
}

LeakDetector::Result LeakDetector::evaluate(const FiberDump& dump) {
  Result result;
  result.findings = find_leaks(dump, rules_);
  std::map<std::string, std::vector<const DumpedFiber*>> at_site;
  for (const DumpedFiber& f : dump.fibers) {
    if (!is_parked(f) || (f.is_main && !rules_.include_main_fibers) || ignored_by(rules_, f)) continue;
    const std::string site = park_site(f);
    ++result.site_counts[site];
    at_site[site].push_back(&f);
  }
  // Sites that vanished count as zero: their history restarts.
  for (auto it = sites_.begin(); it != sites_.end();) {
    if (result.site_counts.count(it->first) == 0) {
      it = sites_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [site, count] : result.site_counts) {
    SiteHistory& h = sites_[site];
    if (count > h.last && h.last != 0) {
      h.rises.push_back(count);
    } else if (count <= h.last) {
      h.rises.clear();
    }
    h.last = count;
    std::string reason;
    if (static_cast<int>(h.rises.size()) >= rules_.growing_evaluations && count >= rules_.growing_min_fibers) {
      reason = "rose in " + std::to_string(h.rises.size()) + " evaluations in a row (";
      for (std::size_t i = 0; i < h.rises.size(); ++i) reason += (i == 0 ? "" : ", ") + std::to_string(h.rises[i]);
      reason += ")";
    } else if (auto one_look = grows_at_one_look(at_site[site], dump.taken_at_ns, rules_.growing_min_fibers)) {
      reason = std::move(*one_look);
    }
    if (!reason.empty()) {
      GrowingSite g;
      g.site = site;
      g.fibers = count;
      if (static_cast<int>(h.rises.size()) >= rules_.growing_evaluations) g.history = h.rises;
      g.reason = std::move(reason);
      const DumpedFiber& f = *at_site[site].front();
      g.wait_reason = f.wait_reason;
      if (const DumpFrame* fr = site_frame(f); fr != nullptr) {
        g.function = fr->function;
        g.file = fr->file;
        g.line = fr->line;
      }
      result.growing.push_back(std::move(g));
    }
  }
  return result;
}

}  // namespace fiberleak::detail
