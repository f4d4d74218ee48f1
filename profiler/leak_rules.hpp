// Leak rules: which fibers are leak suspects, which park sites keep growing.
//
// Work on a FiberDump, so the embedded endpoint, the watchdog and fiberleakd
// (on dumps from fiberleak targets and from Go services) apply the very same
// rules. Ignore options follow uber-go/goleak's (IgnoreTopFunction,
// IgnoreAnyFunction, IgnoreCreatedBy), plus fiber names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "profiler/fiber_dump.hpp"

namespace fiberleak {

struct LeakRules {
  // A parked fiber is a suspect once blocked continuously longer than this.
  // Default 30 s.
  std::int64_t threshold_ns = 30'000'000'000;
  // Per wait kind thresholds that replace the default (e.g. a longer one
  // for sleep).
  std::map<WaitKind, std::int64_t> threshold_by_wait;
  // Ignore a fiber when its top frame (goleak's IgnoreTopFunction, e.g.
  // "internal/poll.runtime_pollWait") or its top user frame contains any of these.
  std::vector<std::string> ignore_top_functions;
  // ... when any frame of its park stack contains any of these.
  std::vector<std::string> ignore_any_functions;
  // ... when the function that created it contains any of these.
  std::vector<std::string> ignore_created_by;
  // ... when its name matches one of these (exact, or a prefix ending in '*').
  std::vector<std::string> ignore_names;
  // A park site is growing when its fiber count rose in this many
  // consecutive evaluations. Default 3.
  int growing_evaluations = 3;
  // Only sites with at least this many fibers are reported as growing.
  std::size_t growing_min_fibers = 2;

  std::int64_t threshold_for(WaitKind wait) const;
  // Why the fiber is ignored ("ignore_names: conn-*"), or nullopt.
  std::optional<std::string> ignored_by(const DumpedFiber& fiber) const;
};

// One leak suspect.
struct LeakFinding {
  std::uint64_t fiber_id = 0;
  std::string name;
  WaitKind wait = WaitKind::none;
  std::string wait_reason;
  std::int64_t blocked_ns = 0;
  bool blocked_exact = true;  // false: a lower bound (Go's whole minutes)
  std::string function;       // top user frame
  std::string file;
  int line = 0;
  std::string site;  // park site key (see park_site())
  // What the leaked fiber costs (as DumpedFiber's fields of the same names).
  std::uint64_t stack_bytes = 0;
  std::optional<std::int64_t> heap_live_bytes;
};

// A park site whose population keeps growing.
struct GrowingSite {
  std::string site;
  std::string function;  // top user frame
  std::string file;
  int line = 0;
  std::string wait_reason;
  std::size_t fibers = 0;
  std::vector<std::size_t> history;  // counts of the evaluations that grew, oldest first
};

// One line for logs: `fiber 12 "conn" blocked in chan receive for 3m0s at
// handler(int) (main.cpp:42), holding stack 128 KiB, heap 1.5 MiB` (the
// cost only where known).
std::string describe(const LeakFinding& finding);

// Fiber-name patterns of ignore rules and filters: exact, or a prefix
// ending in '*' ("conn-*").
bool name_matches(const std::string& name, const std::string& pattern);

// A parked fiber's site: its wait reason and top user frame
// ("chan receive @ handler(int) at main.cpp:42"), or its top frame.
std::string park_site(const DumpedFiber& fiber);

// Leak suspects of one dump, longest blocked first.
std::vector<LeakFinding> find_leaks(const FiberDump& dump, const LeakRules& rules);

// Tracks park-site populations across evaluations. Not thread-safe; one per
// evaluator (the watchdog, or one per target in the daemon).
class LeakDetector {
 public:
  explicit LeakDetector(LeakRules rules) : rules_(std::move(rules)) {}

  struct Result {
    std::vector<LeakFinding> findings;
    std::vector<GrowingSite> growing;
    std::map<std::string, std::size_t> site_counts;  // parked fibers per site
  };
  Result evaluate(const FiberDump& dump);
  const LeakRules& rules() const { return rules_; }
  void set_rules(LeakRules rules) { rules_ = std::move(rules); }

 private:
  struct SiteHistory {
    std::size_t last = 0;
    std::vector<std::size_t> rises;  // counts at consecutive rises
  };
  LeakRules rules_;
  std::map<std::string, SiteHistory> sites_;
};

}  // namespace fiberleak
