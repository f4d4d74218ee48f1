// libfiberleak_heap_server.so: what FIBERLEAK_LISTEN gives a program run
// under LD_PRELOAD=libfiberleak_heap.so (FIBERLEAK_HEAP_PROFILE is
// libfiberleak_heap_profile.so's). The preload library's bootstrap
// (preload/preload_bootstrap.cpp) loads this library and calls
// fiberleak_heap_server_start() once, before main, in the process
// FIBERLEAK_PROCESS picks (preload/heap_server_interface.hpp); that function
// is all it exports (preload/libfiberleak_heap_server.map). Problems are
// reported on stderr, one line starting "fiberleak:", and never thrown into
// (or abort) the host program.
#include <errno.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>

#include "preload/heap_server_interface.hpp"
#include "preload/preload_report.hpp"
#include "profiler/heap_profile.hpp"
#include "web/heap_routes.hpp"
#include "web/server_setup.hpp"
#include "web/server_thread.hpp"

namespace {

using fiberleak::detail::preload_report;

// Helpers and wrappers started under the same LD_PRELOAD (a shell's
// readlink, pyenv's shims, env) load this library too, and most of them exit
// or exec within milliseconds: binding only after this delay keeps them off
// the port (and their messages off stderr), so it is free for the program.
constexpr auto kBindDelay = std::chrono::milliseconds(200);

void bind_and_serve(const std::string& listen, const std::string& host, int port) {
  std::this_thread::sleep_for(kBindDelay);
  fiberleak::detail::AccessPolicy access;
  if (const char* token = std::getenv("FIBERLEAK_TOKEN")) access.token = token;
  auto server = std::make_unique<fiberleak::detail::ServerThread>(fiberleak::detail::ServerLimits{}, access);
  fiberleak::detail::mount_heap_routes(server->server());
  server->server().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(fiberleak::detail::heap_metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  const int bound = server->bind(host, port);
  if (bound < 0) {
    preload_report(
        "cannot listen on FIBERLEAK_LISTEN=%s: %s (another process started under the same LD_PRELOAD? "
        "FIBERLEAK_PROCESS=NAME picks the program that serves)",
        listen.c_str(), fiberleak::detail::kPortUnavailable);
    return;
  }
  server->start();
  if (port == 0) preload_report("serving heap profiles on http://%s:%d", host.c_str(), bound);
  // Never stopped nor destroyed: the program may exit while a request is being served.
  server.release();
}

// Checks FIBERLEAK_LISTEN now; a detached thread binds it and starts the
// server's own thread, and says where it serves only once it accepts.
int serve(const char* listen) {
  std::string host;
  int port = 0;
  if (!fiberleak::detail::parse_listen_address(listen, host, port)) {
    preload_report("FIBERLEAK_LISTEN=\"%s\" is not HOST:PORT; heap profiles are not served", listen);
    return -1;
  }
  std::thread([where = std::string(listen), host, port] {
    fiberleak::detail::exclude_this_thread_from_heap_profile();
    try {
      bind_and_serve(where, host, port);
    } catch (const std::exception& e) {
      preload_report("FIBERLEAK_LISTEN=%s: serving stopped: %s", where.c_str(), e.what());
    }
  }).detach();
  return 0;
}

}  // namespace

// Serves the heap routes and their /metrics lines on
// FIBERLEAK_LISTEN=HOST:PORT from a thread of its own (bound kBindDelay
// later). Returns 0, or -1 when it could not start (reported on stderr, as
// is a port found in use later).
extern "C" int fiberleak_heap_server_start() noexcept {
  try {
    const char* listen = std::getenv("FIBERLEAK_LISTEN");
    if (listen == nullptr || *listen == '\0') return 0;
    return serve(listen);
  } catch (const std::exception& e) {
    preload_report("cannot start serving heap profiles: %s", e.what());
    return -1;
  }
}
