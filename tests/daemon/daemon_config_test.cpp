// load_daemon_config(): the one validator of fiberleakd's config, for
// `scrape` and for `check --config`.
#include "daemon/daemon_config.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using fiberleak::detail::ConfigOverrides;
using fiberleak::detail::ConfigUse;
using fiberleak::detail::parse_daemon_config;

namespace {

const char* kOneTarget = R"({"targets": [{"name": "a", "url": "http://127.0.0.1:6060"}]})";

bool has(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors) {
    if (e.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("the example config in config/ is valid", "[daemon]") {
  const auto r = fiberleak::detail::load_daemon_config(std::string(FIBERLEAK_CONFIG_DIR) + "/fiberleakd.example.json",
                                                       ConfigUse::scrape);
  INFO(r.errors.size() << " errors, first: " << (r.errors.empty() ? "" : r.errors[0]));
  CHECK(r.errors.empty());
  CHECK(r.config.targets.size() == 2);
  CHECK(r.config.targets[0].rules.threshold == std::chrono::nanoseconds(30'000'000'000));   // per-target override
  CHECK(r.config.targets[1].rules.threshold == std::chrono::nanoseconds(120'000'000'000));  // the global rule
}

TEST_CASE("the container sidecar config in config/ is valid and listens on every address", "[daemon]") {
  const auto r = fiberleak::detail::load_daemon_config(std::string(FIBERLEAK_CONFIG_DIR) + "/fiberleakd.sidecar.json",
                                                       ConfigUse::scrape);
  INFO(r.errors.size() << " errors, first: " << (r.errors.empty() ? "" : r.errors[0]));
  CHECK(r.errors.empty());
  CHECK(r.config.listen_host == "0.0.0.0");
  REQUIRE(r.config.targets.size() == 1);
  CHECK(r.config.targets[0].url == "http://127.0.0.1:6060");
}

TEST_CASE("the .deb's config for /etc/fiberleak/ is valid and discovers its targets from /etc/fiberleak/sd/",
          "[daemon]") {
  const auto r = fiberleak::detail::load_daemon_config(std::string(FIBERLEAK_CONFIG_DIR) + "/fiberleakd.system.json",
                                                       ConfigUse::scrape);
  CHECK(r.errors.empty());
  REQUIRE(r.config.file_sd.size() == 1);
  CHECK(r.config.file_sd[0].files == std::vector<std::string>{"/etc/fiberleak/sd/*.json"});
  CHECK(r.config.listen_host == "127.0.0.1");
}

TEST_CASE("scrape needs a target and check --config needs only the rules", "[daemon]") {
  const char* rules_only = R"({"rules": {"threshold": "1h"}})";
  CHECK(parse_daemon_config(rules_only, ConfigUse::rules).errors.empty());
  CHECK(parse_daemon_config(rules_only, ConfigUse::rules).global_rules.threshold == std::chrono::hours(1));
  CHECK(parse_daemon_config(rules_only, ConfigUse::scrape).errors ==
        std::vector<std::string>{"targets: expected a non-empty array of targets (or file_sd, http_sd)"});
  CHECK(parse_daemon_config(R"({"targets": []})", ConfigUse::scrape).errors ==
        std::vector<std::string>{"targets: expected a non-empty array of targets (or file_sd, http_sd)"});
  // Not an array: one problem, not two.
  CHECK(parse_daemon_config(R"({"targets": {}})", ConfigUse::scrape).errors ==
        std::vector<std::string>{"targets: expected an array of targets"});
  CHECK(parse_daemon_config(kOneTarget, ConfigUse::scrape).errors.empty());
}

TEST_CASE("check --config checks the targets of the file it is given too", "[daemon]") {
  const auto r =
      parse_daemon_config(R"({"rules": {}, "targets": [{"name": "a", "url": "ftp://x"}]})", ConfigUse::rules);
  CHECK(r.errors == std::vector<std::string>{"targets[0].url: expected an http:// URL like \"http://127.0.0.1:6060\""});
  CHECK(parse_daemon_config(R"({"rules": {"threshold": 5}})", ConfigUse::rules).errors ==
        std::vector<std::string>{"rules.threshold: expected a duration like \"30s\""});
}

TEST_CASE("the flags --listen and --log-level replace the file's fields and are checked as they are", "[daemon]") {
  ConfigOverrides good;
  good.listen = "0.0.0.0:0";
  good.log_level = "debug";
  auto r = parse_daemon_config(R"({"listen": "127.0.0.1:7000", "log_level": "warn", "targets": [{"name": "a",
                                   "url": "http://127.0.0.1:6060"}]})",
                               ConfigUse::scrape, good);
  CHECK(r.errors.empty());
  CHECK(r.config.listen_host == "0.0.0.0");
  CHECK(r.config.listen_port == 0);
  CHECK(r.config.log_level == "debug");

  ConfigOverrides bad;
  bad.listen = "host:80x";
  bad.log_level = "loud";
  r = parse_daemon_config(kOneTarget, ConfigUse::scrape, bad);
  CHECK(r.errors == std::vector<std::string>{"--listen: expected HOST:PORT, got \"host:80x\"",
                                             "--log-level: expected trace, debug, info, warn, error or off"});
}

TEST_CASE("every problem of a broken config is reported once with its path", "[daemon]") {
  const auto r = parse_daemon_config(
      R"({"listen": "nowhere", "log_level": "loud", "webhook_url": null, "max_body_bytes": 10,
          "rules": {"threshold_by_wait": {"nap": "1s", "mutex": 3}, "growing_evaluations": 0,
                    "ignore_labels": ["handler:health", "nocolon"]},
          "targets": [{"name": "a", "url": "http://:1", "kind": "rust", "interval": "1s", "timeout": "5s",
                       "labels": {"x": 1}},
                      {"name": "a", "url": "http://127.0.0.1:1", "extra": true}]})",
      ConfigUse::scrape);
  CHECK(r.errors == std::vector<std::string>{
                        "listen: expected HOST:PORT like \"127.0.0.1:6070\"",
                        "log_level: expected trace, debug, info, warn, error or off",
                        "webhook_url: expected a string",
                        "max_body_bytes: expected a byte count of at least 1024",
                        "rules.threshold_by_wait.mutex: expected a duration like \"2m\"",
                        "rules.threshold_by_wait.nap: unknown wait kind (mutex, channel_pop, sleep, ...)",
                        "rules.ignore_labels[1]: expected \"key:value\"",
                        "rules.growing_evaluations: expected a whole number from 1 to 1000",
                        "targets[0].url: expected an http:// URL like \"http://127.0.0.1:6060\"",
                        "targets[0].kind: expected auto, fiberleak or go",
                        "targets[0].labels.x: expected a string",
                        "targets[0].timeout: must not be longer than the interval",
                        "targets[1].extra: unknown field",
                        "targets[1].name: duplicate target name \"a\"",
                    });
  CHECK(has(parse_daemon_config("{not json", ConfigUse::rules).errors, "document: not valid JSON"));
  // An interval near INT64_MAX ns would overflow the next scrape's deadline.
  const auto huge = parse_daemon_config(
      R"({"defaults": {"interval": "2562047h", "timeout": "2562047h"}, "targets": [{"name": "a", "url": "http://h:1"}]})",
      ConfigUse::scrape);
  CHECK(has(huge.errors, "defaults.interval: expected a duration from 1ms to 24h like \"15s\""));
  CHECK(has(huge.errors, "defaults.timeout: expected a duration from 1ms to 24h like \"15s\""));
  CHECK(parse_daemon_config(R"({"defaults": {"interval": "24h"}, "targets": [{"name": "a", "url": "http://h:1"}]})",
                            ConfigUse::scrape)
            .errors.empty());
  CHECK(has(fiberleak::detail::load_daemon_config("/nonexistent/fiberleakd.json", ConfigUse::rules).errors,
            "/nonexistent/fiberleakd.json: cannot be read"));
}

TEST_CASE("a target's timeout may be as long as its interval, not a millisecond longer", "[daemon]") {
  auto errors = [](const std::string& timeout) {
    return parse_daemon_config(R"({"targets": [{"name": "a", "url": "http://127.0.0.1:1", "interval": "2s",
                                                "timeout": ")" +
                                   timeout + R"("}]})",
                               ConfigUse::scrape)
        .errors;
  };
  CHECK(errors("2s").empty());
  CHECK(errors("2001ms") == std::vector<std::string>{"targets[0].timeout: must not be longer than the interval"});
}

