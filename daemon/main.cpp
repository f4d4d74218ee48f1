// fiberleakd: the demo service, the sidecar that scrapes targets, and a
// one-shot leak check for CI.
//
//   fiberleakd demo [--listen HOST:PORT] [--threshold DURATION] [--threads N]
//   fiberleakd scrape --config FILE [--listen HOST:PORT] [--log-level LEVEL]
//   fiberleakd check URL [--kind auto|fiberleak|go] [--threshold DURATION] [--json] [--ignore-* ...]
//   fiberleakd --help | --version
//
// Exit codes: 0 ok / no leaks, 1 leaks found (check), 2 usage or runtime errors.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/baseline.hpp"
#include "daemon/demo_service.hpp"
#include "daemon/daemon_config.hpp"
#include "daemon/go_dump_parser.hpp"
#include "daemon/sidecar.hpp"
#include "daemon/target_monitor.hpp"
#include "profiler/byte_size.hpp"
#include "profiler/duration.hpp"
#include "profiler/heap_profile.hpp"
#include <fiberleak/serve.hpp>
#include "web/heap_routes.hpp"
#include "web/fiber_json.hpp"
#include "web/server_setup.hpp"
#include "web/url.hpp"
#include "web/watchdog.hpp"

namespace {

constexpr const char* kVersion = "fiberleakd " FIBERLEAK_VERSION;
constexpr const char* kUsage = R"(usage: fiberleakd <command> [options]

commands:
  demo     run a demo service on Boost.Fiber that leaks fibers, with the endpoint
             --listen HOST:PORT     where to serve (default 127.0.0.1:6060)
             --threshold DURATION   blocked longer than this is a leak (default 10s)
             --threads N            scheduler threads (default 3)
  scrape   the sidecar: scrape the targets of a config file, serve /metrics and /api
             --config FILE          JSON config (see config/fiberleakd.example.json)
             --listen HOST:PORT     overrides the config's listen address
             --log-level LEVEL      overrides the config's log level
  check    fetch a target once and report leak suspects
             URL                    the target: http://host:port or any of its /debug/... URLs
             --kind auto|fiberleak|go   fiberleak: /debug/fibers; go: net/http/pprof's
                                    goroutine?debug=2; auto (default) tries fiberleak first
             --threshold DURATION   default 30s (Go reports whole minutes: a lower bound)
             --ignore-name NAME     a fiber name (or prefix*) to ignore; repeatable
             --ignore-top FUNC      ignore fibers parked in a function containing FUNC
             --ignore-function FUNC ignore fibers with FUNC anywhere in their stack
             --interval DURATION    look twice, this far apart (growing sites; Go minutes)
             --config FILE          apply the rules section of a fiberleakd config
             --baseline FILE        compare parked fibers per site with FILE (written when missing)
             --max-growth N         with --baseline: allowed growth per site (default 0)
             --json                 print findings as JSON
           exit status: 0 clean, 1 leaks found (or growth past the baseline), 2 error

options: --help, --version
durations: 500ms, 30s, 2m, 1h30m
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "fiberleakd: %s\n(see fiberleakd --help)\n", message.c_str());
  return 2;
}

