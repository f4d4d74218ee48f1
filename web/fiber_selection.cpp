#include "web/fiber_selection.hpp"

#include <algorithm>
#include <iterator>

#include "web/fiber_json.hpp"

namespace fiberleak::detail {

std::string fibers_answer(FiberDump all, const std::vector<LeakFinding>& findings, const FibersParams& p,
                          const RuntimeCounters* counters) {
  LeakedFibers leaked;
  for (const LeakFinding& f : findings) leaked.emplace(f.fiber_id, &f);
  // Definite leaks, then the other suspects, then the rest, each in dump
  // order (by id): three buckets, not a sort that looks each fiber up again
  // at every comparison.
  std::vector<DumpedFiber> ranked[3];
  for (DumpedFiber& f : all.fibers) {
    if (!p.states.empty() && p.states.count(f.state) == 0) continue;
    if (f.blocked_ns < p.min_blocked_ns) continue;
    if (!p.name.empty() && !name_matches(f.name, p.name)) continue;
    if (!std::all_of(p.labels.begin(), p.labels.end(), [&](const std::string& l) { return label_matches(f, l); }))
      continue;
    const auto it = leaked.find(f.id);
    if (p.leaks_only && it == leaked.end()) continue;
    ranked[it == leaked.end() ? 2 : it->second->verdict == Verdict::definite ? 0 : 1].push_back(std::move(f));
  }
  FiberDump selected;
  selected.taken_at_ns = all.taken_at_ns;
  selected.waits_on_recorded = all.waits_on_recorded;
  selected.fibers = std::move(ranked[0]);
  for (std::vector<DumpedFiber>* rest : {&ranked[1], &ranked[2]}) {
    selected.fibers.insert(selected.fibers.end(), std::make_move_iterator(rest->begin()),
                           std::make_move_iterator(rest->end()));
  }
  const int indent = p.shared_stacks ? -1 : 2;
  if (p.limit == 0) return fibers_json_text(selected, leaked, counters, p.shared_stacks, indent);
  FiberTotals totals{selected.fibers.size(), fiber_groups_to_json(selected, leaked)};
  if (selected.fibers.size() > p.limit) selected.fibers.resize(p.limit);
  return fibers_json_text(selected, leaked, counters, p.shared_stacks, indent, &totals);
}

}  // namespace fiberleak::detail