TEST_CASE("tokens come from token or token_file: the sidecar's own, per target over the defaults, and the flags",
          "[daemon][access]") {
  const std::string file = "/tmp/fiberleakd-config-token-test";
  {
    std::ofstream out(file);
    out << "from-file  \n";
  }
  auto r = parse_daemon_config(R"({"token": "own", "defaults": {"token_file": ")" + file + R"("},
      "targets": [{"name": "a", "url": "http://127.0.0.1:1"},
                  {"name": "b", "url": "http://127.0.0.1:2", "token": "bee"}]})",
                               ConfigUse::scrape);
  CHECK(r.errors.empty());
  CHECK(r.config.token == "own");
  REQUIRE(r.config.targets.size() == 2);
  CHECK(r.config.targets[0].token == "from-file");
  CHECK(r.config.targets[1].token == "bee");

  ConfigOverrides flags;
  flags.token_file = file;
  CHECK(parse_daemon_config(kOneTarget, ConfigUse::scrape, flags).config.token == "from-file");
  flags.token = "flag";
  CHECK(has(parse_daemon_config(kOneTarget, ConfigUse::scrape, flags).errors, "--token-file: give --token or"));
  flags.token_file.clear();
  CHECK(parse_daemon_config(R"({"token": "own", "targets": [{"name": "a", "url": "http://127.0.0.1:1"}]})",
                            ConfigUse::scrape, flags)
            .config.token == "flag");

  r = parse_daemon_config(R"({"token": "x", "token_file": "/nonexistent/token",
      "targets": [{"name": "a", "url": "http://127.0.0.1:1", "token_file": "/nonexistent/token"}]})",
                          ConfigUse::scrape);
  CHECK(has(r.errors, "token_file: give token or token_file, not both"));
  CHECK(has(r.errors, "targets[0].token_file: /nonexistent/token: cannot be read"));
  std::remove(file.c_str());
}

