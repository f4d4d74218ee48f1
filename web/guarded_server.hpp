// GuardedServer: the httplib::Server every fiberleak server is (the embedded
// endpoint, the preloaded heap server, fiberleakd's sidecar; ServerThread
// makes it), with what cpp-httplib 0.11.4 does not bound made bounded:
//
// - Connections: each is served on a thread of its own, made when first
//   needed, up to ServerLimits::max_connections; one more is answered 503
//   at once and closed (httplib queues it without bound). A slow client
//   thus holds one thread, never the others: /healthz stays answerable.
// - Time: reading a request (request line, headers, body) has a total
//   deadline, not httplib's per-read timeout that a client sending a byte
//   every few seconds never meets; writing a response has one too.
// - Size: the request head is capped in bytes and header lines (431), and
//   request bodies, chunked ones too (httplib applies
//   set_payload_max_length to Content-Length only), in bytes (413); a body
//   larger than the limit, or any body where none is taken, is refused
//   before it is read. Compressed request bodies (httplib would inflate
//   them) are refused (415).
// - Access: AccessPolicy (Host against DNS rebinding, optional token) is
//   checked before any route runs.
// - Errors: an exception in a route answers 500 without the exception's
//   text (httplib's default puts it in an EXCEPTION_WHAT header).
// - The port is the process's own: SO_REUSEADDR (a restart need not wait
//   out TIME_WAIT) but not httplib's SO_REUSEPORT, with which a second
//   server on a port in use binds anyway and takes part of its
//   connections. httplib makes the listening socket close-on-exec (relied
//   on and tested).
//
// A refused or timed-out request closes its connection. The constructor
// takes httplib's pre-routing, post-routing, exception and
// expect-100-continue handlers: callers add routes and may set an error
// handler, nothing else of those. set_read_timeout() has no effect (the
// read deadline replaces it). Thread-safe as httplib::Server is once it
// runs; limits() and access() are for before listening.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "web/access_policy.hpp"

namespace fiberleak::detail {

struct ServerLimits {
  // Connections served at once, kept-alive idle ones included; each holds a
  // thread (made on demand, kept until the server stops). 0: everything on
  // the accept thread, one connection at a time (what is left when no
  // thread can be made at all).
  unsigned max_connections = 32;
  // Reading one request, from its connection's accept (or the previous
  // response) to the body's last byte; beyond it 408 and the connection
  // closes.
  std::chrono::milliseconds read_deadline{5000};
  // Writing one response; beyond it the connection is dropped.
  std::chrono::milliseconds write_deadline{30000};
  // The request line and headers together; beyond it 431.
  std::size_t max_head_bytes = std::size_t{64} << 10;
  std::size_t max_header_lines = 100;
  // Request bodies (raw bytes, chunk framing included); 0: none accepted.
  std::size_t max_body_bytes = 0;
};

class GuardedServer final : public httplib::Server {
 public:
  explicit GuardedServer(ServerLimits limits = {}, AccessPolicy access = {});

  ServerLimits& limits() { return limits_; }
  AccessPolicy& access() { return access_; }

  // After binding: lets a burst of kAcceptBacklog connections wait to be
  // accepted. httplib listens with a queue of 5; beyond it the kernel drops
  // the SYNs, and the clients retry a second later (a /healthz taking 1 s).
  void widen_accept_queue();
  static constexpr int kAcceptBacklog = 128;

  // Connections answered 503 because max_connections were being served.
  std::uint64_t refused_connections() const { return refused_; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  HandlerResponse admit_request(const httplib::Request& req, httplib::Response& res) const;

  ServerLimits limits_;
  AccessPolicy access_;
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace fiberleak::detail
