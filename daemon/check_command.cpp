#include "daemon/check_command.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include "daemon/baseline.hpp"
#include "daemon/daemon_config.hpp"
#include "daemon/target_monitor.hpp"
#include "profiler/byte_size.hpp"
#include "profiler/duration.hpp"
#include "web/fiber_json.hpp"
#include "web/json_text.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

void print_table(const std::vector<LeakFinding>& findings, std::size_t fibers, const TargetStatus& status,
                 std::int64_t threshold_ns) {
  const std::string threshold = format_duration(threshold_ns);
  if (findings.empty()) {
    std::printf("no leak suspects among %zu fibers of a %s target (threshold %s)\n", fibers, status.kind.c_str(),
                threshold.c_str());
    return;
  }
  std::printf("%zu leak suspects among %zu fibers of a %s target (threshold %s):\n\n", findings.size(), fibers,
              status.kind.c_str(), threshold.c_str());
  // STACK: reserved; HEAP: estimated live bytes it allocated ("-": unknown,
  // e.g. Go targets, or the heap profiler is not running).
  std::printf("%8s  %-16s  %-14s  %9s  %9s  %9s  %s\n", "FIBER", "NAME", "WAITING IN", "FOR", "STACK", "HEAP", "WHERE");
  for (const auto& f : findings) {
    const std::string blocked = (f.blocked_exact ? "" : ">=") + format_duration(f.blocked_ns);
    const std::string stack = f.stack_bytes == 0 ? "-" : format_bytes(static_cast<std::int64_t>(f.stack_bytes));
    const std::string heap = f.heap_live_bytes ? format_bytes(*f.heap_live_bytes) : "-";
    std::printf("%8llu  %-16s  %-14s  %9s  %9s  %9s  %s (%s:%d)\n",
                static_cast<unsigned long long>(fiberleak::to_integer(f.fiber_id)),
                f.name.empty() ? "-" : f.name.c_str(), f.wait_reason.c_str(), blocked.c_str(), stack.c_str(),
                heap.c_str(), f.function.c_str(), f.file.empty() ? "?" : f.file.c_str(), f.line);
  }
}

// `--baseline`: writes a missing file, else compares with it.
ExitCode check_baseline(const std::string& path, const SiteCounts& sites, std::size_t max_growth) {
  std::ifstream in(path);
  if (!in) {
    std::ofstream out(path);
    out << json_text(baseline_to_json(sites), 2) << "\n";
    if (!out) {
      std::fprintf(stderr, "fiberleakd: cannot write baseline %s\n", path.c_str());
      return ExitCode::error;
    }
    std::printf("baseline written to %s (%zu park sites)\n", path.c_str(), sites.size());
    return ExitCode::ok;
  }
  std::stringstream text;
  text << in.rdbuf();
  SiteCounts before;
  try {
    before = baseline_from_json_text(text.str());
  } catch (const JsonSchemaError& e) {
    std::fprintf(stderr, "fiberleakd: %s: not a baseline written by fiberleakd check --baseline (%s)\n", path.c_str(),
                 e.what());
    return ExitCode::error;
  }
  const std::vector<SiteGrowth> grown = grown_sites(before, sites, max_growth);
  if (grown.empty()) {
    std::printf("no park site grew by more than %zu since the baseline %s\n", max_growth, path.c_str());
    return ExitCode::ok;
  }
  std::printf("park sites that grew by more than %zu since the baseline:\n", max_growth);
  for (const SiteGrowth& g : grown) {
    std::printf("  +%zu (%zu -> %zu)  %s\n", g.now - g.before, g.before, g.now, g.site.c_str());
  }
  return ExitCode::leaks;
}

}  // namespace

