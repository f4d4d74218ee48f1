#include "daemon/sidecar.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "web/dashboard_routes.hpp"
#include "web/fiber_json.hpp"
#include "web/fiber_selection.hpp"
#include "web/json_text.hpp"
#include "web/prometheus_text.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

// A target's JSON; "" (not configured, or not scraped yet) is a 404.
void answer_for_target(httplib::Response& res, const std::string& body) {
  if (body.empty()) {
    res.status = 404;
    return res.set_content("404: no such target, or not scraped yet (see /api/targets)\n", "text/plain");
  }
  res.set_content(body, "application/json");
}

// A finding as /api/findings and the webhook show it: the endpoint's
// encoding of the finding plus its target and life cycle.
nlohmann::json finding_json(const TrackedFinding& t) {
  nlohmann::json j = finding_to_json(t.finding);
  j["target"] = t.target;
  j["labels"] = t.labels;
  j["lifecycle"] = to_string(t.lifecycle);
  j["first_seen_ms"] = t.first_seen_ms;
  j["last_seen_ms"] = t.last_seen_ms;
  j["resolved_ms"] = t.resolved_ms;
  return j;
}

// Config labels are kept when Prometheus takes their names; "target" stays
// reserved and "__" names are meta labels.
bool valid_label_name(const std::string& s) {
  return s != "target" && s.rfind("__", 0) != 0 && PrometheusText::valid_label_name(s);
}

// Whole seconds, as Prometheus writes its reload timestamp.
double unix_seconds() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
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

Sidecar::Sidecar(DaemonConfig config, std::shared_ptr<spdlog::logger> logger, ConfigSource reload_source)
    : logger_(std::move(logger)),
      reload_source_(std::move(reload_source)),
      config_(std::move(config)),
      http_(ServerLimits{}, sidecar_access(config_.token)),
      discovery_(logger_, [this] { apply_targets(); }) {
  if (const std::optional<HttpUrl> url = parse_http_url(config_.webhook_url)) {  // the config checked it
    webhook_ = std::make_shared<WebhookQueue>(*url, logger_, WebhookQueue::Options{});
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
  server.Get(R"(/api/targets/([^/]+)/fibers)", [this](const httplib::Request& req, httplib::Response& res) {
    FibersParams query;
    if (std::string err = parse_fibers_params(req.params, query); !err.empty()) return bad_request(res, err);
    answer_for_target(res, target_fibers_json(req.matches[1], query));
  });
  server.Get(R"(/api/targets/([^/]+)/leaks)", [this](const httplib::Request& req, httplib::Response& res) {
    std::size_t limit = 0;
    if (std::string err = parse_leaks_params(req.params, limit); !err.empty()) return bad_request(res, err);
    answer_for_target(res, target_leaks_json(req.matches[1], limit));
  });
  mount_dashboard(server, "/", kDashboardPages);
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  // Prometheus' lifecycle convention: 200 when applied, 500 and the problems when not.
  server.Post("/-/reload", [this](const httplib::Request&, httplib::Response& res) {
    const std::vector<std::string> problems = reload();
    std::string text = problems.empty() ? "config reloaded\n" : "config not reloaded; the old one runs:\n";
    for (const std::string& p : problems) text += "  " + p + "\n";
    res.status = problems.empty() ? 200 : 500;
    res.set_content(text, "text/plain");
  });
}

Sidecar::~Sidecar() {
  stop();
  std::vector<std::shared_ptr<Scraper>> all;  // the ones stop() left behind, if any
  {
    std::lock_guard<std::mutex> lock(targets_mutex_);
    for (auto& [name, s] : scrapers_) all.push_back(s);
  }
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    all.insert(all.end(), retired_.begin(), retired_.end());
  }
  for (auto& s : all) {
    if (s->thread.joinable()) s->thread.join();
  }
}

void Sidecar::start() {
  port_ = http_.bind(config_.listen_host, config_.listen_port);
  if (port_ < 0) throw std::runtime_error(cannot_listen(config_.listen_host, config_.listen_port));
  http_.start();
  last_reload_success_s_ = unix_seconds();
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    started_ = true;
  }
  apply_targets();  // the static ones at least
  discovery_.configure(config_.file_sd, config_.http_sd);
}

void Sidecar::start_scraper(Scraper& s) {
  s.thread = std::thread([this, &s] {
    scrape_loop(s);
    std::lock_guard<std::mutex> done(stop_mutex_);
    --scraping_;
    s.finished = true;
    stop_cv_.notify_all();
  });
  ++scraping_;  // once the thread runs (std::thread may throw)
}