TEST_CASE("file_sd and http_sd are read as Prometheus spells them, and stand in for targets", "[daemon]") {
  const auto r = parse_daemon_config(
      R"({"defaults": {"interval": "5s"}, "rules": {"threshold": "1m"},
          "file_sd": [{"files": ["/etc/fiberleak/sd/*.json"], "refresh_interval": "30s", "kind": "fiberleak"}],
          "http_sd": [{"url": "http://127.0.0.1:8080/sd", "refresh_interval": "10s"}]})",
      ConfigUse::scrape);
  REQUIRE(r.errors.empty());
  REQUIRE(r.config.file_sd.size() == 1);
  CHECK(r.config.file_sd[0].files == std::vector<std::string>{"/etc/fiberleak/sd/*.json"});
  CHECK(r.config.file_sd[0].refresh_interval == std::chrono::seconds(30));
  CHECK(r.config.file_sd[0].kind == fiberleak::detail::TargetKind::fiberleak);
  REQUIRE(r.config.http_sd.size() == 1);
  CHECK(r.config.http_sd[0].url == "http://127.0.0.1:8080/sd");
  CHECK(r.config.http_sd[0].refresh_interval == std::chrono::seconds(10));
  // What discovered targets start from: the defaults and the global rules.
  CHECK(r.config.discovered_defaults.interval == std::chrono::seconds(5));
  CHECK(r.config.discovered_defaults.rules.threshold == std::chrono::minutes(1));

  const auto bad = parse_daemon_config(
      R"({"file_sd": [{"files": []}, {"files": ["/etc/*/sd.json"], "refresh_interval": "10ms", "kind": "x", "y": 1}],
          "http_sd": [{"url": "https://sd"}, 3]})",
      ConfigUse::scrape);
  CHECK(bad.errors == std::vector<std::string>{
                          "file_sd[0].files: expected a non-empty array of file paths or globs",
                          "file_sd[1].y: unknown field",
                          "file_sd[1].files[0]: only the file name may hold wildcards",
                          "file_sd[1].refresh_interval: expected a duration from 1s to 24h like \"30s\"",
                          "file_sd[1].kind: expected auto, fiberleak or go",
                          "http_sd[0].url: expected an http:// URL like \"http://127.0.0.1:8080/sd\"",
                          "http_sd[1]: expected an object",
                      });
}