Parsed<CheckArgs> parse_check_args(std::vector<std::string> items) {
  CheckArgs args;
  ArgList list(std::move(items));
  while (!list.done()) {
    const std::string item = list.take();
    if (item == "--json") {
      args.json = true;
      continue;
    }
    if (item.rfind("--", 0) != 0) {
      if (!args.url.empty()) return parse_error<CheckArgs>("check: one URL only");
      args.url = item;
      continue;
    }
    std::vector<std::string>* ignores = item == "--ignore-name"       ? &args.ignore_names
                                        : item == "--ignore-top"      ? &args.ignore_top_functions
                                        : item == "--ignore-function" ? &args.ignore_any_functions
                                                                      : nullptr;
    const bool known = ignores != nullptr || item == "--threshold" || item == "--interval" || item == "--kind" ||
                       item == "--config" || item == "--baseline" || item == "--max-growth";
    if (!known) return parse_error<CheckArgs>("check: unknown option \"" + item + "\"");
    const std::optional<std::string> v = list.value();
    if (!v) return parse_error<CheckArgs>(missing_value(item));
    if (ignores != nullptr) {
      ignores->push_back(*v);
    } else if (item == "--threshold" || item == "--interval") {
      std::int64_t ns = 0;
      if (!parse_duration(*v, ns)) {
        return parse_error<CheckArgs>(item + " takes a duration like 90s or 2m, got \"" + *v + "\"");
      }
      if (item == "--threshold") args.threshold_ns = ns;
      if (item == "--interval") args.interval_ns = ns;
    } else if (item == "--kind") {
      if (!parse_target_kind(*v, args.kind)) return parse_error<CheckArgs>(std::string("--kind takes ") + kTargetKinds);
    } else if (item == "--max-growth") {
      std::uint64_t n = 0;
      if (!parse_whole_number(*v, 0, std::numeric_limits<std::size_t>::max(), n)) {
        return parse_error<CheckArgs>("--max-growth takes a whole number >= 0");
      }
      args.max_growth = static_cast<std::size_t>(n);
    } else {
      (item == "--config" ? args.config_path : args.baseline_path) = *v;
    }
  }
  if (args.url.empty()) return parse_error<CheckArgs>("check: which target? (a URL like http://127.0.0.1:6060)");
  const std::optional<HttpUrl> url = parse_http_url(args.url);
  if (!url) return parse_error<CheckArgs>("check: not an http:// URL: \"" + args.url + "\"");
  args.target_url = url->origin + endpoint_prefix(url->path);
  return {args, ""};
}

ExitCode run_check(const CheckArgs& args) {
  TargetConfig target;
  target.name = "check";
  target.url = args.target_url;
  target.kind = args.kind;
  target.timeout = std::chrono::seconds(30);
  target.interval = target.timeout;
  LeakRules& rules = target.rules;
  if (!args.config_path.empty()) {
    const ConfigResult loaded = load_daemon_config(args.config_path, ConfigUse::rules);
    if (!loaded.errors.empty()) return config_error(args.config_path, loaded.errors);
    rules = loaded.global_rules;
  }
  if (args.threshold_ns) rules.threshold = std::chrono::nanoseconds(*args.threshold_ns);  // flags override the file
  rules.ignore_names.insert(rules.ignore_names.end(), args.ignore_names.begin(), args.ignore_names.end());
  rules.ignore_top_functions.insert(rules.ignore_top_functions.end(), args.ignore_top_functions.begin(),
                                    args.ignore_top_functions.end());
  rules.ignore_any_functions.insert(rules.ignore_any_functions.end(), args.ignore_any_functions.begin(),
                                    args.ignore_any_functions.end());

  // Quiet monitor: check prints its own report.
  auto quiet = std::make_shared<spdlog::logger>("fiberleakd-check");
  quiet->set_level(spdlog::level::off);
  TargetMonitor monitor(target, std::size_t{256} << 20, quiet);
  monitor.scrape_once();
  if (args.interval_ns > 0 && monitor.status().up) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(args.interval_ns));
    monitor.scrape_once();
  }
  const TargetStatus status = monitor.status();
  if (!status.up) {
    std::fprintf(stderr, "fiberleakd: %s: %s\n", args.url.c_str(), status.error.c_str());
    return ExitCode::error;
  }
  std::vector<LeakFinding> findings;
  for (const auto& t : monitor.findings()) {
    if (t.lifecycle != TrackedFinding::Lifecycle::resolved) findings.push_back(t.finding);
  }
  std::sort(findings.begin(), findings.end(), [](const auto& a, const auto& b) { return a.blocked_ns > b.blocked_ns; });
  std::size_t fibers = 0;
  for (const auto& [state, n] : status.fibers_by_state) fibers += n;
  if (args.json) {
    std::cout << json_text(findings_to_json(findings, status.growing), 2) << "\n";
  } else {
    print_table(findings, fibers, status, rules.threshold.count());
  }

  const ExitCode leaks = findings.empty() ? ExitCode::ok : ExitCode::leaks;
  if (args.baseline_path.empty()) return leaks;
  return std::max(leaks, check_baseline(args.baseline_path, status.site_counts, args.max_growth));  // the worse
}

}  // namespace fiberleak::detail
