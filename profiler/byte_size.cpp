#include "profiler/byte_size.hpp"

#include <cstdio>

namespace fiberleak::detail {

std::string format_bytes(std::int64_t bytes) {
  if (bytes < 0) return "-" + format_bytes(-bytes);
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  const double tenths = static_cast<double>(static_cast<std::int64_t>(v * 10.0 + 0.5)) / 10.0;
  if (unit == 0 || tenths == static_cast<double>(static_cast<std::int64_t>(tenths))) {
    std::snprintf(buf, sizeof buf, "%.0f %s", tenths, kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", tenths, kUnits[unit]);
  }
  return buf;
}

}  // namespace fiberleak::detail
