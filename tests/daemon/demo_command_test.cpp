// `fiberleakd demo`'s arguments, parsed without running the demo.
#include "daemon/demo_command.hpp"

#include <catch2/catch.hpp>

using fiberleak::detail::parse_demo_args;

TEST_CASE("demo without options serves 127.0.0.1:6060 on three threads with a 10 s threshold", "[daemon]") {
  const auto parsed = parse_demo_args({});
  REQUIRE(parsed.error.empty());
  CHECK(parsed.args.host == "127.0.0.1");
  CHECK(parsed.args.port == 6060);
  CHECK(parsed.args.threads == 3);
  CHECK(parsed.args.threshold_ns == 10'000'000'000);
}

TEST_CASE("demo takes its listen address, threshold and thread count from flags", "[daemon]") {
  const auto parsed = parse_demo_args({"--listen", "0.0.0.0:0", "--threshold", "2s", "--threads", "64"});
  REQUIRE(parsed.error.empty());
  CHECK(parsed.args.host == "0.0.0.0");
  CHECK(parsed.args.port == 0);
  CHECK(parsed.args.threshold_ns == 2'000'000'000);
  CHECK(parsed.args.threads == 64);
}

TEST_CASE("demo rejects bad flags with a message naming the flag and the value", "[daemon]") {
  using Case = std::pair<std::vector<std::string>, std::string>;
  for (const auto& [argv, message] : {
           Case{{"--listen", "nowhere"}, "--listen takes HOST:PORT, got \"nowhere\""},
           Case{{"--listen", "127.0.0.1:80x"}, "--listen takes HOST:PORT, got \"127.0.0.1:80x\""},
           Case{{"--threshold", "soon"}, "--threshold takes a duration, got \"soon\""},
           Case{{"--threads", "0"}, "--threads takes 1..64, got \"0\""},
           Case{{"--threads", "65"}, "--threads takes 1..64, got \"65\""},
           Case{{"--threads", "3x"}, "--threads takes 1..64, got \"3x\""},
           Case{{"--threads"}, "--threads needs a value"},
           Case{{"--frobnicate"}, "demo: unknown option \"--frobnicate\""},
           Case{{"6060"}, "demo: unknown option \"6060\""},
       }) {
    CAPTURE(argv);
    CHECK(parse_demo_args(argv).error == message);
  }
}
