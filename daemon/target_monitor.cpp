#include "daemon/target_monitor.hpp"

#include <httplib.h>

#include <spdlog/spdlog.h>

#include <chrono>
#include <limits>
#include <optional>

#include "daemon/go_dump_parser.hpp"
#include "web/fiber_json.hpp"
#include "web/http_error.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

constexpr std::size_t kResolvedKept = 200;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Fetched {
  int status = 0;
  std::string body;
  std::string error;
};

Fetched fetch(httplib::Client& client, const std::string& path, std::size_t max_body) {
  Fetched f;
  bool too_big = false;
  auto res = client.Get(path.c_str(), [&](const char* data, std::size_t n) {
    if (f.body.size() + n > max_body) {
      too_big = true;
      return false;
    }
    f.body.append(data, n);
    return true;
  });
  if (too_big) {
    f.error = "response larger than " + std::to_string(max_body >> 20) + " MiB";
  } else if (!res) {
    f.error = describe_http_error(res.error());
  } else {
    f.status = res->status;
    if (f.status != 200 && f.status != 404) f.error = "HTTP " + std::to_string(f.status) + " from " + path;
  }
  return f;
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
    : config_(std::move(config)),
      max_body_bytes_(max_body_bytes),
      logger_(std::move(logger)),
      on_change_(std::move(on_change)),
      detector_(config_.rules) {
  status_.name = config_.name;
  status_.url = config_.url;
  status_.labels = config_.labels;
  status_.kind = config_.kind == TargetKind::auto_detect ? "unknown" : to_string(config_.kind);  // until detected
}

void TargetMonitor::fail(const std::string& why, double seconds, std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (status_.up || status_.error != why) logger_->warn("target {}: scrape failed: {}", config_.name, why);
  status_.up = false;
  status_.error = why;
  status_.scrape_seconds = seconds;
  status_.last_scrape_ms = now_ms;
  ++status_.scrapes;
  ++status_.failures;
}

void TargetMonitor::scrape_once() {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t now_ms = unix_ms();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const std::optional<HttpUrl> url = parse_http_url(config_.url);
  if (!url) return fail("not an http:// URL: \"" + config_.url + "\"", elapsed(), now_ms);
  const std::string prefix = endpoint_prefix(url->path);
  httplib::Client client(url->origin);
  const auto timeout = config_.timeout;
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));

  try {
    if (config_.kind != TargetKind::go) {
      Fetched f = fetch(client, prefix + "/debug/fibers?stacks=shared", max_body_bytes_);
      if (f.status == 200) {
        evaluate(fibers_from_json_text(f.body), false, now_ms);
        std::lock_guard<std::mutex> lock(mutex_);
        status_.scrape_seconds = elapsed();
        return;
      }
      if (!f.error.empty() || config_.kind == TargetKind::fiberleak) {
        return fail(f.error.empty() ? "HTTP 404 from " + prefix + "/debug/fibers (not a fiberleak target?)" : f.error,
                    elapsed(), now_ms);
      }
    }
    Fetched f = fetch(client, prefix + "/debug/pprof/goroutine?debug=2", max_body_bytes_);
    if (!f.error.empty() || f.status != 200) {
      return fail(f.error.empty() ? "HTTP " + std::to_string(f.status) + " from goroutine?debug=2" : f.error, elapsed(),
                  now_ms);
    }
    evaluate(parse_go_dump(f.body), true, now_ms);
    std::lock_guard<std::mutex> lock(mutex_);
    status_.scrape_seconds = elapsed();
  } catch (const JsonSchemaError& e) {
    fail(std::string("bad fiberleak JSON: ") + e.what(), elapsed(), now_ms);
  } catch (const GoDumpError& e) {
    fail(std::string("bad goroutine dump: ") + e.what(), elapsed(), now_ms);
  }
}

void TargetMonitor::evaluate(FiberDump dump, bool from_go, std::int64_t now_ms) {
  std::uint64_t max_id = 0;
  for (const DumpedFiber& f : dump.fibers) max_id = std::max(max_id, to_integer(f.id));
  std::unique_lock<std::mutex> lock(mutex_);

  // A restarted target: its clock went back (fiberleak), or (Go, whose ids
  // only grow within a process) its ids went back and none of the parked
  // goroutines seen last time is there any more.
  bool go_went_back = from_go && max_id < last_max_id_;
  if (go_went_back) {
    for (const DumpedFiber& f : dump.fibers) {
      if (go_seen_.count(f.id) != 0) {
        go_went_back = false;
        break;
      }
    }
  }
  const bool restarted = status_.scrapes > 0 && ((!from_go && dump.taken_at_ns < last_taken_at_ns_) || go_went_back);
  if (restarted) {
    ++status_.restarts;
    logger_->warn("target {}: restarted; its findings are resolved and its history starts over", config_.name);
    go_seen_.clear();
    detector_ = LeakDetector(config_.rules);
  }
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

  const LeakDetector::Result result = detector_.evaluate(dump);
  status_.up = true;
  status_.error.clear();
  status_.kind = to_string(from_go ? TargetKind::go : TargetKind::fiberleak);
  status_.last_scrape_ms = now_ms;
  ++status_.scrapes;
  status_.fibers_by_state.clear();
  for (const DumpedFiber& f : dump.fibers) ++status_.fibers_by_state[f.state];
  status_.leak_suspects = result.findings.size();
  status_.growing = result.growing;
  status_.site_counts = result.site_counts;

  // A restart resolves every open finding; what it finds now is new.
  std::vector<Tracked<LeakFinding>> resolved =
      restarted ? tracker_.resolve_all(now_ms).resolved_leaks : std::vector<Tracked<LeakFinding>>{};
  const FindingTracker::Changes evaluated = tracker_.update(result.findings, result.growing, now_ms);
  resolved.insert(resolved.end(), evaluated.resolved_leaks.begin(), evaluated.resolved_leaks.end());
  auto tracked = [this](const Tracked<LeakFinding>& t) { return TrackedFinding{t, config_.name}; };
  std::vector<TrackedFinding> changes;
  std::vector<TrackedFinding> appeared;  // reported after the resolutions
  for (const Tracked<LeakFinding>& t : evaluated.leaks) {
    if (t.lifecycle != FindingLifecycle::fresh) continue;
    logger_->warn("target {}: leak suspect: {}", config_.name, describe(t.finding));
    appeared.push_back(tracked(t));
  }
  for (const Tracked<LeakFinding>& t : resolved) {
    logger_->info("target {}: resolved: fiber {} is no longer a leak suspect{}", config_.name,
                  to_integer(t.finding.fiber_id), restarted ? " (target restarted)" : "");
    changes.push_back(tracked(t));
    resolved_.push_back(tracked(t));
  }
  if (resolved_.size() > kResolvedKept) resolved_.erase(resolved_.begin(), resolved_.end() - kResolvedKept);
  changes.insert(changes.end(), appeared.begin(), appeared.end());
  lock.unlock();  // the sink may be slow (a webhook): never call it under the lock
  if (on_change_) {
    for (const TrackedFinding& t : changes) on_change_(t);
  }
}

TargetStatus TargetMonitor::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

std::vector<TrackedFinding> TargetMonitor::findings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<TrackedFinding> out;
  for (const Tracked<LeakFinding>& t : tracker_.open_leaks()) out.push_back(TrackedFinding{t, config_.name});
  out.insert(out.end(), resolved_.rbegin(), resolved_.rend());
  return out;
}

}  // namespace fiberleak::detail
