// The embedded endpoint against real clients: httplib, go tool pprof and
// promtool, on a live server with fibers parked at known functions.
#include <boost/context/stack_traits.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fiberleak/mount.hpp>
#include <fiberleak/runtime.hpp>

#include "parked_fibers.hpp"
#include "profiler/dump_builder.hpp"
#include "web/fiber_json.hpp"
#include "web/route_set.hpp"
#include "web/watchdog.hpp"

namespace {

struct Live {
  fiberleak::detail::testing::ParkedFibers fibers;
  fiberleak::ServeHandle server;
  httplib::Client client;

  explicit Live(fiberleak::EndpointOptions options = quiet())
      : server(fiberleak::serve({"127.0.0.1", 0, std::move(options)})), client("127.0.0.1", server.port()) {}

  static fiberleak::EndpointOptions quiet() {
    fiberleak::EndpointOptions o;
    o.watchdog_interval = std::chrono::milliseconds(0);
    return o;
  }
  httplib::Result get(const std::string& path) {
    auto r = client.Get(path.c_str());
    REQUIRE(r);
    return r;
  }
};

struct Command {
  int status;
  std::string out;
  std::string err;
};

// Runs a shell command, capturing stdout and stderr separately.
Command run(const std::string& cmd) {
  char dir_template[] = "/tmp/fiberleak-cmd-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string full =
      "cd " + dir + " && HOME=" + dir + " PPROF_TMPDIR=" + dir + " " + cmd + " >" + dir + "/out 2>" + dir + "/err";
  const int rc = std::system(full.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  Command c{rc, slurp(dir + "/out"), slurp(dir + "/err")};
  std::system(("rm -rf " + dir).c_str());
  return c;
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("/debug/goroutine shows every parked fiber with its wait reason and the test's functions", "[web]") {
  Live live;
  auto r = live.get("/debug/goroutine");
  CHECK(r->status == 200);
  CHECK(contains(r->body, "[chan receive]:"));
  CHECK(contains(r->body, "[mutex lock]:"));
  CHECK(contains(r->body, "fiberleak::detail::testing::wait_for_message_nobody_sends("));
  CHECK(contains(r->body, "fiberleak::detail::testing::lock_mutex_never_unlocked("));
  CHECK(contains(r->body, "parked_fibers.hpp:"));
  CHECK_FALSE(contains(r->body, "TrackingAlgorithm"));  // the tracking machinery is hidden
  CHECK(live.get("/debug/pprof/goroutine?debug=2")->body.size() > 0);
}

TEST_CASE("debug=1 groups the pile of fibers at one site with its count", "[web]") {
  Live live;
  auto r = live.get("/debug/pprof/goroutine?debug=1");
  CHECK(r->status == 200);
  CHECK(contains(r->body, "goroutine profile: total "));
  CHECK(contains(r->body, "\n5 @ 0x"));
  CHECK(contains(r->body, "pile_up_at_one_site"));
}

TEST_CASE("go tool pprof reads debug=0 with C++ names and file:line and no symbolization warnings", "[web][go]") {
  Live live;
  auto r = live.get("/debug/pprof/goroutine");
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/octet-stream");
  const std::string url = live.server.url() + "/debug/pprof/goroutine";
  for (const char* mode : {"-raw", "-traces -lines"}) {
    INFO(mode);
    const Command c = run(std::string("go tool pprof ") + mode + " " + url);
    INFO("stderr: " << c.err);
    CHECK(c.status == 0);
    CHECK(contains(c.out, "wait_for_message_nobody_sends"));
    CHECK(contains(c.out, "lock_mutex_never_unlocked"));
    CHECK(contains(c.out, "parked_fibers.hpp"));
    CHECK_FALSE(contains(c.err, "symbolize"));
    CHECK_FALSE(contains(c.err, "arning"));
    CHECK_FALSE(contains(c.err, "no such file"));
  }
  const Command top = run("go tool pprof -top -tagfocus=fiber=pile " + url);
  INFO("stderr: " << top.err);
  CHECK(contains(top.out, "pile_up_at_one_site"));
  CHECK_FALSE(contains(top.out, "lock_mutex_never_unlocked"));
}

TEST_CASE("a delta profile over ?seconds=1 is a profile go tool pprof reads", "[web][go]") {
  Live live;
  auto r = live.get("/debug/pprof/goroutine?seconds=1");
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/octet-stream");
  CHECK(r->body.size() > 20);
  const Command c = run("go tool pprof -raw " + live.server.url() + "/debug/pprof/goroutine?seconds=1");
  INFO("stderr: " << c.err);
  CHECK(c.status == 0);
  CHECK(contains(c.out, "PeriodType: goroutine count"));
}

TEST_CASE("promtool accepts /metrics and it counts fibers by state and leaks", "[web][promtool]") {
  fiberleak::EndpointOptions o = Live::quiet();
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);  // the 7 parked fibers, not the main fiber's 2 ms naps
  Live live(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto r = live.get("/metrics");
  CHECK(r->status == 200);
  CHECK(contains(r->body, "fiberleak_fibers{state=\"blocked\"} 7"));
  CHECK(contains(r->body, "fiberleak_leaked_fibers 7"));
  CHECK(contains(r->body,
                 "fiberleak_park_site_fibers{site=\"chan receive @ fiberleak::detail::testing::pile_up_at_one_site"));
  char path[] = "/tmp/fiberleak-metrics-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << r->body;
  const Command c = run(std::string("promtool check metrics < ") + path);
  std::remove(path);
  INFO("promtool: " << c.out << c.err);
  CHECK(c.status == 0);
}

TEST_CASE("bad query strings get 400 with a one-line usage and unknown routes 404", "[web]") {
  Live live;
  for (const char* bad :
       {"/debug/pprof/goroutine?debug=7", "/debug/pprof/goroutine?seconds=-1", "/debug/pprof/goroutine?seconds=abc",
        "/debug/pprof/goroutine?seconds=1&debug=1", "/debug/pprof/goroutine?bogus=1",
        "/debug/pprof/goroutine?seconds=100000", "/debug/fibers?state=zombie", "/debug/fibers?min_blocked=soon",
        "/debug/fibers?leaks=2", "/debug/goroutine?x=1", "/metrics?a=b"}) {
    INFO(bad);
    auto r = live.get(bad);
    CHECK(r->status == 400);
    CHECK(contains(r->body, "usage: "));
    CHECK(std::count(r->body.begin(), r->body.end(), '\n') == 1);
  }
  CHECK(live.get("/debug/nothing-here")->status == 404);
  CHECK(live.get("/healthz")->status == 200);
}

TEST_CASE("/debug/fibers filters by state, blocked time and name and flags leaks", "[web]") {
  fiberleak::EndpointOptions o = Live::quiet();
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);
  o.rules.ignore_names = {"pile"};
  Live live(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const auto all = fiberleak::detail::fibers_from_json_text(live.get("/debug/fibers")->body);
  CHECK(all.fibers.size() >= 8);  // 7 parked + the thread's main fiber
  auto doc = nlohmann::json::parse(live.get("/debug/fibers?state=blocked&name=stuck-locker")->body);
  REQUIRE(doc["fibers"].size() == 1);
  CHECK(doc["fibers"][0]["wait"] == "mutex");
  CHECK(doc["fibers"][0]["leak"] == true);
  CHECK(doc["fibers"][0]["stack"].size() > 2);
  doc = nlohmann::json::parse(live.get("/debug/fibers?name=pile*")->body);
  CHECK(doc["fibers"].size() == fiberleak::detail::testing::ParkedFibers::kPile);
  CHECK(doc["fibers"][0]["leak"] == false);  // ignored by name
  doc = nlohmann::json::parse(live.get("/debug/fibers?min_blocked=1h")->body);
  CHECK(doc["fibers"].empty());
  doc = nlohmann::json::parse(live.get("/debug/fibers?leaks=1")->body);
  CHECK(doc["fibers"].size() == 2);
  const auto leaks = fiberleak::detail::findings_from_json_text(live.get("/debug/leaks")->body);
  REQUIRE(leaks.leaks.size() == 2);
  CHECK(leaks.leaks[0].blocked_ns >= 30'000'000);
  CHECK(leaks.leaks[0].line > 0);
}

TEST_CASE("pprof's symbol protocol names addresses over GET and POST", "[web]") {
  Live live;
  CHECK(live.get("/debug/pprof/symbol")->body == "num_symbols: 1\n");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p",
                reinterpret_cast<void*>(&fiberleak::detail::testing::wait_for_message_nobody_sends));
  auto r = live.client.Post("/debug/pprof/symbol", std::string(buf) + "+0xbad", "text/plain");
  REQUIRE(r);
  CHECK(contains(r->body, std::string(buf) + " fiberleak::detail::testing::wait_for_message_nobody_sends"));
  CHECK(live.get("/debug/pprof/cmdline")->body.find("fiberleak_web_tests") != std::string::npos);
  CHECK(contains(live.get("/debug/pprof/")->body, "goroutine?debug=1"));
}

TEST_CASE("the watchdog logs a new finding once and calls the program back", "[web]") {
  std::atomic<int> calls{0};
  fiberleak::EndpointOptions o;
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);
  o.rules.ignore_names = {"pile"};
  o.watchdog_interval = std::chrono::milliseconds(20);
  o.on_leak = [&](const fiberleak::LeakFinding&) { ++calls; };
  std::ostringstream log;
  o.logger = std::make_shared<spdlog::logger>("fiberleak", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  const auto host_default = spdlog::default_logger();
  {
    Live live(o);
    // The first evaluation symbolizes cold (DWARF loading): allow it time on a busy machine.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (calls.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // ~15 more evaluations
  }                                                               // the watchdog thread has stopped: log is quiet
  CHECK(calls.load() == 2);  // the receiver and the locker, once each despite the repeated evaluations
  const std::string text = log.str();
  INFO(text);
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  CHECK(contains(text, "leak suspect: fiber "));
  CHECK(contains(text, "\"stuck-locker\" blocked in mutex lock for "));
  CHECK(contains(text, "fiberleak::detail::testing::lock_mutex_never_unlocked"));
  CHECK(contains(text, "parked_fibers.hpp:"));
  // The host's logging is untouched: same default logger, the program's own
  // logger not registered by the library.
  CHECK(spdlog::default_logger() == host_default);
  CHECK(spdlog::get("fiberleak") != o.logger);
}

TEST_CASE("the library's logger is registered as fiberleak, obeys spdlog::set_level, is not the default", "[web]") {
  const auto host_default = spdlog::default_logger();
  spdlog::drop("fiberleak");               // what an earlier test in this process registered
  spdlog::set_level(spdlog::level::warn);  // the host's level before the logger exists
  {
    fiberleak::EndpointOptions o;
    o.watchdog_interval = std::chrono::milliseconds(50);
    Live live(o);
    const auto logger = spdlog::get("fiberleak");
    REQUIRE(logger != nullptr);
    CHECK(logger == fiberleak::detail::default_logger());
    CHECK(logger->name() == "fiberleak");
    CHECK(logger->level() == spdlog::level::warn);
    spdlog::set_level(spdlog::level::off);  // and after: the host silences it
    CHECK(logger->level() == spdlog::level::off);
    CHECK(logger != spdlog::default_logger());
    CHECK(spdlog::default_logger() == host_default);
  }
  spdlog::set_level(spdlog::level::info);

  // A logger the host registered under that name first is the one findings go to.
  spdlog::drop("fiberleak");
  std::ostringstream log;
  auto hosts = std::make_shared<spdlog::logger>("fiberleak", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  spdlog::register_logger(hosts);
  CHECK(fiberleak::detail::default_logger() == hosts);
  {
    fiberleak::EndpointOptions o;
    o.rules.threshold = std::chrono::nanoseconds(0);  // every parked fiber, at the first evaluation
    o.watchdog_interval = std::chrono::hours(1);
    Live live(o);
    const auto watchdog = fiberleak::detail::Watchdog::running_shared();
    REQUIRE(watchdog != nullptr);
    while (watchdog->evaluations() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }  // the watchdog has stopped: the log can be read
  CHECK(contains(log.str(), "leak suspect: fiber "));
  CHECK(spdlog::default_logger() == host_default);
  spdlog::drop("fiberleak");
}

TEST_CASE("mount() adds the routes under a prefix to a server the program runs", "[web]") {
  fiberleak::detail::testing::ParkedFibers fibers;
  httplib::Server server;
  auto endpoint = fiberleak::mount(server, "/admin", Live::quiet());
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/admin/debug/goroutine");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(contains(r->body, "lock_mutex_never_unlocked"));
  CHECK(client.Get("/debug/goroutine")->status == 404);
  server.stop();
  t.join();
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
}

TEST_CASE("the JSON codec round-trips a live dump field by field", "[web]") {
  fiberleak::detail::testing::ParkedFibers fibers;
  fiberleak::detail::FiberDump dump = fiberleak::detail::build_dump(fiberleak::snapshot());
  REQUIRE(dump.fibers.size() >= 8);
  dump.fibers[0].locked_to_thread = true;  // not produced by the runtime; the codec still carries it
  dump.fibers[1].heap_live_bytes = 4096;   // as attach_heap_live_bytes() would
  dump.fibers[2].heap_live_bytes = 0;
  const std::set<fiberleak::FiberId> leaked{dump.fibers[1].id};
  const std::string text = fiberleak::detail::fibers_to_json(dump, leaked).dump();
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
  // Encoding the decoded dump again gives the same document.
  CHECK(fiberleak::detail::fibers_to_json(back, leaked).dump() == text);
}

TEST_CASE("a registered route set is mounted, listed on the index and adds its metrics", "[web][promtool]") {
  fiberleak::detail::register_route_set(
      {"extra",
       [](httplib::Server& s, const std::string& prefix) {
         s.Get(prefix + "/debug/pprof/extra",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("extra\n", "text/plain"); });
       },
       {{"extra", "extra?debug=1", "A profile another module adds.", [] { return std::int64_t{42}; }}},
       [] {
         return std::string(
             "# HELP fiberleak_extra_things Things.\n# TYPE fiberleak_extra_things gauge\n"
             "fiberleak_extra_things 3\n");
       }});
  {
    Live live;
    CHECK(live.get("/debug/pprof/extra")->body == "extra\n");
    const std::string index = live.get("/debug/pprof/")->body;
    CHECK(contains(index, "<tr><td>42</td><td><a href='extra?debug=1'>extra</a></td></tr>"));
    CHECK(contains(index, "A profile another module adds."));
    const std::string metrics = live.get("/metrics")->body;
    CHECK(contains(metrics, "\nfiberleak_extra_things 3\n"));
    char path[] = "/tmp/fiberleak-metrics-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << metrics;
    const Command c = run(std::string("promtool check metrics < ") + path);
    std::remove(path);
    INFO("promtool: " << c.out << c.err);
    CHECK(c.status == 0);
  }
  fiberleak::detail::unregister_route_set("extra");
  Live without;
  CHECK(without.get("/debug/pprof/extra")->status == 404);
  CHECK_FALSE(contains(without.get("/debug/pprof/")->body, "extra"));
}

TEST_CASE("the JSON codec round-trips leak findings and rejects bad ones", "[web]") {
  using fiberleak::detail::findings_from_json_text;
  fiberleak::LeakFinding f;
  f.fiber_id = fiberleak::FiberId{7};
  f.name = "conn-handler";
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
