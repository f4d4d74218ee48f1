#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <fiberleak/mount.hpp>
#include <fiberleak/runtime.hpp>

#include "profiler/dump_builder.hpp"
#include "profiler/goroutine_profile.hpp"
#include "profiler/goroutine_text.hpp"
#include "profiler/heap_profile.hpp"
#include "profiler/symbolizer.hpp"
#include "web/dashboard_routes.hpp"
#include "web/delta_slot.hpp"
#include "web/fiber_json.hpp"
#include "web/fiber_selection.hpp"
#include "web/heap_routes.hpp"
#include "web/json_text.hpp"
#include "web/metrics_page.hpp"
#include "web/query_params.hpp"
#include "web/route_set.hpp"
#include "web/server_thread.hpp"
#include "web/watchdog.hpp"

namespace fiberleak::detail {

// State and handlers of one mounted set of routes. Thread-safe: handlers run
// concurrently on the server's worker threads.
class Endpoint {
 public:
  explicit Endpoint(EndpointOptions options);
  void register_routes(httplib::Server& server, const std::string& prefix);

 private:
  using Handler = void (Endpoint::*)(const httplib::Request&, httplib::Response&);
  static FiberDump dump(RuntimeCounters* counters = nullptr);
  // dump() with each fiber's live heap bytes (when the heap profiler runs):
  // what leak findings report a fiber costs. Also what the watchdog
  // evaluates, which may outlive this endpoint.
  static FiberDump dump_with_heap(RuntimeCounters* counters = nullptr);
  void timed(ProfileFormat format, const std::function<void()>& build);

  void goroutine(const httplib::Request& req, httplib::Response& res);
  void full_dump(const httplib::Request& req, httplib::Response& res);
  void index(const httplib::Request& req, httplib::Response& res);
  void symbol(const httplib::Request& req, httplib::Response& res);
  void cmdline(const httplib::Request& req, httplib::Response& res);
  void fibers(const httplib::Request& req, httplib::Response& res);
  void leaks(const httplib::Request& req, httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res);
  void healthz(const httplib::Request& req, httplib::Response& res);

