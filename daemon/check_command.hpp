// `fiberleakd check URL`: fetch a target once (or twice, --interval apart),
// print its leaks grouped by park site with their verdicts and exit with
// ExitCode::leaks when there are any (or a growing site); with --baseline,
// only when a park site holds more fibers than the baseline accepts
// (its count plus --max-growth): the CI gate, known leaks accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/command_line.hpp"
#include "daemon/target_kind.hpp"

namespace fiberleak::detail {

struct CheckArgs {
  static constexpr std::int64_t kDefaultTimeoutNs = 30'000'000'000;

  std::string url;                                // URL as given (for messages)
  std::string target_url;                         // its origin and endpoint prefix: what is scraped
  TargetKind kind = TargetKind::auto_detect;      // --kind
  std::optional<std::int64_t> threshold_ns;       // --threshold; else the config's, else 30s
  std::int64_t interval_ns = 0;                   // --interval: 0 looks once
  std::int64_t timeout_ns = kDefaultTimeoutNs;    // --timeout: the most one look may take
  std::vector<std::string> ignore_names;          // --ignore-name, added to the config's
  std::vector<std::string> ignore_top_functions;  // --ignore-top
  std::vector<std::string> ignore_any_functions;  // --ignore-function
  std::string config_path;                        // --config: its "rules" apply
  std::string baseline_path;                      // --baseline (baseline.hpp)
  std::size_t max_growth = 0;                     // --max-growth: fibers a site may gain
  bool json = false;                              // --json: fiberleak.leaks/v1 on stdout
  bool verbose = false;                           // -v: every finding, not only the sites
  std::string token;                              // --token: sent as Authorization: Bearer
  std::string token_file;                         // --token-file: the same, read from the file
};

inline constexpr const char* kCheckUsage =
    "  check    fetch a target once and report leak suspects\n"
    "             URL                    the target: http://host:port or any of its /debug/... URLs\n"
    "             --kind auto|fiberleak|go   fiberleak: /debug/fibers; go: net/http/pprof's\n"
    "                                    goroutine?debug=2; auto (default) tries fiberleak first\n"
    "             --threshold DURATION   default 30s (Go reports whole minutes: a lower bound)\n"
    "             --ignore-name NAME     a fiber name (or prefix*) to ignore; repeatable\n"
    "             --ignore-top FUNC      ignore fibers parked in a function containing FUNC\n"
    "             --ignore-function FUNC ignore fibers with FUNC anywhere in their stack\n"
    "             --interval DURATION    look twice, this far apart (growing sites; Go minutes)\n"
    "             --timeout DURATION     the most one look may take, all told (default 30s)\n"
    "             --config FILE          apply the rules section of a fiberleakd config\n"
    "             --baseline FILE        compare parked fibers per site with FILE (written when missing):\n"
    "                                    its sites may hold that many fibers, leaked or not\n"
    "             --max-growth N         with --baseline: allowed growth per site (default 0)\n"
    "             --json                 print findings (and the baseline's verdict) as one JSON document\n"
    "             --token TOKEN          the target's bearer token (--token-file FILE: read from FILE)\n"
    "             -v, --verbose          list every leaked fiber after the sites\n"
    "           exit status: 0 clean, 1 leaks or a growing site found (with --baseline: only\n"
    "           growth past the baseline), 2 error\n";

// The arguments after "check", the URL among them.
Parsed<CheckArgs> parse_check_args(std::vector<std::string> items);
// ExitCode::ok (clean), ExitCode::leaks, or ExitCode::error (bad config,
// target down or unreadable, unusable baseline file).
ExitCode run_check(const CheckArgs& args);

}  // namespace fiberleak::detail
