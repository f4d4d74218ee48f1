#include "profiler/byte_size.hpp"

#include <cstdio>

namespace fiberleak::detail {

std::string format_bytes(std::int64_t bytes) {
  // The magnitude in unsigned arithmetic: -INT64_MIN is no int64.
  const std::uint64_t magnitude = bytes < 0 ? 0 - static_cast<std::uint64_t>(bytes) : static_cast<std::uint64_t>(bytes);
  const char* sign = bytes < 0 ? "-" : "";
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(magnitude);
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  const double tenths = static_cast<double>(static_cast<std::int64_t>(v * 10.0 + 0.5)) / 10.0;
  if (unit == 0 || tenths == static_cast<double>(static_cast<std::int64_t>(tenths))) {
    std::snprintf(buf, sizeof buf, "%s%.0f %s", sign, tenths, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%s%.1f %s", sign, tenths, kUnits[unit]);
  }
  return buf;
}

}  // namespace fiberleak::detail
