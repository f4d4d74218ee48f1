// JsonWriter against nlohmann's own text of the same value: the same bytes
// in every layout, for awkward values and for random bytes as strings.
#include "web/json_text.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

using fiberleak::detail::json_text;
using fiberleak::detail::JsonWriter;
using nlohmann::json;

namespace {

std::string written(const json& v, int indent) {
  JsonWriter w(indent);
  w.value(v);
  return w.take();
}

}  // namespace

TEST_CASE("JsonWriter writes nlohmann's bytes for nested, empty and edge values", "[web][json]") {
  const json doc = json::parse(R"({
    "empty_object": {}, "empty_array": [], "nested": [[], [{}], {"a": [1, {"b": null}]}],
    "strings": ["", "plain", "quote \" backslash \\ slash /", "tab\t newline\n cr\r bell\u0007 nul\u0000 del\u007f",
                "é ü 日本 🙂", "\u00ff"],
    "numbers": [0, -1, 9223372036854775807, -9223372036854775808, 18446744073709551615, 0.5, 1e300, -0.0],
    "flags": [true, false, null]
  })");
  for (int indent : {-1, 0, 1, 2, 4}) {
    INFO("indent " << indent);
    CHECK(written(doc, indent) == json_text(doc, indent));
  }
  for (const json& scalar : {json(nullptr), json(true), json(42), json("x"), json::array(), json::object()}) {
    CHECK(written(scalar, 2) == json_text(scalar, 2));
  }
}

TEST_CASE("JsonWriter escapes any bytes as json_text does, invalid UTF-8 as U+FFFD", "[web][json]") {
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> length(0, 12), byte(0, 255), plain_or_not(0, 3);
  for (int i = 0; i < 20'000; ++i) {
    std::string s;
    const int n = length(random);
    for (int j = 0; j < n; ++j) {
      // Half the bytes from the whole range, half from UTF-8's lead and continuation bytes.
      s += static_cast<char>(plain_or_not(random) < 2 ? byte(random) : 0x80 + byte(random) % 0x70);
    }
    JsonWriter w;
    w.begin_object();
    w.key(s);
    w.string(s);
    w.end_object();
    json expected = json::object();
    expected[s] = s;
    INFO("bytes: " << json_text(json(s)));
    REQUIRE(w.take() == json_text(expected));
  }
}

TEST_CASE("JsonWriter writes every integer type whole", "[web][json]") {
  JsonWriter w;
  w.begin_array();
  w.number(std::numeric_limits<std::int64_t>::min());
  w.number(std::numeric_limits<std::uint64_t>::max());
  w.number(std::int32_t{-7});
  w.number(std::uint8_t{255});
  w.boolean(false);
  w.null();
  w.end_array();
  CHECK(w.take() == "[-9223372036854775808,18446744073709551615,-7,255,false,null]");
  CHECK(w.take().empty());  // taken: the writer starts over
}
