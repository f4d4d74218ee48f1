// HostileServer: a loopback TCP server for fiberleakd's client tests that
// answers every connection the same scripted way, as a misbehaving target
// or webhook would: it reads the request head, sends the first `at_once`
// bytes of `answer`, then the rest one byte per `pause`, and keeps the
// connection open until it is destroyed. With an empty answer it never
// answers.
// Header-only test support; the destructor ends every connection.
#pragma once

#include <poll.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fiberleak::testing {

class HostileServer {
 public:
  HostileServer(std::string answer, std::size_t at_once, std::chrono::milliseconds pause)
      : answer_(std::move(answer)), at_once_(at_once), pause_(pause) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("HostileServer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~HostileServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    acceptor_.join();
    for (std::thread& t : connections_) t.join();
    ::close(listener_);
  }
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }

  // A whole HTTP/1.1 response with this status, extra header lines ("Name: value\r\n") and body.
  static std::string response(int status, const std::string& headers, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           headers + "\r\n" + body;
  }

 private:
  bool stopping() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void accept_loop() {
    while (!stopping()) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && !stopping()) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    for (std::size_t at = 0; at < answer_.size();) {
      const std::size_t n = at == 0 ? std::max<std::size_t>(1, std::min(at_once_, answer_.size())) : 1;
      if (::send(fd, answer_.data() + at, n, MSG_NOSIGNAL) <= 0) break;
      at += n;
      std::unique_lock<std::mutex> lock(mutex_);
      if (wake_.wait_for(lock, pause_, [this] { return stopping_; })) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return stopping_; });
    ::close(fd);
  }

  const std::string answer_;
  const std::size_t at_once_;
  const std::chrono::milliseconds pause_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread acceptor_;
  std::vector<std::thread> connections_;  // only the acceptor adds, only the destructor joins
};

}  // namespace fiberleak::testing
