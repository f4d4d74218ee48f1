#include "daemon/daemon_config.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "profiler/duration.hpp"
#include "web/server_setup.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

// Reads fields of one JSON object, recording every problem with its path.
class Fields {
 public:
  Fields(const json& obj, std::string path, std::vector<std::string>& errors, std::set<std::string> known)
      : obj_(obj), path_(std::move(path)), errors_(errors) {
    if (!obj_.is_object()) {
      error(path_.empty() ? "document" : path_, "expected an object");
      return;
    }
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (known.count(it.key()) == 0) error(at(it.key()), "unknown field");
    }
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  void error(const std::string& path, const std::string& what) { errors_.push_back(path + ": " + what); }
  const json* get(const char* key) const {
    if (!obj_.is_object()) return nullptr;
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }
  void string(const char* key, std::string& out) {
    if (const json* v = get(key)) {
      if (v->is_string()) out = v->get<std::string>();
      else error(at(key), "expected a string");
    }
  }
  void duration(const char* key, std::chrono::milliseconds& out) {
    if (const json* v = get(key)) {
      std::int64_t ns = 0;
      if (!v->is_string() || !parse_duration(v->get<std::string>(), ns) || ns < 1'000'000) {
        error(at(key), "expected a duration of at least 1ms like \"15s\"");
      } else {
        out = std::chrono::milliseconds(ns / 1'000'000);
      }
    }
  }
  void duration_ns(const char* key, std::int64_t& out) {
    if (const json* v = get(key)) {
      if (!v->is_string() || !parse_duration(v->get<std::string>(), out)) error(at(key), "expected a duration like \"30s\"");
    }
  }
  void strings(const char* key, std::vector<std::string>& out) {
    if (const json* v = get(key)) {
      if (!v->is_array()) {
        error(at(key), "expected an array of strings");
        return;
      }
      for (std::size_t i = 0; i < v->size(); ++i) {
        if ((*v)[i].is_string()) out.push_back((*v)[i].get<std::string>());
        else error(at(key) + "[" + std::to_string(i) + "]", "expected a string");
      }
    }
  }

 private:
  const json& obj_;
  std::string path_;
  std::vector<std::string>& errors_;
};

// Adds the rules in `obj` (global or per target) to `rules`.
void read_rules(const json& obj, const std::string& path, LeakRules& rules, std::vector<std::string>& errors) {
  Fields f(obj, path, errors,
           {"threshold", "threshold_by_wait", "ignore_top_functions", "ignore_any_functions", "ignore_created_by",
            "ignore_names", "growing_evaluations"});
  std::int64_t threshold_ns = rules.threshold.count();
  f.duration_ns("threshold", threshold_ns);
  rules.threshold = std::chrono::nanoseconds(threshold_ns);
  if (const json* by = f.get("threshold_by_wait")) {
    if (!by->is_object()) {
      f.error(f.at("threshold_by_wait"), "expected an object of wait kind -> duration");
    } else {
      for (auto it = by->begin(); it != by->end(); ++it) {
        WaitKind kind;
        std::int64_t ns = 0;
        const std::string p = f.at("threshold_by_wait") + "." + it.key();
        if (!parse_wait_kind(it.key(), kind)) f.error(p, "unknown wait kind (mutex, channel_pop, sleep, ...)");
        else if (!it->is_string() || !parse_duration(it->get<std::string>(), ns)) f.error(p, "expected a duration like \"2m\"");
        else rules.threshold_by_wait[kind] = std::chrono::nanoseconds(ns);
      }
    }
  }
  f.strings("ignore_top_functions", rules.ignore_top_functions);
  f.strings("ignore_any_functions", rules.ignore_any_functions);
  f.strings("ignore_created_by", rules.ignore_created_by);
  f.strings("ignore_names", rules.ignore_names);
  if (const json* g = f.get("growing_evaluations")) {
    if (!g->is_number_integer() || g->get<int>() < 1 || g->get<int>() > 1000) {
      f.error(f.at("growing_evaluations"), "expected a whole number from 1 to 1000");
    } else {
      rules.growing_evaluations = g->get<int>();
    }
  }
}

