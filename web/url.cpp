#include "web/url.hpp"

#include <algorithm>

namespace fiberleak::detail {

std::optional<HttpUrl> parse_http_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  const bool clean = std::none_of(text.begin(), text.end(),
                                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; });
  const std::size_t path_start = std::min(text.find('/', kScheme.size()), text.size());
  const std::string_view authority = text.substr(kScheme.size(), path_start - kScheme.size());
  if (!clean || authority.empty() || authority.front() == ':') return std::nullopt;
  return HttpUrl{std::string(text.substr(0, path_start)), std::string(text.substr(path_start))};
}

std::string endpoint_prefix(std::string_view path) {
  std::string_view prefix = path.substr(0, path.find("/debug/"));
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  return std::string(prefix);
}

}  // namespace fiberleak::detail
