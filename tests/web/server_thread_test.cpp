// ServerThread: start() returns with the accept loop running, so a stop()
// right after it leaves nothing accepting; a port in use is reported; stop()
// is idempotent and gives back the port of a server that never started.
#include "web/server_thread.hpp"

#include <catch2/catch.hpp>

#include <fiberleak/serve.hpp>

#include "web/server_setup.hpp"

using fiberleak::detail::ServerThread;

namespace {

void add_hello(ServerThread& t) {
  t.server().Get("/hello",
                 [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
}

// Whether anything accepts a connection on 127.0.0.1:port.
bool accepting(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(1));
  return static_cast<bool>(client.Get("/hello"));
}

}  // namespace

TEST_CASE("a server thread answers once start() returns and stops accepting when stopped", "[web][server]") {
  ServerThread t;
  add_hello(t);
  const int port = t.bind("127.0.0.1", 0);
  REQUIRE(port > 0);
  CHECK(t.port() == port);
  REQUIRE(t.start());
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/hello");
  REQUIRE(res);
  CHECK(res->body == "hi");
  t.stop();
  CHECK_FALSE(accepting(port));
}

TEST_CASE("stopping a server thread right after start() cannot leave it accepting", "[web][server]") {
  // Before start() waited for the accept loop, httplib's stop() could come
  // first and do nothing: the loop then ran on, and stop() hung in join().
  for (int i = 0; i < 50; ++i) {
    ServerThread t;
    add_hello(t);
    const int port = t.bind("127.0.0.1", 0);
    REQUIRE(port > 0);
    REQUIRE(t.start());
    t.stop();
    INFO("round " << i);
    REQUIRE_FALSE(accepting(port));
  }
}

TEST_CASE("a port in use is reported and that server never starts", "[web][server]") {
  ServerThread first;
  add_hello(first);
  const int port = first.bind("127.0.0.1", 0);
  REQUIRE(port > 0);
  REQUIRE(first.start());

  ServerThread second;
  CHECK(second.bind("127.0.0.1", port) == -1);
  CHECK(second.port() == -1);
  CHECK_FALSE(second.start());
  second.stop();
  CHECK(fiberleak::detail::cannot_listen("127.0.0.1", port) ==
        "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + fiberleak::detail::kPortUnavailable);

  fiberleak::ServeOptions options;
  options.port = port;
  options.endpoint.watchdog_interval = std::chrono::milliseconds(0);
  CHECK_THROWS_WITH(fiberleak::serve(options), "fiberleak: " + fiberleak::detail::cannot_listen("127.0.0.1", port));
  CHECK(accepting(port));  // the first server is untouched
}

TEST_CASE("stop() twice, before start() or before bind() is fine and frees the port", "[web][server]") {
  ServerThread never_bound;
  never_bound.stop();
  never_bound.stop();
  CHECK_FALSE(never_bound.start());

  int port = -1;
  {
    ServerThread bound_only;
    port = bound_only.bind("127.0.0.1", 0);
    REQUIRE(port > 0);
    bound_only.stop();  // never started: still gives the port back
    bound_only.stop();
    CHECK_FALSE(bound_only.start());  // a stopped server stays stopped
  }
  ServerThread again;
  add_hello(again);
  CHECK(again.bind("127.0.0.1", port) == port);
  REQUIRE(again.start());
  CHECK(again.start());  // already running
  CHECK(accepting(port));
  again.stop();
  again.stop();
  CHECK_FALSE(accepting(port));

  fiberleak::ServeOptions options;
  options.port = 0;
  options.endpoint.watchdog_interval = std::chrono::milliseconds(0);
  fiberleak::ServeHandle handle = fiberleak::serve(options);
  const int served = handle.port();
  CHECK(accepting(served));
  handle.stop();
  handle.stop();
  CHECK_FALSE(accepting(served));
}
