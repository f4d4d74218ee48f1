// WebhookQueue: delivers fiberleakd's finding notifications (JSON bodies)
// to the configured webhook from a bounded queue on a thread of its own, so
// that a webhook that is slow, down or never answers cannot stall scraping.
//
// push() never blocks: a full queue drops the body and counts it. Each body
// is POSTed up to `attempts` times, `timeout` each (TargetClient: a total
// deadline per attempt); a connection failure, a timeout or a 5xx/429 answer
// is retried after a backoff that doubles from `backoff` (0.5 s, 1 s, 2 s,
// …); any other non-2xx answer, or the last failed attempt, drops the body
// and counts it. stop() ends the post in flight at once and drops what is
// left. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "web/url.hpp"

namespace spdlog {
class logger;
}

namespace fiberleak::detail {

class TargetClient;

class WebhookQueue {
 public:
  struct Options {
    std::size_t capacity = 1000;  // bodies waiting; more are dropped
    int attempts = 3;             // posts of one body at most
    std::chrono::milliseconds timeout{5000};
    std::chrono::milliseconds backoff{500};  // before the second attempt; doubles after
  };
  struct Counters {
    std::uint64_t sent = 0;     // answered 2xx
    std::uint64_t dropped = 0;  // queue full, retries exhausted, refused, or left at stop()
    std::size_t queued = 0;
  };

  // `url` as the config checked it (http://…).
  WebhookQueue(HttpUrl url, std::shared_ptr<spdlog::logger> logger, Options options);
  ~WebhookQueue();  // stop()
  WebhookQueue(const WebhookQueue&) = delete;
  WebhookQueue& operator=(const WebhookQueue&) = delete;

  // Queues `body` for delivery; false (counted as dropped) when full or stopped.
  bool push(std::string body);
  void stop();
  Counters counters() const;

 private:
  void run();

  HttpUrl url_;
  const std::shared_ptr<spdlog::logger> logger_;
  const Options options_;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  Counters counters_;
  bool stopping_ = false;
  TargetClient* in_flight_ = nullptr;  // the post being made, for stop()
  std::thread thread_;
};

}  // namespace fiberleak::detail
