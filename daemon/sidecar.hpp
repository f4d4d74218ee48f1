// Sidecar: `fiberleakd scrape`. One TargetMonitor per configured target,
// each scraped on its own thread at its interval, and an HTTP server with
// /metrics (per target: up, scrape duration, fibers by state, leak suspects,
// top growing sites), /api/targets, /api/findings, /healthz, and the
// dashboard: its page at / and, at /target?name=T, the endpoint's page over
// /api/targets/T/fibers and /api/targets/T/leaks (T's latest scrape in the
// endpoint's schemas). A target
// that is down, slow or answers garbage only changes its own status; new and
// resolved findings go to the webhook through a WebhookQueue, never from a
// scrape thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "daemon/target_monitor.hpp"
#include "daemon/webhook_queue.hpp"
#include "web/server_thread.hpp"

namespace fiberleak::detail {

class Sidecar {
 public:
  Sidecar(DaemonConfig config, std::shared_ptr<spdlog::logger> logger);
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
  int port() const { return port_; }

  std::string metrics_text() const;
  std::string targets_json() const;
  std::string findings_json() const;
  // A target's latest scrape as /debug/fibers and /debug/leaks encode it;
  // "" for a target not configured or never scraped.
  std::string target_fibers_json(const std::string& name) const;
  std::string target_leaks_json(const std::string& name) const;

 private:
  void scrape_loop(TargetMonitor& monitor);
  void post_webhook(const TrackedFinding& finding);
  void join_scrape_threads();
  const TargetMonitor* monitor(const std::string& name) const;

  DaemonConfig config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<TargetMonitor>> monitors_;
  std::vector<std::thread> threads_;
  std::unique_ptr<WebhookQueue> webhook_;  // null without webhook_url
  ServerThread http_;                      // takes no request bodies; config_.token guards it
  int port_ = 0;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::size_t scraping_ = 0;  // scrape threads not yet finished (guarded by stop_mutex_)
};

}  // namespace fiberleak::detail
