#include "web/guarded_server.hpp"

#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <unistd.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "profiler/heap_profile.hpp"

namespace fiberleak::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Set on the accept thread while it refuses a connection the pool has no
// room for (see ConnectionPool::enqueue()).
thread_local bool t_refusing = false;

// httplib's TaskQueue for GuardedServer: one thread per connection being
// served, made when first needed, up to `max`. A connection beyond that is
// refused on the accept thread at once instead of queued. A thread that
// cannot be made (EAGAIN under thread or memory limits, or in a process
// that is exec'ing) leaves the connection to the threads there are, or with
// none to the accept thread; httplib's own pool calls std::terminate on it,
// taking the host program down.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(unsigned max) : max_(max) {}
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (max_ == 0) return run_here(lock, fn, false);
    if (assigned_ >= max_) return run_here(lock, fn, true);
    ++assigned_;
    if (threads_.size() < assigned_) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        if (threads_.empty()) {
          --assigned_;
          return run_here(lock, fn, false);
        }
      }
    }
    jobs_.push_back(std::move(fn));
    lock.unlock();
    wake_.notify_one();
  }

  // Lets the connections being served finish, then joins the threads.
  void shutdown() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      threads.swap(threads_);
    }
    wake_.notify_all();
    for (std::thread& t : threads) t.join();
  }

 private:
  static void run_here(std::unique_lock<std::mutex>& lock, const std::function<void()>& fn, bool refusing) {
    lock.unlock();
    t_refusing = refusing;
    fn();
    t_refusing = false;
  }

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
      std::lock_guard<std::mutex> lock(mutex_);
      --assigned_;
    }
  }

  const unsigned max_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  unsigned assigned_ = 0;  // connections queued or being served
  bool stopping_ = false;
};

int millis_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 1 << 30));
}

