// AccessPolicy: who may use a fiberleak server, checked before any route
// runs (GuardedServer's pre-routing step, for the embedded endpoint, the
// preloaded heap server and fiberleakd's sidecar alike).
//
// - Host: a page the developer opens in a browser can make its own DNS name
//   resolve to 127.0.0.1 (DNS rebinding) and read the stacks and the command
//   line. Such a request names the attacker's host in `Host`, so a request
//   is served only when its Host (port ignored) is an IP address (rebinding
//   needs a name), "localhost", the address the server is bound to, or one
//   of `allowed_hosts` (case-insensitive; "*" accepts any). No Host at all
//   (HTTP/1.0) is accepted: browsers always send one. Otherwise 403.
// - Token: when `token` is set, every request but those to `open_paths`
//   must carry "Authorization: Bearer <token>" (compared in constant time);
//   otherwise 401 with "WWW-Authenticate: Bearer".
//
// Set before the server runs; read-only (thread-safe) afterwards.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>
#include <vector>

namespace fiberleak::detail {

struct AccessPolicy {
  std::string token;                                // "": no token required
  std::vector<std::string> allowed_hosts;           // names accepted in Host besides the built-in ones
  std::string bound_host;                           // what the server binds (ServerThread::bind() sets it)
  std::vector<std::string> open_paths{"/healthz"};  // served without the token (never without the Host check)
};

// Whether a Host header value ("name", "name:port", "[::1]:6060", "") names
// this server under `policy`.
bool host_allowed(const AccessPolicy& policy, std::string_view host_header);

// Whether an Authorization header value carries the policy's token (always
// true when the policy has none).
bool token_accepted(const AccessPolicy& policy, std::string_view authorization);

// Checks a request: true to serve it; false with `res` answered (403 or 401).
bool admit(const AccessPolicy& policy, const httplib::Request& req, httplib::Response& res);

}  // namespace fiberleak::detail