  EndpointOptions options_;
  int max_delta_seconds_;               // options_.max_delta as the query parsers take it
  std::shared_ptr<Watchdog> watchdog_;  // the process's one, or null
  ProfileBuildTimes build_times_;
  std::vector<RouteSet> extra_;  // registered_route_sets() at mount time
};

namespace {

constexpr const char* kDashboardDir = "/debug/fiberleak/";
const std::vector<DashboardPage> kDashboardPages{{"", "endpoint.html"}};

std::string read_cmdline() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

}  // namespace

Endpoint::Endpoint(EndpointOptions options)
    : options_(std::move(options)),
      max_delta_seconds_(static_cast<int>(std::clamp<std::int64_t>(options_.max_delta.count(), 0, 1 << 30))) {
  if (!options_.logger) options_.logger = default_logger();
  if (options_.watchdog_interval.count() > 0) {
    watchdog_ = Watchdog::shared([] { return dump_with_heap(); }, options_.rules, options_.watchdog_interval,
                                 options_.logger, Watchdog::Callbacks{options_.on_leak, options_.on_growing_site});
  }
}

FiberDump Endpoint::dump(RuntimeCounters* counters) {
  Snapshot snap = fiberleak::snapshot();
  if (counters != nullptr) *counters = snap.counters;
  return build_dump(snap);
}

FiberDump Endpoint::dump_with_heap(RuntimeCounters* counters) {
  FiberDump d = dump(counters);
  attach_heap_live_bytes(d);
  return d;
}

void Endpoint::timed(ProfileFormat format, const std::function<void()>& build) {
  const auto start = std::chrono::steady_clock::now();
  build();
  build_times_.record(format, std::chrono::steady_clock::now() - start);
}

void Endpoint::goroutine(const httplib::Request& req, httplib::Response& res) {
  GoroutineParams p;
  if (auto err = parse_goroutine_params(req.params, max_delta_seconds_, p); !err.empty()) {
    return bad_request(res, err);
  }
  if (p.seconds > 0) {
    const DeltaSlot slot = DeltaSlot::take();
    if (!slot.held()) return refuse_delta(res, p.seconds);
    const FiberDump before = dump();
    std::this_thread::sleep_for(std::chrono::seconds(p.seconds));
    timed(ProfileFormat::goroutine_delta, [&] {
      res.set_content(goroutine_delta_profile(before, dump(), Symbolizer::mappings()), "application/octet-stream");
    });
    res.set_header("Content-Disposition", "attachment; filename=\"goroutine-delta.pb.gz\"");
    return;
  }
  switch (p.debug) {
    case 0:
      timed(ProfileFormat::goroutine_proto,
            [&] { res.set_content(goroutine_profile(dump(), Symbolizer::mappings()), "application/octet-stream"); });
      res.set_header("Content-Disposition", "attachment; filename=\"goroutine.pb.gz\"");
      break;
    case 1:
      timed(ProfileFormat::goroutine_debug1,
            [&] { res.set_content(render_debug1(dump(), &Symbolizer::instance()), "text/plain; charset=utf-8"); });
      break;
    default:
      timed(ProfileFormat::goroutine_debug2,
            [&] { res.set_content(render_debug2(dump(), &Symbolizer::instance()), "text/plain; charset=utf-8"); });
  }
}

void Endpoint::full_dump(const httplib::Request& req, httplib::Response& res) {
  if (auto err = parse_no_params(req.params, "/debug/goroutine"); !err.empty()) return bad_request(res, err);
  timed(ProfileFormat::goroutine_debug2,
        [&] { res.set_content(render_debug2(dump(), &Symbolizer::instance()), "text/plain; charset=utf-8"); });
}

void Endpoint::index(const httplib::Request& req, httplib::Response& res) {
  if (auto err = parse_no_params(req.params, "/debug/pprof/"); !err.empty()) return bad_request(res, err);
  const std::size_t fibers = fiberleak::snapshot().fibers.size();
  std::ostringstream html;
  html << "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/<br>\n<br>\n"
       << "Types of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n"
       << "<tr><td>" << fibers << "</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>\n";
  for (const RouteSet& set : extra_) {
    for (const ProfileIndexEntry& e : set.index) {
      const std::int64_t n = e.count ? e.count() : -1;
      html << "<tr><td>" << (n >= 0 ? std::to_string(n) : std::string()) << "</td><td><a href='" << e.link << "'>"
           << e.name << "</a></td></tr>\n";
    }
  }
  html << "</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n<br>\n<p>\nProfile Descriptions:\n"
       << "<ul>\n<li><div class=profile-name>goroutine: </div> Stack traces of all current fibers "
       << "(Boost.Fiber), in Go's goroutine profile formats.</li>\n";
  for (const RouteSet& set : extra_) {
    for (const ProfileIndexEntry& e : set.index) {
      html << "<li><div class=profile-name>" << e.name << ": </div> " << e.description << "</li>\n";
    }
  }
  html << "</ul>\n</p>\n"
       << "<p>Also: <a href=\"../fibers\">/debug/fibers</a> (JSON), <a href=\"../leaks\">/debug/leaks</a>, "
       << "<a href=\"../goroutine\">/debug/goroutine</a>.</p>\n</body>\n</html>\n";
  res.set_content(html.str(), "text/html; charset=utf-8");
}

void Endpoint::symbol(const httplib::Request& req, httplib::Response& res) {
  // pprof's remote symbolization protocol (net/http/pprof Symbol): GET
  // without addresses answers whether symbols exist; POST (or GET with a
  // query) sends "0x1234+0x5678" and gets "0x1234 name" lines.
  std::string addresses = req.method == "POST" ? req.body : std::string();
  if (req.method != "POST") {
    const auto q = req.target.find('?');
    if (q != std::string::npos) addresses = req.target.substr(q + 1);
  }
  std::string out = "num_symbols: 1\n";
  std::size_t start = 0;
  while (start < addresses.size()) {
    std::size_t end = addresses.find('+', start);
    if (end == std::string::npos) end = addresses.size();
    const std::string word = addresses.substr(start, end - start);
    start = end + 1;
    char* parse_end = nullptr;
    const std::uint64_t pc = std::strtoull(word.c_str(), &parse_end, 0);
    if (word.empty() || parse_end == word.c_str() || *parse_end != '\0') continue;  // Go skips what it cannot parse
    // Addresses come from profiles: look up the instruction itself (pc+1 -> pc).
    const std::string function = Symbolizer::instance().function_name(pc + 1);
    if (function == "?") continue;
    out += word + " " + function + "\n";
  }
  res.set_content(out, "text/plain; charset=utf-8");
}

void Endpoint::cmdline(const httplib::Request& req, httplib::Response& res) {
  if (auto err = parse_no_params(req.params, "/debug/pprof/cmdline"); !err.empty()) return bad_request(res, err);
  res.set_content(read_cmdline(), "text/plain; charset=utf-8");
}

void Endpoint::fibers(const httplib::Request& req, httplib::Response& res) {
  FibersParams p;
  if (auto err = parse_fibers_params(req.params, p); !err.empty()) return bad_request(res, err);
  timed(ProfileFormat::fibers_json, [&] {
    RuntimeCounters counters;
    FiberDump all = dump_with_heap(&counters);
    const std::vector<LeakFinding> findings = find_leaks(all, options_.rules);
    res.set_content(fibers_answer(std::move(all), findings, p, &counters), "application/json");
  });
}

void Endpoint::leaks(const httplib::Request& req, httplib::Response& res) {
  std::size_t limit = 0;
  if (auto err = parse_leaks_params(req.params, limit); !err.empty()) return bad_request(res, err);
  const std::vector<LeakFinding> findings = find_leaks(dump_with_heap(), options_.rules);
  const std::vector<GrowingSite> growing = watchdog_ ? watchdog_->latest().growing : std::vector<GrowingSite>{};
  res.set_content(json_text(findings_to_json(findings, growing, limit), 2), "application/json");
}

void Endpoint::metrics(const httplib::Request& req, httplib::Response& res) {
  if (auto err = parse_no_params(req.params, "/metrics"); !err.empty()) return bad_request(res, err);
  RuntimeCounters counters;
  const FiberDump d = dump(&counters);
  MetricsInputs in{d, counters, find_leaks(d, options_.rules),
                   watchdog_ ? watchdog_->latest().growing : std::vector<GrowingSite>{}, build_times_};
  std::string text = render_metrics(in);
  for (const RouteSet& set : extra_) {
    if (set.metrics) text += set.metrics();
  }
  res.set_content(text, PrometheusText::kContentType);
}

void Endpoint::healthz(const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); }

