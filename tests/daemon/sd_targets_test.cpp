// parse_sd_targets(): Prometheus' file_sd/http_sd target groups, taken whole
// or not at all, with every problem named by its path.
#include "daemon/sd_targets.hpp"

#include <catch2/catch.hpp>

#include <string>

using fiberleak::detail::kMaxSdBytes;
using fiberleak::detail::parse_sd_targets;
using fiberleak::detail::SdTargets;
using fiberleak::detail::TargetKind;

namespace {
bool has_error(const SdTargets& r, const std::string& part) {
  for (const std::string& e : r.errors) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("target groups become targets named by address, with their labels and meta labels applied", "[daemon]") {
  const SdTargets r = parse_sd_targets(R"([
    {"targets": ["10.0.0.1:6060", "10.0.0.2:6060"], "labels": {"env": "prod", "__kind__": "go"}},
    {"targets": ["[::1]:7070"], "labels": {"__scheme__": "http", "__metrics_path__": "/admin/debug/pprof/",
                                           "__meta_anything": "dropped"}},
    {"targets": ["svc.internal:6060"]}
  ])",
                                       TargetKind::fiberleak);
  REQUIRE(r.errors.empty());
  REQUIRE(r.targets.size() == 4);
  CHECK(r.targets[0].name == "10.0.0.1:6060");
  CHECK(r.targets[0].url == "http://10.0.0.1:6060");
  CHECK(r.targets[0].kind == TargetKind::go);
  CHECK(r.targets[0].labels == std::map<std::string, std::string>{{"env", "prod"}});
  CHECK(r.targets[1].name == "10.0.0.2:6060");
  CHECK(r.targets[2].name == "[::1]:7070/admin");
  CHECK(r.targets[2].url == "http://[::1]:7070/admin");
  CHECK(r.targets[2].kind == TargetKind::fiberleak);  // the entry's kind
  CHECK(r.targets[2].labels.empty());                 // meta labels are not target labels
  CHECK(r.targets[3].url == "http://svc.internal:6060");
}

TEST_CASE("an empty list is valid and names no target", "[daemon]") {
  const SdTargets r = parse_sd_targets("[]", TargetKind::auto_detect);
  CHECK(r.errors.empty());
  CHECK(r.targets.empty());
}

TEST_CASE("a document with any bad group is refused whole, every problem named", "[daemon]") {
  const SdTargets r = parse_sd_targets(R"([
    {"targets": ["10.0.0.1:6060"]},
    {"targets": ["no-port", "10.0.0.3:99999", "http://x:1", "a b:1", 7], "labels": {"1bad": "x", "target": "y",
      "ok": 3, "__scheme__": "https", "__kind__": "java", "__metrics_path__": "admin"}, "extra": 1}
  ])",
                                       TargetKind::auto_detect);
  CHECK(r.targets.empty());
  CHECK(has_error(r, "[1].targets[0]: expected HOST:PORT"));
  CHECK(has_error(r, "[1].targets[1]: expected HOST:PORT"));
  CHECK(has_error(r, "[1].targets[2]: expected HOST:PORT"));
  CHECK(has_error(r, "[1].targets[3]: expected HOST:PORT"));
  CHECK(has_error(r, "[1].targets[4]: expected a string"));
  CHECK(has_error(r, "[1].labels.1bad: not a label name"));
  CHECK(has_error(r, "[1].labels.target: \"target\" is fiberleakd's own label"));
  CHECK(has_error(r, "[1].labels.ok: expected a string"));
  CHECK(has_error(r, "[1].labels.__scheme__: only http"));
  CHECK(has_error(r, "[1].labels.__kind__: expected auto, fiberleak or go"));
  CHECK(has_error(r, "[1].labels.__metrics_path__: expected a path starting with /"));
  CHECK(has_error(r, "[1].extra: unknown field"));
}

TEST_CASE("what is no list of groups, no JSON, too big or too deep is refused with a reason", "[daemon]") {
  CHECK(
      has_error(parse_sd_targets("{\"targets\": []}", TargetKind::auto_detect), "expected an array of target groups"));
  CHECK(has_error(parse_sd_targets("[{\"targets\": [\"a:1\"]", TargetKind::auto_detect), "not valid JSON"));
  CHECK(has_error(parse_sd_targets("", TargetKind::auto_detect), "not valid JSON"));
  CHECK(has_error(parse_sd_targets("[null]", TargetKind::auto_detect), "[0]: expected an object"));
  CHECK(has_error(parse_sd_targets(std::string(kMaxSdBytes + 1, ' '), TargetKind::auto_detect), "larger than"));
  // A million nested arrays: bounded by the value count, not the stack.
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  CHECK(has_error(parse_sd_targets(deep, TargetKind::auto_detect), "more than"));
  // Invalid UTF-8 in a label is no JSON string.
  CHECK(
      has_error(parse_sd_targets("[{\"targets\": [\"a:1\"], \"labels\": {\"x\": \"\xff\"}}]", TargetKind::auto_detect),
                "not valid JSON"));
}

TEST_CASE("more targets in one document than the limit are refused", "[daemon]") {
  std::string doc = "[{\"targets\": [";
  for (std::size_t i = 0; i <= fiberleak::detail::kMaxSdTargets; ++i) {
    doc += (i ? ",\"10.1." : "\"10.1.") + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":1\"";
  }
  doc += "]}]";
  const SdTargets r = parse_sd_targets(doc, TargetKind::auto_detect);
  CHECK(r.targets.empty());
  CHECK(has_error(r, "more than 10000 targets"));
}

TEST_CASE("an http_sd answer is JSON by its Content-Type, as Prometheus takes it", "[daemon]") {
  using fiberleak::detail::http_sd_content_type_problem;
  for (const char* ok :
       {"application/json", "Application/JSON", " application/json ", "application/json; charset=utf-8",
        "application/json;charset=UTF-8", "application/json;  charset=\"utf-8\""}) {
    INFO(ok);
    CHECK(http_sd_content_type_problem(ok).empty());
  }
  for (const char* bad : {"text/plain", "application/json; charset=latin1", "application/jsonx", "application/json ;",
                          "application/json; charset=utf-8; x=y", "text/html; application/json"}) {
    INFO(bad);
    CHECK_THAT(http_sd_content_type_problem(bad), Catch::EndsWith("; http_sd needs application/json"));
  }
  CHECK(http_sd_content_type_problem("") == "answered with no Content-Type; http_sd needs application/json");
  CHECK(http_sd_content_type_problem("text/html\x01\xff") ==
        "answered with Content-Type text/html??; http_sd needs application/json");
  const std::string huge(10'000, 'x');
  CHECK(http_sd_content_type_problem(huge).size() < 200);
}
