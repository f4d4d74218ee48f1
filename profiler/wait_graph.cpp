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
  std::string s = "fiber " + std::to_string(f.id);
  if (!f.name.empty()) s += " \"" + f.name + "\"";
  return s;
}

}  // namespace

WaitGraph::WaitGraph(const FiberDump& dump) : dump_(dump) {
  index_.reserve(dump.fibers.size());
  for (std::size_t i = 0; i < dump.fibers.size(); ++i) index_.emplace(dump.fibers[i].id, i);

  // Cycles: every fiber has at most one outgoing edge, so walking from each
  // fiber either ends or enters a cycle; each cycle is found once.
  std::unordered_map<std::uint64_t, int> state;  // 1: on the current walk, 2: done
  for (const DumpedFiber& start : dump.fibers) {
    std::vector<std::uint64_t> walk;
    std::uint64_t at = start.id;
    while (at != 0 && state[at] == 0) {
      state[at] = 1;
      walk.push_back(at);
      const DumpedFiber* f = fiber(at);
      at = f == nullptr ? 0 : edge(*f);
    }
    if (at != 0 && state[at] == 1) {  // closed a cycle on this walk
      auto first = std::find(walk.begin(), walk.end(), at);
      std::vector<std::uint64_t> cycle(first, walk.end());
      std::string members, waits;
      for (std::size_t i = 0; i < cycle.size(); ++i) {
        const DumpedFiber& m = *fiber(cycle[i]);
        members += (i == 0 ? "" : i + 1 == cycle.size() ? " and " : ", ") + who(m);
        waits += (i == 0 ? "" : ", ") + m.wait_reason;
      }
      for (std::uint64_t id : cycle) {
        DefiniteLeak& d = definite_[id];
        d.kind = "deadlock";
        d.reason = "deadlock: " + members + " wait for each other (" + waits + ")";
        d.cycle = cycle;
      }
    }
    for (std::uint64_t id : walk) state[id] = 2;
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
      const std::uint64_t target = edge(f);
      auto it = target == 0 ? definite_.end() : definite_.find(target);
      if (it == definite_.end()) continue;
      definite_[f.id] = {"waits on a leaked fiber",
                         "waits in " + f.wait_reason + " for " + who(*fiber(target)) + ", which never wakes (" +
                             it->second.kind + ")",
                         {}};
      grew = true;
    }
  }
}

const DumpedFiber* WaitGraph::fiber(std::uint64_t id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &dump_.fibers[it->second];
}

std::uint64_t WaitGraph::edge(const DumpedFiber& f) const {
  if (!untimed_wait_for_a_fiber(f) || f.waits_for == 0 || fiber(f.waits_for) == nullptr) return 0;
  return f.waits_for;
}

std::vector<std::uint64_t> WaitGraph::chain(std::uint64_t id) const {
  std::vector<std::uint64_t> out;
  std::unordered_set<std::uint64_t> seen{id};
  const DumpedFiber* f = fiber(id);
  // Any parked wait with a target counts here, timed ones too: it explains.
  while (f != nullptr && f->waits_for != 0 && f->parked_wait_for_target()) {
    const std::uint64_t next = f->waits_for;
    out.push_back(next);
    if (!seen.insert(next).second) break;
    f = fiber(next);
  }
  return out;
}

std::string WaitGraph::describe_chain(std::uint64_t id) const {
  const DumpedFiber* f = fiber(id);
  std::string out;
  for (std::uint64_t next : chain(id)) {
    const DumpedFiber* n = fiber(next);
    if (f == nullptr || n == nullptr) break;
    out += (out.empty() ? "waits in " : ", which waits in ") + f->wait_reason + " for " + who(*n);
    f = n;
  }
  if (f != nullptr && !out.empty() && f->waits_for == 0) {
    const bool parked = f->state == FiberState::blocked || f->state == FiberState::sleeping;
    out += (parked ? ", which waits in " : ", which is ") + f->wait_reason;
  }
  return out;
}

}  // namespace fiberleak::detail
