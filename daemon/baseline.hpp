// The `fiberleakd check --baseline FILE` document: how many fibers were
// parked at each park site (ignore rules applied), the goroutine-count
// baseline Go teams keep in CI.
//
//   {"schema": "fiberleak.baseline/v1", "sites": {"<park site>": <fibers>, ...}}
//
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
