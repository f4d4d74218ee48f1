#include "profiler/duration.hpp"

#include <cstdio>
#include <limits>

namespace fiberleak::detail {

bool parse_duration(std::string_view text, std::int64_t& out_ns) noexcept {
  if (text.empty() || text.size() > 64) return false;
  long double total = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    const std::size_t start = i;
    long double value = 0;
    bool digits = false;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i++] - '0');
      digits = true;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        value += (text[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return false;
    std::string_view unit;
    const std::size_t unit_start = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z'))) ++i;
    unit = text.substr(unit_start, i - unit_start);
    long double scale_ns;
    if (unit.empty()) {
      if (start != 0 || i != text.size()) return false;  // a bare number only on its own
      scale_ns = 1e9L;
    } else if (unit == "ns") {
      scale_ns = 1;
    } else if (unit == "us" || unit == "µs") {
      scale_ns = 1e3L;
    } else if (unit == "ms") {
      scale_ns = 1e6L;
    } else if (unit == "s") {
      scale_ns = 1e9L;
    } else if (unit == "m") {
      scale_ns = 60e9L;
    } else if (unit == "h") {
      scale_ns = 3600e9L;
    } else {
      return false;
    }
    total += value * scale_ns;
    any = true;
  }
  if (!any || total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) return false;
  out_ns = static_cast<std::int64_t>(total);
  return true;
}

std::string format_duration(std::int64_t ns) {
  char buf[48];
  if (ns < 0) return "-" + format_duration(-ns);
  if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.0fus", ns / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.0fms", ns / 1e6);
  } else if (ns < 60'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", ns / 1e9);
  } else {
    const std::int64_t s = ns / 1'000'000'000;
    if (s < 3600) {
      std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
    } else {
      std::snprintf(buf, sizeof buf, "%lldh%lldm", static_cast<long long>(s / 3600),
                    static_cast<long long>(s % 3600 / 60));
    }
  }
  return buf;
}

}  // namespace fiberleak::detail
