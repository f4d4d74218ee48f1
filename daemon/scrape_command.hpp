// `fiberleakd scrape --config FILE`: the sidecar (sidecar.hpp) over the
// targets of a config file (daemon_config.hpp), until Ctrl-C.
#pragma once

#include <string>
#include <vector>

#include "daemon/command_line.hpp"
#include "daemon/daemon_config.hpp"
#include "daemon/log_format.hpp"

namespace fiberleak::detail {

struct ScrapeArgs {
  std::string config_path;                 // --config FILE, required
  ConfigOverrides overrides;               // --listen, --log-level, --token(-file): checked with the file
  LogFormat log_format = LogFormat::text;  // --log-format text|json
};

inline constexpr const char* kScrapeUsage =
    "  scrape   the sidecar: scrape the targets of a config file, serve /metrics and /api\n"
    "             --config FILE          JSON config (see config/fiberleakd.example.json)\n"
    "             --listen HOST:PORT     overrides the config's listen address\n"
    "             --log-level LEVEL      overrides the config's log level\n"
    "             --log-format FORMAT    text (default) or json, one object a line; under systemd\n"
    "                                    neither repeats the journal's timestamp\n"
    "             --token TOKEN          clients of this sidecar must send it (Authorization: Bearer);\n"
    "                                    --token-file FILE reads it from FILE (overrides the config's)\n";

// The arguments after "scrape". The overrides' values are checked when the
// config is loaded, so their problems are listed with the file's.
Parsed<ScrapeArgs> parse_scrape_args(std::vector<std::string> items);
// Loads the config (every problem printed, ExitCode::error, nothing
// started) and scrapes until SIGINT or SIGTERM: ExitCode::ok. SIGHUP
// reloads the config (Sidecar::reload()).
ExitCode run_scrape(const ScrapeArgs& args);

}  // namespace fiberleak::detail
