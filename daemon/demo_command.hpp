// `fiberleakd demo`: the leaking Boost.Fiber service (demo_service.hpp)
// with the endpoint, the watchdog and the heap profiler, until Ctrl-C.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/command_line.hpp"

namespace fiberleak::detail {

struct DemoArgs {
  std::string host = "127.0.0.1";              // --listen HOST:PORT
  int port = 6060;                             //   (0: any free port)
  std::int64_t threshold_ns = 10'000'000'000;  // --threshold: blocked longer is a leak
  int threads = 3;                             // --threads: work_stealing threads, 1..64
};

inline constexpr const char* kDemoUsage =
    "  demo     run a demo service on Boost.Fiber that leaks fibers, with the endpoint\n"
    "             --listen HOST:PORT     where to serve (default 127.0.0.1:6060)\n"
    "             --threshold DURATION   blocked longer than this is a leak (default 10s)\n"
    "             --threads N            scheduler threads (default 3)\n";

// The arguments after "demo".
Parsed<DemoArgs> parse_demo_args(std::vector<std::string> items);
// Serves until SIGINT or SIGTERM: ExitCode::ok, or ExitCode::error when
// the port cannot be bound.
ExitCode run_demo(const DemoArgs& args);

}  // namespace fiberleak::detail
