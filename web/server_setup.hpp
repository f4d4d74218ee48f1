// How every fiberleak HTTP server (the embedded endpoint, the preloaded heap
// server, fiberleakd's sidecar) binds: the server is a GuardedServer
// (web/guarded_server.hpp: port, connections, deadlines, sizes, access),
// which ServerThread (web/server_thread.hpp) makes, binds and runs.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace fiberleak::detail {

// Binds a server to host:port (port 0: any free port). Returns the port
// bound, or -1; kPortUnavailable then says why in words.
int bind_port(httplib::Server& server, const std::string& host, int port);
inline constexpr const char* kPortUnavailable = "the port is in use or the address is not this machine's";

// Splits "HOST:PORT" at its last colon: HOST non-empty, PORT 1 to 5 decimal
// digits up to 65535 (0: any free port). False, outputs untouched, for
// anything else ("8080", ":80", "host:80x", "host:+80", "host:99999").
bool parse_listen_address(std::string_view text, std::string& host, int& port);

}  // namespace fiberleak::detail
