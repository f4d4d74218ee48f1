// GuardedServer: what cpp-httplib 0.11.4 leaves unbounded is bounded — chunked
// bodies, header count and size, slow clients (a total read deadline), open
// connections — and exceptions no longer leak into an EXCEPTION_WHAT header.
// Each test talks to a real server through a raw socket or httplib's client.
#include "web/guarded_server.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "raw_client.hpp"
#include "web/server_thread.hpp"

namespace {

using fiberleak::detail::ServerLimits;
using fiberleak::detail::ServerThread;
using fiberleak::detail::testing::RawClient;
using fiberleak::detail::testing::status_of;
using namespace std::chrono_literals;

// A running server with /hello, /healthz, /big (256 KiB of text), POST /echo
// (counts what its body held) and /boom (throws).
struct Running {
  std::atomic<std::size_t> echoed{0};
  std::atomic<int> echo_calls{0};
  ServerThread http;
  int port = -1;

  explicit Running(ServerLimits limits) : http(limits) {
    auto& s = http.server();
    s.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    s.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      ++echo_calls;
      echoed = req.body.size();
      res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    s.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(256 << 10, 'x'), "text/plain");
    });
    s.Get("/boom", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("secret detail of the failure");
    });
    port = http.bind("127.0.0.1", 0);
    REQUIRE(port > 0);
    REQUIRE(http.start());
  }
};

ServerLimits small_limits() {
  ServerLimits l;
  l.max_connections = 8;
  l.read_deadline = 1000ms;
  l.max_body_bytes = 64 << 10;
  return l;
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("a chunked body larger than the body limit gets 413 and never reaches the route", "[web][server][limits]") {
  Running server(small_limits());
  RawClient c(server.port);
  REQUIRE(c.connected());
  REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string block(16 << 10, 'x');
  for (int i = 0; i < 64 && c.send(chunk(block)); ++i) {
  }
  c.send("0\r\n\r\n");
  const std::string response = c.receive_all(3s);
  CHECK(status_of(response) == 413);
  CHECK(server.echo_calls == 0);
}

TEST_CASE("a chunked body within the limit is read whole", "[web][server][limits]") {
  Running server(small_limits());
  RawClient c(server.port);
  REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                 chunk(std::string(1000, 'a')) + chunk(std::string(24, 'b')) + "0\r\n\r\n"));
  const std::string response = c.receive_all(3s);
  CHECK(status_of(response) == 200);
  CHECK(server.echoed == 1024);
}

TEST_CASE("a body where none is taken is refused from its headers, before it is sent", "[web][server][limits]") {
  ServerLimits limits = small_limits();
  limits.max_body_bytes = 0;
  Running server(limits);
  RawClient c(server.port);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 314572800\r\n\r\n"));
  const std::string response = c.receive_all(3s);
  CHECK(status_of(response) == 413);
  CHECK(seconds_since(start) < 0.9);  // not after the read deadline
  CHECK(server.echo_calls == 0);
}

TEST_CASE("a POST without Content-Length or Transfer-Encoding has an empty body, answered at once",
          "[web][server][limits]") {
  Running server(small_limits());
  RawClient c(server.port);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));  // curl -X POST URL
  const std::string response = c.receive_all(3s);
  CHECK(status_of(response) == 200);
  CHECK(seconds_since(start) < 0.9);  // not after the read deadline
  CHECK(server.echo_calls == 1);
  CHECK(server.echoed == 0);
}

