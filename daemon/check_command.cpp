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
#include "profiler/leak_rules.hpp"
#include "profiler/site_groups.hpp"
#include "web/fiber_json.hpp"
#include "web/json_text.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

constexpr std::int64_t kMinTimeoutNs = 1'000'000;         // 1ms: the config's smallest timeout too
constexpr std::int64_t kMaxTimeoutNs = 3600'000'000'000;  // 1h

// A header, one line per site (verdict, fibers, oldest, wait, where), the
// chains of what the oldest fibers wait for, and with -v every finding.
void print_report(const std::vector<LeakFinding>& findings, const TargetStatus& status, std::size_t fibers,
                  std::int64_t threshold_ns, bool verbose) {
  const std::string threshold = format_duration(threshold_ns);
  const std::vector<SiteGroup> groups = group_by_site(findings, status.growing);
  if (groups.empty()) {
    std::printf("no leaks among %zu fibers of a %s target (threshold %s)\n", fibers, status.kind.c_str(),
                threshold.c_str());
    return;
  }
  std::printf("%zu leaked fibers at %zu park sites, among %zu fibers of a %s target (threshold %s; verdicts: %s):\n\n",
              findings.size(), groups.size(), fibers, status.kind.c_str(), threshold.c_str(),
              status.waits_on_recorded ? "definite, suspect, growing" : "suspect, growing (no owners in its dumps)");
  auto place = [](const std::string& function, const std::string& file, int line) {
    return function + " (" + (file.empty() ? "?" : file) + ":" + std::to_string(line) + ")";
  };
  std::printf("%-8s  %6s  %-24s  %9s  %-14s  %s\n", "VERDICT", "FIBERS", "OLDEST", "FOR", "WAITING IN", "WHERE");
  for (const SiteGroup& g : groups) {
    std::string oldest = "-", blocked = "-", wait = g.growing ? g.growing->wait_reason : "", where;
    std::size_t count = g.growing ? g.growing->fibers : 0;
    if (g.oldest) {
      const LeakFinding& o = *g.oldest;
      oldest = std::to_string(fiberleak::to_integer(o.fiber_id));
      if (!o.name.empty()) oldest += " \"" + o.name + "\"";
      blocked = (o.blocked_exact ? "" : ">=") + format_duration(o.blocked_ns);
      wait = o.wait_reason;
      where = place(o.function, o.file, o.line);
      count = g.fibers.size();
    } else {
      where = place(g.growing->function, g.growing->file, g.growing->line);
    }
    if (oldest.size() > 24) oldest = oldest.substr(0, 23) + "~";
    std::printf("%-8s  %6zu  %-24s  %9s  %-14s  %s\n", g.verdict.c_str(), count, oldest.c_str(), blocked.c_str(),
                wait.c_str(), where.c_str());
  }
  std::printf("\nwhy:\n");
  for (const SiteGroup& g : groups) std::printf("  %s\n", describe(g).c_str());
  if (!verbose) {
    std::printf("\n(-v lists every leaked fiber)\n");
    return;
  }
  // STACK: reserved; HEAP: estimated live bytes it allocated ("-": unknown,
  // e.g. Go targets, or the heap profiler is not running).
  std::printf("\n%8s  %-8s  %-16s  %-14s  %9s  %9s  %9s  %s\n", "FIBER", "VERDICT", "NAME", "WAITING IN", "FOR",
              "STACK", "HEAP", "WHERE");
  for (const auto& f : findings) {
    const std::string blocked = (f.blocked_exact ? "" : ">=") + format_duration(f.blocked_ns);
    const std::string stack = f.stack_bytes == 0 ? "-" : format_bytes(static_cast<std::int64_t>(f.stack_bytes));
    const std::string heap = f.heap_live_bytes ? format_bytes(*f.heap_live_bytes) : "-";
    std::printf("%8llu  %-8s  %-16s  %-14s  %9s  %9s  %9s  %s\n",
                static_cast<unsigned long long>(fiberleak::to_integer(f.fiber_id)),
                std::string(fiberleak::to_string(f.verdict)).c_str(), f.name.empty() ? "-" : f.name.c_str(),
                f.wait_reason.c_str(), blocked.c_str(), stack.c_str(), heap.c_str(),
                place(f.function, f.file, f.line).c_str());
  }
}

