// ServerThread: one httplib::Server with its accept loop on a thread of its
// own. Every fiberleak server starts and stops through it: serve()'s
// endpoint, fiberleakd's sidecar and the preloaded heap server.
//
// The server is a GuardedServer (web/guarded_server.hpp) with the limits
// and access policy given at construction; add its routes through server()
// before start(). bind() and start() are two steps so that
// a caller can give up before anything it mounts starts work (serve() makes
// its endpoint, and maybe the watchdog, only once the port is its own).
// Thread-safe: bind(), start() and stop() may be called from any thread and
// are serialized; the routes run on the server's worker threads.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "web/guarded_server.hpp"

namespace fiberleak::detail {

class ServerThread {
 public:
  explicit ServerThread(ServerLimits limits = {}, AccessPolicy access = {});
  ~ServerThread();  // stop()
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  // The server, for adding routes before start().
  GuardedServer& server() { return server_; }

  // Binds host:port (port 0: any free port). Returns the port bound, or -1:
  // the port is in use or the address is not this machine's (see
  // cannot_listen()). Once; a second call returns -1. `host` is also the
  // bound address the access policy accepts in Host.
  int bind(const std::string& host, int port);
  // Starts the accept loop on its own thread and returns once it runs:
  // httplib's stop() does nothing before that, so a stop() right after
  // start() could otherwise leave it accepting for good. False when not
  // bound (or already stopped); true again when it already runs.
  bool start();
  // Stops accepting, lets the connections being served finish and joins
  // the thread. Idempotent, and fine before start(): a bound server that
  // never started gives its port back.
  void stop();
  // The port bound, or -1 (before bind(), or when it failed).
  int port() const;

 private:
  void start_locked();

  enum class Phase { created, bound, running, stopped };
  GuardedServer server_;
  mutable std::mutex mutex_;  // guards phase_, port_ and thread_
  Phase phase_ = Phase::created;
  int port_ = -1;
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

// "cannot listen on HOST:PORT: <kPortUnavailable>": what a failed bind()
// tells the user.
std::string cannot_listen(const std::string& host, int port);

}  // namespace fiberleak::detail