void Sidecar::apply_targets() {
  const std::vector<SdTarget> discovered = discovery_.targets();
  std::lock_guard<std::mutex> lock(targets_mutex_);
  std::vector<TargetConfig> wanted = config_.targets;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < wanted.size(); ++i) index[wanted[i].name] = i;
  std::size_t duplicates = 0;
  for (const SdTarget& d : discovered) {
    if (index.count(d.name) != 0) {
      ++duplicates;
      continue;
    }
    TargetConfig t = config_.discovered_defaults;
    t.name = d.name;
    t.url = d.url;
    t.kind = d.kind;
    t.labels = d.labels;
    index[t.name] = wanted.size();
    wanted.push_back(std::move(t));
  }
  std::lock_guard<std::mutex> stopping(stop_mutex_);
  if (!started_ || stopping_) return;
  std::size_t added = 0, removed = 0;
  for (auto it = scrapers_.begin(); it != scrapers_.end();) {
    if (index.count(it->first) != 0) {
      ++it;
      continue;
    }
    Scraper& s = *it->second;
    s.removed = true;
    s.monitor->cancel();
    retired_.push_back(std::move(it->second));
    it = scrapers_.erase(it);
    ++removed;
  }
  stop_cv_.notify_all();
  std::size_t over_limit = 0;
  std::string no_thread;
  for (TargetConfig& t : wanted) {
    auto it = scrapers_.find(t.name);
    if (it != scrapers_.end()) {
      it->second->monitor->reconfigure(std::move(t), config_.max_body_bytes);
      continue;
    }
    if (scrapers_.size() >= kMaxTargets) {
      ++over_limit;
      continue;
    }
    auto s = std::make_shared<Scraper>();
    const std::string name = t.name;
    s->monitor = std::make_unique<TargetMonitor>(std::move(t), config_.max_body_bytes, logger_,
                                                 [this](const TrackedFinding& f) { post_webhook(f); });
    try {
      start_scraper(*s);
    } catch (const std::system_error& e) {  // out of threads (ulimit -u, TasksMax): tried again at the next change
      no_thread = e.what();
      ++over_limit;
      continue;
    }
    scrapers_.emplace(name, std::move(s));
    ++added;
  }
  if (over_limit > 0) {
    logger_->error("targets: {} not scraped: {}", over_limit,
                   no_thread.empty() ? "more than " + std::to_string(kMaxTargets) + " targets"
                                     : "no thread could be started (" + no_thread + ")");
  }
  if (added + removed > 0 || duplicates > 0) {
    logger_->info("targets: {} added, {} removed, {} now{}", added, removed, scrapers_.size(),
                  duplicates > 0 ? fmt::format(" ({} discovered more than once or named as a static one: scraped once)",
                                               duplicates)
                                 : std::string());
  }
  // Join what has finished (others finish once their scrape is canceled).
  for (auto it = retired_.begin(); it != retired_.end();) {
    if ((*it)->finished) {
      (*it)->thread.join();
      it = retired_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::string> Sidecar::reload() {
  std::lock_guard<std::mutex> serial(reload_mutex_);
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (!started_ || stopping_) return {"the sidecar is not running"};
  }
  ConfigResult loaded;
  if (reload_source_) {
    loaded = reload_source_();
  } else {
    loaded.errors.push_back("this sidecar has no config file to reload");
  }
  {
    std::lock_guard<std::mutex> lock(targets_mutex_);
    const DaemonConfig& now = config_;
    if (loaded.errors.empty() &&
        (loaded.config.listen_host != now.listen_host || loaded.config.listen_port != now.listen_port)) {
      loaded.errors.push_back("listen: changing it needs a restart");
    }
    if (loaded.errors.empty() && loaded.config.token != now.token) {
      loaded.errors.push_back("token: changing the sidecar's own token needs a restart");
    }
    last_reload_ok_ = loaded.errors.empty();
    if (!last_reload_ok_) {
      logger_->error("reload: {} problem{}; the running config stays:", loaded.errors.size(),
                     loaded.errors.size() == 1 ? "" : "s");
      for (const std::string& e : loaded.errors) logger_->error("  {}", e);
      return loaded.errors;
    }
    if (loaded.config.webhook_url != now.webhook_url) {
      if (webhook_) webhook_->stop();
      webhook_.reset();
      if (const std::optional<HttpUrl> url = parse_http_url(loaded.config.webhook_url)) {
        webhook_ = std::make_shared<WebhookQueue>(*url, logger_, WebhookQueue::Options{});
      }
    }
    logger_->set_level(spdlog::level::from_str(loaded.config.log_level));
    config_ = std::move(loaded.config);
    last_reload_success_s_ = unix_seconds();
  }
  // Never under targets_mutex_: discovery's threads take it in apply_targets().
  discovery_.configure(config_.file_sd, config_.http_sd);
  apply_targets();
  logger_->info("reload: config applied");
  return {};
}

bool Sidecar::stop(std::chrono::milliseconds grace) {
  const auto until = std::chrono::steady_clock::now() + grace;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stopping_) return scraping_ == 0;
    stopping_ = true;
  }
  discovery_.stop();
  stop_cv_.notify_all();
  for (const auto& s : scrapers()) s->monitor->cancel();
  if (auto w = webhook()) w->stop();
  bool finished = false;
  {
    std::unique_lock<std::mutex> lock(stop_mutex_);
    for (const auto& s : retired_) s->monitor->cancel();
    finished = stop_cv_.wait_until(lock, until, [this] { return scraping_ == 0; });
  }
  if (finished) {
    std::vector<std::shared_ptr<Scraper>> all = scrapers();
    {
      std::lock_guard<std::mutex> lock(stop_mutex_);
      all.insert(all.end(), retired_.begin(), retired_.end());
    }
    for (auto& s : all) {
      if (s->thread.joinable()) s->thread.join();
    }
  }
  http_.stop();
  return finished;
}

