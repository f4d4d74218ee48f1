// The fibers/v1 and leaks/v1 codec (web/fiber_json.hpp): what the verdicts
// and the waits-on graph add, and their bad forms.
#include "web/fiber_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::JsonSchemaError;

namespace {

FiberDump one_waiter() {
  FiberDump d;
  d.taken_at_ns = 5;
  d.waits_on_recorded = true;
  DumpedFiber f;
  f.id = fiberleak::FiberId{12};
  f.state = fiberleak::FiberState::blocked;
  f.wait = fiberleak::WaitKind::mutex;
  f.wait_reason = "mutex lock";
  f.waits_on = 0x7ffd12345678;
  f.waits_for = fiberleak::FiberId{7};
  f.owner_ended = false;
  d.fibers.push_back(f);
  f.id = fiberleak::FiberId{13};
  f.waits_on = 0xffffffffffffffff;
  f.waits_for = fiberleak::FiberId{0};
  f.owner_ended = true;
  d.fibers.push_back(f);
  return d;
}

}  // namespace

TEST_CASE("fibers/v1 carries what each fiber waits on and for whom, both stack forms", "[web][json]") {
  for (bool shared : {false, true}) {
    const FiberDump back =
        fiberleak::detail::fibers_from_json(fiberleak::detail::fibers_to_json(one_waiter(), {}, nullptr, shared));
    CHECK(back.waits_on_recorded);
    REQUIRE(back.fibers.size() == 2);
    CHECK(back.fibers[0].waits_on == 0x7ffd12345678);
    CHECK(back.fibers[0].waits_for == fiberleak::FiberId{7});
    CHECK_FALSE(back.fibers[0].owner_ended);
    CHECK(back.fibers[1].waits_on == 0xffffffffffffffff);
    CHECK(back.fibers[1].owner_ended);
  }
  // Older producers: no such fields, nothing recorded.
  const auto old = nlohmann::json::parse(R"({"schema": "fiberleak.fibers/v1", "fibers": [{"id": 1}]})");
  const FiberDump d = fiberleak::detail::fibers_from_json(old);
  CHECK_FALSE(d.waits_on_recorded);
  CHECK(d.fibers[0].waits_on == 0);
}

TEST_CASE("fibers/v1 rejects addresses that are not 0x and 1 to 16 hex digits", "[web][json]") {
  for (const char* bad : {"-1", "0x", "0x1234567890abcdef0", " 0x1", "0x1 ", "12", "0xg1", "0X12"}) {
    INFO(bad);
    nlohmann::json doc = fiberleak::detail::fibers_to_json(one_waiter(), {});
    doc["fibers"][0]["waits_on"] = bad;
    CHECK_THROWS_WITH(fiberleak::detail::fibers_from_json(doc),
                      "fibers[0].waits_on: expected a hex address like 0x4a1f");
  }
  nlohmann::json doc = fiberleak::detail::fibers_to_json(one_waiter(), {});
  doc["fibers"][0]["waits_for"] = -1;
  CHECK_THROWS_AS(fiberleak::detail::fibers_from_json(doc), JsonSchemaError);
}

TEST_CASE("leaks/v1 carries each finding's verdict, reason, chain and cycle", "[web][json]") {
  fiberleak::LeakFinding f;
  f.fiber_id = fiberleak::FiberId{3};
  f.verdict = fiberleak::Verdict::definite;
  f.reason = "deadlock: fiber 3 and fiber 5 wait for each other (mutex lock, mutex lock)";
  f.chain = {fiberleak::FiberId{5}, fiberleak::FiberId{3}};
  f.cycle = {fiberleak::FiberId{3}, fiberleak::FiberId{5}};
  const auto doc = fiberleak::detail::findings_to_json({f}, {});
  CHECK(doc["leaks"][0]["verdict"] == "definite");
  const auto back = fiberleak::detail::findings_from_json(doc);
  REQUIRE(back.leaks.size() == 1);
  CHECK(back.leaks[0].verdict == fiberleak::Verdict::definite);
  CHECK(back.leaks[0].reason == f.reason);
  CHECK(back.leaks[0].chain == f.chain);
  CHECK(back.leaks[0].cycle == f.cycle);

  auto bad = doc;
  bad["leaks"][0]["verdict"] = "maybe";
  CHECK_THROWS_WITH(fiberleak::detail::findings_from_json(bad),
                    "leaks[0].verdict: expected \"suspect\" or \"definite\"");
  bad = doc;
  bad["leaks"][0]["cycle"] = nlohmann::json::array({1, "x"});
  CHECK_THROWS_AS(fiberleak::detail::findings_from_json(bad), JsonSchemaError);
  // Older producers: no verdict means a suspect.
  auto old = doc;
  old["leaks"][0].erase("verdict");
  CHECK(fiberleak::detail::findings_from_json(old).leaks[0].verdict == fiberleak::Verdict::suspect);
}
