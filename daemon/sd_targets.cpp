#include "daemon/sd_targets.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "daemon/command_line.hpp"
#include "web/json_fields.hpp"
#include "web/json_stream.hpp"
#include "web/prometheus_text.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

// Values a document may decode to: a few per target and label.
constexpr std::size_t kMaxSdValues = kMaxSdTargets * 16;
// Problems listed per document; a file that is wrong everywhere says so once.
constexpr std::size_t kMaxProblems = 20;

// "host:port": host a name, IPv4 or [IPv6] address without '/', '@',
// spaces or controls; port 1..65535.
bool valid_address(const std::string& a) {
  const std::size_t colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::uint64_t port = 0;
  if (!parse_whole_number(a.substr(colon + 1), 1, 65535, port)) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(a[i]);
    if (c <= ' ' || c >= 0x7f || c == '/' || c == '@' || c == '?' || c == '#') return false;
  }
  return a.front() != '[' || a[colon - 1] == ']';
}

}  // namespace

SdTargets parse_sd_targets(std::string_view text, TargetKind kind) {
  SdTargets out;
  if (text.size() > kMaxSdBytes) {
    out.errors.push_back("document: larger than " + std::to_string(kMaxSdBytes) + " bytes");
    return out;
  }
  json doc;
  try {
    doc = stream_json(
        text, {}, [](std::string_view, std::size_t, json) {}, kMaxSdValues);
  } catch (const JsonSchemaError& e) {
    out.errors.push_back(e.what());
    return out;
  }
  if (!doc.is_array()) {
    out.errors.push_back("document: expected an array of target groups ({\"targets\": [...], \"labels\": {...}})");
    return out;
  }
  std::vector<std::string> errors;
  for (std::size_t g = 0; g < doc.size() && errors.size() < kMaxProblems; ++g) {
    const std::string path = JsonFields::item("", g);
    JsonFields f(doc[g], path, &errors, JsonNull::invalid);
    f.reject_unknown({"targets", "labels"});
    std::vector<std::string> addresses;
    f.strings("targets", addresses);
    std::map<std::string, std::string> labels;
    if (const json* l = f.object("labels", "expected an object of strings")) {
      JsonFields lf(*l, f.at("labels"), &errors, JsonNull::invalid);
      for (auto it = l->begin(); it != l->end(); ++it) {
        if (!PrometheusText::valid_label_name(it.key())) {
          lf.problem(lf.at(it.key()), "not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        } else if (it.key() == "target") {
          lf.problem(lf.at(it.key()), "\"target\" is fiberleakd's own label (the target's name)");
        } else {
          lf.string(it.key(), labels[it.key()]);
        }
      }
    }
    TargetKind group_kind = kind;
    std::string path_prefix;
    if (auto it = labels.find("__scheme__"); it != labels.end() && it->second != "http") {
      f.problem(f.at("labels") + ".__scheme__", "only http is scraped (fiberleakd has no TLS client)");
    }
    if (auto it = labels.find("__metrics_path__"); it != labels.end()) {
      path_prefix = endpoint_prefix(it->second);
      if (!it->second.empty() && it->second.front() != '/') {
        f.problem(f.at("labels") + ".__metrics_path__", "expected a path starting with /");
      }
    }
    if (auto it = labels.find("__kind__"); it != labels.end() && !parse_target_kind(it->second, group_kind)) {
      f.problem(f.at("labels") + ".__kind__", std::string("expected ") + kTargetKinds);
    }
    for (auto it = labels.begin(); it != labels.end();) {
      it = it->first.rfind("__", 0) == 0 ? labels.erase(it) : std::next(it);
    }
    for (std::size_t t = 0; t < addresses.size(); ++t) {
      SdTarget target;
      target.name = addresses[t] + path_prefix;
      target.url = "http://" + target.name;
      if (!valid_address(addresses[t]) || !parse_http_url(target.url)) {
        f.problem(JsonFields::item(f.at("targets"), t), "expected HOST:PORT like \"10.0.0.1:6060\"");
        continue;
      }
      target.kind = group_kind;
      target.labels = labels;
      out.targets.push_back(std::move(target));
    }
    if (out.targets.size() > kMaxSdTargets) {
      errors.push_back(path + ": more than " + std::to_string(kMaxSdTargets) + " targets in one document");
    }
  }
  if (!errors.empty()) {
    out.targets.clear();
    if (errors.size() >= kMaxProblems) errors.push_back("(more problems not listed)");
    out.errors = std::move(errors);
  }
  return out;
}

std::string http_sd_content_type_problem(std::string_view content_type) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!content_type.empty() && space(content_type.front())) content_type.remove_prefix(1);
  while (!content_type.empty() && space(content_type.back())) content_type.remove_suffix(1);
  std::string lower(content_type);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view rest(lower);
  constexpr std::string_view kJson = "application/json";
  if (rest.substr(0, kJson.size()) == kJson) {
    rest.remove_prefix(kJson.size());
    if (rest.empty()) return "";
    if (rest.front() == ';') {
      rest.remove_prefix(1);
      while (!rest.empty() && space(rest.front())) rest.remove_prefix(1);
      if (rest == "charset=utf-8" || rest == "charset=\"utf-8\"") return "";
    }
  }
  if (content_type.empty()) return "answered with no Content-Type; http_sd needs application/json";
  // The header is the other side's: printable ASCII only, and not all of a long one.
  std::string shown;
  for (char c : content_type.substr(0, 80)) shown += c >= 0x20 && c < 0x7f ? c : '?';
  if (content_type.size() > 80) shown += "...";
  return "answered with Content-Type " + shown + "; http_sd needs application/json";
}

}  // namespace fiberleak::detail
