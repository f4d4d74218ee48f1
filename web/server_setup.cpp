#include "web/server_setup.hpp"

#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "profiler/heap_profile.hpp"

namespace fiberleak::detail {
namespace {

// httplib's TaskQueue with as many of the wanted threads as could be made.
class WorkerPool final : public httplib::TaskQueue {
 public:
  explicit WorkerPool(unsigned wanted) {
    try {
      threads_.reserve(wanted);
      for (unsigned i = 0; i < wanted; ++i) threads_.emplace_back([this] { work(); });
    } catch (const std::exception&) {
      // Serve with the threads made so far (none: on the accept thread).
    }
  }
  ~WorkerPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    if (threads_.empty()) {
      fn();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(fn));
    }
    wake_.notify_one();
  }

  // Lets the queued connections finish, then joins the workers.
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void work() {
    exclude_this_thread_from_heap_profile();
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
};

void own_the_port(socket_t sock) {
  const int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

void prepare_server(httplib::Server& server, unsigned workers) {
  server.set_socket_options(own_the_port);
  server.new_task_queue = [workers] { return new WorkerPool(workers); };
}

int bind_port(httplib::Server& server, const std::string& host, int port) {
  if (port == 0) {
    const int bound = server.bind_to_any_port(host);
    return bound > 0 ? bound : -1;
  }
  return server.bind_to_port(host, port) ? port : -1;
}

bool parse_listen_address(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return false;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  host = std::string(text.substr(0, colon));
  port = value;
  return true;
}

}  // namespace fiberleak::detail
