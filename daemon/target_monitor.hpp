// TargetMonitor: fiberleakd's view of one scraped target across scrapes.
//
// Each scrape fetches the target (fiberleak: /debug/fibers JSON; Go:
// goroutine?debug=2; auto: fiberleak first), applies the leak rules and
// keeps findings with a life cycle (new -> ongoing -> resolved), logged once
// when they appear and once when they resolve. Go reports blocked time only
// in whole minutes, only once a GC saw the goroutine, and restarts it at
// every wake; the monitor extends that lower bound with the time between
// scrapes only when the target's own figures prove the park is the same one
// (see combine_go_blocked()). A target that restarts (its clock or its ids go
// back, or Go hands out an id again) starts a fresh history. A scrape ends by the target's timeout
// whatever the target does (TargetClient). The log gets at most
// one line per park site, at most kLoggedChanges sites of each kind a scrape
// and one line for the rest, so
// a target whose thousands of fibers change at every scrape cannot flood it.
// Thread-safe: scrape_once() from the monitor's thread, cancel() from any,
// the readers from HTTP threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "profiler/fiber_dump.hpp"
#include "profiler/finding_tracker.hpp"
#include "profiler/leak_rules.hpp"

namespace spdlog {
class logger;
}

namespace fiberleak::detail {

// A target's leak finding with its life cycle (times: unix ms), as
// /api/findings and the webhook show it.
struct TrackedFinding : Tracked<LeakFinding> {
  using Lifecycle = FindingLifecycle;
  std::string target;
  std::map<std::string, std::string> labels;  // the target's (config or discovery)
};

struct TargetStatus {
  std::string name, url, kind;  // kind as detected: fiberleak, go, or unknown
  std::map<std::string, std::string> labels;
  bool up = false;
  std::string error;  // why the last scrape failed ("" when up)
  std::int64_t last_scrape_ms = 0;
  double scrape_seconds = 0;
  std::uint64_t scrapes = 0, failures = 0, restarts = 0;
  std::map<FiberState, std::size_t> fibers_by_state;
  std::size_t leak_suspects = 0;   // findings of every verdict
  std::size_t definite_leaks = 0;  // of which definite
  // Its dumps name what fibers wait on and who holds it (fiberleak targets
  // on Boost 1.74): the "definite" verdict needs it; Go's dumps do not.
  bool waits_on_recorded = false;
  std::vector<GrowingSite> growing;
  std::map<std::string, std::size_t> site_counts;  // parked fibers per park site (ignore rules applied)
};

// Go: the lower bound of a goroutine's blocked time given an earlier
// observation. `previous_ns` (the bound computed at the earlier scrape,
// `elapsed_ns` ago) carries over only if the new figure proves the park
// started before that scrape: reported_ns >= elapsed_ns, and the earlier
// figure was itself a real observation (> 0: Go printed minutes).
std::int64_t combine_go_blocked(std::int64_t reported_ns, std::int64_t previous_ns, std::int64_t elapsed_ns);

class TargetClient;

class TargetMonitor {
 public:
  // New and resolved findings logged one by one per scrape; the rest are counted in one line.
  static constexpr std::size_t kLoggedChanges = 10;

  using FindingSink = std::function<void(const TrackedFinding&)>;
  TargetMonitor(TargetConfig config, std::size_t max_body_bytes, std::shared_ptr<spdlog::logger> logger,
                FindingSink on_change = {});

  // Scrapes the target once, within its timeout; the outcome is in status().
  void scrape_once();
  // Ends the scrape in flight at once (it fails "canceled", not logged) and
  // makes every later one fail the same way: fiberleakd is stopping, or the
  // target was removed.
  void cancel();
  // Evaluates an already fetched dump as a scrape would (tests; fault-free path).
  void evaluate(FiberDump dump, bool from_go, std::int64_t now_ms);

  // A reload or discovery changed the target's settings (same name): the
  // next scrape uses them; findings and history stay (only a restart of the
  // target starts them over).
  void reconfigure(TargetConfig config, std::size_t max_body_bytes);

  TargetStatus status() const;
  std::vector<TrackedFinding> findings() const;  // open ones, then recently resolved ones
  // The dump of the latest successful scrape (null before one), kept until
  // the next succeeds: what the sidecar's page shows of the target. Costs
  // one decoded dump per target.
  std::shared_ptr<const FiberDump> latest_dump() const;
  TargetConfig config() const;

 private:
  void fail(const std::string& why, double seconds, std::int64_t now_ms);
  // Go ids are never reused within a process: an id that ended and is back,
  // or that now has another creator, means a new process.
  bool go_ids_reused(const FiberDump& dump) const;
  void remember_go_ids(const FiberDump& dump);

  std::shared_ptr<spdlog::logger> logger_;
  FindingSink on_change_;

  mutable std::mutex mutex_;  // guards everything below
  TargetConfig config_;
  std::size_t max_body_bytes_;
  LeakDetector detector_;
  TargetStatus status_;
  std::shared_ptr<const FiberDump> latest_dump_;
  FindingTracker tracker_;                // the open findings' life cycle
  std::vector<TrackedFinding> resolved_;  // newest last, bounded
  struct GoObservation {
    std::string site;
    std::int64_t bound_ns;
    std::int64_t at_ms;
  };
  std::map<FiberId, GoObservation> go_seen_;
  std::map<FiberId, std::string> go_creators_;  // every goroutine of the last dump: its creator
  std::set<FiberId> go_ended_;                  // ids seen before and gone since (the smallest)
  std::int64_t last_taken_at_ns_ = 0;
  std::uint64_t last_max_id_ = 0;

  std::mutex client_mutex_;         // guards client_ and canceled_
  TargetClient* client_ = nullptr;  // the scrape's in flight, for cancel()
  bool canceled_ = false;
};

}  // namespace fiberleak::detail
