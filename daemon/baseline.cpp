#include "daemon/baseline.hpp"

#include <limits>

#include "profiler/leak_rules.hpp"
#include "web/json_fields.hpp"
#include "web/json_schemas.hpp"

namespace fiberleak::detail {

SiteCounts baseline_counts(const SiteCounts& park_site_counts) {
  SiteCounts out;
  for (const auto& [site, count] : park_site_counts) {
    std::size_t& n = out[site_without_line(site)];
    n = count > std::numeric_limits<std::size_t>::max() - n ? std::numeric_limits<std::size_t>::max() : n + count;
  }
  return out;
}

nlohmann::json baseline_to_json(const SiteCounts& sites) { return {{"schema", kBaselineSchema}, {"sites", sites}}; }

SiteCounts baseline_from_json(const nlohmann::json& doc) {
  JsonFields top(doc, "", nullptr);
  top.schema(kBaselineSchema);
  const nlohmann::json* sites = top.object("sites");
  if (sites == nullptr) {
    top.problem("sites", "missing");
    return {};
  }
  SiteCounts out;
  JsonFields counts(*sites, "sites", nullptr);
  for (auto it = sites->begin(); it != sites->end(); ++it) counts.integer(it.key(), out[it.key()]);
  return baseline_counts(out);
}

SiteCounts baseline_from_json_text(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw JsonSchemaError("document: not valid JSON");
  return baseline_from_json(doc);
}

std::vector<SiteGrowth> grown_sites(const SiteCounts& before, const SiteCounts& now, std::size_t max_growth) {
  std::vector<SiteGrowth> out;
  for (const auto& [site, count] : now) {
    const auto it = before.find(site);
    const std::size_t was = it == before.end() ? 0 : it->second;
    if (count > was && count - was > max_growth) out.push_back({site, was, count});
  }
  return out;
}

}  // namespace fiberleak::detail
