#include "daemon/healthcheck_command.hpp"

#include <httplib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using fiberleak::detail::ExitCode;
using fiberleak::detail::parse_healthcheck_args;
using fiberleak::detail::run_healthcheck;

TEST_CASE("healthcheck takes its URL from the argument, the environment or the demo's default", "[daemon]") {
  CHECK(parse_healthcheck_args({}, nullptr).args.url == "http://127.0.0.1:6060/healthz");
  CHECK(parse_healthcheck_args({}, "http://127.0.0.1:6070/healthz").args.url == "http://127.0.0.1:6070/healthz");
  CHECK(parse_healthcheck_args({"http://h:1/x"}, "http://127.0.0.1:6070/healthz").args.url == "http://h:1/x");
  CHECK(parse_healthcheck_args({"--timeout", "500ms"}, nullptr).args.timeout_ns == 500'000'000);
  CHECK(parse_healthcheck_args({}, "").error.empty());  // an empty variable is no URL
}

TEST_CASE("healthcheck rejects what is not one http URL and a usable timeout", "[daemon]") {
  CHECK(parse_healthcheck_args({"ftp://x/"}, nullptr).error.find("not an http:// URL") != std::string::npos);
  CHECK(parse_healthcheck_args({}, "nonsense").error.find("not an http:// URL") != std::string::npos);
  CHECK(parse_healthcheck_args({"http://a:1/", "http://b:1/"}, nullptr).error == "healthcheck: one URL only");
  CHECK(parse_healthcheck_args({"--timeout"}, nullptr).error == "--timeout needs a value");
  CHECK_FALSE(parse_healthcheck_args({"--timeout", "0s"}, nullptr).error.empty());
  CHECK_FALSE(parse_healthcheck_args({"--timeout", "2h"}, nullptr).error.empty());
  CHECK_FALSE(parse_healthcheck_args({"--timeout", "soon"}, nullptr).error.empty());
  CHECK(parse_healthcheck_args({"--verbose"}, nullptr).error == "healthcheck: unknown option \"--verbose\"");
}

TEST_CASE("healthcheck passes on a 200, fails on other statuses, a closed port and a server that never answers",
          "[daemon]") {
  httplib::Server server;
  server.Get("/healthz",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  server.Get("/sick", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
  server.Get("/hang", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    res.set_content("late", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto run = [](const std::string& url, const char* timeout = "1s") {
    auto parsed = parse_healthcheck_args({url, "--timeout", timeout}, nullptr);
    REQUIRE(parsed.error.empty());
    return run_healthcheck(parsed.args);
  };
  CHECK(run(base + "/healthz") == ExitCode::ok);
  CHECK(run(base + "/sick") == ExitCode::error);
  const auto start = std::chrono::steady_clock::now();
  CHECK(run(base + "/hang", "300ms") == ExitCode::error);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));  // the timeout, not the server, ended it
  server.stop();
  t.join();
  CHECK(run(base + "/healthz") == ExitCode::error);  // nobody listens now
}