struct Args {
  std::vector<std::string> items;
  std::size_t next = 0;
  bool done() const { return next >= items.size(); }
  const std::string& peek() const { return items[next]; }
  // The value of a flag; nullopt (and an error printed) if missing.
  std::optional<std::string> value(const std::string& flag) {
    if (done()) {
      usage_error(flag + " needs a value");
      return std::nullopt;
    }
    return items[next++];
  }
};

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int run_demo(Args& args) {
  std::string host = "127.0.0.1";
  int port = 6060;
  std::int64_t threshold = 10'000'000'000;
  int threads = 3;
  while (!args.done()) {
    const std::string flag = args.items[args.next++];
    if (flag == "--listen") {
      auto v = args.value(flag);
      if (!v) return 2;
      if (!fiberleak::detail::parse_listen_address(*v, host, port)) return usage_error("--listen takes HOST:PORT, got \"" + *v + "\"");
    } else if (flag == "--threshold") {
      auto v = args.value(flag);
      if (!v) return 2;
      if (!fiberleak::detail::parse_duration(*v, threshold)) return usage_error("--threshold takes a duration, got \"" + *v + "\"");
    } else if (flag == "--threads") {
      auto v = args.value(flag);
      if (!v) return 2;
      try {
        threads = std::stoi(*v);
      } catch (const std::exception&) {
        threads = 0;
      }
      if (threads < 1 || threads > 64) return usage_error("--threads takes 1..64, got \"" + *v + "\"");
    } else {
      return usage_error("demo: unknown option \"" + flag + "\"");
    }
  }

  fiberleak::ServeOptions serve_options;
  serve_options.host = host;
  serve_options.port = port;
  serve_options.endpoint.rules.threshold = std::chrono::nanoseconds(threshold);
  // Each scheduler thread's main fiber waits for shutdown by design: the
  // ignore rule every service with such threads wants (goleak's IgnoreCurrent).
  serve_options.endpoint.rules.ignore_names = {"demo-main", "scheduler-main"};
  serve_options.endpoint.watchdog_interval = std::chrono::seconds(2);
  // The heap profiler is linked in: /debug/pprof/heap and per-fiber live
  // bytes. Every 4 KiB on average, so a single leaked fiber's bytes show
  // steadily (FIBERLEAK_HEAP_RATE overrides).
  if (std::getenv("FIBERLEAK_HEAP_RATE") == nullptr) fiberleak::detail::set_heap_sampling(4096);
  fiberleak::detail::register_heap_routes();
  fiberleak::ServeHandle server;
  try {
    server = fiberleak::serve(serve_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fiberleakd: %s\n", e.what());
    return 2;
  }
  fiberleak::demo::DemoService service({threads, std::chrono::milliseconds(500)});
  service.start();

  const std::string url = server.url();
  std::printf(
      "fiberleakd demo: a Boost.Fiber service on %d threads that leaks fibers, served at %s\n\n"
      "try:\n"
      "  curl %s/debug/goroutine                        every fiber, Go's debug=2 layout\n"
      "  curl '%s/debug/pprof/goroutine?debug=1'        grouped by stack, with counts\n"
      "  go tool pprof -top %s/debug/pprof/goroutine\n"
      "  go tool pprof -top %s/debug/pprof/heap         live heap by allocation site\n"
      "  curl %s/debug/leaks                            leak suspects (blocked > %s), what each holds\n"
      "  curl '%s/debug/fibers?state=blocked'           JSON, exact durations\n"
      "  curl %s/metrics                                Prometheus\n\n"
      "leak findings are logged below as they appear. Ctrl-C stops.\n\n",
      threads, url.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str(),
      fiberleak::detail::format_duration(threshold).c_str(), url.c_str(), url.c_str());
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::printf("\nfiberleakd demo: stopping (%llu requests served)\n",
              static_cast<unsigned long long>(service.requests_served()));
  server.stop();
  service.stop();
  return 0;
}

int run_scrape(Args& args) {
  std::string config_path, listen, log_level;
  while (!args.done()) {
    const std::string flag = args.items[args.next++];
    std::string* into = flag == "--config" ? &config_path : flag == "--listen" ? &listen : flag == "--log-level" ? &log_level : nullptr;
    if (into == nullptr) return usage_error("scrape: unknown option \"" + flag + "\"");
    auto v = args.value(flag);
    if (!v) return 2;
    *into = *v;
  }
  if (config_path.empty()) return usage_error("scrape needs --config FILE");
  const fiberleak::detail::ConfigResult loaded =
      fiberleak::detail::load_daemon_config(config_path, fiberleak::detail::ConfigUse::scrape, {listen, log_level});
  const fiberleak::detail::DaemonConfig& config = loaded.config;
  if (!loaded.errors.empty()) {
    std::fprintf(stderr, "fiberleakd: %s: %zu problem%s, nothing started:\n", config_path.c_str(), loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s");
    for (const std::string& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.c_str());
    return 2;
  }
  auto logger = fiberleak::detail::default_logger();
  logger->set_level(spdlog::level::from_str(config.log_level));
  fiberleak::detail::Sidecar sidecar(config, logger);
  try {
    sidecar.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fiberleakd: %s\n", e.what());
    return 2;
  }
  logger->info("scraping {} target{}; serving http://{}:{}/metrics, /api/targets, /api/findings", config.targets.size(),
               config.targets.size() == 1 ? "" : "s", config.listen_host, sidecar.port());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  logger->info("stopping");
  sidecar.stop();
  return 0;
}

// `check --baseline`: writes a missing file, else compares with it.
int compare_baseline(const std::string& path, const fiberleak::detail::SiteCounts& sites, std::size_t max_growth) {
  std::ifstream in(path);
  if (!in) {
    std::ofstream out(path);
    out << fiberleak::detail::baseline_to_json(sites).dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "fiberleakd: cannot write baseline %s\n", path.c_str());
      return 2;
    }
    std::printf("baseline written to %s (%zu park sites)\n", path.c_str(), sites.size());
    return 0;
  }
  std::stringstream text;
  text << in.rdbuf();
  fiberleak::detail::SiteCounts before;
  try {
    before = fiberleak::detail::baseline_from_json_text(text.str());
  } catch (const fiberleak::detail::JsonSchemaError& e) {
    std::fprintf(stderr, "fiberleakd: %s: not a baseline written by fiberleakd check --baseline (%s)\n", path.c_str(),
                 e.what());
    return 2;
  }
  const auto grown = fiberleak::detail::grown_sites(before, sites, max_growth);
  if (grown.empty()) {
    std::printf("no park site grew by more than %zu since the baseline %s\n", max_growth, path.c_str());
    return 0;
  }
  std::printf("park sites that grew by more than %zu since the baseline:\n", max_growth);
  for (const auto& g : grown) std::printf("  +%zu (%zu -> %zu)  %s\n", g.now - g.before, g.before, g.now, g.site.c_str());
  return 1;
}

