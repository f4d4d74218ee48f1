// JsonFields: the one reader of typed JSON fields (decoders and the config).
#include "web/json_fields.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "web/json_schemas.hpp"

using fiberleak::detail::JsonFields;
using fiberleak::detail::JsonNull;
using fiberleak::detail::JsonSchemaError;
using nlohmann::json;

TEST_CASE("fields of the expected type are read and missing ones keep their defaults", "[web]") {
  const json doc = json::parse(R"({"name": "a", "on": true, "n": -3, "big": 18446744073709551615,
                                   "list": ["x", "y"], "wait": "2m", "counts": [1, 2]})");
  JsonFields f(doc, "", nullptr);
  std::string name, absent = "kept";
  bool on = false;
  int n = 0;
  std::uint64_t big = 0;
  std::vector<std::string> list;
  std::int64_t wait_ns = 0;
  std::vector<std::size_t> counts;
  f.string("name", name);
  f.string("absent", absent);
  f.boolean("on", on);
  f.integer("n", n);
  f.integer("big", big);
  f.strings("list", list);
  f.duration("wait", wait_ns, "expected a duration");
  f.integers("counts", counts);
  CHECK(name == "a");
  CHECK(absent == "kept");
  CHECK(on);
  CHECK(n == -3);
  CHECK(big == 18446744073709551615u);
  CHECK(list == std::vector<std::string>{"x", "y"});
  CHECK(wait_ns == 120'000'000'000);
  CHECK(counts == std::vector<std::size_t>{1, 2});
}

TEST_CASE("without an error list the first problem throws with its JSON path", "[web]") {
  const json doc = json::parse(R"({"fibers": [{"id": "x"}]})");
  JsonFields f(doc["fibers"][0], JsonFields::item("fibers", 0), nullptr);
  std::uint64_t id = 7;
  CHECK_THROWS_WITH(f.integer("id", id), "fibers[0].id: expected an integer");
  CHECK(id == 7);
  CHECK_THROWS_AS(JsonFields(json::array(), "", nullptr), JsonSchemaError);
  CHECK_THROWS_WITH(JsonFields(json::array(), "", nullptr), "document: expected an object");
}

TEST_CASE("with an error list every problem is collected with its path and reading goes on", "[web]") {
  const json doc = json::parse(R"({"name": 5, "on": "yes", "list": ["x", 2], "wait": "soon", "extra": 1,
                                   "g": 0, "n": null})");
  std::vector<std::string> errors;
  JsonFields f(doc, "targets[2]", &errors, JsonNull::invalid);
  f.reject_unknown({"name", "on", "list", "wait", "g", "n"});
  std::string name = "default", n;
  bool on = false;
  std::vector<std::string> list;
  std::int64_t wait_ns = 5;
  int g = 3;
  f.string("name", name);
  f.boolean("on", on);
  f.strings("list", list);
  f.duration("wait", wait_ns, "expected a duration like \"30s\"");
  f.integer("g", g, 1, 1000, "expected a whole number from 1 to 1000");
  f.string("n", n);
  CHECK(errors == std::vector<std::string>{
                      "targets[2].extra: unknown field",
                      "targets[2].name: expected a string",
                      "targets[2].on: expected true or false",
                      "targets[2].list[1]: expected a string",
                      "targets[2].wait: expected a duration like \"30s\"",
                      "targets[2].g: expected a whole number from 1 to 1000",
                      "targets[2].n: expected a string",
                  });
  CHECK(name == "default");
  CHECK(list == std::vector<std::string>{"x"});
  CHECK(wait_ns == 5);
  CHECK(g == 3);
}

TEST_CASE("null is a missing field unless the reader says it is invalid", "[web]") {
  const json doc = json::parse(R"({"heap": null})");
  std::optional<std::int64_t> heap;
  JsonFields(doc, "", nullptr).optional_integer("heap", heap);
  CHECK_FALSE(heap.has_value());
  std::vector<std::string> errors;
  std::int64_t n = 0;
  JsonFields(doc, "", &errors, JsonNull::invalid).integer("heap", n);
  CHECK(errors == std::vector<std::string>{"heap: expected an integer"});
}

TEST_CASE("integers that do not fit the output type are rejected, not truncated", "[web]") {
  const json doc = json::parse(R"({"neg": -1, "huge": 4294967296, "wide": 9223372036854775808, "half": 1.5})");
  std::vector<std::string> errors;
  JsonFields f(doc, "", &errors);
  std::uint64_t neg = 1;
  int huge = 1;
  std::int64_t wide = 1, half = 1;
  f.integer("neg", neg);
  f.integer("huge", huge);
  f.integer("wide", wide);
  f.integer("half", half);
  CHECK(errors == std::vector<std::string>{
                      "neg: expected a non-negative integer",
                      "huge: expected an integer from -2147483648 to 2147483647",
                      "wide: expected an integer from -9223372036854775808 to 9223372036854775807",
                      "half: expected an integer",
                  });
  CHECK((neg == 1 && huge == 1 && wide == 1 && half == 1));
}

TEST_CASE("the schema must match exactly: a v10 document is not v1", "[web]") {
  using fiberleak::detail::kFibersSchema;
  CHECK_NOTHROW(JsonFields(json{{"schema", kFibersSchema}}, "", nullptr).schema(kFibersSchema));
  for (const char* other : {"fiberleak.fibers/v10", "fiberleak.fibers/v1.1", "fiberleak.fibers/v", ""}) {
    CAPTURE(other);
    CHECK_THROWS_WITH(JsonFields(json{{"schema", other}}, "", nullptr).schema(kFibersSchema),
                      "schema: expected \"fiberleak.fibers/v1\", got \"" + std::string(other) + "\"");
  }
  CHECK_THROWS_WITH(JsonFields(json::object(), "", nullptr).schema(kFibersSchema),
                    "schema: expected \"fiberleak.fibers/v1\", got \"\"");
}
