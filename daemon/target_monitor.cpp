#include "daemon/target_monitor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <optional>

#include "daemon/go_dump_parser.hpp"
#include "daemon/target_client.hpp"
#include "profiler/site_groups.hpp"
#include "web/fiber_json.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

constexpr std::size_t kResolvedKept = 200;
constexpr std::size_t kEndedIdsKept = 4096;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What stays the same for a goroutine's whole life: who created it, where.
std::string go_creator(const DumpedFiber& f) {
  if (f.creation_stack.empty()) return std::to_string(to_integer(f.parent));
  const DumpFrame& c = f.creation_stack.front();
  return c.function + " " + c.file + ":" + std::to_string(c.line) + " " + std::to_string(to_integer(f.parent));
}

// The finalizer goroutine shows in a dump only while it runs a finalizer:
// its id may vanish and come back within one process.
bool go_comes_and_goes(const DumpedFiber& f) {
  return std::any_of(f.stack.begin(), f.stack.end(),
                     [](const DumpFrame& fr) { return fr.function == "runtime.runfinq"; });
}

}  // namespace

std::int64_t combine_go_blocked(std::int64_t reported_ns, std::int64_t previous_ns, std::int64_t elapsed_ns) {
  if (previous_ns > 0 && elapsed_ns >= 0 && reported_ns >= elapsed_ns) {
    std::int64_t carried = 0;  // saturates: the figures come from the target
    if (__builtin_add_overflow(previous_ns, elapsed_ns, &carried)) carried = std::numeric_limits<std::int64_t>::max();
    return std::max(reported_ns, carried);
  }
  return reported_ns;
}

TargetMonitor::TargetMonitor(TargetConfig config, std::size_t max_body_bytes, std::shared_ptr<spdlog::logger> logger,
                             FindingSink on_change)
    : logger_(std::move(logger)),
      on_change_(std::move(on_change)),
      config_(std::move(config)),
      max_body_bytes_(max_body_bytes),
      detector_(config_.rules) {
  status_.name = config_.name;
  status_.url = config_.url;
  status_.labels = config_.labels;
  status_.kind = config_.kind == TargetKind::auto_detect ? "unknown" : to_string(config_.kind);  // until detected
}

void TargetMonitor::fail(const std::string& why, double seconds, std::int64_t now_ms) {
  bool canceled = false;
  {
    std::lock_guard<std::mutex> lock(client_mutex_);
    canceled = canceled_;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // A canceled monitor is going away (fiberleakd stops, or its target left): nothing to warn about.
  if (!canceled && (status_.up || status_.error != why)) {
    logger_->warn("target {}: scrape failed: {}", config_.name, why);
  }
  status_.up = false;
  status_.error = why;
  status_.scrape_seconds = seconds;
  status_.last_scrape_ms = now_ms;
  ++status_.scrapes;
  ++status_.failures;
}

void TargetMonitor::reconfigure(TargetConfig config, std::size_t max_body_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  detector_.set_rules(config.rules);
  status_.url = config.url;
  status_.labels = config.labels;
  config_ = std::move(config);
  max_body_bytes_ = max_body_bytes;
}

TargetConfig TargetMonitor::config() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return config_;
}

void TargetMonitor::scrape_once() {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t now_ms = unix_ms();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::size_t max_body_bytes = 0;
  const TargetConfig config = [&] {
    std::lock_guard<std::mutex> lock(mutex_);
    max_body_bytes = max_body_bytes_;
    return config_;
  }();
  const std::optional<HttpUrl> url = parse_http_url(config.url);
  if (!url) return fail("not an http:// URL: \"" + config.url + "\"", elapsed(), now_ms);
  const std::string prefix = endpoint_prefix(url->path);
  // One deadline for the whole scrape, the fallback to Go included.
  TargetClient client(url->origin, config.timeout, max_body_bytes);
  if (!config.token.empty()) client.set_bearer_token(config.token);
  {
    std::lock_guard<std::mutex> lock(client_mutex_);
    if (canceled_) client.cancel();
    client_ = &client;
  }
  struct Unregister {
    TargetMonitor& m;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(m.client_mutex_);
      m.client_ = nullptr;
    }
  } unregister{*this};

  try {
    if (config.kind != TargetKind::go) {
      Fetched f = client.get(prefix + "/debug/fibers?stacks=shared");
      if (f.error.empty() && f.status == 200) {
        FiberDump dump = fibers_from_json_text(f.body);
        f = Fetched{};  // the body's memory goes before the rules run
        evaluate(std::move(dump), false, now_ms);
        std::lock_guard<std::mutex> lock(mutex_);
        status_.scrape_seconds = elapsed();
        return;
      }
      if (f.error.empty() && f.status != 404)
        f.error = "HTTP " + std::to_string(f.status) + " from " + prefix + "/debug/fibers";
      if (!f.error.empty() || config.kind == TargetKind::fiberleak) {
        return fail(f.error.empty() ? "HTTP 404 from " + prefix + "/debug/fibers (not a fiberleak target?)" : f.error,
                    elapsed(), now_ms);
      }
    }
    Fetched f = client.get(prefix + "/debug/pprof/goroutine?debug=2");
    if (!f.error.empty() || f.status != 200) {
      return fail(f.error.empty() ? "HTTP " + std::to_string(f.status) + " from goroutine?debug=2" : f.error, elapsed(),
                  now_ms);
    }
    FiberDump dump = parse_go_dump(f.body);
    f = Fetched{};
    evaluate(std::move(dump), true, now_ms);
    std::lock_guard<std::mutex> lock(mutex_);
    status_.scrape_seconds = elapsed();
  } catch (const JsonSchemaError& e) {
    fail(std::string("bad fiberleak JSON: ") + e.what(), elapsed(), now_ms);
  } catch (const GoDumpError& e) {
    fail(std::string("bad goroutine dump: ") + e.what(), elapsed(), now_ms);
  }
}

