// Sidecar: `fiberleakd scrape`. One TargetMonitor per configured target,
// each scraped on its own thread at its interval, and an HTTP server with
// /metrics (per target: up, scrape duration, fibers by state, leak suspects,
// top growing sites), /api/targets, /api/findings and /healthz. A target
// that is down, slow or answers garbage only changes its own status.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "daemon/target_monitor.hpp"
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
  void stop();
  int port() const { return port_; }

  std::string metrics_text() const;
  std::string targets_json() const;
  std::string findings_json() const;

 private:
  void scrape_loop(TargetMonitor& monitor);
  void post_webhook(const TrackedFinding& finding);

  DaemonConfig config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::unique_ptr<TargetMonitor>> monitors_;
  std::vector<std::thread> threads_;
  ServerThread http_;  // takes no request bodies; config_.token guards it
  int port_ = 0;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace fiberleak::detail
