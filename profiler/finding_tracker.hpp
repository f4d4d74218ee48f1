// FindingTracker: the life cycle of leak findings across evaluations of the
// leak rules. A finding is new when an evaluation first reports it, ongoing
// while later ones report it again, and resolved by the first one that does
// not. Leak suspects are told apart by fiber id, growing park sites by site
// (park_site()). The watchdog logs and calls back on what is new and
// resolved; fiberleakd keeps each target's findings with their times.
// Not thread-safe: one per evaluator, which serializes its calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <fiberleak/leak_rules.hpp>

namespace fiberleak::detail {

enum class FindingLifecycle {
  fresh,    // first reported by the latest evaluation ("new" in JSON and logs)
  ongoing,  // reported by the latest evaluation and by the one before
  resolved  // reported before, not by the latest evaluation
};
// "new", "ongoing" or "resolved".
const char* to_string(FindingLifecycle lifecycle);

// A finding (LeakFinding or GrowingSite) with its life cycle.
template <typename Finding>
struct Tracked {
  Finding finding;  // as the latest evaluation that reported it saw it
  FindingLifecycle lifecycle = FindingLifecycle::fresh;
  // On the clock the owner passes to update() (fiberleakd: unix ms).
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  std::int64_t resolved_ms = 0;  // 0 until resolved
};

class FindingTracker {
 public:
  struct Changes {
    // This evaluation's findings, in its order, each fresh or ongoing.
    std::vector<Tracked<LeakFinding>> leaks;
    std::vector<Tracked<GrowingSite>> sites;
    // Findings of earlier evaluations that this one no longer reports, by
    // fiber id and by site.
    std::vector<Tracked<LeakFinding>> resolved_leaks;
    std::vector<Tracked<GrowingSite>> resolved_sites;
  };

  // Takes one evaluation's leak suspects and growing sites; now_ms is when
  // it was made.
  Changes update(const std::vector<LeakFinding>& findings, const std::vector<GrowingSite>& growing,
                 std::int64_t now_ms);
  // Resolves everything open, as if an evaluation had found nothing (the
  // evaluated program restarted: what follows is new).
  Changes resolve_all(std::int64_t now_ms) { return update({}, {}, now_ms); }

  // What the latest update() reported, by fiber id and by site.
  std::vector<Tracked<LeakFinding>> open_leaks() const;
  std::vector<Tracked<GrowingSite>> open_sites() const;

 private:
  std::map<FiberId, Tracked<LeakFinding>> leaks_;
  std::map<std::string, Tracked<GrowingSite>> sites_;
};

}  // namespace fiberleak::detail
