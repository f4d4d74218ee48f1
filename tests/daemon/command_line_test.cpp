// What fiberleakd's commands share: argument cursor, parse results and the
// exit codes docs/fiberleakd.md promises.
#include "daemon/command_line.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using fiberleak::detail::ArgList;
using fiberleak::detail::ExitCode;
using fiberleak::detail::Parsed;

TEST_CASE("the exit codes are 0 ok, 1 leaks found and 2 errors", "[daemon]") {
  CHECK(to_int(ExitCode::ok) == 0);
  CHECK(to_int(ExitCode::leaks) == 1);
  CHECK(to_int(ExitCode::error) == 2);
}

TEST_CASE("a flag's value is the argument after it, and a flag at the end has none", "[daemon]") {
  ArgList list({"--listen", "127.0.0.1:0", "--threads"});
  CHECK(list.take() == "--listen");
  CHECK(list.value() == "127.0.0.1:0");
  CHECK(list.take() == "--threads");
  CHECK(list.done());
  CHECK_FALSE(list.value().has_value());
}

TEST_CASE("a whole number is decimal digits within its range, nothing else", "[daemon]") {
  using fiberleak::detail::parse_whole_number;
  std::uint64_t n = 0;
  CHECK(parse_whole_number("64", 1, 64, n));
  CHECK(n == 64);
  CHECK(parse_whole_number("18446744073709551615", 0, UINT64_MAX, n));
  CHECK(n == UINT64_MAX);
  n = 7;
  for (const char* bad : {"", "0", "65", "3x", "-1", "+3", " 3", "1.5"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_whole_number(bad, 1, 64, n));
  }
  CHECK_FALSE(parse_whole_number("18446744073709551616", 0, UINT64_MAX, n));  // overflow
  CHECK(n == 7);
}

TEST_CASE("a command runs only when its arguments parsed; a usage error exits 2", "[daemon]") {
  static int runs = 0;
  auto run = [](const int& n) {
    runs += n;
    return ExitCode::leaks;
  };
  CHECK(run_parsed(Parsed<int>{5, ""}, +run) == ExitCode::leaks);
  CHECK(runs == 5);
  CHECK(run_parsed(fiberleak::detail::parse_error<int>("--x needs a value"), +run) == ExitCode::error);
  CHECK(runs == 5);
}