void TargetMonitor::cancel() {
  std::lock_guard<std::mutex> lock(client_mutex_);
  canceled_ = true;
  if (client_ != nullptr) client_->cancel();
}

void TargetMonitor::evaluate(FiberDump dump, bool from_go, std::int64_t now_ms) {
  std::uint64_t max_id = 0;
  for (const DumpedFiber& f : dump.fibers) max_id = std::max(max_id, to_integer(f.id));
  std::unique_lock<std::mutex> lock(mutex_);

  // A restarted target: its clock went back (fiberleak), or (Go) an id came
  // back that Go would never hand out twice in one process (see
  // go_ids_reused()), or its ids went back and none of the parked goroutines
  // seen last time is there any more.
  bool go_went_back = from_go && max_id < last_max_id_;
  if (go_went_back) {
    for (const DumpedFiber& f : dump.fibers) {
      if (go_seen_.count(f.id) != 0) {
        go_went_back = false;
        break;
      }
    }
  }
  const bool restarted = status_.scrapes > 0 && ((!from_go && dump.taken_at_ns < last_taken_at_ns_) || go_went_back ||
                                                 (from_go && go_ids_reused(dump)));
  if (restarted) {
    ++status_.restarts;
    logger_->warn("target {}: restarted; its findings are resolved and its history starts over", config_.name);
    go_seen_.clear();
    go_creators_.clear();
    go_ended_.clear();
    detector_ = LeakDetector(config_.rules);
  }
  if (from_go) remember_go_ids(dump);
  last_taken_at_ns_ = dump.taken_at_ns;
  last_max_id_ = max_id;

  if (from_go) {
    std::map<FiberId, GoObservation> seen;
    for (DumpedFiber& f : dump.fibers) {
      if (f.state != FiberState::blocked && f.state != FiberState::sleeping) continue;
      const std::string site = park_site(f);
      auto it = go_seen_.find(f.id);
      if (it != go_seen_.end() && it->second.site == site) {
        f.blocked_ns = combine_go_blocked(f.blocked_ns, it->second.bound_ns, (now_ms - it->second.at_ms) * 1'000'000);
      }
      seen[f.id] = {site, f.blocked_ns, now_ms};
    }
    go_seen_ = std::move(seen);
  }

  LeakDetector::Result result = detector_.evaluate(dump);
  status_.up = true;
  status_.error.clear();
  status_.kind = to_string(from_go ? TargetKind::go : TargetKind::fiberleak);
  status_.last_scrape_ms = now_ms;
  ++status_.scrapes;
  status_.fibers_by_state.clear();
  for (const DumpedFiber& f : dump.fibers) ++status_.fibers_by_state[f.state];
  status_.leak_suspects = result.findings.size();
  status_.definite_leaks =
      static_cast<std::size_t>(std::count_if(result.findings.begin(), result.findings.end(),
                                             [](const LeakFinding& f) { return f.verdict == Verdict::definite; }));
  status_.waits_on_recorded = dump.waits_on_recorded;
  status_.growing = result.growing;
  status_.site_counts = result.site_counts;
  latest_dump_ = std::make_shared<const FiberDump>(std::move(dump));

  // A restart resolves every open finding; what it finds now is new.
  std::vector<Tracked<LeakFinding>> resolved =
      restarted ? tracker_.resolve_all(now_ms).resolved_leaks : std::vector<Tracked<LeakFinding>>{};
  FindingTracker::Changes evaluated = tracker_.update(result.findings, result.growing, now_ms);
  std::vector<LeakFinding>().swap(result.findings);  // the tracker holds them now: one copy, not three
  resolved.insert(resolved.end(), std::make_move_iterator(evaluated.resolved_leaks.begin()),
                  std::make_move_iterator(evaluated.resolved_leaks.end()));
  // What the sink gets (resolutions first), moved out of the tracker's
  // answer rather than copied, and only when there is a sink.
  std::vector<TrackedFinding> changes;
  // The log: one line per park site (at most kLoggedChanges sites of each
  // kind a scrape, then one line for the rest), never one per fiber.
  std::map<std::string, std::size_t> resolved_at;
  for (const Tracked<LeakFinding>& t : resolved) {
    ++resolved_at[t.finding.site];
    if (on_change_) changes.push_back(TrackedFinding{t, config_.name, config_.labels});
  }
  std::size_t logged = 0, unlogged_resolved = 0;
  for (const auto& [site, n] : resolved_at) {
    if (logged++ < kLoggedChanges) {
      logger_->info("target {}: resolved: {} {} at {} no longer leaked{}", config_.name, n, n == 1 ? "fiber" : "fibers",
                    site, restarted ? " (target restarted)" : "");
    } else {
      unlogged_resolved += n;
    }
  }
  const std::size_t kept_from = resolved.size() - std::min(resolved.size(), kResolvedKept);
  for (std::size_t i = kept_from; i < resolved.size(); ++i) {
    resolved_.push_back(TrackedFinding{std::move(resolved[i]), config_.name, config_.labels});
  }
  if (resolved_.size() > kResolvedKept) resolved_.erase(resolved_.begin(), resolved_.end() - kResolvedKept);
  std::vector<const LeakFinding*> fresh;
  for (const Tracked<LeakFinding>& t : evaluated.leaks) {
    if (t.lifecycle == FindingLifecycle::fresh) fresh.push_back(&t.finding);
  }
  std::size_t unlogged_new = 0;
  logged = 0;
  for (const SiteGroup& g : group_by_site(fresh, {})) {
    if (logged++ < kLoggedChanges) {
      logger_->warn("target {}: {}", config_.name, describe(g));
    } else {
      unlogged_new += g.fibers.size();
    }
  }
  for (Tracked<LeakFinding>& t : evaluated.leaks) {
    if (t.lifecycle == FindingLifecycle::fresh && on_change_)
      changes.push_back(TrackedFinding{std::move(t), config_.name, config_.labels});
  }
  evaluated = {};
  if (unlogged_new + unlogged_resolved > 0) {
    logger_->warn(
        "target {}: {} more new and {} more resolved leaked fibers at other sites at this scrape ({} open; see "
        "/api/findings)",
        config_.name, unlogged_new, unlogged_resolved, status_.leak_suspects);
  }
  lock.unlock();  // the sink may be slow: never call it under the lock
  for (const TrackedFinding& t : changes) on_change_(t);
}