// What `--baseline` found: the file written (it was missing), or the sites
// that grew past it.
struct BaselineResult {
  bool written = false;
  std::size_t sites = 0;  // in the file, or written to it
  std::vector<SiteGrowth> grown;
};

// Writes a missing file, else compares with it; nullopt (said on stderr)
// when the file cannot be written or is no baseline.
std::optional<BaselineResult> apply_baseline(const std::string& path, const SiteCounts& now, std::size_t max_growth) {
  BaselineResult result;
  std::ifstream in(path);
  if (!in) {
    std::ofstream out(path);
    out << json_text(baseline_to_json(now), 2) << "\n";
    if (!out) {
      std::fprintf(stderr, "fiberleakd: cannot write baseline %s\n", path.c_str());
      return std::nullopt;
    }
    result.written = true;
    result.sites = now.size();
    return result;
  }
  std::stringstream text;
  text << in.rdbuf();
  SiteCounts before;
  try {
    before = baseline_from_json_text(text.str());
  } catch (const JsonSchemaError& e) {
    std::fprintf(stderr, "fiberleakd: %s: not a baseline written by fiberleakd check --baseline (%s)\n", path.c_str(),
                 e.what());
    return std::nullopt;
  }
  result.sites = before.size();
  result.grown = grown_sites(before, now, max_growth);
  return result;
}

// Leaked fibers at sites the baseline accepts (all of them when it was just written).
std::size_t accepted_leaks(const std::vector<LeakFinding>& findings, const BaselineResult& baseline) {
  std::size_t n = 0;
  for (const LeakFinding& f : findings) {
    const std::string site = site_without_line(f.site);
    n +=
        std::none_of(baseline.grown.begin(), baseline.grown.end(), [&](const SiteGrowth& g) { return g.site == site; });
  }
  return n;
}

void print_baseline(const BaselineResult& b, const std::string& path, std::size_t max_growth, std::size_t accepted) {
  std::printf("\n");
  if (b.written) {
    std::printf("baseline written to %s (%zu park sites)\n", path.c_str(), b.sites);
    return;
  }
  if (accepted > 0)
    std::printf("%zu leaked fibers are at park sites the baseline %s accepts\n", accepted, path.c_str());
  if (b.grown.empty()) {
    std::printf("no park site grew by more than %zu since the baseline %s\n", max_growth, path.c_str());
    return;
  }
  std::printf("park sites that grew by more than %zu since the baseline:\n", max_growth);
  for (const SiteGrowth& g : b.grown) {
    std::printf("  +%zu (%zu -> %zu)  %s\n", g.now - g.before, g.before, g.now, g.site.c_str());
  }
}

