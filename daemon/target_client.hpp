// TargetClient: fiberleakd's HTTP requests to hosts it does not control —
// the targets it scrapes and the webhook it posts to — each bounded in
// time, size and effort whatever the other side does.
//
// cpp-httplib 0.11.4's own timeouts are per read: a server that sends a
// byte a second never times out, and its client decodes a
// `Content-Encoding: gzip` it never asked for. Here every request made
// through one TargetClient ends by one total deadline ("timed out after
// 5s"), a watchdog thread shutting the socket down when it passes; cancel()
// ends the request in flight at once (fiberleakd is stopping); an answer
// larger than the body limit (by its Content-Length or as it arrives) or
// with any Content-Encoding is an error, and nothing is ever decompressed
// (fiberleakd asks for none). Connecting is bounded by the time left, but
// not interrupted by cancel() (a socket still connecting cannot be shut down
// from another thread).
//
// Thread-safety: get() and post() from one thread at a time; cancel() from
// any thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace fiberleak::detail {

struct Fetched {
  int status = 0;            // 0: no answer (see error)
  std::string body;          // at most the body limit
  std::string content_type;  // the answer's Content-Type header, "" when none
  std::string error;         // "" when the request got an answer (whatever its status)
};

class TargetClient {
 public:
  using Clock = std::chrono::steady_clock;

  // origin: "http://host:port" (HttpUrl::origin). `budget` is the total time
  // every request through this client may take, counted from now.
  TargetClient(const std::string& origin, std::chrono::milliseconds budget, std::size_t max_body);
  ~TargetClient();
  TargetClient(const TargetClient&) = delete;
  TargetClient& operator=(const TargetClient&) = delete;

  // Sent as "Authorization: Bearer TOKEN" with every request.
  void set_bearer_token(const std::string& token) { client_.set_bearer_token_auth(token); }
  Fetched get(const std::string& path, const httplib::Headers& headers = {});
  Fetched post(const std::string& path, const std::string& body, const char* content_type);
  // Ends the request in flight now and fails every later one ("canceled").
  void cancel();

 private:
  enum class Stop { none, deadline, canceled };
  template <typename Prepare>
  Fetched request(Prepare prepare);  // prepare(httplib::Request&) sets method, path, body
  void watch();
  std::string stop_reason() const;

  httplib::Client client_;
  const std::chrono::milliseconds budget_;
  const Clock::time_point deadline_;
  const std::size_t max_body_;

  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  Stop stop_ = Stop::none;
  bool in_flight_ = false;
  bool closing_ = false;  // the destructor runs: the watchdog ends
  std::thread watchdog_;
};

}  // namespace fiberleak::detail
