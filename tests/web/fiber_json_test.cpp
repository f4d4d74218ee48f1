// The fibers/v1 and leaks/v1 codec (web/fiber_json.hpp): what the verdicts
// and the waits-on graph add, and their bad forms.
#include "web/fiber_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <limits>
#include <set>
#include <string>

#include <fiberleak/runtime.hpp>

#include "parked_fibers.hpp"
#include "profiler/dump_builder.hpp"
#include "web/json_text.hpp"
#include "web_test_support.hpp"

using fiberleak::detail::DumpedFiber;
using fiberleak::detail::FiberDump;
using fiberleak::detail::JsonSchemaError;
using fiberleak::detail::testing::Command;
using fiberleak::detail::testing::contains;
using fiberleak::detail::testing::Live;
using fiberleak::detail::testing::run;

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
    const FiberDump back = fiberleak::detail::fibers_from_json_text(
        fiberleak::detail::fibers_json_text(one_waiter(), {}, nullptr, shared));
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
    nlohmann::json doc = nlohmann::json::parse(fiberleak::detail::fibers_json_text(one_waiter(), {}));
    doc["fibers"][0]["waits_on"] = bad;
    CHECK_THROWS_WITH(fiberleak::detail::fibers_from_json(doc),
                      "fibers[0].waits_on: expected a hex address like 0x4a1f");
  }
  nlohmann::json doc = nlohmann::json::parse(fiberleak::detail::fibers_json_text(one_waiter(), {}));
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

TEST_CASE("leaks/v1 round-trips every verdict by its name", "[web][json]") {
  for (const auto verdict : {fiberleak::Verdict::suspect, fiberleak::Verdict::definite}) {
    fiberleak::LeakFinding f;
    f.fiber_id = fiberleak::FiberId{3};
    f.verdict = verdict;
    const auto doc = fiberleak::detail::findings_to_json({f}, {});
    CHECK(doc["leaks"][0]["verdict"] == std::string(fiberleak::to_string(verdict)));
    CHECK(fiberleak::detail::findings_from_json(doc).leaks.at(0).verdict == verdict);
  }
  CHECK(fiberleak::to_string(fiberleak::Verdict::suspect) == "suspect");
  CHECK(fiberleak::to_string(fiberleak::Verdict::definite) == "definite");
}

TEST_CASE("the JSON codec rejects bad documents with the path of the problem", "[web]") {
  using fiberleak::detail::fibers_from_json_text;
  using fiberleak::detail::JsonSchemaError;
  CHECK_THROWS_WITH(fibers_from_json_text("{not json"), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"other/v9","fibers":[]})"), Catch::Contains("schema"));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v10","fibers":[]})"),
                    Catch::Contains("schema: expected \"fiberleak.fibers/v1\""));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"id":"x"}]})"),
                    Catch::Contains("fibers[0].id: expected an integer"));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"state":"zombie"}]})"),
                    Catch::Contains("fibers[0].state"));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"stack":[{"pc":"zz"}]}]})"),
                    Catch::Contains("fibers[0].stack[0].pc"));
  CHECK_THROWS_AS(fibers_from_json_text("[]"), JsonSchemaError);
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1"})"), "fibers: missing");
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":{}})"),
                    "fibers: expected an array");
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[],"stacks":[3]})"),
                    "stacks[0]: expected an array of frames");
}

