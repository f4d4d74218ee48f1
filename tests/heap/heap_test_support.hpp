// Test helpers: an HTTP server with the heap routes on a free port, and
// `go tool pprof` run against it.
#pragma once

#include <httplib.h>

#include <array>
#include <cstdio>
#include <string>
#include <thread>

#include "web/heap_routes.hpp"

namespace fiberleak::detail::testing {

// Serves the heap routes on 127.0.0.1:<free port> until destroyed.
class HeapServer {
 public:
  HeapServer() {
    mount_heap_routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HeapServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// stdout of a shell command (stderr discarded).
inline std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

// `go tool pprof -top -lines` in bytes/counts; extra: e.g. "-tagfocus=fiber=x".
inline std::string pprof_top(const std::string& url, const std::string& sample_index, const std::string& extra = "") {
  return run(
      "HOME=/tmp GOFLAGS= go tool pprof -top -lines -nodecount=100000 -nodefraction=0 -edgefraction=0 -unit=B "
      "-sample_index=" +
      sample_index + " " + extra + " '" + url + "'");
}

}  // namespace fiberleak::detail::testing
