// How every fiberleak HTTP server (the embedded endpoint, the preloaded heap
// server, fiberleakd's sidecar) is set up before it binds, instead of
// cpp-httplib's defaults:
//
// - The port is the process's own: SO_REUSEADDR (a restart need not wait out
//   TIME_WAIT) but not httplib's SO_REUSEPORT, with which a second server on
//   a port in use binds anyway and silently takes part of its connections.
// - (httplib's own doing, relied on and tested) the listening socket is
//   close-on-exec: a program the process execs or spawns does not inherit
//   the port.
// - Connections are handled by `workers` threads created up front. A thread
//   that cannot be created (EAGAIN under thread or memory limits, or in a
//   process that is exec'ing) leaves fewer workers, and with none the accept
//   thread serves each connection itself; httplib's own pool calls
//   std::terminate on it, taking the host program down.
//
// Call before bind_to_port()/bind_to_any_port(). Not thread-safe with
// respect to the server; the server itself then is.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace fiberleak::detail {

void prepare_server(httplib::Server& server, unsigned workers);

// Binds a prepared server to host:port (port 0: any free port). Returns the
// port bound, or -1; kPortUnavailable then says why in words.
int bind_port(httplib::Server& server, const std::string& host, int port);
inline constexpr const char* kPortUnavailable = "the port is in use or the address is not this machine's";

// Splits "HOST:PORT" at its last colon: HOST non-empty, PORT 1 to 5 decimal
// digits up to 65535 (0: any free port). False, outputs untouched, for
// anything else ("8080", ":80", "host:80x", "host:+80", "host:99999").
bool parse_listen_address(std::string_view text, std::string& host, int& port);

}  // namespace fiberleak::detail
