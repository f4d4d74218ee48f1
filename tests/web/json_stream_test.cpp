// stream_json(): the big arrays of a document element by element.
#include "web/json_stream.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "web/json_fields.hpp"

using fiberleak::detail::JsonSchemaError;
using fiberleak::detail::stream_json;
using nlohmann::json;

namespace {

using Seen = std::vector<std::pair<std::string, std::size_t>>;

json stream(const std::string& text, Seen& seen, std::vector<json>& elements, std::size_t max_values = 1 << 16) {
  return stream_json(
      text, {"fibers", "stacks"},
      [&](std::string_view key, std::size_t i, json element) {
        seen.emplace_back(std::string(key), i);
        elements.push_back(std::move(element));
      },
      max_values);
}

}  // namespace

TEST_CASE("the streamed arrays' elements reach the sink one by one, the other fields stay", "[web]") {
  Seen seen;
  std::vector<json> elements;
  const json top = stream(R"({"fibers": [{"id": 1, "stack": [{"f": "a"}]}, 7, [], {"id": {"x": [1, 2]}}],
                              "schema": "s", "counters": {"a": [1, {"b": null}]}, "stacks": [[{"pc": "0x1"}]],
                              "n": -3, "x": [1, 2]})",
                          seen, elements);
  CHECK(seen == Seen{{"fibers", 0}, {"fibers", 1}, {"fibers", 2}, {"fibers", 3}, {"stacks", 0}});
  CHECK(elements[0] == json::parse(R"({"id": 1, "stack": [{"f": "a"}]})"));
  CHECK(elements[1] == 7);
  CHECK(elements[2] == json::array());
  CHECK(elements[3] == json::parse(R"({"id": {"x": [1, 2]}})"));
  CHECK(elements[4] == json::parse(R"([{"pc": "0x1"}])"));
  CHECK(top == json::parse(R"({"fibers": [], "stacks": [], "schema": "s", "counters": {"a": [1, {"b": null}]},
                               "n": -3, "x": [1, 2]})"));
}

TEST_CASE("a streamed key that holds no array, and a document that is no object, are kept as they are", "[web]") {
  Seen seen;
  std::vector<json> elements;
  CHECK(stream(R"({"fibers": {"a": 1}, "stacks": 3})", seen, elements) ==
        json::parse(R"({"fibers": {"a": 1}, "stacks": 3})"));
  CHECK(stream(R"([{"fibers": [1]}])", seen, elements) == json::parse(R"([{"fibers": [1]}])"));
  CHECK(stream("42", seen, elements) == 42);
  CHECK(seen.empty());
}

TEST_CASE("bad JSON, an element of too many values and the sink's own error all throw", "[web]") {
  Seen seen;
  std::vector<json> elements;
  CHECK_THROWS_WITH(stream(R"({"fibers": [{"id": 1}, {"id": )", seen, elements), "document: not valid JSON");
  CHECK_THROWS_WITH(stream(R"({"fibers": [[1, 2], [1, 2, 3, 4]]})", seen, elements, 4),
                    "fibers[1]: more than 4 values");
  CHECK_THROWS_WITH(stream(R"({"other": [1, 2, 3, 4, 5]})", seen, elements, 4), "other: more than 4 values");
  CHECK_THROWS_WITH(stream_json(R"({"fibers": [1]})", {"fibers"},
                                [](std::string_view, std::size_t, json) { throw JsonSchemaError("fibers[0]: no"); }),
                    "fibers[0]: no");
}
