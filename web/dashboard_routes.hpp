// The dashboard: the page a person opens when an alert fires, served from
// the files compiled into the program (web/embedded_files.hpp). Plain
// HTML/CSS/JS, no library, no inline script or style: every answer carries
// a Content-Security-Policy allowing only the server's own files and its own
// JSON routes, so the page works with no network access and a page elsewhere
// cannot frame it.
//
// The files hold no data (the page fetches the JSON routes): they are served
// without the token, and the page sends the token itself (read from the
// address's #token= fragment, which never reaches a server or its logs, or
// typed in when a route answers 401) as "Authorization: Bearer" — see
// docs/dashboard.md. open_dashboard() adds them to an AccessPolicy's open paths.
// Thread-safe (the files are immutable).
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "web/access_policy.hpp"

namespace fiberleak::detail {

// What every dashboard answer carries.
inline constexpr const char* kDashboardCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// A page: `file` of web/dashboard/ ("endpoint.html") answered at dir + `path`.
struct DashboardPage {
  std::string path;  // relative to the dashboard's directory: "" or "target"
  std::string file;
};

// Serves every embedded file at `dir` (a path ending in '/', e.g.
// "/debug/fiberleak/") + its name, and the pages. Throws std::logic_error
// for a page whose file is not embedded (a build mistake).
void mount_dashboard(httplib::Server& server, const std::string& dir, const std::vector<DashboardPage>& pages);

// Adds the paths mount_dashboard(dir, pages) serves to access.open_paths:
// the token is not asked for them (the Host check still applies).
void open_dashboard(AccessPolicy& access, const std::string& dir, const std::vector<DashboardPage>& pages);

}  // namespace fiberleak::detail
