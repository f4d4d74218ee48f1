#include "daemon/sidecar.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "web/dashboard_routes.hpp"
#include "web/fiber_json.hpp"
#include "web/json_text.hpp"
#include "web/prometheus_text.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

// A finding as /api/findings and the webhook show it: the endpoint's
// encoding of the finding plus its target and life cycle.
nlohmann::json finding_json(const TrackedFinding& t) {
  nlohmann::json j = finding_to_json(t.finding);
  j["target"] = t.target;
  j["lifecycle"] = to_string(t.lifecycle);
  j["first_seen_ms"] = t.first_seen_ms;
  j["last_seen_ms"] = t.last_seen_ms;
  j["resolved_ms"] = t.resolved_ms;
  return j;
}

// Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*; config labels are kept
// when valid and "target" stays reserved.
bool valid_label_name(const std::string& s) {
  if (s.empty() || s == "target" || s.rfind("__", 0) == 0) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
          (i > 0 && std::isdigit(static_cast<unsigned char>(c)))))
      return false;
  }
  return true;
}

const std::vector<DashboardPage> kDashboardPages{{"", "sidecar.html"}, {"target", "endpoint.html"}};

AccessPolicy sidecar_access(const std::string& token) {
  AccessPolicy access;
  access.token = token;
  // The dashboard's files hold no data; its page sends the token itself.
  open_dashboard(access, "/", kDashboardPages);
  return access;
}

// The findings of `t` still open, as the endpoint reports its own.
std::vector<LeakFinding> open_findings(const TargetMonitor& t) {
  std::vector<LeakFinding> out;
  for (TrackedFinding& f : t.findings()) {
    if (f.lifecycle != FindingLifecycle::resolved) out.push_back(std::move(f.finding));
  }
  return out;
}

}  // namespace

Sidecar::Sidecar(DaemonConfig config, std::shared_ptr<spdlog::logger> logger)
    : config_(std::move(config)), logger_(std::move(logger)), http_(ServerLimits{}, sidecar_access(config_.token)) {
  if (const std::optional<HttpUrl> url = parse_http_url(config_.webhook_url)) {  // the config checked it
    webhook_ = std::make_unique<WebhookQueue>(*url, logger_, WebhookQueue::Options{});
  }
  for (const TargetConfig& t : config_.targets) {
    monitors_.push_back(std::make_unique<TargetMonitor>(t, config_.max_body_bytes, logger_,
                                                        [this](const TrackedFinding& f) { post_webhook(f); }));
  }
  httplib::Server& server = http_.server();
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), PrometheusText::kContentType);
  });
  server.Get("/api/targets", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(targets_json(), "application/json");
  });
  server.Get("/api/findings", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(findings_json(), "application/json");
  });
  auto per_target = [this](std::string (Sidecar::*render)(const std::string&) const) {
    return [this, render](const httplib::Request& req, httplib::Response& res) {
      const std::string body = (this->*render)(req.matches[1]);
      if (body.empty()) {
        res.status = 404;
        return res.set_content("404: no such target, or not scraped yet (see /api/targets)\n", "text/plain");
      }
      res.set_content(body, "application/json");
    };
  };
  server.Get(R"(/api/targets/([^/]+)/fibers)", per_target(&Sidecar::target_fibers_json));
  server.Get(R"(/api/targets/([^/]+)/leaks)", per_target(&Sidecar::target_leaks_json));
  mount_dashboard(server, "/", kDashboardPages);
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
}

Sidecar::~Sidecar() {
  stop();
  join_scrape_threads();  // the ones stop() left behind, if any
}

void Sidecar::start() {
  port_ = http_.bind(config_.listen_host, config_.listen_port);
  if (port_ < 0) throw std::runtime_error(cannot_listen(config_.listen_host, config_.listen_port));
  http_.start();
  std::lock_guard<std::mutex> lock(stop_mutex_);
  for (auto& m : monitors_) {
    ++scraping_;
    threads_.emplace_back([this, &m] {
      scrape_loop(*m);
      std::lock_guard<std::mutex> done(stop_mutex_);
      --scraping_;
      stop_cv_.notify_all();
    });
  }
}