std::vector<std::shared_ptr<Sidecar::Scraper>> Sidecar::scrapers() const {
  std::lock_guard<std::mutex> lock(targets_mutex_);
  std::vector<std::shared_ptr<Scraper>> out;
  out.reserve(scrapers_.size());
  for (const auto& [name, s] : scrapers_) out.push_back(s);
  return out;
}

std::shared_ptr<WebhookQueue> Sidecar::webhook() const {
  std::lock_guard<std::mutex> lock(targets_mutex_);
  return webhook_;
}

void Sidecar::scrape_loop(Scraper& scraper) {
  TargetMonitor& monitor = *scraper.monitor;
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stopping_ && !scraper.removed) {
    lock.unlock();
    const TargetConfig config = monitor.config();
    const auto next = std::chrono::steady_clock::now() + config.interval;
    try {
      monitor.scrape_once();
    } catch (const std::exception& e) {
      logger_->error("target {}: scrape failed unexpectedly: {}", config.name, e.what());
    }
    lock.lock();
    stop_cv_.wait_until(lock, next, [&] { return stopping_ || scraper.removed; });
  }
}

void Sidecar::post_webhook(const TrackedFinding& finding) {
  if (finding.lifecycle == TrackedFinding::Lifecycle::ongoing) return;
  if (auto w = webhook()) w->push(json_text(finding_json(finding)));
}

std::string Sidecar::metrics_text() const {
  std::vector<TargetStatus> statuses;
  for (const auto& sc : scrapers()) statuses.push_back(sc->monitor->status());
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
  bool reload_ok = false;
  double reload_s = 0;
  {
    std::lock_guard<std::mutex> lock(targets_mutex_);
    reload_ok = last_reload_ok_;
    reload_s = last_reload_success_s_;
  }
  // Prometheus' own names for the same gauges.
  m.family("fiberleakd_config_last_reload_successful", "gauge", "1 when the last reload applied the config.");
  m.sample("fiberleakd_config_last_reload_successful", reload_ok ? 1 : 0);
  m.family("fiberleakd_config_last_reload_success_timestamp_seconds", "gauge",
           "When the config was last applied (start or reload), unix seconds.");
  m.sample("fiberleakd_config_last_reload_success_timestamp_seconds", reload_s);
  const TargetDiscovery::Counters sd = discovery_.counters();
  m.family(
      "fiberleakd_sd_failures_total", "counter",
      "Discovery files and http_sd answers that could not be read or were invalid (their last good targets stay).");
  m.sample("fiberleakd_sd_failures_total", {{"mechanism", "file"}}, static_cast<double>(sd.file_failures));
  m.sample("fiberleakd_sd_failures_total", {{"mechanism", "http"}}, static_cast<double>(sd.http_failures));
  if (const auto webhook = this->webhook()) {
    const WebhookQueue::Counters c = webhook->counters();
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
  for (const auto& sc : scrapers()) {
    const TargetStatus s = sc->monitor->status();
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
  for (const auto& sc : scrapers()) {
    for (const TrackedFinding& t : sc->monitor->findings()) out.push_back(finding_json(t));
  }
  return json_text(nlohmann::json{{"findings", out}}, 2);
}

std::shared_ptr<Sidecar::Scraper> Sidecar::scraper(const std::string& name) const {
  std::lock_guard<std::mutex> lock(targets_mutex_);
  auto it = scrapers_.find(name);
  return it != scrapers_.end() ? it->second : nullptr;
}

std::string Sidecar::target_fibers_json(const std::string& name, const FibersParams& query) const {
  const std::shared_ptr<Scraper> s = scraper(name);  // kept alive while used, whatever a reload does
  const std::shared_ptr<const FiberDump> dump = s != nullptr ? s->monitor->latest_dump() : nullptr;
  if (!dump) return "";
  return fibers_answer(*dump, open_findings(*s->monitor), query, nullptr);
}

std::string Sidecar::target_leaks_json(const std::string& name, std::size_t leaks_limit) const {
  const std::shared_ptr<Scraper> s = scraper(name);
  if (s == nullptr || !s->monitor->latest_dump()) return "";
  return json_text(findings_to_json(open_findings(*s->monitor), s->monitor->status().growing, leaks_limit), 2);
}

}  // namespace fiberleak::detail
