#include "runtime/label_set.hpp"

#include <catch2/catch.hpp>

#include <string>

using fiberleak::Label;
using fiberleak::detail::kMaxLabelBytes;
using fiberleak::detail::LabelSet;

TEST_CASE("a label set keeps its labels sorted by key and replaces a key's value", "[runtime]") {
  LabelSet s;
  CHECK(s.empty());
  CHECK(s.set("request", "42"));
  CHECK(s.set("handler", "users"));
  CHECK(s.set("zone", ""));
  CHECK(s.labels() == std::vector<Label>{{"handler", "users"}, {"request", "42"}, {"zone", ""}});
  CHECK(s.set("request", "43"));
  CHECK(s.labels() == std::vector<Label>{{"handler", "users"}, {"request", "43"}, {"zone", ""}});
  CHECK_FALSE(s.empty());
}

TEST_CASE("a label that does not fit, an empty key or a NUL byte leaves the set unchanged", "[runtime]") {
  LabelSet s;
  REQUIRE(s.set("a", std::string(kMaxLabelBytes - 10, 'x')));
  const auto before = s.labels();
  CHECK_FALSE(s.set("b", "0123456789"));
  CHECK_FALSE(s.set("", "v"));
  CHECK_FALSE(s.set(std::string("k\0y", 3), "v"));
  CHECK_FALSE(s.set("k", std::string("v\0w", 3)));
  CHECK(s.labels() == before);
  // Exactly full: key, value, their two NULs and the terminating one.
  LabelSet full;
  CHECK(full.set("k", std::string(kMaxLabelBytes - 4, 'v')));
  CHECK_FALSE(full.set("k", std::string(kMaxLabelBytes - 3, 'v')));
  CHECK(full.labels().front().value.size() == kMaxLabelBytes - 4);
}

TEST_CASE("a label set survives the trip through its words", "[runtime]") {
  LabelSet s;
  s.set("k", "v");
  s.set("other", "value");
  LabelSet copy;
  for (std::size_t w = 0; w < LabelSet::kWords; ++w) copy.set_word(w, s.word(w));
  CHECK(copy.labels() == s.labels());
}
