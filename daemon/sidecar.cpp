#include "daemon/sidecar.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

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

}  // namespace

Sidecar::Sidecar(DaemonConfig config, std::shared_ptr<spdlog::logger> logger)
    : config_(std::move(config)), logger_(std::move(logger)) {
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
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
}

Sidecar::~Sidecar() { stop(); }

void Sidecar::start() {
  port_ = http_.bind(config_.listen_host, config_.listen_port);
  if (port_ < 0) throw std::runtime_error(cannot_listen(config_.listen_host, config_.listen_port));
  http_.start();
  for (auto& m : monitors_) threads_.emplace_back([this, &m] { scrape_loop(*m); });
}

void Sidecar::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  http_.stop();
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
  if (config_.webhook_url.empty() || finding.lifecycle == TrackedFinding::Lifecycle::ongoing) return;
  const std::optional<HttpUrl> url = parse_http_url(config_.webhook_url);  // the config checked it
  if (!url) return;
  httplib::Client client(url->origin);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  const std::string path = url->path.empty() ? "/" : url->path;
  auto res = client.Post(path.c_str(), json_text(finding_json(finding)), "application/json");
  if (!res || res->status >= 300) {
    logger_->warn("webhook {}: {}", config_.webhook_url,
                  res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
  }
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
  for (const auto& s : statuses) {
    for (const auto& [state, n] : s.fibers_by_state) {
      m.sample("fiberleakd_fibers", labels(s, {{"state", std::string(to_string(state))}}), static_cast<double>(n));
    }
  }
  m.family("fiberleakd_leak_suspects", "gauge", "Fibers the leak rules flag at the latest scrape.");
  for (const auto& s : statuses) m.sample("fiberleakd_leak_suspects", labels(s), static_cast<double>(s.leak_suspects));
  m.family("fiberleakd_growing_site_fibers", "gauge", "Fibers at park sites that keep growing (top 5 per target).");
  for (const auto& s : statuses) {
    std::vector<GrowingSite> top = s.growing;
    std::sort(top.begin(), top.end(), [](const GrowingSite& a, const GrowingSite& b) { return a.fibers > b.fibers; });
    if (top.size() > 5) top.resize(5);
    for (const auto& g : top) {
      m.sample("fiberleakd_growing_site_fibers", labels(s, {{"site", g.site}}), static_cast<double>(g.fibers));
    }
  }
  return m.text();
}

std::string Sidecar::targets_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& mon : monitors_) {
    const TargetStatus s = mon->status();
    nlohmann::json by_state = nlohmann::json::object();
    for (const auto& [state, n] : s.fibers_by_state) by_state[std::string(to_string(state))] = n;
    out.push_back({{"name", s.name},
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
                   {"leak_suspects", s.leak_suspects},
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

}  // namespace fiberleak::detail
