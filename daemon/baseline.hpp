// The `fiberleakd check --baseline FILE` document: how many fibers were
// parked at each park site (ignore rules applied), the goroutine-count
// baseline Go teams keep in CI, and what later runs accept: those sites may
// hold that many fibers (plus --max-growth), leaked or not.
//
//   {"schema": "fiberleak.baseline/v1",
//    "sites": {"chan receive @ app::handler at main.cpp": <fibers>, ...}}
//
// Sites are keyed without their line (site_without_line()): function and
// file base name, so a baseline survives another checkout directory and
// edits that move lines. Files written before, whose keys end in a line,
// read the same way (their counts merge by key).
// Schema name in web/json_schemas.hpp; the decoder takes exactly that
// version. Stateless functions: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fiberleak::detail {

using SiteCounts = std::map<std::string, std::size_t>;  // park site -> parked fibers

// Counts per park_site() keyed as baselines key them (site_without_line()),
// merged.
SiteCounts baseline_counts(const SiteCounts& park_site_counts);

nlohmann::json baseline_to_json(const SiteCounts& sites);
// Throws JsonSchemaError (web/json_fields.hpp) naming the JSON path.
SiteCounts baseline_from_json(const nlohmann::json& doc);
SiteCounts baseline_from_json_text(const std::string& text);

struct SiteGrowth {
  std::string site;
  std::size_t before = 0;  // 0: the site is new
  std::size_t now = 0;
};
// The sites of `now` with more than `max_growth` fibers more than in
// `before`, in site order.
std::vector<SiteGrowth> grown_sites(const SiteCounts& before, const SiteCounts& now, std::size_t max_growth);

}  // namespace fiberleak::detail
