#include "daemon/command_line.hpp"

#include <cstdio>

namespace fiberleak::detail {

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