TEST_CASE("a document that would decode to many times its size is refused, whatever its shape", "[web]") {
  using fiberleak::detail::fibers_from_json_text;
  std::string flood = R"({"schema":"fiberleak.fibers/v1","fibers":[)";
  for (int i = 0; i < 1'000'000; ++i) flood += i == 0 ? "{}" : ",{}";
  flood += "]}";
  CHECK_THROWS_WITH(fibers_from_json_text(flood),
                    Catch::Matches("fibers\\[[0-9]+\\]: the document decodes to more than 4 times its size .*"));
  // The same fibers as a real producer writes them, every field there, decode.
  fiberleak::detail::FiberDump dump;
  dump.fibers.resize(20'000);
  dump.fibers[0].name = "a fiber with a name longer than fifteen characters";
  const std::string real = fiberleak::detail::fibers_json_text(dump, {}, nullptr, true);
  CHECK(fibers_from_json_text(real).fibers.size() == 20'000);
}

TEST_CASE("durations and byte counts outside 0 to INT64_MAX are rejected with their path", "[web][json]") {
  using fiberleak::detail::fibers_from_json_text;
  using fiberleak::detail::findings_from_json_text;
  const std::string fibers = R"({"schema":"fiberleak.fibers/v1","fibers":[{"id":1,)";
  for (const char* field : {"blocked_ns", "blocked_total_ns", "stack_bytes", "heap_live_bytes"}) {
    for (const char* value : {"-1", "-9223372036854775808", "9223372036854775808", "18446744073709551615"}) {
      const std::string doc = fibers + "\"" + field + "\":" + value + "}]}";
      INFO(doc);
      CHECK_THROWS_WITH(
          fibers_from_json_text(doc),
          Catch::Contains(std::string("fibers[0].") + field + ": expected an integer from 0 to 9223372036854775807"));
    }
  }
  const std::string leaks = R"({"schema":"fiberleak.leaks/v1","leaks":[{"fiber_id":1,)";
  CHECK_THROWS_WITH(findings_from_json_text(leaks + R"("stack_bytes":9223372036854775808}]})"),
                    Catch::Contains("leaks[0].stack_bytes"));
  CHECK_THROWS_WITH(findings_from_json_text(leaks + R"("heap_live_bytes":-9223372036854775808}]})"),
                    Catch::Contains("leaks[0].heap_live_bytes"));
  // The edges that fit decode, and null still means unknown.
  const FiberDump edge = fibers_from_json_text(
      fibers + R"("blocked_ns":9223372036854775807,"stack_bytes":9223372036854775807,"heap_live_bytes":null}]})");
  CHECK(edge.fibers.at(0).blocked_ns == std::numeric_limits<std::int64_t>::max());
  CHECK(edge.fibers.at(0).stack_bytes == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  CHECK_FALSE(edge.fibers.at(0).heap_live_bytes.has_value());
}

TEST_CASE("names that are no UTF-8 are written with U+FFFD, never an exception", "[web][json]") {
  FiberDump d = one_waiter();
  d.fibers[0].name = "conn\xff\xfe";
  fiberleak::LeakFinding f;
  f.name = "worker\xc3";  // a character cut short
  f.function = "main.leak\xff";
  std::string text;
  REQUIRE_NOTHROW(text = fiberleak::detail::fibers_json_text(d, {}, nullptr, false, 2));
  const nlohmann::json doc = nlohmann::json::parse(text);  // throws on invalid UTF-8
  CHECK(doc["fibers"][0]["name"] == "conn\xef\xbf\xbd\xef\xbf\xbd");
  REQUIRE_NOTHROW(text = fiberleak::detail::json_text(fiberleak::detail::findings_to_json({f}, {})));
  const fiberleak::detail::Findings back = fiberleak::detail::findings_from_json_text(text);
  CHECK(back.leaks.at(0).name == "worker\xef\xbf\xbd");
  CHECK(back.leaks.at(0).function == "main.leak\xef\xbf\xbd");
}

TEST_CASE("the JSON codec round-trips a live dump field by field", "[web]") {
  fiberleak::detail::testing::ParkedFibers fibers;
  fiberleak::detail::FiberDump dump = fiberleak::detail::build_dump(fiberleak::snapshot());
  REQUIRE(dump.fibers.size() >= 8);
  dump.fibers[0].locked_to_thread = true;  // not produced by the runtime; the codec still carries it
  dump.fibers[1].heap_live_bytes = 4096;   // as attach_heap_live_bytes() would
  dump.fibers[2].heap_live_bytes = 0;
  fiberleak::LeakFinding finding;
  finding.fiber_id = dump.fibers[1].id;
  finding.verdict = fiberleak::Verdict::definite;
  finding.reason = "because";
  const fiberleak::detail::LeakedFibers leaked{{dump.fibers[1].id, &finding}};
  const std::string text = fiberleak::detail::fibers_json_text(dump, leaked);
  const fiberleak::detail::FiberDump back = fiberleak::detail::fibers_from_json_text(text);
  CHECK(back.taken_at_ns == dump.taken_at_ns);
  REQUIRE(back.fibers.size() == dump.fibers.size());
  for (std::size_t i = 0; i < dump.fibers.size(); ++i) {
    const auto& a = dump.fibers[i];
    const auto& b = back.fibers[i];
    INFO("fiber " << a.id << " " << a.name);
    CHECK(b.id == a.id);
    CHECK(b.parent == a.parent);
    CHECK(b.name == a.name);
    CHECK(b.labels == a.labels);
    CHECK(b.state == a.state);
    CHECK(b.wait == a.wait);
    CHECK(b.wait_reason == a.wait_reason);
    CHECK(b.blocked_ns == a.blocked_ns);
    CHECK(b.blocked_exact == a.blocked_exact);
    CHECK(b.created_ns == a.created_ns);
    CHECK(b.blocked_total_ns == a.blocked_total_ns);
    CHECK(b.parks == a.parks);
    CHECK(b.is_main == a.is_main);
    CHECK(b.locked_to_thread == a.locked_to_thread);
    CHECK(b.thread == a.thread);
    CHECK(b.stack_bytes == a.stack_bytes);
    CHECK(b.heap_live_bytes == a.heap_live_bytes);
    for (auto [x, y] : {std::pair{&a.stack, &b.stack}, std::pair{&a.creation_stack, &b.creation_stack}}) {
      REQUIRE(y->size() == x->size());
      for (std::size_t j = 0; j < x->size(); ++j) {
        CHECK((*y)[j].pc == (*x)[j].pc);
        CHECK((*y)[j].function == (*x)[j].function);
        CHECK((*y)[j].file == (*x)[j].file);
        CHECK((*y)[j].line == (*x)[j].line);
        CHECK((*y)[j].inlined == (*x)[j].inlined);
      }
    }
  }
  // Parked worker fibers reserved Boost's default stack; fibers 3.. have no heap figure.
  CHECK(std::any_of(dump.fibers.begin(), dump.fibers.end(),
                    [](const auto& f) { return f.stack_bytes == boost::context::stack_traits::default_size(); }));
  CHECK_FALSE(back.fibers[3].heap_live_bytes.has_value());
  // The parked fibers' stacks are symbolized, so the round trip compared real frames.
  CHECK(text.find("lock_mutex_never_unlocked") != std::string::npos);
  // The pile carries its label.
  CHECK(text.find(R"("labels":{"handler":"pile"})") != std::string::npos);
  // A finding carries its verdict and reason; the others carry nulls.
  const auto doc = nlohmann::json::parse(text);
  CHECK(doc["fibers"][1]["verdict"] == "definite");
  CHECK(doc["fibers"][1]["reason"] == "because");
  CHECK(doc["fibers"][0]["verdict"].is_null());
  // Encoding the decoded dump again gives the same document.
  CHECK(fiberleak::detail::fibers_json_text(back, leaked) == text);
}

TEST_CASE("the JSON codec round-trips leak findings and rejects bad ones", "[web]") {
  using fiberleak::detail::findings_from_json_text;
  fiberleak::LeakFinding f;
  f.fiber_id = fiberleak::FiberId{7};
  f.name = "conn-handler";
  f.labels = {{"handler", "users"}, {"request", "r42"}};
  f.wait = fiberleak::WaitKind::channel_pop;
  f.wait_reason = "chan receive";
  f.blocked_ns = 31'000'000'000;
  f.blocked_exact = false;
  f.function = "handle(int)";
  f.file = "/src/srv.cpp";
  f.line = 42;
  f.site = "chan receive @ handle(int) at srv.cpp:42";
  f.stack_bytes = 65536;
  f.heap_live_bytes = 123456;
  fiberleak::LeakFinding unknown_cost = f;
  unknown_cost.stack_bytes = 0;
  unknown_cost.heap_live_bytes.reset();
  fiberleak::GrowingSite g;
  g.site = f.site;
  g.function = f.function;
  g.file = f.file;
  g.line = 42;
  g.wait_reason = "chan receive";
  g.fibers = 300;
  g.history = {100, 200, 300};
  const auto back = findings_from_json_text(fiberleak::detail::findings_to_json({f, unknown_cost}, {g}).dump());
  REQUIRE(back.leaks.size() == 2);
  CHECK(back.leaks[1].stack_bytes == 0);
  CHECK_FALSE(back.leaks[1].heap_live_bytes.has_value());
  const auto& b = back.leaks[0];
  CHECK(b.fiber_id == fiberleak::FiberId{7});
  CHECK(b.name == f.name);
  CHECK(b.labels == f.labels);
  CHECK(b.wait == f.wait);
  CHECK(b.wait_reason == f.wait_reason);
  CHECK(b.blocked_ns == f.blocked_ns);
  CHECK(b.blocked_exact == false);
  CHECK(b.function == f.function);
  CHECK(b.file == f.file);
  CHECK(b.line == 42);
  CHECK(b.site == f.site);
  CHECK(b.stack_bytes == 65536);
  CHECK(b.heap_live_bytes == 123456);
  REQUIRE(back.growing.size() == 1);
  CHECK(back.growing[0].site == g.site);
  CHECK(back.growing[0].fibers == 300);
  CHECK(back.growing[0].history == g.history);
  CHECK(back.growing[0].line == 42);

  CHECK_THROWS_WITH(findings_from_json_text(""), Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.fibers/v1","leaks":[]})"),
                    Catch::Contains("schema"));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.leaks/v10","leaks":[]})"),
                    Catch::Contains("schema: expected \"fiberleak.leaks/v1\""));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.leaks/v1"})"), Catch::Contains("leaks: missing"));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.leaks/v1","leaks":[{"fiber_id":-3}]})"),
                    Catch::Contains("leaks[0].fiber_id: expected a non-negative integer"));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.leaks/v1","leaks":[{"wait":"nap"}]})"),
                    Catch::Contains("leaks[0].wait"));
  CHECK_THROWS_WITH(
      findings_from_json_text(R"({"schema":"fiberleak.leaks/v1","leaks":[],"growing_sites":[{"history":[1,"x"]}]})"),
      Catch::Contains("growing_sites[0].history[1]"));
  CHECK_THROWS_AS(findings_from_json_text("[1,2]"), fiberleak::detail::JsonSchemaError);
}

