// Mounting fiberleak's routes on an httplib::Server the program already
// runs (cpp-httplib, as the program builds it). Link fiberleak::web.
//
//   httplib::Server server;
//   auto routes = fiberleak::mount(server, "/admin");   // /admin/debug/goroutine, ...
//   server.listen("127.0.0.1", 8080);
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include <fiberleak/serve.hpp>

namespace fiberleak {

namespace detail {
class Endpoint;
}  // namespace detail

// The routes' state, shared with the server's handlers. Keep it alive as
// long as the server serves the routes.
using MountedRoutes = std::shared_ptr<detail::Endpoint>;

// Adds the routes to `server` under `prefix` ("" or e.g. "/admin"). The
// handlers run on the server's threads and never stop the program's fibers.
// In one process serve() and mount() share one watchdog: each finding is
// logged once, and the first endpoint's watchdog options win (see
// EndpointOptions in <fiberleak/serve.hpp>).
MountedRoutes mount(httplib::Server& server, const std::string& prefix = "", EndpointOptions options = {});

}  // namespace fiberleak
