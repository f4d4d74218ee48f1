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

#include <fiberleak/leak_rules.hpp>

#include "profiler/fiber_dump.hpp"

namespace fiberleak::detail {

// Why the fiber is ignored by `rules` ("ignore_names: conn-*"), or nullopt.
std::optional<std::string> ignored_by(const LeakRules& rules, const DumpedFiber& fiber);

// One line for logs: `fiber 12 "conn" blocked in chan receive for 3m0s at
// handler(int) (main.cpp:42), holding stack 128 KiB, heap 1.5 MiB` (the
// cost only where known).
std::string describe(const LeakFinding& finding);

// Fiber-name patterns of ignore rules and filters: exact, or a prefix
// ending in '*' ("conn-*").
bool name_matches(const std::string& name, const std::string& pattern);
// Label patterns of ignore rules and filters: "key:value", the value
// matched as name_matches() matches names, the name being the label
// "fiber". A pattern without ':' matches nothing.
bool label_matches(const DumpedFiber& fiber, const std::string& pattern);

// A parked fiber's site: its wait reason and top user frame, the file by
// its base name ("chan receive @ app::handler at main.cpp:42"), or its top
// frame. Short and the same on every machine: metric labels, baselines and
// leak sites use it.
std::string park_site(const DumpedFiber& fiber);
// A park_site() without its line ("chan receive @ app::handler at
// main.cpp"): what baselines count by, so that they survive edits that
// move lines (the file is already a base name, the same in any checkout).
// Sites of other shapes come back as they are.
std::string site_without_line(const std::string& site);

// Leak suspects of one dump, longest blocked first.
std::vector<LeakFinding> find_leaks(const FiberDump& dump, const LeakRules& rules);

// Why one look at the parked fibers of one site shows it growing (see
// GrowingSite), or nullopt: at least max(min_fibers, 4) of them parked
// there since they were created, created over a second or more, in every
// quarter of the time since the first of them.
std::optional<std::string> grows_at_one_look(const std::vector<const DumpedFiber*>& fibers, std::int64_t now_ns,
                                             std::size_t min_fibers);

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

}  // namespace fiberleak::detail
