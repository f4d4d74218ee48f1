// The embedded endpoint against real clients: httplib, go tool pprof and
// promtool, on a live server with fibers parked at known functions.
#include <boost/context/stack_traits.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fiberleak/mount.hpp>
#include <fiberleak/runtime.hpp>

#include "parked_fibers.hpp"
#include "profiler/dump_builder.hpp"
#include "web/fiber_json.hpp"
#include "web/route_set.hpp"
#include "web/watchdog.hpp"
#include "web_test_support.hpp"

using fiberleak::detail::testing::Command;
using fiberleak::detail::testing::contains;
using fiberleak::detail::testing::Live;
using fiberleak::detail::testing::run;

TEST_CASE("/debug/goroutine shows every parked fiber with its wait reason and the test's functions", "[web]") {
  Live live;
  auto r = live.get("/debug/goroutine");
  CHECK(r->status == 200);
  // Names and labels in the status, where Go 1.27 prints labels.
  CHECK(contains(r->body, R"([chan receive, labels:{"fiber":"orphan-receiver"}]:)"));
  CHECK(contains(r->body, R"([mutex lock, labels:{"fiber":"stuck-locker"}]:)"));
  CHECK(contains(r->body, R"([chan receive, labels:{"fiber":"pile", "handler":"pile"}]:)"));
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
  CHECK(contains(r->body, "\n# labels: {\"fiber\":\"pile\", \"handler\":\"pile\"}\n#\t0x"));
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
  REQUIRE(live.wait_for_leaks(7));
  auto r = live.get("/metrics");
  CHECK(r->status == 200);
  CHECK(contains(r->body, "fiberleak_fibers{state=\"blocked\"} 7"));
  CHECK(contains(r->body, "fiberleak_leaked_fibers 7"));
  CHECK(contains(r->body,
                 "fiberleak_park_site_fibers{site=\"chan receive @ fiberleak::detail::testing::pile_up_at_one_site at "
                 "parked_fibers.hpp:"));
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

TEST_CASE("/debug/fibers filters by state, blocked time, name and labels and flags leaks", "[web]") {
  fiberleak::EndpointOptions o = Live::quiet();
  o.rules.threshold = std::chrono::nanoseconds(30'000'000);
  o.rules.ignore_names = {"pile"};
  const auto started = std::chrono::steady_clock::now();
  Live live(o);
  REQUIRE(live.wait_for_leaks(2));
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
  doc = nlohmann::json::parse(live.get("/debug/fibers?label=handler:pile")->body);
  CHECK(doc["fibers"].size() == fiberleak::detail::testing::ParkedFibers::kPile);
  CHECK(doc["fibers"][0]["labels"]["handler"] == "pile");
  doc = nlohmann::json::parse(live.get("/debug/fibers?label=handler:p*&label=fiber:pile")->body);
  CHECK(doc["fibers"].size() == fiberleak::detail::testing::ParkedFibers::kPile);
  doc = nlohmann::json::parse(live.get("/debug/fibers?label=handler:other")->body);
  CHECK(doc["fibers"].empty());
  const auto bad = live.get("/debug/fibers?label=nocolon");
  CHECK(bad->status == 400);
  CHECK(contains(bad->body, "label must be key:value"));
  doc = nlohmann::json::parse(live.get("/debug/fibers?min_blocked=1h")->body);
  CHECK(doc["fibers"].empty());
  doc = nlohmann::json::parse(live.get("/debug/fibers?leaks=1")->body);
  CHECK(doc["fibers"].size() == 2);
  const auto leaks = fiberleak::detail::findings_from_json_text(live.get("/debug/leaks")->body);
  REQUIRE(leaks.leaks.size() == 2);
  CHECK(leaks.leaks[0].blocked_ns >= 30'000'000);
  // Parked no longer than the fibers exist (plus a tick of the coarse clock).
  CHECK(leaks.leaks[0].blocked_ns <=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count() +
            10'000'000);
  CHECK(leaks.leaks[0].line > 0);
}

TEST_CASE("fiber names cut at the limit or holding bytes that are no UTF-8 leave /debug/fibers a valid 200", "[web]") {
  Live live;
  std::atomic<bool> stop{false};
  std::thread owner([&] {
    fiberleak::install();
    auto park = [&] {
      while (!stop.load()) boost::this_fiber::sleep_for(std::chrono::milliseconds(2));
    };
    boost::fibers::fiber cut = fiberleak::spawn(std::string(37, 'z') + "日本", park);  // the limit falls inside 日
    boost::fibers::fiber bad = fiberleak::spawn("zz-bad\xff", park);
    cut.join();
    bad.join();
  });
  nlohmann::json doc;
  auto named = [&] {
    auto r = live.get("/debug/fibers?name=zz*");
    REQUIRE(r->status == 200);
    doc = nlohmann::json::parse(r->body);  // throws on invalid UTF-8
    return doc["fibers"].size() == 2;
  };
  for (int i = 0; i < 500 && !named(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  owner.join();
  REQUIRE(doc["fibers"].size() == 2);
  std::set<std::string> names;
  for (const auto& f : doc["fibers"]) names.insert(f["name"].get<std::string>());
  CHECK(names == std::set<std::string>{std::string(37, 'z'), "zz-bad\xef\xbf\xbd"});
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