TEST_CASE("stacks=shared writes each distinct stack once and decodes to the same fibers", "[web]") {
  Live live;
  const auto inline_body = live.get("/debug/fibers")->body;
  const auto shared_body = live.get("/debug/fibers?stacks=shared")->body;
  const auto a = fiberleak::detail::fibers_from_json_text(inline_body);
  const auto b = fiberleak::detail::fibers_from_json_text(shared_body);
  CHECK(shared_body.size() * 2 < inline_body.size());  // the pile of 5 shares one stack
  REQUIRE(a.fibers.size() == b.fibers.size());
  std::map<fiberleak::FiberId, const fiberleak::detail::DumpedFiber*> by_id;
  for (const auto& f : a.fibers) by_id[f.id] = &f;
  for (const auto& f : b.fibers) {
    REQUIRE(by_id.count(f.id) == 1);
    const auto& g = *by_id[f.id];
    REQUIRE(f.stack.size() == g.stack.size());
    for (std::size_t i = 0; i < f.stack.size(); ++i) {
      CHECK(f.stack[i].function == g.stack[i].function);
      CHECK(f.stack[i].line == g.stack[i].line);
    }
    CHECK(f.creation_stack.size() == g.creation_stack.size());
  }
  CHECK_THROWS_WITH(fiberleak::detail::fibers_from_json_text(
                        R"({"schema":"fiberleak.fibers/v1","stacks":[],"fibers":[{"stack_ref":3}]})"),
                    Catch::Contains("fibers[0].stack_ref: refers to no entry"));
  CHECK(live.get("/debug/fibers?stacks=zip")->status == 400);
}

