// DaemonConfig: fiberleakd's sidecar configuration (JSON; documented in
// docs/fiberleakd.md, example in config/fiberleakd.example.json).
//
// load_daemon_config() validates everything, for `scrape` and for
// `check --config` alike, and reports every problem with its field path
// ("targets[2].interval: expected a duration like 15s") — a config is
// applied whole or not at all. The one validator of fiberleakd's config.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "daemon/target_kind.hpp"
#include "profiler/leak_rules.hpp"

namespace fiberleak::detail {

struct TargetConfig {
  std::string name;
  std::string url;  // base URL, http://host:port (a path prefix in front of /debug is kept)
  TargetKind kind = TargetKind::auto_detect;
  std::map<std::string, std::string> labels;
  std::chrono::milliseconds interval{15000};
  std::chrono::milliseconds timeout{5000};
  LeakRules rules;    // the global rules with this target's additions
  std::string token;  // sent as "Authorization: Bearer <token>" ("": none)
};

// A file_sd entry (Prometheus' file-based service discovery): the target
// groups in the files matching `files` (globs; only the last component may
// hold wildcards), re-read when one changes and every refresh_interval.
struct FileSdConfig {
  std::vector<std::string> files;
  std::chrono::milliseconds refresh_interval{300000};  // Prometheus' default: 5m
  TargetKind kind = TargetKind::auto_detect;           // a group's "__kind__" label overrides it
  bool operator==(const FileSdConfig& o) const {
    return files == o.files && refresh_interval == o.refresh_interval && kind == o.kind;
  }
};

// An http_sd entry (Prometheus' HTTP service discovery): the target groups
// a GET of `url` answers, every refresh_interval.
struct HttpSdConfig {
  std::string url;
  std::chrono::milliseconds refresh_interval{60000};  // Prometheus' default: 1m
  TargetKind kind = TargetKind::auto_detect;
  bool operator==(const HttpSdConfig& o) const {
    return url == o.url && refresh_interval == o.refresh_interval && kind == o.kind;
  }
};

struct DaemonConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 6070;
  std::string log_level = "info";
  std::string webhook_url;  // optional: POSTed each new and resolved finding as JSON
  std::string token;        // the sidecar's own server requires it ("": open; /healthz always is)
  // A larger answer from a target is an error. A scrape peaks at a few
  // times the body (docs/fiberleakd.md). Measured: 6 MB is ~14k fibers of
  // the demo's (shared stacks) or ~28k goroutines of a short Go stack.
  std::size_t max_body_bytes = kDefaultMaxBodyBytes;
  static constexpr std::size_t kDefaultMaxBodyBytes = std::size_t{64} << 20;
  std::vector<TargetConfig> targets;
  std::vector<FileSdConfig> file_sd;
  std::vector<HttpSdConfig> http_sd;
  // What a discovered target starts from: "defaults" and the global "rules".
  TargetConfig discovered_defaults;
};

struct ConfigResult {
  DaemonConfig config;
  LeakRules global_rules;           // the "rules" section alone (what `check --config` applies)
  std::vector<std::string> errors;  // empty: valid
};

// What the config is for. Either way every field present is checked.
enum class ConfigUse {
  scrape,  // `fiberleakd scrape`: at least one target, file_sd or http_sd entry is required
  rules,   // `fiberleakd check --config`: only the rules apply; targets may be left out
};

// Command-line flags that replace a field of the file ("": not given),
// checked as the field is and reported under the flag's name.
struct ConfigOverrides {
  std::string listen;      // --listen HOST:PORT
  std::string log_level;   // --log-level LEVEL
  std::string token;       // --token TOKEN: the sidecar's own
  std::string token_file;  // --token-file FILE: the same, read from FILE
};

// A token file's first line (trailing newline and spaces dropped); empty
// with `error` set when it cannot be read or holds no token.
std::string read_token_file(const std::string& path, std::string& error);

ConfigResult parse_daemon_config(const std::string& json_text, ConfigUse use, const ConfigOverrides& overrides = {});
ConfigResult load_daemon_config(const std::string& path, ConfigUse use, const ConfigOverrides& overrides = {});

}  // namespace fiberleak::detail
