// TargetClient against servers that misbehave on purpose (hostile_server.hpp).
#include "daemon/target_client.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "hostile_server.hpp"

using fiberleak::detail::Fetched;
using fiberleak::detail::TargetClient;
using fiberleak::testing::HostileServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string gzip(const std::string& text) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) == Z_OK);  // 31: gzip
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("a server that drips its answer a byte at a time is cut off at the total deadline", "[daemon]") {
  // 30 s of answer at the pace of one byte per 100 ms: every read succeeds
  // well within any per-read timeout, only a total deadline ends it.
  const std::string answer = HostileServer::response(200, "", std::string(300, 'x'));
  SECTION("in its body") {
    HostileServer server(answer, answer.size() - 300, milliseconds(100));
    const auto start = Clock::now();
    TargetClient client(server.url(), milliseconds(700), 1 << 20);
    const Fetched f = client.get("/debug/fibers");
    CHECK(f.error == "timed out after 700ms");
    CHECK(f.status == 0);
    CHECK(f.body.empty());
    CHECK(seconds_since(start) < 2.0);
  }
  SECTION("in its status line and headers") {
    HostileServer server(answer, 0, milliseconds(100));
    const auto start = Clock::now();
    TargetClient client(server.url(), milliseconds(700), 1 << 20);
    CHECK(client.get("/debug/fibers").error == "timed out after 700ms");
    CHECK(seconds_since(start) < 2.0);
  }
  SECTION("the deadline covers every request of the client, not each one") {
    HostileServer server(answer, answer.size() - 300, milliseconds(100));
    const auto start = Clock::now();
    TargetClient client(server.url(), milliseconds(700), 1 << 20);
    CHECK(client.get("/a").error == "timed out after 700ms");
    CHECK(client.get("/b").error == "timed out after 700ms");
    CHECK(seconds_since(start) < 2.0);
  }
}

TEST_CASE("cancel() ends a request in flight at once and fails the later ones", "[daemon]") {
  HostileServer silent("", 0, milliseconds(100));  // accepts, never answers
  TargetClient client(silent.url(), std::chrono::seconds(60), 1 << 20);
  const auto start = Clock::now();
  std::thread canceler([&] {
    while (silent.accepted() == 0) std::this_thread::sleep_for(milliseconds(5));
    client.cancel();
  });
  const Fetched f = client.get("/debug/fibers");
  canceler.join();
  CHECK(f.error == "canceled (fiberleakd is stopping)");
  CHECK(seconds_since(start) < 2.0);
  CHECK(client.get("/debug/fibers").error == "canceled (fiberleakd is stopping)");
  CHECK(silent.accepted() == 1);  // the later request did not even connect
}

TEST_CASE("a compressed answer nobody asked for is refused, never decompressed", "[daemon]") {
  // 64 MiB of zeros in ~64 KiB: decompressing it is the attack.
  const std::string bomb = gzip(std::string(std::size_t{64} << 20, '\0'));
  REQUIRE(bomb.size() < 100 * 1024);
  HostileServer server(HostileServer::response(200, "Content-Encoding: gzip\r\n", bomb), std::string::npos,
                       milliseconds(1));
  TargetClient client(server.url(), std::chrono::seconds(10), std::size_t{256} << 20);
  const Fetched f = client.get("/debug/fibers");
  CHECK(f.error == "answered with Content-Encoding: gzip, which fiberleakd does not ask for");
  CHECK(f.body.empty());
}

TEST_CASE("an answer over the body limit is refused by its Content-Length before its body comes", "[daemon]") {
  // Headers only: the body never comes, so waiting for it would time out.
  HostileServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", std::string::npos, milliseconds(1));
  TargetClient client(server.url(), std::chrono::seconds(10), 1 << 20);
  const auto start = Clock::now();
  CHECK(client.get("/debug/fibers").error == "response larger than the limit of 1 MiB");
  CHECK(seconds_since(start) < 2.0);
}

TEST_CASE("an answer within its limits comes back whole with its status", "[daemon]") {
  HostileServer server(HostileServer::response(404, "Content-Type: text/plain\r\n", "not here"), std::string::npos,
                       milliseconds(1));
  TargetClient client(server.url(), std::chrono::seconds(10), 1 << 20);
  const Fetched f = client.get("/debug/fibers");
  CHECK(f.error.empty());
  CHECK(f.status == 404);
  CHECK(f.body == "not here");
  CHECK(f.content_type == "text/plain");
}
