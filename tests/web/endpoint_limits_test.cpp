// serve()'s endpoint under hostile clients: Host names it does not answer
// to, a token, concurrent delta profiles, oversized symbol lookups and
// addresses meant to grow the symbolizer's cache.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fiberleak/serve.hpp>

#include "profiler/symbolizer.hpp"
#include "raw_client.hpp"
#include "web/delta_slot.hpp"
#include "web_test_support.hpp"

using fiberleak::detail::testing::Live;
using fiberleak::detail::testing::RawClient;
using fiberleak::detail::testing::status_of;
using namespace std::chrono_literals;

namespace {

fiberleak::ServeHandle serve_quietly(fiberleak::ServeOptions options = {}) {
  options.host = "127.0.0.1";
  options.port = 0;
  options.endpoint = Live::quiet();
  return fiberleak::serve(std::move(options));
}

int get_status(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get(path.c_str(), headers);
  REQUIRE(res);
  return res->status;
}

}  // namespace

TEST_CASE("the endpoint refuses requests naming a host that is not its own", "[web][access]") {
  auto server = serve_quietly();
  CHECK(get_status(server.port(), "/debug/pprof/cmdline", {{"Host", "attacker.example:6060"}}) == 403);
  CHECK(get_status(server.port(), "/debug/pprof/cmdline", {{"Host", "localhost:6060"}}) == 200);
  CHECK(get_status(server.port(), "/debug/pprof/cmdline") == 200);  // 127.0.0.1:port

  fiberleak::ServeOptions options;
  options.allowed_hosts = {"profiler.internal"};
  auto named = serve_quietly(options);
  CHECK(get_status(named.port(), "/healthz", {{"Host", "profiler.internal"}}) == 200);
  CHECK(get_status(named.port(), "/healthz", {{"Host", "attacker.example"}}) == 403);
}

TEST_CASE("with a token every route but /healthz needs it", "[web][access]") {
  fiberleak::ServeOptions options;
  options.token = "t0ken";
  auto server = serve_quietly(options);
  httplib::Client client("127.0.0.1", server.port());
  auto denied = client.Get("/debug/goroutine");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(denied->get_header_value("WWW-Authenticate") == "Bearer");
  CHECK(get_status(server.port(), "/debug/fibers", {{"Authorization", "Bearer wrong"}}) == 401);
  CHECK(get_status(server.port(), "/healthz") == 200);
  client.set_bearer_token_auth("t0ken");
  auto allowed = client.Get("/debug/goroutine");
  REQUIRE(allowed);
  CHECK(allowed->status == 200);
}

TEST_CASE("FIBERLEAK_TOKEN gives the endpoint a token when the options have none", "[web][access]") {
  setenv("FIBERLEAK_TOKEN", "from-env", 1);
  auto server = serve_quietly();
  unsetenv("FIBERLEAK_TOKEN");
  CHECK(get_status(server.port(), "/metrics") == 401);
  CHECK(get_status(server.port(), "/metrics", {{"Authorization", "Bearer from-env"}}) == 200);
}

TEST_CASE("delta profiles beyond the limit get 429 with Retry-After while /healthz answers at once", "[web][limits]") {
  auto server = serve_quietly();
  const int port = server.port();
  {
    // The slots are the process's: take them as running delta profiles would.
    std::vector<fiberleak::detail::DeltaSlot> taken;
    for (int i = 0; i < fiberleak::detail::kMaxDeltaProfiles; ++i) {
      taken.push_back(fiberleak::detail::DeltaSlot::take());
      REQUIRE(taken.back().held());
    }
    for (const char* path : {"/debug/pprof/goroutine?seconds=7", "/debug/pprof/heap?seconds=7"}) {
      httplib::Client client("127.0.0.1", port);
      auto res = client.Get(path);
      REQUIRE(res);
      if (res->status == 404 || res->status == 503) continue;  // no heap profiler in this binary
      CHECK(res->status == 429);
      CHECK(res->get_header_value("Retry-After") == "7");
    }
    const auto asked = std::chrono::steady_clock::now();
    CHECK(get_status(port, "/healthz") == 200);
    CHECK(get_status(port, "/metrics") == 200);
    CHECK(std::chrono::steady_clock::now() - asked < 1s);
  }
  CHECK(get_status(port, "/debug/pprof/goroutine?seconds=1") == 200);  // slots given back
}

TEST_CASE("addresses POSTed to /debug/pprof/symbol are answered without growing the symbolizer's cache",
          "[web][limits]") {
  auto server = serve_quietly();
  httplib::Client client("127.0.0.1", server.port());
  auto first = client.Post("/debug/pprof/symbol", "0x1", "text/plain");  // warms up the endpoint itself
  REQUIRE(first);
  const std::size_t before = fiberleak::detail::Symbolizer::instance().cached_pcs();
  std::string addresses;
  for (int i = 0; i < 20000; ++i) addresses += (i ? "+0x" : "0x") + std::to_string(0x400000 + 16 * i);
  auto res = client.Post("/debug/pprof/symbol", addresses, "text/plain");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(fiberleak::detail::Symbolizer::instance().cached_pcs() == before);
}

TEST_CASE("a chunked symbol lookup larger than 1 MiB gets 413", "[web][limits]") {
  auto server = serve_quietly();
  RawClient c(server.port());
  REQUIRE(c.send("POST /debug/pprof/symbol HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string block = "10000\r\n" + std::string(0x10000, '+') + "\r\n";
  for (int i = 0; i < 32 && c.send(block); ++i) {
  }
  CHECK(status_of(c.receive_all(3s)) == 413);
}
