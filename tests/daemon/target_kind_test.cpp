// TargetKind's one spelling, shared by the config and `check --kind`.
#include "daemon/target_kind.hpp"

#include <catch2/catch.hpp>

using fiberleak::detail::parse_target_kind;
using fiberleak::detail::TargetKind;

TEST_CASE("each target kind parses back from the name it prints", "[daemon]") {
  for (TargetKind kind : {TargetKind::auto_detect, TargetKind::fiberleak, TargetKind::go}) {
    TargetKind parsed = kind == TargetKind::go ? TargetKind::fiberleak : TargetKind::go;
    CHECK(parse_target_kind(to_string(kind), parsed));
    CHECK(parsed == kind);
  }
  CHECK(std::string(to_string(TargetKind::auto_detect)) == "auto");
}

TEST_CASE("a kind that is not auto, fiberleak or go is rejected and changes nothing", "[daemon]") {
  for (const char* bad : {"", "rust", "Go", "auto ", "fiberleakd", "unknown"}) {
    CAPTURE(bad);
    TargetKind kind = TargetKind::go;
    CHECK_FALSE(parse_target_kind(bad, kind));
    CHECK(kind == TargetKind::go);
  }
}
