#include "web/fiber_selection.hpp"

#include <algorithm>

#include "web/fiber_json.hpp"
#include "web/json_text.hpp"

namespace fiberleak::detail {

std::string fibers_answer(FiberDump all, const std::vector<LeakFinding>& findings, const FibersParams& p,
                          const RuntimeCounters* counters) {
  LeakedFibers leaked;
  for (const LeakFinding& f : findings) leaked.emplace(f.fiber_id, &f);
  FiberDump selected;
  selected.taken_at_ns = all.taken_at_ns;
  selected.waits_on_recorded = all.waits_on_recorded;
  for (DumpedFiber& f : all.fibers) {
    if (!p.states.empty() && p.states.count(f.state) == 0) continue;
    if (f.blocked_ns < p.min_blocked_ns) continue;
    if (!p.name.empty() && !name_matches(f.name, p.name)) continue;
    if (!std::all_of(p.labels.begin(), p.labels.end(), [&](const std::string& l) { return label_matches(f, l); }))
      continue;
    if (p.leaks_only && leaked.count(f.id) == 0) continue;
    selected.fibers.push_back(std::move(f));
  }
  auto rank = [&](const DumpedFiber& f) {
    const auto it = leaked.find(f.id);
    return it == leaked.end() ? 2 : it->second->verdict == Verdict::definite ? 0 : 1;
  };
  std::stable_sort(selected.fibers.begin(), selected.fibers.end(),
                   [&](const DumpedFiber& a, const DumpedFiber& b) { return rank(a) < rank(b); });
  nlohmann::json groups;
  const std::size_t total = selected.fibers.size();
  if (p.limit > 0) {
    groups = fiber_groups_to_json(selected, leaked);
    if (selected.fibers.size() > p.limit) selected.fibers.resize(p.limit);
  }
  nlohmann::json doc = fibers_to_json(selected, leaked, counters, p.shared_stacks);
  if (p.limit > 0) {
    doc["total"] = total;
    doc["groups"] = std::move(groups);
  }
  return json_text(doc, p.shared_stacks ? -1 : 2);
}

}  // namespace fiberleak::detail
