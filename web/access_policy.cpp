#include "web/access_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace fiberleak::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "name:port" -> "name", "[v6]:port" -> "[v6]", lower-cased, without a
// trailing dot; "" when the value is malformed.
std::string host_name(std::string_view value) {
  std::string_view name = value;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return {};
    name = value.substr(0, close + 1);
    const std::string_view rest = value.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {};
  } else if (const auto colon = value.find(':'); colon != std::string_view::npos) {
    name = value.substr(0, colon);
  }
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return lower(name);
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    return inet_pton(AF_INET6, name.substr(1, name.size() - 2).c_str(), buf) == 1;
  }
  return inet_pton(AF_INET, name.c_str(), buf) == 1;
}

// Takes as long for every b of a given length, whatever a holds.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const unsigned char ca = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= ca ^ static_cast<unsigned char>(b[i]);
  }
  return diff == 0;
}

}  // namespace

bool host_allowed(const AccessPolicy& policy, std::string_view host_header) {
  if (host_header.empty()) return true;
  const std::string name = host_name(host_header);
  if (name.empty()) return false;
  if (name == "localhost" || is_ip_literal(name) || name == host_name(policy.bound_host)) return true;
  return std::any_of(policy.allowed_hosts.begin(), policy.allowed_hosts.end(),
                     [&](const std::string& allowed) { return allowed == "*" || host_name(allowed) == name; });
}

bool token_accepted(const AccessPolicy& policy, std::string_view authorization) {
  if (policy.token.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() < kScheme.size() || lower(authorization.substr(0, kScheme.size())) != lower(kScheme)) {
    return false;
  }
  return constant_time_equal(authorization.substr(kScheme.size()), policy.token);
}

bool admit(const AccessPolicy& policy, const httplib::Request& req, httplib::Response& res) {
  if (req.get_header_value_count("Host") > 1 || !host_allowed(policy, req.get_header_value("Host"))) {
    res.status = 403;
    res.set_content("403 forbidden: this server does not answer to that Host (allowed hosts: docs/http.md)\n",
                    "text/plain; charset=utf-8");
    return false;
  }
  const bool open = std::find(policy.open_paths.begin(), policy.open_paths.end(), req.path) != policy.open_paths.end();
  if (!open && (req.get_header_value_count("Authorization") > 1 ||
                !token_accepted(policy, req.get_header_value("Authorization")))) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("401 unauthorized: send Authorization: Bearer <token>\n", "text/plain; charset=utf-8");
    return false;
  }
  return true;
}

}  // namespace fiberleak::detail
