// What the web tests share: a live endpoint on parked fibers (Live), a
// shell command's output (run), a substring test (contains).
#pragma once

#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <fiberleak/serve.hpp>

#include "parked_fibers.hpp"

namespace fiberleak::detail::testing {

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
  // Polls /debug/leaks until it lists `n` findings (false after 20 s): the
  // parked fibers pass a short threshold soon, but not at a fixed time.
  bool wait_for_leaks(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      auto r = client.Get("/debug/leaks");
      if (r && r->status == 200 && nlohmann::json::parse(r->body)["leaks"].size() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }
};

struct Command {
  int status;
  std::string out;
  std::string err;
};

// Runs a shell command, capturing stdout and stderr separately.
inline Command run(const std::string& cmd) {
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

inline bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace fiberleak::detail::testing
