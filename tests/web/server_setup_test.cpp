// GuardedServer's set-up: the port is the process's own, the listening
// socket is close-on-exec (httplib does it; the preloaded heap server relies
// on it), and a server without connection threads still answers;
// parse_listen_address() takes HOST:PORT and nothing else.
#include "web/server_setup.hpp"

#include <dirent.h>
#include <fcntl.h>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "web/guarded_server.hpp"

namespace {

fiberleak::detail::ServerLimits with_connections(unsigned n) {
  fiberleak::detail::ServerLimits limits;
  limits.max_connections = n;
  return limits;
}

// A guarded server listening on a free loopback port, stopped at scope end.
struct RunningServer {
  fiberleak::detail::GuardedServer server;
  std::thread thread;
  int port = -1;

  explicit RunningServer(unsigned connections) : server(with_connections(connections)) {
    server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
    port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~RunningServer() {
    server.stop();
    thread.join();
  }
};

// The descriptor of this process's socket bound to 127.0.0.1:port, or -1.
int socket_bound_to(int port) {
  DIR* dir = opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  int found = -1;
  while (dirent* e = readdir(dir)) {
    const int fd = std::atoi(e->d_name);
    struct stat st {};
    if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.sin_family == AF_INET &&
        ntohs(addr.sin_port) == port) {
      found = fd;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

TEST_CASE("a second server cannot bind the port a guarded server listens on", "[web][server]") {
  RunningServer first(2);
  fiberleak::detail::GuardedServer prepared;
  CHECK_FALSE(prepared.bind_to_port("127.0.0.1", first.port));
  // Not even httplib's default server, which asks for SO_REUSEPORT itself.
  httplib::Server plain;
  CHECK_FALSE(plain.bind_to_port("127.0.0.1", first.port));
  httplib::Client client("127.0.0.1", first.port);
  auto res = client.Get("/hello");
  REQUIRE(res);
  CHECK(res->body == "hi");
}

TEST_CASE("a guarded server's listening socket is closed on exec", "[web][server]") {
  RunningServer server(2);
  const int fd = socket_bound_to(server.port);
  REQUIRE(fd >= 0);
  CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("a server without connection threads answers on its accept thread", "[web][server]") {
  RunningServer server(0);
  for (int i = 0; i < 3; ++i) {
    httplib::Client client("127.0.0.1", server.port);
    auto res = client.Get("/hello");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "hi");
  }
}

TEST_CASE("listen addresses are HOST:PORT with a decimal port up to 65535", "[web][server]") {
  std::string host = "untouched";
  int port = -7;
  CHECK(fiberleak::detail::parse_listen_address("127.0.0.1:6060", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 6060);
  CHECK(fiberleak::detail::parse_listen_address("localhost:0", host, port));
  CHECK(port == 0);
  CHECK(fiberleak::detail::parse_listen_address("[::1]:65535", host, port));
  CHECK(host == "[::1]");
  CHECK(port == 65535);
  host = "untouched";
  port = -7;
  for (const char* bad : {"", "6060", ":6060", "host:", "host:65536", "host:99999", "host:123456", "host:+80",
                          "host: 80", "host:80x", "host:-1", "host:0x50"}) {
    INFO(bad);
    CHECK_FALSE(fiberleak::detail::parse_listen_address(bad, host, port));
  }
  CHECK(host == "untouched");
  CHECK(port == -7);
}
