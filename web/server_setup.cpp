#include "web/server_setup.hpp"

namespace fiberleak::detail {

int bind_port(httplib::Server& server, const std::string& host, int port) {
  if (port == 0) {
    const int bound = server.bind_to_any_port(host);
    return bound > 0 ? bound : -1;
  }
  return server.bind_to_port(host, port) ? port : -1;
}

bool parse_listen_address(std::string_view text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return false;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > 65535) return false;
  host = std::string(text.substr(0, colon));
  port = value;
  return true;
}

}  // namespace fiberleak::detail
