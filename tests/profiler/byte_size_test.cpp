#include "profiler/byte_size.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "profiler/leak_rules.hpp"

TEST_CASE("byte counts read in binary units and a finding says what its fiber holds", "[profiler]") {
  CHECK(fiberleak::detail::format_bytes(0) == "0 B");
  CHECK(fiberleak::detail::format_bytes(1023) == "1023 B");
  CHECK(fiberleak::detail::format_bytes(131072) == "128 KiB");
  CHECK(fiberleak::detail::format_bytes(16 * 1024 + 300) == "16.3 KiB");
  CHECK(fiberleak::detail::format_bytes(3 * 1024 * 1024 / 2) == "1.5 MiB");
  CHECK(fiberleak::detail::format_bytes(-2048) == "-2 KiB");
  // Numbers from a target reach here: the edges of int64 format too (2^63 B = 8 Mi TiB).
  CHECK(fiberleak::detail::format_bytes(std::numeric_limits<std::int64_t>::min()) == "-8388608 TiB");
  CHECK(fiberleak::detail::format_bytes(std::numeric_limits<std::int64_t>::max()) == "8388608 TiB");

  fiberleak::LeakFinding f;
  f.fiber_id = fiberleak::FiberId{12};
  f.name = "conn";
  f.wait_reason = "chan receive";
  f.blocked_ns = 185'000'000'000;
  f.function = "handler(int)";
  f.file = "main.cpp";
  f.line = 42;
  CHECK(fiberleak::detail::describe(f) ==
        "fiber 12 \"conn\" blocked in chan receive for 3m5s at handler(int) (main.cpp:42)");
  f.stack_bytes = 131072;
  f.heap_live_bytes = 3 * 1024 * 1024 / 2;
  f.blocked_exact = false;
  CHECK(fiberleak::detail::describe(f) ==
        "fiber 12 \"conn\" blocked in chan receive for at least 3m5s at handler(int) (main.cpp:42), "
        "holding stack 128 KiB, heap 1.5 MiB");
}
