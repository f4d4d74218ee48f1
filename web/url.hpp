// The http:// URLs fiberleak's clients are given (fiberleakd's targets and
// webhook, `check URL`), split the way httplib::Client wants them: the
// origin for the client, the path for each request. The one URL parser of
// daemon/ and web/. Stateless functions: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fiberleak::detail {

struct HttpUrl {
  std::string origin;  // "http://host:port" (":port" as written, or none)
  std::string path;    // "" or "/...", with any query
};

// nullopt unless `text` is http://HOST[:PORT][/PATH]: the scheme exactly
// "http" (https needs a TLS client fiberleak does not link), HOST non-empty,
// and no whitespace or control character anywhere.
std::optional<HttpUrl> parse_http_url(std::string_view text);

// The prefix a fiberleak endpoint is mounted under (fiberleak::mount),
// given the path of any of its URLs: the path before "/debug/", without
// trailing '/'. "/admin/debug/pprof/" -> "/admin", "/debug/leaks" -> "",
// "/admin/" -> "/admin", "" -> "".
std::string endpoint_prefix(std::string_view path);

}  // namespace fiberleak::detail