bool valid_base_url(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) && url.find(' ') == std::string::npos;
}

}  // namespace

ConfigResult parse_daemon_config(const std::string& text) {
  ConfigResult r;
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    r.errors.push_back("document: not valid JSON");
    return r;
  }
  Fields top(doc, "", r.errors, {"listen", "log_level", "webhook_url", "max_body_bytes", "defaults", "rules", "targets"});
  std::string listen;
  top.string("listen", listen);
  if (!listen.empty() && !parse_listen_address(listen, r.config.listen_host, r.config.listen_port)) {
    top.error("listen", "expected HOST:PORT like \"127.0.0.1:6070\"");
  }
  top.string("log_level", r.config.log_level);
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
  if (kLevels.count(r.config.log_level) == 0) top.error("log_level", "expected trace, debug, info, warn, error or off");
  top.string("webhook_url", r.config.webhook_url);
  if (!r.config.webhook_url.empty() && !valid_base_url(r.config.webhook_url)) top.error("webhook_url", "expected an http:// URL");
  if (const json* m = top.get("max_body_bytes")) {
    if (!m->is_number_unsigned() || m->get<std::uint64_t>() < 1024) top.error("max_body_bytes", "expected a byte count of at least 1024");
    else r.config.max_body_bytes = m->get<std::size_t>();
  }

  TargetConfig defaults;
  if (const json* d = top.get("defaults")) {
    Fields f(*d, "defaults", r.errors, {"interval", "timeout"});
    f.duration("interval", defaults.interval);
    f.duration("timeout", defaults.timeout);
  }
  LeakRules global;
  if (const json* rules = top.get("rules")) read_rules(*rules, "rules", global, r.errors);
  r.global_rules = global;

  const json* targets = top.get("targets");
  if (targets == nullptr) return r;  // `check --config` needs only the rules; `scrape` requires targets
  if (!targets->is_array()) {
    top.error("targets", "expected an array of targets");
    return r;
  }
  std::set<std::string> names;
  r.global_rules = global;
  for (std::size_t i = 0; i < targets->size(); ++i) {
    const std::string path = "targets[" + std::to_string(i) + "]";
    TargetConfig t = defaults;
    t.rules = global;
    Fields f((*targets)[i], path, r.errors, {"name", "url", "kind", "labels", "interval", "timeout", "rules"});
    f.string("name", t.name);
    if (t.name.empty()) f.error(f.at("name"), "required");
    else if (!names.insert(t.name).second) f.error(f.at("name"), "duplicate target name \"" + t.name + "\"");
    f.string("url", t.url);
    if (!valid_base_url(t.url)) f.error(f.at("url"), "expected an http:// URL like \"http://127.0.0.1:6060\"");
    std::string kind = "auto";
    f.string("kind", kind);
    if (kind == "fiberleak") t.kind = TargetKind::fiberleak;
    else if (kind == "go") t.kind = TargetKind::go;
    else if (kind != "auto") f.error(f.at("kind"), "expected fiberleak, go or auto");
    if (const json* labels = f.get("labels")) {
      if (!labels->is_object()) {
        f.error(f.at("labels"), "expected an object of strings");
      } else {
        for (auto it = labels->begin(); it != labels->end(); ++it) {
          if (!it->is_string()) f.error(f.at("labels") + "." + it.key(), "expected a string");
          else t.labels[it.key()] = it->get<std::string>();
        }
      }
    }
    f.duration("interval", t.interval);
    f.duration("timeout", t.timeout);
    if (t.timeout > t.interval) f.error(f.at("timeout"), "must not be longer than the interval");
    if (const json* rules = f.get("rules")) read_rules(*rules, f.at("rules"), t.rules, r.errors);
    r.config.targets.push_back(std::move(t));
  }
  return r;
}

ConfigResult load_daemon_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ConfigResult r;
    r.errors.push_back(path + ": cannot be read");
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_daemon_config(ss.str());
}

}  // namespace fiberleak::detail
