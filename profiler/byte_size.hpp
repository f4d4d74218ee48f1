// Byte counts for people: "512 B", "128 KiB", "1.5 MiB" (binary units, at
// most one decimal, none when it is .0).
#pragma once

#include <cstdint>
#include <string>

namespace fiberleak::detail {

std::string format_bytes(std::int64_t bytes);

}  // namespace fiberleak::detail
