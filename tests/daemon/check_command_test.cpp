// `fiberleakd check`'s arguments, parsed without fetching anything, and
// the errors it exits 2 on before looking at a target.
#include "daemon/check_command.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "hostile_server.hpp"

using fiberleak::detail::ExitCode;
using fiberleak::detail::parse_check_args;
using fiberleak::detail::TargetKind;

TEST_CASE("check scrapes the endpoint a URL belongs to: its origin and the prefix before /debug/", "[daemon]") {
  for (const auto& [url, target] :
       {std::pair<const char*, const char*>{"http://127.0.0.1:6060", "http://127.0.0.1:6060"},
        {"http://127.0.0.1:6060/", "http://127.0.0.1:6060"},
        {"http://h:1/debug/pprof/", "http://h:1"},
        {"http://h:1/admin/debug/leaks", "http://h:1/admin"}}) {
    CAPTURE(url);
    const auto parsed = parse_check_args({url});
    REQUIRE(parsed.error.empty());
    CHECK(parsed.args.url == url);
    CHECK(parsed.args.target_url == target);
  }
}

TEST_CASE("check without flags uses auto, the config's or default threshold, one look and no baseline", "[daemon]") {
  const auto parsed = parse_check_args({"http://h:1"});
  REQUIRE(parsed.error.empty());
  CHECK(parsed.args.kind == TargetKind::auto_detect);
  CHECK_FALSE(parsed.args.threshold_ns.has_value());
  CHECK(parsed.args.interval_ns == 0);
  CHECK(parsed.args.timeout_ns == 30'000'000'000);
  CHECK(parsed.args.baseline_path.empty());
  CHECK(parsed.args.max_growth == 0);
  CHECK_FALSE(parsed.args.json);
}

TEST_CASE("check takes every flag, before or after the URL, ignores repeatable", "[daemon]") {
  const auto parsed = parse_check_args({"--kind",      "go",
                                        "--threshold", "90s",
                                        "http://h:1",  "--interval",
                                        "2m",          "--ignore-name",
                                        "demo-main",   "--ignore-name",
                                        "scheduler-*", "--ignore-top",
                                        "accept",      "--ignore-function",
                                        "poll",        "--config",
                                        "c.json",      "--baseline",
                                        "b.json",      "--max-growth",
                                        "12",          "--json"});
  REQUIRE(parsed.error.empty());
  const auto& a = parsed.args;
  CHECK(a.kind == TargetKind::go);
  CHECK(a.threshold_ns == 90'000'000'000);
  CHECK(a.interval_ns == 120'000'000'000);
  CHECK(a.ignore_names == std::vector<std::string>{"demo-main", "scheduler-*"});
  CHECK(a.ignore_top_functions == std::vector<std::string>{"accept"});
  CHECK(a.ignore_any_functions == std::vector<std::string>{"poll"});
  CHECK(a.config_path == "c.json");
  CHECK(a.baseline_path == "b.json");
  CHECK(a.max_growth == 12);
  CHECK(a.json);
  CHECK_FALSE(a.verbose);
  for (const char* flag : {"-v", "--verbose"}) {
    const auto verbose = parse_check_args({"http://h:1", flag});
    REQUIRE(verbose.error.empty());
    CHECK(verbose.args.verbose);
  }
}

TEST_CASE("check rejects a missing or bad URL and bad flags with a message saying which", "[daemon]") {
  using Case = std::pair<std::vector<std::string>, std::string>;
  for (const auto& [argv, message] : {
           Case{{}, "check: which target? (a URL like http://127.0.0.1:6060)"},
           Case{{"--json"}, "check: which target? (a URL like http://127.0.0.1:6060)"},
           Case{{"127.0.0.1:6060"}, "check: not an http:// URL: \"127.0.0.1:6060\""},
           Case{{"https://h:1"}, "check: not an http:// URL: \"https://h:1\""},
           Case{{"http://h:1", "http://h:2"}, "check: one URL only"},
           Case{{"http://h:1", "--kind", "rust"}, "--kind takes auto, fiberleak or go"},
           Case{{"http://h:1", "--threshold", "soon"}, "--threshold takes a duration like 90s or 2m, got \"soon\""},
           Case{{"http://h:1", "--interval", "-1s"}, "--interval takes a duration like 90s or 2m, got \"-1s\""},
           Case{{"http://h:1", "--max-growth", "-1"}, "--max-growth takes a whole number >= 0"},
           Case{{"http://h:1", "--max-growth", "3x"}, "--max-growth takes a whole number >= 0"},
           Case{{"http://h:1", "--max-growth", "99999999999999999999"}, "--max-growth takes a whole number >= 0"},
           Case{{"http://h:1", "--baseline"}, "--baseline needs a value"},
           Case{{"http://h:1", "--verbosity"}, "check: unknown option \"--verbosity\""},
       }) {
    CAPTURE(argv);
    CHECK(parse_check_args(argv).error == message);
  }
}

TEST_CASE("check exits 2 for a broken --config before it looks at the target, and for a target that is down",
          "[daemon]") {
  const std::string path = "check_command_test.json";
  std::ofstream(path) << R"({"rules": {"threshold": 5}})";
  // Port 1: refused at once, should the config be wrongly accepted.
  auto parsed = parse_check_args({"http://127.0.0.1:1", "--config", path});
  REQUIRE(parsed.error.empty());
  CHECK(run_check(parsed.args) == ExitCode::error);
  std::remove(path.c_str());
  parsed = parse_check_args({"http://127.0.0.1:1"});
  REQUIRE(parsed.error.empty());
  CHECK(run_check(parsed.args) == ExitCode::error);
}

TEST_CASE("check takes --timeout from 1ms to 1h and nothing else", "[daemon]") {
  CHECK(parse_check_args({"http://h:1", "--timeout", "2s"}).args.timeout_ns == 2'000'000'000);
  CHECK(parse_check_args({"http://h:1", "--timeout", "0s"}).error ==
        "--timeout takes a duration from 1ms to 1h, got \"0s\"");
  CHECK(parse_check_args({"http://h:1", "--timeout", "2h"}).error ==
        "--timeout takes a duration from 1ms to 1h, got \"2h\"");
  CHECK(parse_check_args({"http://h:1", "--timeout", "soon"}).error ==
        "--timeout takes a duration like 90s or 2m, got \"soon\"");
}

TEST_CASE("check on a target that drips its answer exits 2 at its --timeout", "[daemon]") {
  using fiberleak::testing::HostileServer;
  const std::string answer = HostileServer::response(200, "", std::string(1000, ' '));
  HostileServer drip(answer, answer.size() - 1000, std::chrono::milliseconds(100));  // 100 s of body
  const auto parsed = parse_check_args({drip.url(), "--timeout", "1s"});
  REQUIRE(parsed.error.empty());
  const auto start = std::chrono::steady_clock::now();
  CHECK(run_check(parsed.args) == ExitCode::error);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}
