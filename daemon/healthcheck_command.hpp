// `fiberleakd healthcheck [URL]`: GETs a health URL and exits 0 when it
// answers 200 within the timeout, 2 otherwise. The container image's
// HEALTHCHECK runs it (there is no curl in the image).
#pragma once

#include <string>
#include <vector>

#include "daemon/command_line.hpp"

namespace fiberleak::detail {

struct HealthcheckArgs {
  // The URL to GET: the argument, else $FIBERLEAKD_HEALTH_URL, else the
  // demo's endpoint.
  std::string url = "http://127.0.0.1:6060/healthz";
  std::int64_t timeout_ns = 3'000'000'000;  // --timeout: whole request, default 3s
};

inline constexpr const char* kHealthcheckUsage =
    "  healthcheck [URL]  exit 0 when URL answers 200 (default $FIBERLEAKD_HEALTH_URL,\n"
    "             else http://127.0.0.1:6060/healthz)\n"
    "             --timeout DURATION     give up after this long (default 3s)\n";

// The arguments after "healthcheck"; env_url: $FIBERLEAKD_HEALTH_URL (or nullptr).
Parsed<HealthcheckArgs> parse_healthcheck_args(std::vector<std::string> items, const char* env_url);
// ExitCode::ok on a 200, ExitCode::error otherwise (why, on stderr).
ExitCode run_healthcheck(const HealthcheckArgs& args);

}  // namespace fiberleak::detail
