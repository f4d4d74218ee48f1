#include "daemon/demo_command.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <fiberleak/serve.hpp>

#include "daemon/demo_service.hpp"
#include "daemon/stop_signal.hpp"
#include "profiler/duration.hpp"
#include "profiler/heap_profile.hpp"
#include "web/heap_routes.hpp"
#include "web/server_setup.hpp"

namespace fiberleak::detail {
Parsed<DemoArgs> parse_demo_args(std::vector<std::string> items) {
  DemoArgs args;
  ArgList list(std::move(items));
  while (!list.done()) {
    const std::string flag = list.take();
    if (flag != "--listen" && flag != "--threshold" && flag != "--threads") {
      return parse_error<DemoArgs>("demo: unknown option \"" + flag + "\"");
    }
    const std::optional<std::string> v = list.value();
    if (!v) return parse_error<DemoArgs>(missing_value(flag));
    if (flag == "--listen" && !parse_listen_address(*v, args.host, args.port)) {
      return parse_error<DemoArgs>("--listen takes HOST:PORT, got \"" + *v + "\"");
    }
    if (flag == "--threshold" && !parse_duration(*v, args.threshold_ns)) {
      return parse_error<DemoArgs>("--threshold takes a duration, got \"" + *v + "\"");
    }
    if (flag == "--threads") {
      std::uint64_t threads = 0;
      if (!parse_whole_number(*v, 1, 64, threads)) {
        return parse_error<DemoArgs>("--threads takes 1..64, got \"" + *v + "\"");
      }
      args.threads = static_cast<int>(threads);
    }
  }
  return {args, ""};
}

ExitCode run_demo(const DemoArgs& args) {
  ServeOptions serve_options;
  serve_options.host = args.host;
  serve_options.port = args.port;
  serve_options.endpoint.rules.threshold = std::chrono::nanoseconds(args.threshold_ns);
  // Each scheduler thread's main fiber waits for shutdown by design: the
  // ignore rule every service with such threads wants (goleak's IgnoreCurrent).
  serve_options.endpoint.rules.ignore_names = {"demo-main", "scheduler-main"};
  serve_options.endpoint.watchdog_interval = std::chrono::seconds(2);
  // The heap profiler is linked in: /debug/pprof/heap and per-fiber live
  // bytes. Every 4 KiB on average, so a single leaked fiber's bytes show
  // steadily (FIBERLEAK_HEAP_RATE overrides).
  if (std::getenv("FIBERLEAK_HEAP_RATE") == nullptr) set_heap_sampling(4096);
  register_heap_routes();
  ServeHandle server;
  try {
    server = serve(serve_options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fiberleakd: %s\n", e.what());
    return ExitCode::error;
  }
  demo::DemoService service({args.threads, std::chrono::milliseconds(500)});
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
      "  curl %s/metrics                                Prometheus\n"
      "  open %s/ in a browser                          the dashboard\n\n"
      "leak findings are logged below as they appear. Ctrl-C stops.\n\n",
      args.threads, url.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str(), url.c_str(),
      format_duration(args.threshold_ns).c_str(), url.c_str(), url.c_str(), url.c_str());
  std::fflush(stdout);

  wait_for_stop_signal();
  std::printf("\nfiberleakd demo: stopping (%llu requests served)\n",
              static_cast<unsigned long long>(service.requests_served()));
  server.stop();
  service.stop();
  return ExitCode::ok;
}

}  // namespace fiberleak::detail
