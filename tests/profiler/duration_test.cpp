#include "profiler/duration.hpp"

#include <catch2/catch.hpp>

#include <limits>

TEST_CASE("durations parse as people write them and reject the rest", "[profiler]") {
  std::int64_t ns = 0;
  CHECK(fiberleak::detail::parse_duration("30s", ns));
  CHECK(ns == 30'000'000'000);
  CHECK(fiberleak::detail::parse_duration("1m30s", ns));
  CHECK(ns == 90'000'000'000);
  CHECK(fiberleak::detail::parse_duration("250ms", ns));
  CHECK(ns == 250'000'000);
  CHECK(fiberleak::detail::parse_duration("2", ns));
  CHECK(ns == 2'000'000'000);
  CHECK(fiberleak::detail::parse_duration("1.5h", ns));
  CHECK(ns == 5'400'000'000'000);
  // Microseconds as Go writes them (µ, U+00B5), as the Greek letter (U+03BC) and in ASCII.
  for (const char* micro : {"250\u00b5s", "250\u03bcs", "250us"}) {
    INFO(micro);
    ns = 0;
    CHECK(fiberleak::detail::parse_duration(micro, ns));
    CHECK(ns == 250'000);
  }
  CHECK(fiberleak::detail::parse_duration("1ms500\u00b5s", ns));
  CHECK(ns == 1'500'000);
  for (const char* bad : {"", "-1s", "abc", "10x", "1s2", "s", "99999999999999h", "9223372036854775808ns", "5\u00b5",
                          "5\xc2s", "5\u00e9s"}) {
    INFO(bad);
    CHECK_FALSE(fiberleak::detail::parse_duration(bad, ns));
  }
  CHECK(fiberleak::detail::format_duration(185'000'000'000) == "3m5s");
}

TEST_CASE("every duration formats, the most negative one too", "[profiler]") {
  using fiberleak::detail::format_duration;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  CHECK(format_duration(kMax) == "2562047h47m");  // 9223372036 s
  CHECK(format_duration(std::numeric_limits<std::int64_t>::min()) == "-2562047h47m");
  CHECK(format_duration(-kMax) == "-2562047h47m");
  CHECK(format_duration(-1'500'000'000) == "-1.5s");
  CHECK(format_duration(0) == "0us");
}
