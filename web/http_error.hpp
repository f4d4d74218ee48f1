// What went wrong with an HTTP request, in words for logs and command
// output ("cannot connect (refused or unreachable)"), for fiberleakd's
// scrapes and health checks alike. Stateless; thread-safe.
#pragma once

#include <httplib.h>

#include <string>

namespace fiberleak::detail {

std::string describe_http_error(httplib::Error error);

}  // namespace fiberleak::detail
