#include "daemon/webhook_queue.hpp"

#include <spdlog/spdlog.h>

#include "daemon/target_client.hpp"

namespace fiberleak::detail {
namespace {

constexpr std::size_t kMaxAnswerBytes = 64 * 1024;  // a webhook's answer is not read beyond this

}  // namespace

WebhookQueue::WebhookQueue(HttpUrl url, std::shared_ptr<spdlog::logger> logger, Options options)
    : url_(std::move(url)), logger_(std::move(logger)), options_(options) {
  if (url_.path.empty()) url_.path = "/";
  thread_ = std::thread([this] { run(); });
}

WebhookQueue::~WebhookQueue() { stop(); }

bool WebhookQueue::push(std::string body) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || queue_.size() >= options_.capacity) {
      ++counters_.dropped;
      return false;
    }
    queue_.push_back(std::move(body));
  }
  wake_.notify_one();
  return true;
}

void WebhookQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      counters_.dropped += queue_.size();
      queue_.clear();
      if (in_flight_ != nullptr) in_flight_->cancel();
    }
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

WebhookQueue::Counters WebhookQueue::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Counters c = counters_;
  c.queued = queue_.size();
  return c;
}

void WebhookQueue::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::string last_problem;  // logged when it changes, not once per body
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const std::string body = std::move(queue_.front());
    queue_.pop_front();
    auto backoff = options_.backoff;
    for (int attempt = 1;; ++attempt) {
      TargetClient client(url_.origin, options_.timeout, kMaxAnswerBytes);
      in_flight_ = &client;
      lock.unlock();
      const Fetched f = client.post(url_.path, body, "application/json");
      lock.lock();
      in_flight_ = nullptr;
      if (f.error.empty() && f.status >= 200 && f.status < 300) {
        ++counters_.sent;
        last_problem.clear();
        break;
      }
      const std::string problem = f.error.empty() ? "HTTP " + std::to_string(f.status) : f.error;
      const bool retry = f.error.empty() ? f.status >= 500 || f.status == 429 : true;
      if (problem != last_problem) {
        logger_->warn("webhook {}{}: {}", url_.origin, url_.path, problem);
        last_problem = problem;
      }
      if (!retry || attempt >= options_.attempts || stopping_) {
        ++counters_.dropped;
        break;
      }
      if (wake_.wait_for(lock, backoff, [this] { return stopping_; })) {
        ++counters_.dropped;
        break;
      }
      backoff *= 2;
    }
  }
}

}  // namespace fiberleak::detail
