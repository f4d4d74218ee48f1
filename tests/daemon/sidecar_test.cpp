// Sidecar against targets and a webhook that misbehave: it stops in time,
// keeps scraping, and says nothing it does not know.
#include "daemon/sidecar.hpp"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "hostile_server.hpp"
#include "web/fiber_json.hpp"

using fiberleak::detail::DaemonConfig;
using fiberleak::detail::Sidecar;
using fiberleak::detail::TargetConfig;
using fiberleak::testing::HostileServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("sidecar-test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

template <typename Done>
bool eventually(Done done, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

TargetConfig target(const std::string& name, const std::string& url, milliseconds interval, milliseconds timeout) {
  TargetConfig t;
  t.name = name;
  t.url = url;
  t.kind = fiberleak::detail::TargetKind::fiberleak;
  t.interval = interval;
  t.timeout = timeout;
  t.rules.threshold = std::chrono::seconds(1);
  return t;
}

DaemonConfig config(std::vector<TargetConfig> targets, std::string webhook = "") {
  DaemonConfig c;
  c.listen_port = 0;
  c.webhook_url = std::move(webhook);
  c.targets = std::move(targets);
  return c;
}

// A fiberleak target whose three parked fibers are new ones at every
// scrape: three new and three resolved findings each time.
struct ChurningTarget {
  ChurningTarget() {
    server.Get("/debug/fibers", [this](const httplib::Request&, httplib::Response& res) {
      fiberleak::detail::FiberDump dump;
      dump.taken_at_ns = ++scrapes * 1'000'000'000;
      for (int i = 0; i < 3; ++i) {
        fiberleak::detail::DumpedFiber f;
        f.id = fiberleak::FiberId{static_cast<std::uint64_t>(scrapes * 10 + i)};
        f.state = fiberleak::FiberState::blocked;
        f.wait = fiberleak::WaitKind::channel_pop;
        f.blocked_ns = 60'000'000'000;
        f.stack = std::vector<fiberleak::detail::DumpFrame>{{0x1000, "leak()", "leak.cpp", 7, false}};
        dump.fibers.push_back(f);
      }
      res.set_content(fiberleak::detail::fibers_json_text(dump, {}, nullptr, true), "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(milliseconds(1));
  }
  ~ChurningTarget() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  httplib::Server server;
  int port = 0;
  std::atomic<int> scrapes{0};
  std::thread thread;
};

std::uint64_t scrapes_of(const Sidecar& s, const std::string& name) {
  const auto doc = nlohmann::json::parse(s.targets_json());
  for (const auto& t : doc["targets"]) {
    if (t["name"] == name) return t["scrapes"].get<std::uint64_t>();
  }
  return 0;
}

}  // namespace

TEST_CASE("the sidecar stops within 2 s while its targets drip and its webhook never answers", "[daemon]") {
  const std::string answer = HostileServer::response(200, "", std::string(10'000, ' '));
  HostileServer drip(answer, answer.size() - 10'000, milliseconds(100));  // 1000 s of body
  HostileServer silent("", 0, milliseconds(100));
  ChurningTarget churning;
  std::vector<TargetConfig> targets;
  for (int i = 0; i < 4; ++i) {
    targets.push_back(target("drip" + std::to_string(i), drip.url(), std::chrono::hours(1), std::chrono::hours(1)));
  }
  targets.push_back(target("churning", churning.url(), milliseconds(50), milliseconds(1000)));
  Sidecar sidecar(config(targets, silent.url() + "/hook"), quiet());
  sidecar.start();
  REQUIRE(eventually([&] { return drip.accepted() == 4 && silent.accepted() >= 1; }));
  const auto start = Clock::now();
  CHECK(sidecar.stop());
  CHECK(Clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a webhook that never answers holds scraping up not at all, and what it drops is counted", "[daemon]") {
  HostileServer silent("", 0, milliseconds(100));
  ChurningTarget churning;
  Sidecar sidecar(
      config({target("churning", churning.url(), milliseconds(50), milliseconds(1000))}, silent.url() + "/hook"),
      quiet());
  sidecar.start();
  // Three findings a scrape, 5 s each if posted from the scrape thread.
  CHECK(eventually([&] { return scrapes_of(sidecar, "churning") >= 10; }, std::chrono::seconds(5)));
  CHECK(silent.accepted() == 1);  // one post at a time, the first still waiting
  sidecar.stop();
  const std::string metrics = sidecar.metrics_text();
  CHECK_THAT(metrics, Catch::Contains("# TYPE fiberleakd_webhook_dropped_total counter"));
  CHECK_THAT(metrics, Catch::Contains("fiberleakd_webhook_sent_total 0\n"));
  CHECK_THAT(metrics, !Catch::Contains("fiberleakd_webhook_dropped_total 0\n"));  // at least the one in flight
}

TEST_CASE("a target that is down reports no leak suspects, fibers or sites rather than zero", "[daemon]") {
  ChurningTarget churning;
  Sidecar sidecar(config({target("up", churning.url(), milliseconds(50), milliseconds(1000)),
                          target("down", "http://127.0.0.1:1", milliseconds(50), milliseconds(1000))}),
                  quiet());
  sidecar.start();
  REQUIRE(eventually([&] { return scrapes_of(sidecar, "up") >= 1 && scrapes_of(sidecar, "down") >= 1; }));
  sidecar.stop();
  const std::string metrics = sidecar.metrics_text();
  CHECK_THAT(metrics, Catch::Contains("fiberleakd_target_up{target=\"down\"} 0\n"));
  CHECK_THAT(metrics, Catch::Contains("fiberleakd_leak_suspects{target=\"up\"} 3\n"));
  CHECK_THAT(metrics, !Catch::Contains("fiberleakd_leak_suspects{target=\"down\"}"));
  CHECK_THAT(metrics, !Catch::Contains("fiberleakd_fibers{target=\"down\""));
  const auto doc = nlohmann::json::parse(sidecar.targets_json());
  for (const auto& t : doc["targets"]) {
    if (t["name"] == "down") CHECK(t["leak_suspects"].is_null());
  }
}

TEST_CASE("a target's fibers and leaks answer the endpoint's queries, limit and bad ones included", "[daemon]") {
  ChurningTarget churning;
  Sidecar sidecar(config({target("churning", churning.url(), milliseconds(50), milliseconds(1000))}), quiet());
  sidecar.start();
  REQUIRE(eventually([&] { return scrapes_of(sidecar, "churning") >= 1; }));
  httplib::Client client("127.0.0.1", sidecar.port());
  auto get = [&](const std::string& path) {
    auto res = client.Get(path.c_str());
    REQUIRE(res);
    return std::make_pair(res->status, res->body);
  };

  const auto [all_status, all_body] = get("/api/targets/churning/fibers");
  REQUIRE(all_status == 200);
  const auto all = nlohmann::json::parse(all_body);
  CHECK(all["fibers"].size() == 3);
  CHECK(all["fibers"][0].contains("stack"));  // inline stacks unless asked for shared ones
  CHECK_FALSE(all.contains("groups"));

  const auto [one_status, one_body] = get("/api/targets/churning/fibers?stacks=shared&limit=1&state=blocked");
  REQUIRE(one_status == 200);
  const auto one = nlohmann::json::parse(one_body);
  CHECK(one["fibers"].size() == 1);
  CHECK(one["fibers"][0]["leak"] == true);
  CHECK(one["total"] == 3);
  REQUIRE(one["groups"].size() == 1);
  CHECK(one["groups"][0]["fibers"] == 3);
  CHECK(one.contains("stacks"));

  CHECK(nlohmann::json::parse(get("/api/targets/churning/fibers?state=sleeping").second)["fibers"].empty());
  const auto leaks = nlohmann::json::parse(get("/api/targets/churning/leaks?limit=2").second);
  CHECK(leaks["leaks"].size() == 2);
  CHECK(leaks["total"] == 3);

  const auto [bad_status, bad_body] = get("/api/targets/churning/fibers?limit=lots");
  CHECK(bad_status == 400);
  CHECK_THAT(bad_body, Catch::Contains("limit must be"));
  CHECK(get("/api/targets/churning/fibers?colour=red").first == 400);
  CHECK(get("/api/targets/churning/leaks?limit=0").first == 400);
  CHECK(get("/api/targets/nobody/fibers?limit=1").first == 404);
  sidecar.stop();
}