bool Sidecar::stop(std::chrono::milliseconds grace) {
  const auto until = std::chrono::steady_clock::now() + grace;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopping_) return scraping_ == 0;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& m : monitors_) m->cancel();
  if (webhook_) webhook_->stop();
  bool finished = false;
  {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    finished = stop_cv_.wait_until(lock, until, [this] { return scraping_ == 0; });
  }
  if (finished) join_scrape_threads();
  http_.stop();
  return finished;
}

void Sidecar::join_scrape_threads() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Sidecar::scrape_loop(TargetMonitor& monitor) {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto next = std::chrono::steady_clock::now() + monitor.config().interval;
    try {
      monitor.scrape_once();
    } catch (const std::exception& e) {
      logger_->error("target {}: scrape failed unexpectedly: {}", monitor.config().name, e.what());
    }
    lock.lock();
    stop_cv_.wait_until(lock, next, [this] { return stopping_; });
  }
}

void Sidecar::post_webhook(const TrackedFinding& finding) {
  if (!webhook_ || finding.lifecycle == TrackedFinding::Lifecycle::ongoing) return;
  webhook_->push(json_text(finding_json(finding)));
}

std::string Sidecar::metrics_text() const {
  std::vector<TargetStatus> statuses;
  for (const auto& m : monitors_) statuses.push_back(m->status());
  auto labels = [](const TargetStatus& s, PrometheusText::Labels extra = {}) {
    PrometheusText::Labels l{{"target", s.name}};
    for (const auto& [k, v] : s.labels) {
      if (valid_label_name(k)) l.emplace_back(k, v);
    }
    l.insert(l.end(), extra.begin(), extra.end());
    return l;
  };
  PrometheusText m;
  m.family("fiberleakd_target_up", "gauge", "1 when the latest scrape of the target succeeded.");
  for (const auto& s : statuses) m.sample("fiberleakd_target_up", labels(s), s.up ? 1 : 0);
  m.family("fiberleakd_scrape_duration_seconds", "gauge", "How long the latest scrape took.");
  for (const auto& s : statuses) m.sample("fiberleakd_scrape_duration_seconds", labels(s), s.scrape_seconds);
  m.family("fiberleakd_scrapes_total", "counter", "Scrapes attempted.");
  for (const auto& s : statuses) m.sample("fiberleakd_scrapes_total", labels(s), static_cast<double>(s.scrapes));
  m.family("fiberleakd_scrape_failures_total", "counter", "Scrapes that failed (down, slow, bad answer).");
  for (const auto& s : statuses)
    m.sample("fiberleakd_scrape_failures_total", labels(s), static_cast<double>(s.failures));
  m.family("fiberleakd_target_restarts_total", "counter", "Restarts of the target noticed between scrapes.");
  for (const auto& s : statuses)
    m.sample("fiberleakd_target_restarts_total", labels(s), static_cast<double>(s.restarts));
  m.family("fiberleakd_fibers", "gauge", "Fibers (goroutines) of the target by state at the latest scrape.");
  // What a target holds is unknown while it is down: no sample then (not 0),
  // so that an alert on these cannot go quiet because the target died.
  for (const auto& s : statuses) {
    if (!s.up) continue;
    for (const auto& [state, n] : s.fibers_by_state) {
      m.sample("fiberleakd_fibers", labels(s, {{"state", std::string(to_string(state))}}), static_cast<double>(n));
    }
  }
  m.family("fiberleakd_leak_suspects", "gauge", "Fibers the leak rules flag at the latest scrape.");
  for (const auto& s : statuses) {
    if (s.up) m.sample("fiberleakd_leak_suspects", labels(s), static_cast<double>(s.leak_suspects));
  }
  m.family(
      "fiberleakd_leaks", "gauge",
      "Leaked fibers at the latest scrape by verdict (definite needs owners: fiberleak targets); none while down.");
  for (const auto& s : statuses) {
    if (!s.up) continue;
    m.sample("fiberleakd_leaks", labels(s, {{"verdict", "definite"}}), static_cast<double>(s.definite_leaks));
    m.sample("fiberleakd_leaks", labels(s, {{"verdict", "suspect"}}),
             static_cast<double>(s.leak_suspects - s.definite_leaks));
  }
  m.family("fiberleakd_growing_site_fibers", "gauge", "Fibers at park sites that keep growing (top 5 per target).");
  for (const auto& s : statuses) {
    if (!s.up) continue;
    std::vector<GrowingSite> top = s.growing;
    std::sort(top.begin(), top.end(), [](const GrowingSite& a, const GrowingSite& b) { return a.fibers > b.fibers; });
    if (top.size() > 5) top.resize(5);
    for (const auto& g : top) {
      m.sample("fiberleakd_growing_site_fibers", labels(s, {{"site", g.site}}), static_cast<double>(g.fibers));
    }
  }
  if (webhook_) {
    const WebhookQueue::Counters c = webhook_->counters();
    m.family("fiberleakd_webhook_sent_total", "counter", "Findings the webhook accepted (2xx).");
    m.sample("fiberleakd_webhook_sent_total", static_cast<double>(c.sent));
    m.family("fiberleakd_webhook_dropped_total", "counter",
             "Findings never delivered to the webhook: queue full, refused, or every attempt failed.");
    m.sample("fiberleakd_webhook_dropped_total", static_cast<double>(c.dropped));
    m.family("fiberleakd_webhook_queued", "gauge", "Findings waiting for the webhook.");
    m.sample("fiberleakd_webhook_queued", static_cast<double>(c.queued));
  }
  return m.text();
}