void Endpoint::register_routes(httplib::Server& server, const std::string& prefix) {
  auto route = [this](Handler h) {
    return [this, h](const httplib::Request& req, httplib::Response& res) { (this->*h)(req, res); };
  };
  server.Get(prefix + "/debug/goroutine", route(&Endpoint::full_dump));
  server.Get(prefix + "/debug/pprof/goroutine", route(&Endpoint::goroutine));
  server.Get(prefix + "/debug/pprof/?", route(&Endpoint::index));
  server.Get(prefix + "/debug/pprof/symbol", route(&Endpoint::symbol));
  server.Post(prefix + "/debug/pprof/symbol", route(&Endpoint::symbol));
  server.Get(prefix + "/debug/pprof/cmdline", route(&Endpoint::cmdline));
  server.Get(prefix + "/debug/fibers", route(&Endpoint::fibers));
  server.Get(prefix + "/debug/leaks", route(&Endpoint::leaks));
  server.Get(prefix + "/metrics", route(&Endpoint::metrics));
  server.Get(prefix + "/healthz", route(&Endpoint::healthz));
  mount_dashboard(server, prefix + kDashboardDir, kDashboardPages);
  extra_ = registered_route_sets();
  // The heap profile comes with the heap profiler: linked or preloaded, it
  // is served without the program asking.
  const bool heap_registered =
      std::any_of(extra_.begin(), extra_.end(), [](const RouteSet& set) { return set.name == "heap"; });
  if (!heap_registered && heap_profiler_available()) {
    extra_.push_back(heap_route_set(max_delta_seconds_));
  }
  for (const RouteSet& set : extra_) {
    if (set.mount) set.mount(server, prefix);
  }
}

}  // namespace fiberleak::detail

namespace fiberleak {

MountedRoutes mount(httplib::Server& server, const std::string& prefix, EndpointOptions options) {
  auto endpoint = std::make_shared<detail::Endpoint>(std::move(options));
  endpoint->register_routes(server, prefix);
  return endpoint;
}

// --- serve() -----------------------------------------------------------------

namespace {

detail::ServerLimits endpoint_limits() {
  detail::ServerLimits limits;
  limits.max_body_bytes = std::size_t{1} << 20;  // symbol lookups only: no large bodies
  return limits;
}

detail::AccessPolicy endpoint_access(const ServeOptions& options) {
  detail::AccessPolicy access;
  access.token = options.token;
  if (access.token.empty()) {
    if (const char* env = std::getenv("FIBERLEAK_TOKEN")) access.token = env;
  }
  access.allowed_hosts = options.allowed_hosts;
  // The dashboard's files hold no data; its page sends the token itself.
  detail::open_dashboard(access, detail::kDashboardDir, detail::kDashboardPages);
  access.open_paths.emplace_back("/");  // redirects there
  return access;
}

}  // namespace

struct ServeHandle::State {
  explicit State(const ServeOptions& options) : http(endpoint_limits(), endpoint_access(options)) {}
  MountedRoutes endpoint;  // outlives the server, whose routes call it
  detail::ServerThread http;
};

ServeHandle::ServeHandle() = default;
ServeHandle::ServeHandle(ServeHandle&&) noexcept = default;
ServeHandle& ServeHandle::operator=(ServeHandle&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
    port_ = other.port_;
    host_ = std::move(other.host_);
  }
  return *this;
}
ServeHandle::~ServeHandle() { stop(); }

std::string ServeHandle::url() const { return "http://" + host_ + ":" + std::to_string(port_); }

void ServeHandle::stop() {
  if (!state_) return;
  state_->http.stop();
  state_.reset();
}

ServeHandle serve(ServeOptions options) {
  ServeHandle handle;
  handle.state_ = std::make_unique<ServeHandle::State>(options);
  auto& state = *handle.state_;
  httplib::Server& server = state.http.server();
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(
          res.status == 404 ? "404 not found: see /debug/pprof/ for the routes\n" : std::to_string(res.status) + "\n",
          "text/plain");
    }
  });
  const int port = state.http.bind(options.host, options.port);
  if (port < 0) throw std::runtime_error("fiberleak: " + detail::cannot_listen(options.host, options.port));
  state.endpoint = mount(server, "", std::move(options.endpoint));
  // fiberleak owns this server: its root is the dashboard.
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_redirect(detail::kDashboardDir); });
  state.http.start();
  handle.port_ = port;
  handle.host_ = options.host;
  return handle;
}

}  // namespace fiberleak