TEST_CASE("compressed and oddly framed request bodies are refused", "[web][server][limits]") {
  Running server(small_limits());
  const std::vector<std::pair<std::string, int>> cases{
      {"Content-Encoding: gzip\r\nContent-Length: 10\r\n", 415},
      {"Transfer-Encoding: gzip, chunked\r\n", 501},
      {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400},
      {"Content-Length: 5\r\nContent-Length: 6\r\n", 400},
      {"Content-Length: -1\r\n", 400},
  };
  for (const auto& [headers, status] : cases) {
    INFO(headers);
    RawClient c(server.port);
    REQUIRE(c.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n"));
    CHECK(status_of(c.receive_all(3s)) == status);
  }
  CHECK(server.echo_calls == 0);
}

TEST_CASE("too many header lines or header bytes get 431", "[web][server][limits]") {
  Running server(small_limits());
  std::string many;
  for (int i = 0; i < 200; ++i) many += "X-Filler-" + std::to_string(i) + ": 1\r\n";
  std::string big;
  for (int i = 0; i < 20; ++i) big += "X-Big-" + std::to_string(i) + ": " + std::string(8000, 'b') + "\r\n";
  for (const std::string& headers : {many, big}) {
    RawClient c(server.port);
    c.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
    const std::string response = c.receive_all(3s);
    CHECK(status_of(response) == 431);
    CHECK(c.closed());
  }
  // Within the limits all is well.
  RawClient ok(server.port);
  REQUIRE(ok.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-One: 1\r\nConnection: close\r\n\r\n"));
  CHECK(status_of(ok.receive_all(3s)) == 200);
}

TEST_CASE("a client that dribbles its request is answered 408 and cut off at the read deadline",
          "[web][server][limits]") {
  Running server(small_limits());  // read deadline 1 s
  RawClient c(server.port);
  REQUIRE(c.send("GET /hello HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  std::string response;
  // A byte every 200 ms: each read is quick, the request never ends.
  while (seconds_since(start) < 4 && !c.closed()) {
    c.send("X");
    response += c.receive_all(200ms);
  }
  CHECK(c.closed());
  CHECK(status_of(response) == 408);
  CHECK(seconds_since(start) < 2.0);
}

TEST_CASE("slow clients do not keep /healthz waiting", "[web][server][limits]") {
  ServerLimits limits = small_limits();
  limits.read_deadline = 10s;
  Running server(limits);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::make_unique<RawClient>(server.port));
    REQUIRE(slow.back()->send("GET /hello HTTP/1.1\r\nX-Slow: "));
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& c : slow) c->send("z");
    httplib::Client client("127.0.0.1", server.port);
    client.set_read_timeout(1s);
    const auto start = std::chrono::steady_clock::now();
    auto res = client.Get("/healthz");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(seconds_since(start) < 1.0);
  }
}

TEST_CASE("connections beyond the limit are answered 503 at once and closed", "[web][server][limits]") {
  ServerLimits limits = small_limits();
  limits.max_connections = 2;
  limits.read_deadline = 10s;
  Running server(limits);
  RawClient a(server.port), b(server.port);
  REQUIRE(a.send("GET /hello HTTP/1.1\r\n"));  // both held, mid-request
  REQUIRE(b.send("GET /hello HTTP/1.1\r\n"));
  std::string response;
  const auto start = std::chrono::steady_clock::now();
  // The pool hands connections to its threads asynchronously: poll until
  // the third one is refused.
  while (status_of(response) != 503 && seconds_since(start) < 5) {
    RawClient third(server.port);
    response = third.receive_all(1s);
  }
  CHECK(status_of(response) == 503);
  CHECK(server.http.server().refused_connections() >= 1);
  CHECK(seconds_since(start) < 2.0);
}

TEST_CASE("a route that throws answers 500 without the exception's text", "[web][server]") {
  Running server(small_limits());
  httplib::Client client("127.0.0.1", server.port);
  auto res = client.Get("/boom");
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK_FALSE(res->has_header("EXCEPTION_WHAT"));
  for (const auto& [name, value] : res->headers) CHECK(value.find("secret") == std::string::npos);
  CHECK(res->body.find("secret") == std::string::npos);
}

TEST_CASE("kept-alive and pipelined requests are all answered", "[web][server]") {
  Running server(small_limits());
  httplib::Client client("127.0.0.1", server.port);
  client.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto res = client.Get("/hello");
    REQUIRE(res);
    CHECK(res->body == "hi");
  }
  RawClient c(server.port);
  REQUIRE(
      c.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
             "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  const std::string both = c.receive_all(3s);
  CHECK(status_of(both) == 200);
  CHECK(both.find("hi") != std::string::npos);
  CHECK(both.find("ok\n") != std::string::npos);
}

TEST_CASE("answers are gzipped when gzip is taken and never brotli, which costs seconds", "[web][server]") {
  Running server(small_limits());
  httplib::Client client("127.0.0.1", server.port);
  client.set_decompress(false);
  auto encoding_for = [&](const char* accept) {
    auto res = client.Get("/big", {{"Accept-Encoding", accept}});
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return res->get_header_value("Content-Encoding");
  };
  CHECK(encoding_for("gzip, deflate, br") == "gzip");  // what browsers send
  CHECK(encoding_for("br") == "");
  CHECK(encoding_for("br, gzip;q=0") == "");
  CHECK(encoding_for("gzip;q=0.000, br;q=1") == "");
  CHECK(encoding_for("GZIP;q=0.5") == "gzip");
  CHECK(encoding_for("*") == "gzip");
  CHECK(encoding_for("identity") == "");
  CHECK(encoding_for("x-gzipped, brotli") == "");
}
