#include "profiler/wait_graph.hpp"

#include <algorithm>
#include <unordered_set>

namespace fiberleak::detail {
namespace {

// A wait that only another fiber's action can end.
bool untimed_wait_for_a_fiber(const DumpedFiber& f) {
  return f.state == FiberState::blocked && (f.wait == WaitKind::mutex || f.wait == WaitKind::join);
}

std::string who(const DumpedFiber& f) {
  std::string s = "fiber " + std::to_string(to_integer(f.id));
  if (!f.name.empty()) s += " \"" + f.name + "\"";
  return s;
}

}  // namespace

WaitGraph::WaitGraph(const FiberDump& dump) : dump_(dump) {
  index_.reserve(dump.fibers.size());
  for (std::size_t i = 0; i < dump.fibers.size(); ++i) index_.emplace(dump.fibers[i].id, i);

  // Cycles: every fiber has at most one outgoing edge, so walking from each
  // fiber either ends or enters a cycle; each cycle is found once.
  std::unordered_map<FiberId, int> state;  // 1: on the current walk, 2: done
  for (const DumpedFiber& start : dump.fibers) {
    std::vector<FiberId> walk;
    FiberId at = start.id;
    while (at != kNoFiber && state[at] == 0) {
      state[at] = 1;
      walk.push_back(at);
      const DumpedFiber* f = fiber(at);
      at = f == nullptr ? kNoFiber : edge(*f);
    }
    if (at != kNoFiber && state[at] == 1) {  // closed a cycle on this walk
      auto first = std::find(walk.begin(), walk.end(), at);
      std::vector<FiberId> cycle(first, walk.end());
      std::string members, waits;
      for (std::size_t i = 0; i < cycle.size(); ++i) {
        const DumpedFiber& m = *fiber(cycle[i]);
        members += (i == 0 ? "" : i + 1 == cycle.size() ? " and " : ", ") + who(m);
        waits += (i == 0 ? "" : ", ") + m.wait_reason;
      }
      for (FiberId id : cycle) {
        DefiniteLeak& d = definite_[id];
        d.kind = "deadlock";
        d.reason = "deadlock: " + members + " wait for each other (" + waits + ")";
        d.cycle = cycle;
      }
    }
    for (FiberId id : walk) state[id] = 2;
  }

  for (const DumpedFiber& f : dump.fibers) {
    if (f.state == FiberState::blocked && f.wait == WaitKind::mutex && f.owner_ended && !definite_.count(f.id)) {
      definite_[f.id] = {"owner ended", "waits on a mutex whose owner ended holding it", {}};
    }
  }
  // Waiting for a definite leak makes one: propagate until nothing changes.
  for (bool grew = true; grew;) {
    grew = false;
    for (const DumpedFiber& f : dump.fibers) {
      if (definite_.count(f.id)) continue;
      const FiberId target = edge(f);
      auto it = target == kNoFiber ? definite_.end() : definite_.find(target);
      if (it == definite_.end()) continue;
      definite_[f.id] = {
          "waits on a leaked fiber",
          "waits in " + f.wait_reason + " for " + who(*fiber(target)) + ", which never wakes (" + it->second.kind + ")",
          {}};
      grew = true;
    }
  }
}

const DumpedFiber* WaitGraph::fiber(FiberId id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &dump_.fibers[it->second];
}

FiberId WaitGraph::edge(const DumpedFiber& f) const {
  if (!untimed_wait_for_a_fiber(f) || f.waits_for == kNoFiber || fiber(f.waits_for) == nullptr) return kNoFiber;
  return f.waits_for;
}

std::vector<FiberId> WaitGraph::chain(FiberId id) const {
  std::vector<FiberId> out;
  std::unordered_set<FiberId> seen{id};
  const DumpedFiber* f = fiber(id);
  // Any parked wait with a target counts here, timed ones too: it explains.
  while (f != nullptr && f->waits_for != kNoFiber && f->parked_wait_for_target()) {
    const FiberId next = f->waits_for;
    out.push_back(next);
    if (!seen.insert(next).second) break;
    f = fiber(next);
  }
  return out;
}

std::string WaitGraph::describe_chain(FiberId id) const {
  const DumpedFiber* f = fiber(id);
  std::string out;
  for (FiberId next : chain(id)) {
    const DumpedFiber* n = fiber(next);
    if (f == nullptr || n == nullptr) break;
    out += (out.empty() ? "waits in " : ", which waits in ") + f->wait_reason + " for " + who(*n);
    f = n;
  }
  if (f != nullptr && !out.empty() && f->waits_for == kNoFiber) {
    const bool parked = f->state == FiberState::blocked || f->state == FiberState::sleeping;
    out += (parked ? ", which waits in " : ", which is ") + f->wait_reason;
  }
  return out;
}

}  // namespace fiberleak::detail