nlohmann::json baseline_to_report_json(const BaselineResult& b, const std::string& path, std::size_t max_growth,
                                       std::size_t accepted) {
  nlohmann::json grown = nlohmann::json::array();
  for (const SiteGrowth& g : b.grown) {
    grown.push_back({{"site", g.site}, {"before", g.before}, {"now", g.now}, {"growth", g.now - g.before}});
  }
  return {{"path", path},
          {"written", b.written},
          {"sites", b.sites},
          {"max_growth", max_growth},
          {"accepted_leaks", accepted},
          {"grown", std::move(grown)}};
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
    if (item == "-v" || item == "--verbose") {
      args.verbose = true;
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
    const bool known = ignores != nullptr || item == "--threshold" || item == "--interval" || item == "--timeout" ||
                       item == "--kind" || item == "--config" || item == "--baseline" || item == "--max-growth" ||
                       item == "--token" || item == "--token-file";
    if (!known) return parse_error<CheckArgs>("check: unknown option \"" + item + "\"");
    const std::optional<std::string> v = list.value();
    if (!v) return parse_error<CheckArgs>(missing_value(item));
    if (ignores != nullptr) {
      ignores->push_back(*v);
    } else if (item == "--threshold" || item == "--interval" || item == "--timeout") {
      std::int64_t ns = 0;
      if (!parse_duration(*v, ns)) {
        return parse_error<CheckArgs>(item + " takes a duration like 90s or 2m, got \"" + *v + "\"");
      }
      if (item == "--timeout" && (ns < kMinTimeoutNs || ns > kMaxTimeoutNs)) {
        return parse_error<CheckArgs>("--timeout takes a duration from 1ms to 1h, got \"" + *v + "\"");
      }
      if (item == "--threshold") args.threshold_ns = ns;
      if (item == "--interval") args.interval_ns = ns;
      if (item == "--timeout") args.timeout_ns = ns;
    } else if (item == "--kind") {
      if (!parse_target_kind(*v, args.kind)) return parse_error<CheckArgs>(std::string("--kind takes ") + kTargetKinds);
    } else if (item == "--max-growth") {
      std::uint64_t n = 0;
      if (!parse_whole_number(*v, 0, std::numeric_limits<std::size_t>::max(), n)) {
        return parse_error<CheckArgs>("--max-growth takes a whole number >= 0");
      }
      args.max_growth = static_cast<std::size_t>(n);
    } else if (item == "--token" || item == "--token-file") {
      (item == "--token" ? args.token : args.token_file) = *v;
    } else {
      (item == "--config" ? args.config_path : args.baseline_path) = *v;
    }
  }
  if (!args.token.empty() && !args.token_file.empty()) {
    return parse_error<CheckArgs>("check: give --token or --token-file, not both");
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
  target.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(args.timeout_ns));
  target.interval = target.timeout;
  target.token = args.token;
  if (!args.token_file.empty()) {
    std::string error;
    target.token = read_token_file(args.token_file, error);
    if (!error.empty()) return usage_error("--token-file " + error);
  }
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
  TargetMonitor monitor(target, DaemonConfig::kDefaultMaxBodyBytes, quiet);
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
  for (auto& t : monitor.findings()) {
    if (t.lifecycle != TrackedFinding::Lifecycle::resolved) findings.push_back(std::move(t.finding));
  }
  std::stable_sort(findings.begin(), findings.end(), [](const auto& a, const auto& b) {
    if (a.verdict != b.verdict) return a.verdict == Verdict::definite;
    return a.blocked_ns > b.blocked_ns;
  });
  std::size_t fibers = 0;
  for (const auto& [state, n] : status.fibers_by_state) fibers += n;
  std::optional<BaselineResult> baseline;
  if (!args.baseline_path.empty()) {
    baseline = apply_baseline(args.baseline_path, baseline_counts(status.site_counts), args.max_growth);
    if (!baseline) return ExitCode::error;
  }
  const std::size_t accepted = baseline ? accepted_leaks(findings, *baseline) : 0;
  if (args.json) {
    // One document, the baseline's verdict in it.
    nlohmann::json doc = findings_to_json(findings, status.growing);
    if (baseline) doc["baseline"] = baseline_to_report_json(*baseline, args.baseline_path, args.max_growth, accepted);
    std::cout << json_text(doc, 2) << "\n";
  } else {
    print_report(findings, status, fibers, rules.threshold.count(), args.verbose);
    if (baseline) print_baseline(*baseline, args.baseline_path, args.max_growth, accepted);
  }
  // With a baseline, only growth past it fails: the sites it holds may keep
  // that many fibers, leaked or growing. Without one, any leak or growing
  // site fails.
  if (baseline) return baseline->grown.empty() ? ExitCode::ok : ExitCode::leaks;
  return findings.empty() && status.growing.empty() ? ExitCode::ok : ExitCode::leaks;
}

}  // namespace fiberleak::detail
