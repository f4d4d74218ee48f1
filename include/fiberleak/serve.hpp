// The embedded HTTP endpoint on a server of its own: goroutine-style fiber
// dumps, pprof profiles, leak findings and metrics of the program it runs
// in. Link fiberleak::web (or fiberleak::fiberleak). Does not include
// <httplib.h>; to add the routes to a server the program already runs, see
// <fiberleak/mount.hpp>.
//
//   auto server = fiberleak::serve();          // own thread, 127.0.0.1:6060
//   fiberleak::ServeOptions options;
//   options.port = 0;                          // a free port: server.port()
//   auto other = fiberleak::serve(options);
//
// Serving never stops the program's fibers: a request copies their records
// (a snapshot) and does everything else on the HTTP thread, which is never a
// fiber scheduler thread. Routes: docs/http.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fiberleak/leak_rules.hpp>

namespace spdlog {
class logger;
}

namespace fiberleak {

// The options of one endpoint (serve() or mount()).
//
// One watchdog per process: every endpoint whose watchdog_interval is not 0
// shares it, so each finding is logged (and called back) once and every
// /metrics shows the same growing sites. The first such endpoint starts it
// with its rules, watchdog_interval, on_leak, on_growing_site and logger;
// endpoints made while it runs join it and those five options of theirs do
// not change it (their rules still decide their own /debug/leaks,
// /debug/fibers and /metrics leak counts). It stops with the last endpoint
// that shares it, and the next one starts it again with its own options. The
// first endpoint's callbacks are called for as long as it runs, even after
// that endpoint is gone.
struct EndpointOptions {
  // Leak rules for /debug/leaks, /debug/fibers' leak flags, /metrics and
  // (the first endpoint's) the watchdog.
  LeakRules rules;
  // Longest ?seconds= of a delta profile. Default 300 s (the request waits
  // that long, holding one connection; at most two delta profiles run at
  // once per process, more get 429).
  std::chrono::seconds max_delta{300};
  // How often the watchdog evaluates the rules (and tracks growing park
  // sites); 0: this endpoint neither starts nor joins it, and shows no
  // growing sites. Default 5 s. Cost: one snapshot + symbolization of the
  // parked fibers per evaluation, once per process however many endpoints.
  std::chrono::milliseconds watchdog_interval{5000};
  // Called on the watchdog thread for each new finding (after it is logged;
  // the first endpoint's, see above).
  std::function<void(const LeakFinding&)> on_leak;
  // Called on the watchdog thread for each site that starts growing (the
  // first endpoint's).
  std::function<void(const GrowingSite&)> on_growing_site;
  // Logger for the watchdog's findings (the first endpoint's). Default: the
  // library's own logger, registered in spdlog's registry as "fiberleak"
  // (spdlog::get("fiberleak") finds it, spdlog::set_level() reaches it; one
  // the program registered under that name first is used instead), on
  // stderr. Never the host's default logger.
  std::shared_ptr<spdlog::logger> logger;
};

// Who may use the endpoint (docs/http.md, "Exposing the endpoint"). mount()
// leaves that to the program's own server.
struct ServeOptions {
  // The address to bind. Default loopback: only this machine connects.
  std::string host = "127.0.0.1";
  // 0 picks a free port (see ServeHandle::port()).
  int port = 6060;
  EndpointOptions endpoint;
  // When not empty, every request but /healthz must carry
  // "Authorization: Bearer <token>" (else 401). Default: the environment's
  // FIBERLEAK_TOKEN, else none.
  std::string token;
  // Names accepted in a request's Host besides IP addresses, "localhost"
  // and `host` (e.g. "profiler.internal"; "*": any). Anything else is
  // refused (403): a web page could otherwise read the endpoint through a
  // DNS name it points at 127.0.0.1 (DNS rebinding). Default none.
  std::vector<std::string> allowed_hosts;
};

// A running endpoint; stops it (and its watchdog) on stop() or destruction.
class ServeHandle {
 public:
  ServeHandle();
  ServeHandle(ServeHandle&&) noexcept;
  ServeHandle& operator=(ServeHandle&&) noexcept;
  ~ServeHandle();
  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:6060"
  void stop();

 private:
  friend ServeHandle serve(ServeOptions options);
  struct State;
  std::unique_ptr<State> state_;
  int port_ = 0;
  std::string host_;
};

// Starts the endpoint on its own thread. Throws std::runtime_error when the
// address cannot be bound. Requests are bounded (docs/http.md, "Limits"):
// 32 connections at once, 5 s to send a request, 64 KiB of headers, 1 MiB
// of body.
ServeHandle serve(ServeOptions options = {});

}  // namespace fiberleak
