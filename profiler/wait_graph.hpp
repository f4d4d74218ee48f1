// WaitGraph: who waits for whom among a dump's parked fibers, and which of
// them provably never wake.
//
// An edge runs from a fiber parked without a deadline on a mutex or a join
// to the fiber it waits for (DumpedFiber::waits_for: the mutex's owner, the
// joined fiber). A fiber is a *definite* leak, whatever the threshold, when
//  - it is on a cycle of such edges (a deadlock: every member waits for the
//    next, and none can wake without another's help), or
//  - it waits on a mutex whose owner ended holding it, or
//  - it waits for a fiber that is itself definite.
// Timed waits (try_lock_for, sleeping joins) never make an edge: they wake.
// Everything else stays with the threshold rules. Needs a source that records
// waits_for (FiberDump::waits_on_recorded); Go dumps have no owners.
//
// chain(): the waits from a fiber onwards, for explanations ("waits on mutex
// held by fiber 7, which waits in chan send"). Stateless after construction;
// not thread-safe to share while it is built.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "profiler/fiber_dump.hpp"

namespace fiberleak::detail {

struct DefiniteLeak {
  // "deadlock", "owner ended" or "waits on a leaked fiber".
  std::string kind;
  // One sentence: "deadlock: fibers 3 and 5 wait for each other (mutex lock, mutex lock)".
  std::string reason;
  std::vector<FiberId> cycle;  // the deadlock's members in wait order, when kind is "deadlock"
};

class WaitGraph {
 public:
  explicit WaitGraph(const FiberDump& dump);

  // The definite leaks, by fiber id.
  const std::unordered_map<FiberId, DefiniteLeak>& definite() const { return definite_; }
  // The fibers `id` waits for, transitively, in order (stops at a repeat or
  // a fiber that waits for nobody); empty when it waits for nobody.
  std::vector<FiberId> chain(FiberId id) const;
  // "waits on mutex lock held by fiber 7 \"writer\", which waits in chan send"
  // (empty when it waits for nobody).
  std::string describe_chain(FiberId id) const;

 private:
  const DumpedFiber* fiber(FiberId id) const;
  FiberId edge(const DumpedFiber& f) const;  // the fiber f waits for, or kNoFiber

  const FiberDump& dump_;
  std::unordered_map<FiberId, std::size_t> index_;  // id -> dump_.fibers index
  std::unordered_map<FiberId, DefiniteLeak> definite_;
};

}  // namespace fiberleak::detail
