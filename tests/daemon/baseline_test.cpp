// The `check --baseline` document and the growth it reports.
#include "daemon/baseline.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "web/json_fields.hpp"

using fiberleak::detail::baseline_from_json_text;
using fiberleak::detail::baseline_to_json;
using fiberleak::detail::grown_sites;
using fiberleak::detail::JsonSchemaError;
using fiberleak::detail::SiteCounts;

TEST_CASE("a baseline reads back the park sites it was written with", "[daemon]") {
  const SiteCounts sites{{"main.leak (main.go:7) chan receive", 3}, {"worker (w.cpp:12) mutex", 0}};
  const nlohmann::json doc = baseline_to_json(sites);
  CHECK(doc["schema"] == "fiberleak.baseline/v1");
  CHECK(baseline_from_json_text(doc.dump()) == sites);
  CHECK(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v1", "sites": {}})").empty());
}

TEST_CASE("a file that is not a version 1 baseline is rejected with the path of the problem", "[daemon]") {
  CHECK_THROWS_WITH(baseline_from_json_text("not json"), "document: not valid JSON");
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v10", "sites": {}})"),
                    "schema: expected \"fiberleak.baseline/v1\", got \"fiberleak.baseline/v10\"");
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"sites": {}})"), Catch::Contains("schema: expected"));
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"schema": "fiberleak.leaks/v1", "leaks": []})"),
                    Catch::Contains("schema: expected"));
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v1"})"), "sites: missing");
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v1", "sites": []})"),
                    "sites: expected an object");
  CHECK_THROWS_WITH(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v1", "sites": {"s": -1}})"),
                    "sites.s: expected a non-negative integer");
  CHECK_THROWS_AS(baseline_from_json_text(R"({"schema": "fiberleak.baseline/v1", "sites": {"s": "3"}})"),
                  JsonSchemaError);
}

TEST_CASE("a site grew when it gained more fibers than allowed, new sites counting from zero", "[daemon]") {
  const SiteCounts before{{"a", 2}, {"b", 5}, {"gone", 9}};
  const SiteCounts now{{"a", 3}, {"b", 4}, {"new", 2}};
  auto grown = grown_sites(before, now, 0);
  REQUIRE(grown.size() == 2);
  CHECK((grown[0].site == "a" && grown[0].before == 2 && grown[0].now == 3));
  CHECK((grown[1].site == "new" && grown[1].before == 0 && grown[1].now == 2));
  grown = grown_sites(before, now, 1);
  REQUIRE(grown.size() == 1);
  CHECK(grown[0].site == "new");
  CHECK(grown_sites(before, now, 2).empty());
  CHECK(grown_sites(now, now, 0).empty());
}

TEST_CASE("baseline keys drop the line, and baselines with lines in their keys read merged", "[daemon]") {
  using fiberleak::detail::baseline_counts;
  const SiteCounts by_park_site{{"chan receive @ main.leak at main.go:7", 2},
                                {"chan receive @ main.leak at main.go:9", 1},
                                {"mutex lock @ ns::f(int) at w.cpp:12", 4},
                                {"sleep @ ns::operator()", 1}};
  const SiteCounts expected{{"chan receive @ main.leak at main.go", 3},
                            {"mutex lock @ ns::f(int) at w.cpp", 4},
                            {"sleep @ ns::operator()", 1}};
  CHECK(baseline_counts(by_park_site) == expected);
  CHECK(baseline_from_json_text(baseline_to_json(by_park_site).dump()) == expected);
  // Merged counts saturate instead of wrapping.
  const std::size_t most = std::numeric_limits<std::size_t>::max();
  CHECK(baseline_counts({{"x @ f at a.go:1", most}, {"x @ f at a.go:2", 5}}).at("x @ f at a.go") == most);
}
