// libfiberleak_heap_server.so: what FIBERLEAK_LISTEN and FIBERLEAK_HEAP_PROFILE
// give a program run under LD_PRELOAD=libfiberleak_heap.so. The preload
// library's bootstrap (preload/preload_bootstrap.cpp) loads this library
// and calls fiberleak_heap_server_start() once, before main, in the process
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
#include "profiler/heap_profile.hpp"
#include "web/heap_routes.hpp"
#include "web/server_setup.hpp"
#include "web/server_thread.hpp"

namespace {

__attribute__((format(printf, 1, 2))) void report(const char* format, ...) {
  std::fprintf(stderr, "fiberleak: %s (pid %d): ", program_invocation_short_name, static_cast<int>(getpid()));
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

// FIBERLEAK_HEAP_PROFILE with every "%p" replaced by the process id.
std::string profile_path() {
  const char* pattern = std::getenv("FIBERLEAK_HEAP_PROFILE");
  std::string path = pattern == nullptr ? "" : pattern;
  const std::string pid = std::to_string(getpid());
  for (auto at = path.find("%p"); at != std::string::npos; at = path.find("%p", at + pid.size())) {
    path.replace(at, 2, pid);
  }
  return path;
}

// At exit: the profile of what is still allocated (the leaks), written to a
// temporary file renamed over the path, so a reader never sees half of it.
void write_final_profile() {
  const std::string path = profile_path();
  if (path.empty() || !fiberleak::detail::heap_profiler_available()) return;
  try {
    const std::string data = fiberleak::detail::heap_profile(fiberleak::detail::collect_heap(), fiberleak::detail::HeapProfileKind::heap,
                                                     fiberleak::detail::Symbolizer::mappings());
    const std::string partial = path + ".partial";
    FILE* f = std::fopen(partial.c_str(), "wb");
    const bool written = f != nullptr && std::fwrite(data.data(), 1, data.size(), f) == data.size();
    const bool closed = f != nullptr && std::fclose(f) == 0;
    if (!written || !closed || std::rename(partial.c_str(), path.c_str()) != 0) {
      const int error = errno;
      std::remove(partial.c_str());
      report("FIBERLEAK_HEAP_PROFILE: cannot write %s: %s", path.c_str(), std::strerror(error));
    }
  } catch (const std::exception& e) {
    report("FIBERLEAK_HEAP_PROFILE: no profile written: %s", e.what());
  }
}

// Helpers and wrappers started under the same LD_PRELOAD (a shell's
// readlink, pyenv's shims, env) load this library too, and most of them exit
// or exec within milliseconds: binding only after this delay keeps them off
// the port (and their messages off stderr), so it is free for the program.
constexpr auto kBindDelay = std::chrono::milliseconds(200);

void bind_and_serve(const std::string& listen, const std::string& host, int port) {
  std::this_thread::sleep_for(kBindDelay);
  auto server = std::make_unique<fiberleak::detail::ServerThread>(2);
  fiberleak::detail::mount_heap_routes(server->server());
  server->server().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(fiberleak::detail::heap_metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  const int bound = server->bind(host, port);
  if (bound < 0) {
    report("cannot listen on FIBERLEAK_LISTEN=%s: %s (another process started under the same LD_PRELOAD? "
           "FIBERLEAK_PROCESS=NAME picks the program that serves)",
           listen.c_str(), fiberleak::detail::kPortUnavailable);
    return;
  }
  server->start();
  if (port == 0) report("serving heap profiles on http://%s:%d", host.c_str(), bound);
  // Never stopped nor destroyed: the program may exit while a request is being served.
  server.release();
}

// Checks FIBERLEAK_LISTEN now; a detached thread binds it and starts the
// server's own thread, and says where it serves only once it accepts.
int serve(const char* listen) {
  std::string host;
  int port = 0;
  if (!fiberleak::detail::parse_listen_address(listen, host, port)) {
    report("FIBERLEAK_LISTEN=\"%s\" is not HOST:PORT; heap profiles are not served", listen);
    return -1;
  }
  std::thread([where = std::string(listen), host, port] {
    try {
      bind_and_serve(where, host, port);
    } catch (const std::exception& e) {
      report("FIBERLEAK_LISTEN=%s: serving stopped: %s", where.c_str(), e.what());
    }
  }).detach();
  return 0;
}

}  // namespace

// Starts what the environment asks for: the heap routes and their /metrics
// lines on FIBERLEAK_LISTEN=HOST:PORT from a thread of its own (bound
// kBindDelay later), the final profile to FIBERLEAK_HEAP_PROFILE at exit.
// Returns 0, or -1 when something asked for could not be started (reported
// on stderr, as is a port found in use later).
extern "C" int fiberleak_heap_server_start() noexcept {
  int rc = 0;
  try {
    if (const char* p = std::getenv("FIBERLEAK_HEAP_PROFILE"); p != nullptr && *p != '\0') {
      if (std::atexit(write_final_profile) != 0) {
        report("FIBERLEAK_HEAP_PROFILE: cannot register the exit handler; no profile will be written");
        rc = -1;
      }
    }
    if (const char* listen = std::getenv("FIBERLEAK_LISTEN"); listen != nullptr && *listen != '\0') {
      if (serve(listen) != 0) rc = -1;
    }
  } catch (const std::exception& e) {
    report("cannot start serving heap profiles: %s", e.what());
    rc = -1;
  }
  return rc;
}