int run_check(Args& args) {
  fiberleak::detail::TargetConfig target;
  target.name = "check";
  target.timeout = std::chrono::seconds(30);
  target.interval = target.timeout;
  fiberleak::LeakRules& rules = target.rules;
  std::vector<std::string> extra_ignores[3];  // names, top functions, any functions (added to --config's)
  std::string url, config_path, baseline;
  std::int64_t interval_ns = 0, threshold_ns = rules.threshold.count();
  long max_growth = 0;
  bool json = false, threshold_set = false;
  while (!args.done()) {
    const std::string item = args.items[args.next++];
    if (item == "--threshold" || item == "--interval") {
      auto v = args.value(item);
      if (!v) return 2;
      std::int64_t& into = item == "--threshold" ? threshold_ns : interval_ns;
      if (!fiberleak::detail::parse_duration(*v, into)) return usage_error(item + " takes a duration like 90s or 2m, got \"" + *v + "\"");
      threshold_set = threshold_set || item == "--threshold";
    } else if (item == "--kind") {
      auto v = args.value(item);
      if (!v) return 2;
      if (!fiberleak::detail::parse_target_kind(*v, target.kind)) {
        return usage_error(std::string("--kind takes ") + fiberleak::detail::kTargetKinds);
      }
    } else if (item == "--ignore-name" || item == "--ignore-top" || item == "--ignore-function") {
      auto v = args.value(item);
      if (!v) return 2;
      extra_ignores[item == "--ignore-name" ? 0 : item == "--ignore-top" ? 1 : 2].push_back(*v);
    } else if (item == "--config" || item == "--baseline") {
      auto v = args.value(item);
      if (!v) return 2;
      (item == "--config" ? config_path : baseline) = *v;
    } else if (item == "--max-growth") {
      auto v = args.value(item);
      if (!v) return 2;
      char* end = nullptr;
      max_growth = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || max_growth < 0) return usage_error("--max-growth takes a whole number >= 0");
    } else if (item == "--json") {
      json = true;
    } else if (item.rfind("--", 0) == 0) {
      return usage_error("check: unknown option \"" + item + "\"");
    } else if (url.empty()) {
      url = item;
    } else {
      return usage_error("check: one URL only");
    }
  }
  if (url.empty()) return usage_error("check: which target? (a URL like http://127.0.0.1:6060)");
  const std::optional<fiberleak::detail::HttpUrl> parsed = fiberleak::detail::parse_http_url(url);
  if (!parsed) return usage_error("check: not an http:// URL: \"" + url + "\"");
  target.url = parsed->origin + fiberleak::detail::endpoint_prefix(parsed->path);
  if (!config_path.empty()) {
    const fiberleak::detail::ConfigResult loaded =
        fiberleak::detail::load_daemon_config(config_path, fiberleak::detail::ConfigUse::rules);
    if (!loaded.errors.empty()) {
      std::fprintf(stderr, "fiberleakd: %s:\n", config_path.c_str());
      for (const auto& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.c_str());
      return 2;
    }
    rules = loaded.global_rules;
  }
  if (threshold_set || config_path.empty()) rules.threshold = std::chrono::nanoseconds(threshold_ns);  // flags override the config file
  rules.ignore_names.insert(rules.ignore_names.end(), extra_ignores[0].begin(), extra_ignores[0].end());
  rules.ignore_top_functions.insert(rules.ignore_top_functions.end(), extra_ignores[1].begin(), extra_ignores[1].end());
  rules.ignore_any_functions.insert(rules.ignore_any_functions.end(), extra_ignores[2].begin(), extra_ignores[2].end());

  // Quiet monitor: check prints its own report.
  auto quiet = std::make_shared<spdlog::logger>("fiberleakd-check");
  quiet->set_level(spdlog::level::off);
  fiberleak::detail::TargetMonitor monitor(target, std::size_t{256} << 20, quiet);
  monitor.scrape_once();
  if (interval_ns > 0 && monitor.status().up) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(interval_ns));
    monitor.scrape_once();
  }
  const fiberleak::detail::TargetStatus status = monitor.status();
  if (!status.up) {
    std::fprintf(stderr, "fiberleakd: %s: %s\n", url.c_str(), status.error.c_str());
    return 2;
  }
  std::vector<fiberleak::LeakFinding> findings;
  for (const auto& t : monitor.findings()) {
    if (t.lifecycle != fiberleak::detail::TrackedFinding::Lifecycle::resolved) findings.push_back(t.finding);
  }
  std::sort(findings.begin(), findings.end(), [](const auto& a, const auto& b) { return a.blocked_ns > b.blocked_ns; });
  std::size_t fibers = 0;
  for (const auto& [state, n] : status.fibers_by_state) fibers += n;
  if (json) {
    std::cout << fiberleak::detail::findings_to_json(findings, status.growing).dump(2) << "\n";
  } else if (findings.empty()) {
    std::printf("no leak suspects among %zu fibers of a %s target (threshold %s)\n", fibers, status.kind.c_str(),
                fiberleak::detail::format_duration(rules.threshold.count()).c_str());
  } else {
    std::printf("%zu leak suspects among %zu fibers of a %s target (threshold %s):\n\n", findings.size(), fibers,
                status.kind.c_str(), fiberleak::detail::format_duration(rules.threshold.count()).c_str());
    // STACK: reserved; HEAP: estimated live bytes it allocated ("-": unknown,
    // e.g. Go targets, or the heap profiler is not running).
    std::printf("%8s  %-16s  %-14s  %9s  %9s  %9s  %s\n", "FIBER", "NAME", "WAITING IN", "FOR", "STACK", "HEAP",
                "WHERE");
    for (const auto& f : findings) {
      const std::string blocked = (f.blocked_exact ? "" : ">=") + fiberleak::detail::format_duration(f.blocked_ns);
      const std::string stack =
          f.stack_bytes == 0 ? "-" : fiberleak::detail::format_bytes(static_cast<std::int64_t>(f.stack_bytes));
      const std::string heap = f.heap_live_bytes ? fiberleak::detail::format_bytes(*f.heap_live_bytes) : "-";
      std::printf("%8llu  %-16s  %-14s  %9s  %9s  %9s  %s (%s:%d)\n", static_cast<unsigned long long>(f.fiber_id),
                  f.name.empty() ? "-" : f.name.c_str(), f.wait_reason.c_str(), blocked.c_str(), stack.c_str(),
                  heap.c_str(), f.function.c_str(), f.file.empty() ? "?" : f.file.c_str(), f.line);
    }
  }
  int rc = findings.empty() ? 0 : 1;
  if (!baseline.empty()) rc = std::max(rc, compare_baseline(baseline, status.site_counts, static_cast<std::size_t>(max_growth)));
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) args.items.emplace_back(argv[i]);
  if (args.done()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string command = args.items[args.next++];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "--version") {
    std::puts(kVersion);
    return 0;
  }
  if (command == "demo") return run_demo(args);
  // Only the demo serves its own heap profile: elsewhere the linked-in
  // sampler stays off unless FIBERLEAK_HEAP_RATE asks for it.
  if (std::getenv("FIBERLEAK_HEAP_RATE") == nullptr) fiberleak::detail::set_heap_sampling(0);
  if (command == "check") return run_check(args);
  if (command == "scrape") return run_scrape(args);
  return usage_error("unknown command \"" + command + "\"");
}
