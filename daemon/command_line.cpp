#include "daemon/command_line.hpp"

#include <cstdio>

namespace fiberleak::detail {

bool parse_whole_number(const std::string& text, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  if (text.empty()) return false;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (max - digit) / 10) return false;  // n * 10 + digit > max
    n = n * 10 + digit;
  }
  if (n < min) return false;
  out = n;
  return true;
}

ExitCode usage_error(const std::string& message) {
  std::fprintf(stderr, "fiberleakd: %s\n(see fiberleakd --help)\n", message.c_str());
  return ExitCode::error;
}

ExitCode config_error(const std::string& path, const std::vector<std::string>& problems) {
  std::fprintf(stderr, "fiberleakd: %s: %zu problem%s, nothing started:\n", path.c_str(), problems.size(),
               problems.size() == 1 ? "" : "s");
  for (const std::string& p : problems) std::fprintf(stderr, "  %s\n", p.c_str());
  return ExitCode::error;
}

}  // namespace fiberleak::detail
