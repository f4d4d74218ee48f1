// parse_sd_targets(): the target groups of Prometheus' file_sd and http_sd
// documents (the same JSON in both), as fiberleakd targets.
//
//   [{"targets": ["10.0.0.1:6060", ...], "labels": {"env": "prod", "__metrics_path__": "/admin"}}, ...]
//
// https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config
// https://prometheus.io/docs/prometheus/latest/http_sd/
//
// Meta labels (starting "__") set how a group is scraped and are not
// target labels: "__scheme__" (only "http"), "__metrics_path__" (the path a
// fiberleak endpoint is mounted under, "/admin" or "/admin/debug/pprof/"),
// "__kind__" (auto, fiberleak or go; default: the file_sd/http_sd entry's
// kind); other "__" labels are dropped, as Prometheus drops them after
// relabeling. A target is named by its address (and path: "host:6060/admin").
//
// Error style: a document is taken whole or not at all (Prometheus keeps a
// file's previous targets when it turns bad): any problem, every one listed
// with its JSON path, leaves `targets` empty. The text is bounded before it
// gets here (kMaxSdBytes) and its decoded values are counted
// (web/json_stream.hpp), so a hostile document costs a bounded amount of
// memory. Stateless: thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/target_kind.hpp"

namespace fiberleak::detail {

// A discovery file or http_sd answer larger than this is an error: 10,000
// targets with a few labels each take ~1 MiB.
inline constexpr std::size_t kMaxSdBytes = std::size_t{4} << 20;
// Targets one document may name.
inline constexpr std::size_t kMaxSdTargets = 10000;

struct SdTarget {
  std::string name;  // "host:port" or "host:port/path"
  std::string url;   // http://host:port[/path]
  TargetKind kind = TargetKind::auto_detect;
  std::map<std::string, std::string> labels;  // the group's, meta labels removed
  bool operator==(const SdTarget& o) const {
    return name == o.name && url == o.url && kind == o.kind && labels == o.labels;
  }
};

struct SdTargets {
  std::vector<SdTarget> targets;
  std::vector<std::string> errors;  // empty: valid
};

// `kind`: what a group without "__kind__" is.
SdTargets parse_sd_targets(std::string_view text, TargetKind kind);

// An http_sd answer's Content-Type as Prometheus takes it: application/json,
// optionally "; charset=utf-8", in any case, spaces around ignored. "" when
// it is, else the problem ("answered with Content-Type text/html; http_sd
// needs application/json").
std::string http_sd_content_type_problem(std::string_view content_type);

}  // namespace fiberleak::detail