std::string Sidecar::targets_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& mon : monitors_) {
    const TargetStatus s = mon->status();
    nlohmann::json by_state = nlohmann::json::object();
    for (const auto& [state, n] : s.fibers_by_state) by_state[std::string(to_string(state))] = n;
    out.push_back(
        {{"name", s.name},
         {"url", s.url},
         {"kind", s.kind},
         {"labels", s.labels},
         {"up", s.up},
         {"error", s.error},
         {"last_scrape_ms", s.last_scrape_ms},
         {"scrape_seconds", s.scrape_seconds},
         {"scrapes", s.scrapes},
         {"failures", s.failures},
         {"restarts", s.restarts},
         {"fibers_by_state", by_state},
         {"leak_suspects", s.up ? nlohmann::json(s.leak_suspects) : nlohmann::json(nullptr)},  // unknown when down
         {"growing_sites", s.growing.size()}});
  }
  return json_text(nlohmann::json{{"targets", out}}, 2);
}

std::string Sidecar::findings_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& mon : monitors_) {
    for (const TrackedFinding& t : mon->findings()) out.push_back(finding_json(t));
  }
  return json_text(nlohmann::json{{"findings", out}}, 2);
}

const TargetMonitor* Sidecar::monitor(const std::string& name) const {
  for (const auto& m : monitors_) {
    if (m->config().name == name) return m.get();
  }
  return nullptr;
}

std::string Sidecar::target_fibers_json(const std::string& name) const {
  const TargetMonitor* m = monitor(name);
  const std::shared_ptr<const FiberDump> dump = m != nullptr ? m->latest_dump() : nullptr;
  if (!dump) return "";
  const std::vector<LeakFinding> findings = open_findings(*m);
  LeakedFibers leaked;
  for (const LeakFinding& f : findings) leaked.emplace(f.fiber_id, &f);
  return json_text(fibers_to_json(*dump, leaked, nullptr, true), -1);
}

std::string Sidecar::target_leaks_json(const std::string& name) const {
  const TargetMonitor* m = monitor(name);
  if (m == nullptr || !m->latest_dump()) return "";
  return json_text(findings_to_json(open_findings(*m), m->status().growing), 2);
}

}  // namespace fiberleak::detail
