// The sidecar's own server and its scrapes with tokens: the sidecar asks
// for its token and reads no request body, and a target's token is sent to
// that target.
#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

#include <fiberleak/serve.hpp>

#include "../web/raw_client.hpp"
#include "daemon/daemon_config.hpp"
#include "daemon/sidecar.hpp"
#include "daemon/target_monitor.hpp"

using fiberleak::detail::TargetConfig;
using fiberleak::detail::TargetMonitor;
using fiberleak::detail::testing::RawClient;
using fiberleak::detail::testing::status_of;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<spdlog::logger> quiet() {
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// A fiberleak endpoint that asks for `token`.
fiberleak::ServeHandle target_with_token(const std::string& token) {
  fiberleak::ServeOptions o;
  o.port = 0;
  o.token = token;
  o.endpoint.watchdog_interval = std::chrono::milliseconds(0);
  return fiberleak::serve(o);
}

TargetConfig target_config(const fiberleak::ServeHandle& target, const std::string& token) {
  TargetConfig t;
  t.name = "t";
  t.url = target.url();
  t.token = token;
  return t;
}

}  // namespace

TEST_CASE("a target's token is sent with its scrapes", "[daemon][access]") {
  auto target = target_with_token("target-token");
  TargetMonitor with(target_config(target, "target-token"), 1 << 20, quiet());
  with.scrape_once();
  CHECK(with.status().up);
  TargetMonitor without(target_config(target, ""), 1 << 20, quiet());
  without.scrape_once();
  CHECK_FALSE(without.status().up);
  CHECK(without.status().error.find("401") != std::string::npos);
}

TEST_CASE("the sidecar asks for its token and refuses request bodies before reading them", "[daemon][access]") {
  auto target = target_with_token("");
  fiberleak::detail::DaemonConfig config;
  config.listen_port = 0;
  config.token = "sidecar-token";
  config.targets.push_back(target_config(target, ""));
  fiberleak::detail::Sidecar sidecar(config, quiet());
  sidecar.start();

  httplib::Client client("127.0.0.1", sidecar.port());
  auto denied = client.Get("/metrics");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  client.set_bearer_token_auth("sidecar-token");
  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);

  // 300 MB announced: refused from the headers, at once.
  RawClient post(sidecar.port());
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(
      post.send("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sidecar-token\r\n"
                "Content-Length: 314572800\r\n\r\n"));
  CHECK(status_of(post.receive_all(3s)) == 413);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  sidecar.stop();
}