// Polls `sock` for `events` until `deadline`: > 0 ready, 0 timed out, < 0 error.
int wait_for(socket_t sock, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{sock, events, 0};
    const int rc = ::poll(&p, 1, millis_until(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[NI_MAXHOST] = "";
  char serv[NI_MAXSERV] = "";
  if (rc != 0 || getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                             NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(serv);
}

// One connection's socket as httplib reads and writes it, with the limits
// of GuardedServer. It follows the request head as httplib does (lines end
// at '\n'; a line that is just "\r\n" ends the head) to tell head bytes
// from body bytes. Its buffer lives as long as the connection, so
// pipelined requests are not lost between requests. One thread at a time.
class GuardedStream final : public httplib::Stream {
 public:
  enum class Verdict { ok, timed_out, head_too_large, body_too_large };

  GuardedStream(socket_t sock, const ServerLimits& limits) : sock_(sock), limits_(limits) {}

  // Waits until the next request's first byte is there (true), or `idle`
  // passes, the peer closes or the server stops (false).
  bool wait_for_request(std::chrono::milliseconds idle, const std::atomic<socket_t>& listening) {
    if (pos_ < len_) return true;
    const auto end = Clock::now() + idle;
    while (listening != INVALID_SOCKET) {
      const auto slice = std::min(end, Clock::now() + std::chrono::milliseconds(50));
      const int rc = wait_for(sock_, POLLIN, slice);
      if (rc != 0) return rc > 0;
      if (Clock::now() >= end) return false;
    }
    return false;
  }

  // Starts a request whose reading began at `started`.
  void begin_request(Clock::time_point started) {
    read_deadline_ = started + limits_.read_deadline;
    verdict_ = Verdict::ok;
    in_head_ = true;
    head_bytes_ = lines_ = line_length_ = body_bytes_ = 0;
    previous_ = 0;
    writing_ = false;
    close_ = false;
  }

  Verdict verdict() const { return verdict_; }
  bool wrote() const { return writing_; }
  void close_after_response() { close_ = true; }
  bool closing() const { return close_ || verdict_ != Verdict::ok; }

  bool is_readable() const override { return pos_ < len_ || wait_for(sock_, POLLIN, read_deadline_) > 0; }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_deadline()) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (verdict_ != Verdict::ok) return -1;
    if (pos_ == len_) {
      const ssize_t n = fill();
      if (n <= 0) return n;
    }
    std::size_t n = std::min(size, len_ - pos_);
    const char* src = buffer_ + pos_;
    if (in_head_) {
      n = account_head(src, n);
      if (verdict_ != Verdict::ok) return -1;
    } else if (body_bytes_ + n > limits_.max_body_bytes) {
      verdict_ = Verdict::body_too_large;
      return -1;
    } else {
      body_bytes_ += n;
    }
    std::memcpy(ptr, src, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!writing_) {
      writing_ = true;
      write_started_ = Clock::now();
    }
    if (wait_for(sock_, POLLOUT, write_deadline()) <= 0) return -1;
    for (;;) {
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  ssize_t fill() {
    const int rc = wait_for(sock_, POLLIN, read_deadline_);
    if (rc == 0) verdict_ = Verdict::timed_out;
    if (rc <= 0) return -1;
    for (;;) {
      const ssize_t n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      if (n < 0 && errno == EINTR) continue;
      pos_ = 0;
      len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
      return n;
    }
  }

  // Counts the head bytes among the `n` at `src`; returns how many of them
  // belong to the head (fewer when it ends within them).
  std::size_t account_head(const char* src, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (++head_bytes_ > limits_.max_head_bytes) {
        verdict_ = Verdict::head_too_large;
        return 0;
      }
      const char c = src[i];
      if (c == '\n') {
        if (line_length_ == 1 && previous_ == '\r') {
          in_head_ = false;
          return i + 1;
        }
        if (++lines_ > limits_.max_header_lines + 1) {  // + the request line
          verdict_ = Verdict::head_too_large;
          return 0;
        }
        line_length_ = 0;
      } else {
        ++line_length_;
      }
      previous_ = c;
    }
    return n;
  }

  Clock::time_point write_deadline() const {
    return (writing_ ? write_started_ : Clock::now()) + limits_.write_deadline;
  }

  const socket_t sock_;
  const ServerLimits& limits_;
  char buffer_[4096];
  std::size_t pos_ = 0, len_ = 0;
  Clock::time_point read_deadline_{};
  Clock::time_point write_started_{};
  Verdict verdict_ = Verdict::ok;
  bool in_head_ = true;
  std::size_t head_bytes_ = 0, lines_ = 0, line_length_ = 0, body_bytes_ = 0;
  char previous_ = 0;
  bool writing_ = false;
  bool close_ = false;
};

// The connection this thread serves, for the server's handlers.
thread_local GuardedStream* t_stream = nullptr;

struct Refusal {
  int status;
  const char* reason;
  const char* text;
};

Refusal refusal_for(GuardedStream::Verdict v) {
  switch (v) {
    case GuardedStream::Verdict::timed_out:
      return {408, "Request Timeout", "408 request timeout: the request took too long to send\n"};
    case GuardedStream::Verdict::head_too_large:
      return {431, "Request Header Fields Too Large", "431 request header fields too large\n"};
    case GuardedStream::Verdict::body_too_large: return {413, "Payload Too Large", "413 payload too large\n"};
    case GuardedStream::Verdict::ok: break;
  }
  return {500, "Internal Server Error", "500 internal server error\n"};
}

void answer(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

// A whole response in one non-blocking send, for answers written outside
// httplib's handlers (they close the connection).
void send_plain(socket_t sock, int status, const char* reason, const char* text) {
  const std::string body = text;
  const std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + reason +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  (void)::send(sock, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// Closes a connection whose request may still be arriving without losing
// the answer to it: closing with unread data makes the kernel send a reset,
// which can reach the client before it reads the answer. Reads and drops
// what comes for a short, bounded while first.
void close_gently(socket_t sock, bool drain) {
  ::shutdown(sock, SHUT_WR);
  if (drain) {
    const auto until = Clock::now() + std::chrono::milliseconds(500);
    char sink[16384];
    std::size_t dropped = 0;
    while (dropped < (std::size_t{8} << 20) && wait_for(sock, POLLIN, until) > 0) {
      const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
      if (n <= 0) break;
      dropped += static_cast<std::size_t>(n);
    }
  }
  ::close(sock);
}

void own_the_port(socket_t sock) {
  const int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// Whether an Accept-Encoding header takes gzip: a "gzip" or "*" coding
// whose q is not zero (RFC 9110, 12.5.3).
bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view coding = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const std::size_t semicolon = coding.find(';');
    std::string_view params = semicolon == std::string_view::npos ? std::string_view() : coding.substr(semicolon + 1);
    coding = coding.substr(0, semicolon);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    coding = trim(coding);
    params = trim(params);
    const bool named = coding.size() == 4 ? strncasecmp(coding.data(), "gzip", 4) == 0 : coding == "*";
    if (!named) continue;
    // "q=0", "q=0.", "q=0.000": refused; any other weight takes it.
    const bool refused = params.size() >= 3 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=' &&
                         params[2] == '0' && params.find_first_not_of("0.", 2) == std::string_view::npos;
    if (!refused) return true;
  }
  return false;
}

bool is_digits(const std::string& s) {
  return !s.empty() && s.size() <= 19 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

GuardedServer::GuardedServer(ServerLimits limits, AccessPolicy access) : limits_(limits), access_(std::move(access)) {
  set_socket_options(own_the_port);
  new_task_queue = [this] { return new ConnectionPool(limits_.max_connections); };
  set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // A request with neither Content-Length nor Transfer-Encoding has no
    // body (RFC 9112, 6.3), but httplib reads a POST's until the connection
    // closes (`curl -X POST URL` would wait out the read deadline): say so.
    // The request is httplib's own non-const object, handed over as const.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
    // Debian's cpp-httplib answers a "br" anywhere in Accept-Encoding (every
    // browser sends one) with brotli at quality 11, ~1 MB/s: a browser's
    // /debug/fibers of 100k fibers (7.7 MB) cost the program 10 s of CPU.
    // Only gzip (~100 MB/s here) is offered to it, and only when taken.
    if (req.has_header("Accept-Encoding")) {
      auto& r = const_cast<httplib::Request&>(req);
      const bool gzip = accepts_gzip(r.get_header_value("Accept-Encoding"));
      r.headers.erase("Accept-Encoding");
      if (gzip) r.set_header("Accept-Encoding", "gzip");
    }
    const HandlerResponse r = admit_request(req, res);
    if (r == HandlerResponse::Handled && t_stream != nullptr) t_stream->close_after_response();
    return r;
  });
  // A client that asks before sending its body learns of a refusal without
  // sending it.
  set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (admit_request(req, res) == HandlerResponse::Unhandled) return 100;
    if (t_stream != nullptr) t_stream->close_after_response();
    return res.status;
  });
  set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    answer(res, 500, "500 internal server error\n");
  });
  // httplib answers 400 when the stream stops a request: say why instead.
  // After a request httplib could not parse (400, 414), what follows on the
  // connection is not a request either: close it.
  set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (t_stream == nullptr) return;
    const bool refused = t_stream->verdict() != GuardedStream::Verdict::ok;
    if (!refused && res.status != 400 && res.status != 414 && !t_stream->closing()) return;
    t_stream->close_after_response();
    res.headers.erase("Connection");
    res.headers.erase("Keep-Alive");
    res.set_header("Connection", "close");
    if (!refused) return;
    const Refusal r = refusal_for(t_stream->verdict());
    for (const char* h : {"Content-Length", "Content-Encoding", "Content-Type"}) res.headers.erase(h);
    answer(res, r.status, r.text);
    res.set_header("Content-Length", std::to_string(res.body.size()));
  });
}

