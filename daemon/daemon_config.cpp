#include "daemon/daemon_config.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "web/json_fields.hpp"
#include "web/server_setup.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

// Config files report every problem and take null for a mistake.
JsonFields fields(const json& obj, std::string path, std::vector<std::string>& errors) {
  return JsonFields(obj, std::move(path), &errors, JsonNull::invalid);
}

// Scrape intervals and timeouts: at most a day, so that adding one to a
// clock reading (the next scrape's deadline) cannot overflow.
void read_interval(JsonFields& f, const char* key, std::chrono::milliseconds& out) {
  std::int64_t ns = std::chrono::nanoseconds(out).count();
  f.duration(key, ns, "expected a duration from 1ms to 24h like \"15s\"", 1'000'000, 86'400'000'000'000);
  out = std::chrono::milliseconds(ns / 1'000'000);
}

// Adds the rules in `obj` (global or per target) to `rules`.
// spdlog's level names (spdlog::level::from_str() maps anything else to off).
constexpr const char* kLogLevels = "expected trace, debug, info, warn, error or off";
bool valid_log_level(const std::string& level) {
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
  return kLevels.count(level) != 0;
}

void read_rules(const json& obj, const std::string& path, LeakRules& rules, std::vector<std::string>& errors) {
  JsonFields f = fields(obj, path, errors);
  f.reject_unknown({"threshold", "threshold_by_wait", "ignore_top_functions", "ignore_any_functions",
                    "ignore_created_by", "ignore_names", "ignore_labels", "growing_evaluations"});
  std::int64_t threshold_ns = rules.threshold.count();
  f.duration("threshold", threshold_ns, "expected a duration like \"30s\"");
  rules.threshold = std::chrono::nanoseconds(threshold_ns);
  if (const json* by = f.object("threshold_by_wait", "expected an object of wait kind -> duration")) {
    JsonFields waits = fields(*by, f.at("threshold_by_wait"), errors);
    for (auto it = by->begin(); it != by->end(); ++it) {
      WaitKind kind;
      std::int64_t ns = -1;
      if (!parse_wait_kind(it.key(), kind)) {
        waits.problem(waits.at(it.key()), "unknown wait kind (mutex, channel_pop, sleep, ...)");
        continue;
      }
      waits.duration(it.key(), ns, "expected a duration like \"2m\"");
      if (ns >= 0) rules.threshold_by_wait[kind] = std::chrono::nanoseconds(ns);
    }
  }
  f.strings("ignore_top_functions", rules.ignore_top_functions);
  f.strings("ignore_any_functions", rules.ignore_any_functions);
  f.strings("ignore_created_by", rules.ignore_created_by);
  f.strings("ignore_names", rules.ignore_names);
  f.strings("ignore_labels", rules.ignore_labels);
  for (std::size_t i = 0; i < rules.ignore_labels.size(); ++i) {
    if (rules.ignore_labels[i].find(':') == std::string::npos || rules.ignore_labels[i][0] == ':') {
      f.problem(JsonFields::item(f.at("ignore_labels"), i), "expected \"key:value\"");
    }
  }
  f.integer("growing_evaluations", rules.growing_evaluations, 1, 1000, "expected a whole number from 1 to 1000");
}

// "token" or "token_file" of `f` (not both) into `token`.
void read_token(JsonFields& f, std::string& token) {
  std::string file;
  f.string("token", token);
  f.string("token_file", file);
  if (!token.empty() && !file.empty()) {
    f.problem(f.at("token_file"), "give token or token_file, not both");
  } else if (!file.empty()) {
    std::string error;
    token = read_token_file(file, error);
    if (!error.empty()) f.problem(f.at("token_file"), error);
  }
}

void read_kind(JsonFields& f, TargetKind& kind) {
  std::string text = to_string(kind);
  f.string("kind", text);
  if (!parse_target_kind(text, kind)) f.problem(f.at("kind"), std::string("expected ") + kTargetKinds);
}

