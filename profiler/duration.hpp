// Durations as people write them in query strings, flags and config files:
// "250ms", "30s", "2m", "1h", "1m30s", "500us" or "500µs" (Go's spelling;
// "μs" too); a bare number means seconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fiberleak::detail {

// Parses into nanoseconds; false (out untouched) on anything else,
// including negative values and overflow.
bool parse_duration(std::string_view text, std::int64_t& out_ns) noexcept;
// "1.5s", "3m0s", "250ms": short and exact enough for logs and tables.
std::string format_duration(std::int64_t ns);

}  // namespace fiberleak::detail
