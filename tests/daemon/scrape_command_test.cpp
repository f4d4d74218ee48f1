// `fiberleakd scrape`'s arguments, and a broken config stopping it before
// anything starts.
#include "daemon/scrape_command.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using fiberleak::detail::ExitCode;
using fiberleak::detail::parse_scrape_args;

TEST_CASE("scrape takes a config file and the flags that override it", "[daemon]") {
  const auto parsed = parse_scrape_args({"--config", "c.json", "--listen", "0.0.0.0:7000", "--log-level", "debug"});
  REQUIRE(parsed.error.empty());
  CHECK(parsed.args.config_path == "c.json");
  CHECK(parsed.args.overrides.listen == "0.0.0.0:7000");
  CHECK(parsed.args.overrides.log_level == "debug");
  const auto plain = parse_scrape_args({"--config", "c.json"});
  REQUIRE(plain.error.empty());
  CHECK(plain.args.overrides.listen.empty());
  CHECK(plain.args.overrides.log_level.empty());
}

TEST_CASE("scrape without --config, with an unknown flag or a flag without value is a usage error", "[daemon]") {
  CHECK(parse_scrape_args({}).error == "scrape needs --config FILE");
  CHECK(parse_scrape_args({"--listen", "127.0.0.1:0"}).error == "scrape needs --config FILE");
  CHECK(parse_scrape_args({"--config", "c.json", "--targets", "x"}).error == "scrape: unknown option \"--targets\"");
  CHECK(parse_scrape_args({"--config"}).error == "--config needs a value");
}

TEST_CASE("scrape with a broken config or a bad override exits 2 and starts nothing", "[daemon]") {
  const std::string path = "scrape_command_test.json";
  std::ofstream(path) << R"({"targets": [{"name": "a", "url": "http://127.0.0.1:1"}], "log_level": "loud"})";
  auto parsed = parse_scrape_args({"--config", path});
  REQUIRE(parsed.error.empty());
  CHECK(run_scrape(parsed.args) == ExitCode::error);
  std::ofstream(path) << R"({"targets": [{"name": "a", "url": "http://127.0.0.1:1"}]})";
  parsed = parse_scrape_args({"--config", path, "--listen", "nowhere"});
  REQUIRE(parsed.error.empty());
  CHECK(run_scrape(parsed.args) == ExitCode::error);
  std::remove(path.c_str());
  CHECK(run_scrape(parse_scrape_args({"--config", "/nonexistent/fiberleakd.json"}).args) == ExitCode::error);
}
