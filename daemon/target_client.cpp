#include "daemon/target_client.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "profiler/byte_size.hpp"
#include "profiler/duration.hpp"
#include "web/http_error.hpp"

namespace fiberleak::detail {

TargetClient::TargetClient(const std::string& origin, std::chrono::milliseconds budget, std::size_t max_body)
    : client_(origin), budget_(budget), deadline_(Clock::now() + budget), max_body_(max_body) {
  client_.set_decompress(false);
  watchdog_ = std::thread([this] { watch(); });
}

TargetClient::~TargetClient() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

void TargetClient::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_ == Stop::none) stop_ = Stop::canceled;
  }
  wake_.notify_all();
}

// Waits for the deadline or cancel(), then shuts the socket of the request
// in flight down, and keeps doing so: a request that had not yet connected
// when the socket was shut would otherwise go on unbounded.
void TargetClient::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_until(lock, deadline_, [this] { return closing_ || stop_ != Stop::none; });
  if (stop_ == Stop::none) stop_ = Stop::deadline;
  while (!closing_) {
    if (in_flight_) {
      lock.unlock();
      client_.stop();  // shuts the socket down; the request fails at its next read or write
      lock.lock();
    }
    wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return closing_; });
  }
}

std::string TargetClient::stop_reason() const {
  return stop_ == Stop::canceled ? "canceled (fiberleakd is stopping)"
                                 : "timed out after " + format_duration(std::chrono::nanoseconds(budget_).count());
}

Fetched TargetClient::get(const std::string& path, const httplib::Headers& headers) {
  return request([&](httplib::Request& req) {
    req.method = "GET";
    req.path = path;
    req.headers = headers;
  });
}

Fetched TargetClient::post(const std::string& path, const std::string& body, const char* content_type) {
  return request([&](httplib::Request& req) {
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", content_type);
  });
}

template <typename Prepare>
Fetched TargetClient::request(Prepare prepare) {
  Fetched f;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - Clock::now());
    if (stop_ == Stop::none && left.count() <= 0) stop_ = Stop::deadline;
    if (stop_ != Stop::none) {
      f.error = stop_reason();
      return f;
    }
    client_.set_connection_timeout(left);
    client_.set_read_timeout(left);
    client_.set_write_timeout(left);
    in_flight_ = true;
  }
  bool too_big = false;
  std::string encoding;
  httplib::Request req;
  prepare(req);
  req.set_header("Accept-Encoding", "identity");
  req.response_handler = [&](const httplib::Response& res) {
    encoding = res.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "identity") return false;
    encoding.clear();
    const std::string length = res.get_header_value("Content-Length");
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    const bool known = ec == std::errc() && end == length.data() + length.size();
    too_big = known && n > max_body_;
    if (known && !too_big) f.body.reserve(static_cast<std::size_t>(n));  // no doubling on the way
    return !too_big;
  };
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    too_big = f.body.size() + n > max_body_;
    if (!too_big) f.body.append(data, n);
    return !too_big;
  };
  const httplib::Result res = client_.send(req);

  std::lock_guard<std::mutex> lock(mutex_);
  in_flight_ = false;
  if (res) {
    f.status = res->status;
    f.content_type = res->get_header_value("Content-Type");
  } else if (stop_ != Stop::none) {
    f.error = stop_reason();
  } else if (too_big) {
    const auto limit = std::min<std::size_t>(max_body_, std::numeric_limits<std::int64_t>::max());
    f.error = "response larger than the limit of " + format_bytes(static_cast<std::int64_t>(limit));
  } else if (!encoding.empty()) {
    f.error = "answered with Content-Encoding: " + encoding + ", which fiberleakd does not ask for";
  } else {
    f.error = describe_http_error(res.error());
  }
  if (!f.error.empty()) f.body.clear();
  return f;
}

}  // namespace fiberleak::detail