bool TargetMonitor::go_ids_reused(const FiberDump& dump) const {
  for (const DumpedFiber& f : dump.fibers) {
    if (go_ended_.count(f.id) != 0) return true;
    auto it = go_creators_.find(f.id);
    if (it != go_creators_.end() && it->second != go_creator(f)) return true;
  }
  return false;
}

void TargetMonitor::remember_go_ids(const FiberDump& dump) {
  std::map<FiberId, std::string> now;
  for (const DumpedFiber& f : dump.fibers) {
    if (!go_comes_and_goes(f)) now.emplace(f.id, go_creator(f));
  }
  for (const auto& [id, creator] : go_creators_) {
    if (now.count(id) == 0) go_ended_.insert(id);
  }
  // A restarted process hands out small ids again: keep the smallest.
  while (go_ended_.size() > kEndedIdsKept) go_ended_.erase(std::prev(go_ended_.end()));
  go_creators_ = std::move(now);
}

TargetStatus TargetMonitor::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

std::vector<TrackedFinding> TargetMonitor::findings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<TrackedFinding> out;
  for (Tracked<LeakFinding>& t : tracker_.open_leaks())
    out.push_back(TrackedFinding{std::move(t), config_.name, config_.labels});
  out.insert(out.end(), resolved_.rbegin(), resolved_.rend());
  return out;
}

std::shared_ptr<const FiberDump> TargetMonitor::latest_dump() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_dump_;
}

}  // namespace fiberleak::detail
