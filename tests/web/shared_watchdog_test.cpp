// serve() and mount() in one process share one watchdog: each leak is
// logged and called back once, through the first endpoint's options, and
// both /metrics show the same growing sites.
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include <fiberleak/mount.hpp>

#include "parked_fibers.hpp"
#include "web/server_thread.hpp"
#include "web/watchdog.hpp"

using fiberleak::detail::ServerThread;
using fiberleak::detail::Watchdog;

namespace {

fiberleak::ServeHandle serve_on_any_port(fiberleak::EndpointOptions options) {
  return fiberleak::serve({"127.0.0.1", 0, std::move(options)});
}

// The lines of a /metrics page that start with `name`.
std::string metric_lines(const std::string& page, const std::string& name) {
  std::istringstream in(page);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) == 0) out += line + "\n";
  }
  return out;
}

std::string get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get(path.c_str());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return r->body;
}

}  // namespace

TEST_CASE("serve() and mount() in one process log each leak once, through the first endpoint's options", "[web]") {
  fiberleak::detail::testing::ParkedFibers fibers;
  std::atomic<int> first_calls{0}, second_calls{0};
  std::ostringstream first_log, second_log;
  auto options = [](std::atomic<int>& calls, std::ostringstream& log) {
    fiberleak::EndpointOptions o;
    o.rules.threshold = std::chrono::nanoseconds(30'000'000);
    o.rules.ignore_names = {"pile"};
    o.rules.threshold_by_wait[fiberleak::WaitKind::sleep] = std::chrono::hours(1);  // the fixture's own naps
    o.watchdog_interval = std::chrono::milliseconds(20);
    o.on_leak = [&calls](const fiberleak::LeakFinding&) { ++calls; };
    o.logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
    return o;
  };
  {
    fiberleak::ServeHandle served = serve_on_any_port(options(first_calls, first_log));
    httplib::Server program_server;
    fiberleak::MountedRoutes mounted = fiberleak::mount(program_server, "/admin", options(second_calls, second_log));
    CHECK(Watchdog::running_shared() != nullptr);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (first_calls + second_calls < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ~15 more evaluations
  }
  // The watchdog has stopped: the logs can be read. Two leaks, the receiver
  // and the locker, each logged and called back once, by the first endpoint.
  CHECK(first_calls.load() == 2);
  CHECK(second_calls.load() == 0);
  const std::string text = first_log.str();
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(second_log.str().empty());
  CHECK(Watchdog::running_shared() == nullptr);  // it stopped with the last endpoint
}

TEST_CASE("serve() and mount() in one process show the same growing sites on /metrics", "[web]") {
  fiberleak::detail::testing::GrowingPile pile;
  fiberleak::EndpointOptions o;
  o.watchdog_interval = std::chrono::hours(1);  // it evaluates at start; the test drives the rest
  fiberleak::ServeHandle served = serve_on_any_port(o);
  fiberleak::MountedRoutes mounted;
  ServerThread program_server;
  mounted = fiberleak::mount(program_server.server(), "/admin", o);
  const int program_port = program_server.bind("127.0.0.1", 0);
  REQUIRE(program_port > 0);
  REQUIRE(program_server.start());

  const std::shared_ptr<Watchdog> watchdog = Watchdog::running_shared();
  REQUIRE(watchdog != nullptr);
  while (watchdog->evaluations() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // One fiber more before each evaluation: after the fourth, three rises in a row.
  for (int i = 0; i < 4; ++i) {
    pile.add();
    watchdog->evaluate_now();
  }
  REQUIRE(watchdog->latest().growing.size() == 1);
  const std::string a = get(served.port(), "/metrics");
  const std::string b = get(program_port, "/admin/metrics");
  CHECK(metric_lines(a, "fiberleak_growing_park_sites") == "fiberleak_growing_park_sites 1\n");
  CHECK(metric_lines(a, "fiberleak_growing_park_sites") == metric_lines(b, "fiberleak_growing_park_sites"));
  CHECK(metric_lines(a, "fiberleak_leaked_fibers") == metric_lines(b, "fiberleak_leaked_fibers"));
  const std::string leaks = get(served.port(), "/debug/leaks");
  CHECK(leaks.find("grow_at_one_site") != std::string::npos);
  CHECK(leaks == get(program_port, "/admin/debug/leaks"));
  program_server.stop();
}
