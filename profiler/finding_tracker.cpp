#include "profiler/finding_tracker.hpp"

namespace fiberleak::detail {
namespace {

FiberId key_of(const LeakFinding& f) { return f.fiber_id; }
const std::string& key_of(const GrowingSite& g) { return g.site; }

// Moves `open` on by one evaluation that reported `seen`: appends the seen
// ones (fresh or ongoing) to `current` and the vanished ones to `resolved`.
template <typename Key, typename Finding>
void advance(std::map<Key, Tracked<Finding>>& open, const std::vector<Finding>& seen, std::int64_t now_ms,
             std::vector<Tracked<Finding>>& current, std::vector<Tracked<Finding>>& resolved) {
  std::map<Key, Tracked<Finding>> still_open;
  for (const Finding& f : seen) {
    Tracked<Finding> t;
    if (auto it = open.find(key_of(f)); it != open.end()) {
      t = it->second;
      t.lifecycle = FindingLifecycle::ongoing;
    } else {
      t.first_seen_ms = now_ms;
    }
    t.finding = f;
    t.last_seen_ms = now_ms;
    current.push_back(t);
    still_open[key_of(f)] = std::move(t);
  }
  for (auto& [key, t] : open) {
    if (still_open.count(key) != 0) continue;
    t.lifecycle = FindingLifecycle::resolved;
    t.resolved_ms = now_ms;
    resolved.push_back(std::move(t));
  }
  open = std::move(still_open);
}

template <typename Key, typename Finding>
std::vector<Tracked<Finding>> values(const std::map<Key, Tracked<Finding>>& open) {
  std::vector<Tracked<Finding>> out;
  out.reserve(open.size());
  for (const auto& [key, t] : open) out.push_back(t);
  return out;
}

}  // namespace

const char* to_string(FindingLifecycle lifecycle) {
  switch (lifecycle) {
    case FindingLifecycle::fresh: return "new";
    case FindingLifecycle::ongoing: return "ongoing";
    case FindingLifecycle::resolved: return "resolved";
  }
  return "unknown";
}

FindingTracker::Changes FindingTracker::update(const std::vector<LeakFinding>& findings,
                                               const std::vector<GrowingSite>& growing, std::int64_t now_ms) {
  Changes changes;
  advance(leaks_, findings, now_ms, changes.leaks, changes.resolved_leaks);
  advance(sites_, growing, now_ms, changes.sites, changes.resolved_sites);
  return changes;
}

std::vector<Tracked<LeakFinding>> FindingTracker::open_leaks() const { return values(leaks_); }

std::vector<Tracked<GrowingSite>> FindingTracker::open_sites() const { return values(sites_); }

}  // namespace fiberleak::detail