// Discovery refreshes: from 1s (each one reads files or asks a server) to 24h.
void read_refresh(JsonFields& f, std::chrono::milliseconds& out) {
  std::int64_t ns = std::chrono::nanoseconds(out).count();
  f.duration("refresh_interval", ns, "expected a duration from 1s to 24h like \"30s\"", 1'000'000'000,
             86'400'000'000'000);
  out = std::chrono::milliseconds(ns / 1'000'000);
}

// "file_sd" and "http_sd", spelled as Prometheus' scrape configs spell them.
void read_discovery(JsonFields& top, DaemonConfig& config, std::vector<std::string>& errors) {
  if (const json* list = top.array("file_sd", "expected an array of {\"files\": [...]}")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      JsonFields f = fields((*list)[i], JsonFields::item("file_sd", i), errors);
      if (!(*list)[i].is_object()) continue;  // said so
      f.reject_unknown({"files", "refresh_interval", "kind"});
      FileSdConfig sd;
      f.strings("files", sd.files);
      if (sd.files.empty()) f.problem(f.at("files"), "expected a non-empty array of file paths or globs");
      for (std::size_t k = 0; k < sd.files.size(); ++k) {
        const std::string& file = sd.files[k];
        const std::size_t slash = file.rfind('/');
        const std::string dir = slash == std::string::npos ? "" : file.substr(0, slash);
        if (dir.find_first_of("*?[") != std::string::npos) {
          f.problem(JsonFields::item(f.at("files"), k), "only the file name may hold wildcards");
        }
      }
      read_refresh(f, sd.refresh_interval);
      read_kind(f, sd.kind);
      config.file_sd.push_back(std::move(sd));
    }
  }
  if (const json* list = top.array("http_sd", "expected an array of {\"url\": \"http://...\"}")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      JsonFields f = fields((*list)[i], JsonFields::item("http_sd", i), errors);
      if (!(*list)[i].is_object()) continue;  // said so
      f.reject_unknown({"url", "refresh_interval", "kind"});
      HttpSdConfig sd;
      f.string("url", sd.url);
      if (!parse_http_url(sd.url)) f.problem(f.at("url"), "expected an http:// URL like \"http://127.0.0.1:8080/sd\"");
      read_refresh(f, sd.refresh_interval);
      read_kind(f, sd.kind);
      config.http_sd.push_back(std::move(sd));
    }
  }
}

}  // namespace

std::string read_token_file(const std::string& path, std::string& error) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    error = path + ": cannot be read";
    return {};
  }
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) error = path + ": holds no token";
  return line;
}

