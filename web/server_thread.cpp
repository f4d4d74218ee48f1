#include "web/server_thread.hpp"

#include <chrono>
#include <system_error>

#include "profiler/heap_profile.hpp"
#include "web/server_setup.hpp"

namespace fiberleak::detail {

ServerThread::ServerThread(ServerLimits limits, AccessPolicy access) : server_(limits, std::move(access)) {}

ServerThread::~ServerThread() { stop(); }

int ServerThread::bind(const std::string& host, int port) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (phase_ != Phase::created) return -1;
  server_.access().bound_host = host;
  port_ = bind_port(server_, host, port);
  if (port_ >= 0) {
    server_.widen_accept_queue();
    phase_ = Phase::bound;
  }
  return port_;
}

bool ServerThread::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (phase_ == Phase::bound) start_locked();
  return phase_ == Phase::running;
}

void ServerThread::start_locked() {
  thread_ = std::thread([this] {
    exclude_this_thread_from_heap_profile();
    server_.listen_after_bind();
    listen_returned_ = true;
  });
  phase_ = Phase::running;
  while (!server_.is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void ServerThread::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  // httplib closes the listening socket only when its accept loop ends:
  // a bound server that never ran runs briefly to give the port back.
  if (phase_ == Phase::bound) {
    try {
      start_locked();
    } catch (const std::system_error&) {
      // No thread to be had: the port stays taken until the process ends.
    }
  }
  if (phase_ == Phase::running) {
    server_.stop();
    thread_.join();
  }
  phase_ = Phase::stopped;
}

int ServerThread::port() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return port_;
}

std::string cannot_listen(const std::string& host, int port) {
  return "cannot listen on " + host + ":" + std::to_string(port) + ": " + kPortUnavailable;
}

}  // namespace fiberleak::detail
