#include "profiler/duration.hpp"

#include <cstdio>

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
    // Letters, and the bytes of UTF-8's µ (U+00B5, Go's spelling) and μ (U+03BC).
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
                               static_cast<unsigned char>(text[i]) >= 0x80)) {
      ++i;
    }
    unit = text.substr(unit_start, i - unit_start);
    long double scale_ns;
    if (unit.empty()) {
      if (start != 0 || i != text.size()) return false;  // a bare number only on its own
      scale_ns = 1e9L;
    } else if (unit == "ns") {
      scale_ns = 1;
    } else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") {
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
  // 2^63 and up do not convert (where long double is double, INT64_MAX itself rounds to 2^63).
  if (!any || total >= 9223372036854775808.0L) return false;
  out_ns = static_cast<std::int64_t>(total);
  return true;
}

std::string format_duration(std::int64_t ns) {
  // The magnitude in unsigned arithmetic: -INT64_MIN is no int64.
  const std::uint64_t magnitude = ns < 0 ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  const char* sign = ns < 0 ? "-" : "";
  const double v = static_cast<double>(magnitude);
  char buf[48];
  if (magnitude < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%s%.0fus", sign, v / 1e3);
  } else if (magnitude < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%s%.0fms", sign, v / 1e6);
  } else if (magnitude < 60'000'000'000) {
    std::snprintf(buf, sizeof buf, "%s%.1fs", sign, v / 1e9);
  } else {
    const unsigned long long s = magnitude / 1'000'000'000;
    if (s < 3600) {
      std::snprintf(buf, sizeof buf, "%s%llum%llus", sign, s / 60, s % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%s%lluh%llum", sign, s / 3600, s % 3600 / 60);
    }
  }
  return buf;
}

}  // namespace fiberleak::detail
