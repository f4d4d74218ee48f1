// fiberleakd: the demo service, the sidecar that scrapes targets, and a
// one-shot leak check for CI (docs/fiberleakd.md). This file only
// dispatches: each command parses and runs in its own unit
// (daemon/demo_command.hpp, scrape_command.hpp, check_command.hpp,
// healthcheck_command.hpp), and
// the exit status is an ExitCode (daemon/exit_code.hpp).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/check_command.hpp"
#include "daemon/command_line.hpp"
#include "daemon/demo_command.hpp"
#include "daemon/healthcheck_command.hpp"
#include "daemon/scrape_command.hpp"
#include "profiler/heap_profile.hpp"

namespace {

using fiberleak::detail::ExitCode;

constexpr const char* kVersion = "fiberleakd " FIBERLEAK_VERSION;  // daemon/CMakeLists.txt

std::string usage() {
  return std::string("usage: fiberleakd <command> [options]\n\ncommands:\n") + fiberleak::detail::kDemoUsage +
         fiberleak::detail::kScrapeUsage + fiberleak::detail::kCheckUsage + fiberleak::detail::kHealthcheckUsage +
         "\noptions: --help, --version\n"
         "durations: 500ms, 30s, 2m, 1h30m\n";
}

ExitCode dispatch(const std::string& command, std::vector<std::string> args) {
  namespace d = fiberleak::detail;
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage().c_str(), stdout);
    return ExitCode::ok;
  }
  if (command == "--version") {
    std::puts(kVersion);
    return ExitCode::ok;
  }
  if (command == "healthcheck") {
    return d::run_parsed(d::parse_healthcheck_args(std::move(args), std::getenv("FIBERLEAKD_HEALTH_URL")),
                         d::run_healthcheck);
  }
  if (command == "demo") return d::run_parsed(d::parse_demo_args(std::move(args)), d::run_demo);
  // Only the demo serves its own heap profile: elsewhere the linked-in
  // sampler stays off unless FIBERLEAK_HEAP_RATE asks for it.
  if (std::getenv("FIBERLEAK_HEAP_RATE") == nullptr) d::set_heap_sampling(0);
  if (command == "check") return d::run_parsed(d::parse_check_args(std::move(args)), d::run_check);
  if (command == "scrape") return d::run_parsed(d::parse_scrape_args(std::move(args)), d::run_scrape);
  return d::usage_error("unknown command \"" + command + "\"");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage().c_str(), stderr);
    return to_int(ExitCode::error);
  }
  return to_int(dispatch(argv[1], std::vector<std::string>(argv + 2, argv + argc)));
}