void GuardedServer::widen_accept_queue() {
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, kAcceptBacklog);
}

httplib::Server::HandlerResponse GuardedServer::admit_request(const httplib::Request& req,
                                                              httplib::Response& res) const {
  if (!admit(access_, req, res)) return HandlerResponse::Handled;
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    answer(res, 415, "415 unsupported media type: request bodies are not decompressed\n");
    return HandlerResponse::Handled;
  }
  const bool has_length = req.has_header("Content-Length");
  const std::string length = req.get_header_value("Content-Length");
  if (req.has_header("Transfer-Encoding")) {
    if (req.get_header_value("Transfer-Encoding") != "chunked" || req.get_header_value_count("Transfer-Encoding") > 1) {
      answer(res, 501, "501 not implemented: only Transfer-Encoding: chunked is understood\n");
      return HandlerResponse::Handled;
    }
    if (has_length) {
      answer(res, 400, "400 bad request: both Transfer-Encoding and Content-Length\n");
      return HandlerResponse::Handled;
    }
    if (limits_.max_body_bytes == 0) {
      answer(res, 413, "413 payload too large: this server takes no request bodies\n");
      return HandlerResponse::Handled;
    }
  } else if (has_length) {
    if (req.get_header_value_count("Content-Length") > 1 || !is_digits(length)) {
      answer(res, 400, "400 bad request: Content-Length is not one decimal number\n");
      return HandlerResponse::Handled;
    }
    if (std::stoull(length) > limits_.max_body_bytes) {
      answer(res, 413,
             limits_.max_body_bytes == 0
                 ? "413 payload too large: this server takes no request bodies\n"
                 : "413 payload too large: at most " + std::to_string(limits_.max_body_bytes) + " bytes\n");
      return HandlerResponse::Handled;
    }
  }
  return HandlerResponse::Unhandled;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  if (t_refusing) {
    ++refused_;
    send_plain(sock, 503, "Service Unavailable", "503 service unavailable: too many connections, retry later\n");
    close_gently(sock, false);
    return false;
  }
  GuardedStream stream(sock, limits_);
  t_stream = &stream;
  bool ret = false;
  bool first = true;
  for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
    const auto started = Clock::now();
    const auto idle = first ? limits_.read_deadline : std::chrono::milliseconds(keep_alive_timeout_sec_ * 1000);
    if (!stream.wait_for_request(idle, svr_sock_)) break;
    stream.begin_request(first ? started : Clock::now());
    first = false;
    bool closed = false;
    ret = process_request(stream, left == 1, closed, nullptr);
    if (stream.verdict() != GuardedStream::Verdict::ok && !stream.wrote()) {
      const Refusal r = refusal_for(stream.verdict());
      send_plain(sock, r.status, r.reason, r.text);
    }
    if (!ret || closed || stream.closing()) break;
  }
  t_stream = nullptr;
  close_gently(sock, stream.closing());
  return ret;
}

}  // namespace fiberleak::detail