ConfigResult parse_daemon_config(const std::string& text, ConfigUse use, const ConfigOverrides& overrides) {
  ConfigResult r;
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    r.errors.push_back("document: not valid JSON");
    return r;
  }
  JsonFields top = fields(doc, "", r.errors);
  top.reject_unknown({"listen", "log_level", "webhook_url", "max_body_bytes", "token", "token_file", "defaults",
                      "rules", "targets", "file_sd", "http_sd"});
  std::string listen;
  top.string("listen", listen);
  if (!listen.empty() && !parse_listen_address(listen, r.config.listen_host, r.config.listen_port)) {
    top.problem("listen", "expected HOST:PORT like \"127.0.0.1:6070\"");
  }
  if (!overrides.listen.empty() &&
      !parse_listen_address(overrides.listen, r.config.listen_host, r.config.listen_port)) {
    top.problem("--listen", "expected HOST:PORT, got \"" + overrides.listen + "\"");
  }
  top.string("log_level", r.config.log_level);
  if (!valid_log_level(r.config.log_level)) top.problem("log_level", kLogLevels);
  if (!overrides.log_level.empty()) {
    r.config.log_level = overrides.log_level;
    if (!valid_log_level(overrides.log_level)) top.problem("--log-level", kLogLevels);
  }
  read_token(top, r.config.token);
  if (!overrides.token.empty() && !overrides.token_file.empty()) {
    top.problem("--token-file", "give --token or --token-file, not both");
  } else if (!overrides.token.empty()) {
    r.config.token = overrides.token;
  } else if (!overrides.token_file.empty()) {
    std::string error;
    r.config.token = read_token_file(overrides.token_file, error);
    if (!error.empty()) top.problem("--token-file", error);
  }
  top.string("webhook_url", r.config.webhook_url);
  if (!r.config.webhook_url.empty() && !parse_http_url(r.config.webhook_url)) {
    top.problem("webhook_url", "expected an http:// URL");
  }
  top.integer("max_body_bytes", r.config.max_body_bytes, std::size_t{1024}, std::numeric_limits<std::size_t>::max(),
              "expected a byte count of at least 1024");

  TargetConfig defaults;
  if (const json* d = top.find("defaults")) {
    JsonFields f = fields(*d, "defaults", r.errors);
    f.reject_unknown({"interval", "timeout", "token", "token_file"});
    read_interval(f, "interval", defaults.interval);
    read_interval(f, "timeout", defaults.timeout);
    read_token(f, defaults.token);
  }
  LeakRules global;
  if (const json* rules = top.find("rules")) read_rules(*rules, "rules", global, r.errors);
  r.global_rules = global;
  r.config.discovered_defaults = defaults;
  r.config.discovered_defaults.rules = global;
  read_discovery(top, r.config, r.errors);

  const json* targets = top.array("targets", "expected an array of targets");
  const bool discovers = !r.config.file_sd.empty() || !r.config.http_sd.empty();
  if (use == ConfigUse::scrape && !discovers &&
      (targets == nullptr ? top.find("targets") == nullptr : targets->empty())) {
    top.problem("targets", "expected a non-empty array of targets (or file_sd, http_sd)");
  }
  if (targets == nullptr) return r;
  std::set<std::string> names;
  for (std::size_t i = 0; i < targets->size(); ++i) {
    TargetConfig t = defaults;
    t.rules = global;
    JsonFields f = fields((*targets)[i], JsonFields::item("targets", i), r.errors);
    f.reject_unknown({"name", "url", "kind", "labels", "interval", "timeout", "rules", "token", "token_file"});
    f.string("name", t.name);
    if (t.name.empty()) {
      f.problem(f.at("name"), "required");
    } else if (!names.insert(t.name).second) {
      f.problem(f.at("name"), "duplicate target name \"" + t.name + "\"");
    }
    f.string("url", t.url);
    if (!parse_http_url(t.url)) f.problem(f.at("url"), "expected an http:// URL like \"http://127.0.0.1:6060\"");
    read_kind(f, t.kind);
    if (const json* labels = f.object("labels", "expected an object of strings")) {
      JsonFields l = fields(*labels, f.at("labels"), r.errors);
      for (auto it = labels->begin(); it != labels->end(); ++it) l.string(it.key(), t.labels[it.key()]);
    }
    read_interval(f, "interval", t.interval);
    read_interval(f, "timeout", t.timeout);
    if (f.find("token") != nullptr || f.find("token_file") != nullptr) t.token.clear();  // its own, not the default
    read_token(f, t.token);
    if (t.timeout > t.interval) f.problem(f.at("timeout"), "must not be longer than the interval");
    if (const json* rules = f.find("rules")) read_rules(*rules, f.at("rules"), t.rules, r.errors);
    r.config.targets.push_back(std::move(t));
  }
  return r;
}

ConfigResult load_daemon_config(const std::string& path, ConfigUse use, const ConfigOverrides& overrides) {
  std::ifstream in(path);
  if (!in) {
    ConfigResult r;
    r.errors.push_back(path + ": cannot be read");
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_daemon_config(ss.str(), use, overrides);
}

}  // namespace fiberleak::detail
