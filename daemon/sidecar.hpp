// Sidecar: `fiberleakd scrape`. One TargetMonitor per target — the
// config's static ones and those file_sd/http_sd find (TargetDiscovery) —
// each scraped on its own thread at its interval, and an HTTP server with
// /metrics (per target: up, scrape duration, fibers by state, leak suspects,
// top growing sites; the config's reload status), /api/targets,
// /api/findings, /healthz, POST /-/reload, and the dashboard: its page at /
// and, at /target?name=T, the endpoint's page over /api/targets/T/fibers
// and /api/targets/T/leaks (T's latest scrape in the endpoint's schemas).
// A target that is down, slow or
// answers garbage only changes its own status; new and resolved findings go
// to the webhook through a WebhookQueue, never from a scrape thread.
//
// The set of targets follows discovery and reload() at run time: a target
// that stays (same name) keeps its monitor, findings and history, with its
// new settings; one that goes stops and its series go with it; a new one is
// scraped at once. reload() applies a new config whole or not at all.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "daemon/target_discovery.hpp"
#include "daemon/target_monitor.hpp"
#include "daemon/webhook_queue.hpp"
#include "web/query_params.hpp"
#include "web/server_thread.hpp"

namespace fiberleak::detail {

class Sidecar {
 public:
  // Where reload() gets the new config from (`scrape`: the file again, with
  // the command line's overrides). None: reload() fails, saying so.
  using ConfigSource = std::function<ConfigResult()>;
  Sidecar(DaemonConfig config, std::shared_ptr<spdlog::logger> logger, ConfigSource reload_source = {});
  ~Sidecar();
  // Binds the listen address (port 0: any), returns once the server
  // accepts and starts scraping; throws std::runtime_error when the address
  // cannot be bound.
  void start();
  // Stops scraping: cancels every scrape in flight and the webhook's post,
  // then waits at most `grace` for the scrape threads. False when one is
  // still stuck after that (connecting to a host that does not answer: a
  // connect cannot be interrupted); the caller may exit the process then, and
  // the destructor waits for it. The HTTP server stops either way.
  bool stop(std::chrono::milliseconds grace = kStopGrace);
  static constexpr std::chrono::milliseconds kStopGrace{1500};
  // Targets scraped at most (a thread each); more are logged and left out.
  static constexpr std::size_t kMaxTargets = 10000;
  int port() const { return port_; }

  // Reads the config from the source and applies it, or, when it has any
  // problem (a changed "listen" or "token" too: they need a restart),
  // changes nothing and logs every problem. Returns the problems (empty:
  // applied). SIGHUP and POST /-/reload call it; serialized.
  std::vector<std::string> reload();

  std::string metrics_text() const;
  std::string targets_json() const;
  std::string findings_json() const;
  // A target's latest scrape as /debug/fibers and /debug/leaks answer the
  // same query (web/query_params.hpp; leaks_limit 0: all); "" for a target
  // not configured or never scraped.
  std::string target_fibers_json(const std::string& name, const FibersParams& query = {}) const;
  std::string target_leaks_json(const std::string& name, std::size_t leaks_limit = 0) const;

 private:
  struct Scraper {
    std::unique_ptr<TargetMonitor> monitor;
    std::thread thread;
    bool removed = false;   // guarded by stop_mutex_
    bool finished = false;  // guarded by stop_mutex_
  };
  void scrape_loop(Scraper& scraper);
  void post_webhook(const TrackedFinding& finding);
  // Makes the scrapers the config's targets plus the discovered ones.
  void apply_targets();
  void start_scraper(Scraper& s);  // under stop_mutex_
  void reap_retired();             // joins the removed scrapers that have finished
  std::vector<std::shared_ptr<Scraper>> scrapers() const;
  std::shared_ptr<WebhookQueue> webhook() const;
  std::shared_ptr<Scraper> scraper(const std::string& name) const;  // null when none

  std::shared_ptr<spdlog::logger> logger_;
  ConfigSource reload_source_;
  std::mutex reload_mutex_;  // one reload at a time

  mutable std::mutex targets_mutex_;  // guards config_, scrapers_, webhook_, the reload status
  DaemonConfig config_;
  std::map<std::string, std::shared_ptr<Scraper>> scrapers_;  // by target name
  std::shared_ptr<WebhookQueue> webhook_;                     // null without webhook_url
  bool last_reload_ok_ = true;
  double last_reload_success_s_ = 0;  // unix seconds: the start, then each reload that applied

  ServerThread http_;  // config_.token guards it
  int port_ = 0;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool started_ = false;
  bool stopping_ = false;
  std::size_t scraping_ = 0;                       // scrape threads not yet finished (guarded by stop_mutex_)
  std::vector<std::shared_ptr<Scraper>> retired_;  // removed, maybe still scraping (guarded by stop_mutex_)

  TargetDiscovery discovery_;  // last: its threads call apply_targets() until it stops
};

}  // namespace fiberleak::detail