TEST_CASE("fibers/v1 is written as nlohmann writes the same value: keys sorted, its layout", "[web][json]") {
  fiberleak::detail::testing::ParkedFibers fibers;
  FiberDump dump = fiberleak::detail::build_dump(fiberleak::snapshot());
  REQUIRE(dump.fibers.size() >= 8);
  dump.fibers[0].name = "bad \xff UTF-8, a \"quote\"\n";
  dump.fibers[0].labels = {{"zone", "b"}, {"app", "x\xc3"}};  // unsorted, as a decoder might not keep them
  dump.fibers[1].heap_live_bytes = 4096;
  dump.fibers[2].waits_on = 0xdeadbeef;
  fiberleak::LeakFinding finding;
  finding.fiber_id = dump.fibers[1].id;
  finding.verdict = fiberleak::Verdict::suspect;
  finding.reason = "parked for 1m0s";
  const fiberleak::detail::LeakedFibers leaked{{dump.fibers[1].id, &finding}};
  fiberleak::RuntimeCounters counters;
  counters.fibers_created = 12;
  counters.stacks_dropped = 3;
  const fiberleak::detail::FiberTotals totals{dump.fibers.size() + 5,
                                              fiberleak::detail::fiber_groups_to_json(dump, leaked)};
  for (bool shared : {false, true}) {
    for (int indent : {-1, 2}) {
      for (const fiberleak::detail::FiberTotals* t :
           {static_cast<const fiberleak::detail::FiberTotals*>(nullptr), &totals}) {
        INFO("shared " << shared << ", indent " << indent << ", totals " << (t != nullptr));
        const std::string text = fiberleak::detail::fibers_json_text(dump, leaked, &counters, shared, indent, t);
        const nlohmann::json doc = nlohmann::json::parse(text);
        CHECK(fiberleak::detail::json_text(doc, indent) == text);
        CHECK(doc.contains("stacks") == shared);
        CHECK(doc.contains("groups") == (t != nullptr));
        CHECK(doc["counters"]["stacks_dropped"] == 3);
        CHECK(doc["fibers"][0]["labels"] == nlohmann::json({{"app", "x\xef\xbf\xbd"}, {"zone", "b"}}));
        CHECK(doc["fibers"][2]["waits_on"] == "0xdeadbeef");
      }
    }
  }
  // An empty dump, and fibers without stacks: empty arrays and -1 refs.
  FiberDump empty;
  empty.fibers.resize(1);
  for (bool shared : {false, true}) {
    const std::string text = fiberleak::detail::fibers_json_text(empty, {}, nullptr, shared, 2);
    CHECK(fiberleak::detail::json_text(nlohmann::json::parse(text), 2) == text);
  }
  CHECK(fiberleak::detail::fibers_json_text(FiberDump{}, {}) ==
        R"({"fibers":[],"schema":"fiberleak.fibers/v1","taken_at_ns":0,"waits_on_recorded":false})");
}

TEST_CASE("an unknown state or wait kind is rejected with its path, in fibers and in leaks", "[web][json]") {
  using fiberleak::detail::fibers_from_json_text;
  using fiberleak::detail::findings_from_json_text;
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"id":1,"wait":"nap"}]})"),
                    Catch::Contains("fibers[0].wait: unknown wait kind \"nap\""));
  CHECK_THROWS_WITH(fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"id":1,"state":"zombie"}]})"),
                    Catch::Contains("fibers[0].state: unknown state \"zombie\""));
  CHECK_THROWS_WITH(findings_from_json_text(R"({"schema":"fiberleak.leaks/v1","leaks":[{"fiber_id":1,"wait":"nap"}]})"),
                    Catch::Contains("leaks[0].wait: unknown wait kind \"nap\""));
  // Absent is none.
  const auto dump = fibers_from_json_text(R"({"schema":"fiberleak.fibers/v1","fibers":[{"id":1}]})");
  CHECK(dump.fibers.at(0).wait == fiberleak::WaitKind::none);
}
