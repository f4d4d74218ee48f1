// The Go dump parser on real Go 1.19 output (testdata/go119_*.txt, captured
// from testdata/leaky_go) and on the layouts of newer Go versions.
#include "daemon/go_dump_parser.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <limits>
#include <sstream>

#include "profiler/leak_rules.hpp"

using fiberleak::FiberState;
using fiberleak::WaitKind;
using fiberleak::detail::GoDumpError;
using fiberleak::detail::parse_go_dump;

namespace {

std::string testdata(const std::string& name) {
  std::ifstream in(std::string(FIBERLEAK_TESTDATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  REQUIRE_FALSE(ss.str().empty());
  return ss.str();
}

std::size_t count_top(const fiberleak::detail::FiberDump& d, const std::string& function) {
  std::size_t n = 0;
  for (const auto& g : d.fibers) {
    for (const auto& f : g.stack) {
      if (f.function == function) {
        ++n;
        break;
      }
    }
  }
  return n;
}

}  // namespace

TEST_CASE("a real Go 1.19 dump parses into every goroutine with states, frames and creators", "[daemon]") {
  const auto dump = parse_go_dump(testdata("go119_fresh.txt"));
  CHECK(count_top(dump, "main.receiveForever") == 3);
  CHECK(count_top(dump, "main.sendAfterTimeout") == 3);
  CHECK(count_top(dump, "main.lockForever") == 3);
  CHECK(count_top(dump, "main.ticker") == 1);
  for (const auto& g : dump.fibers) {
    CHECK(g.id != fiberleak::kNoFiber);
    CHECK_FALSE(g.stack.empty());
    CHECK_FALSE(g.blocked_exact);
    for (const auto& f : g.stack) {
      CHECK_FALSE(f.function.empty());
      CHECK(f.line > 0);
    }
    if (g.stack[0].function == "main.receiveForever" ||
        g.stack.size() > 1 && g.stack[1].function == "main.receiveForever") {
      CHECK(g.wait == WaitKind::channel_pop);
      CHECK(g.state == FiberState::blocked);
    }
  }
  const auto& recv = *std::find_if(dump.fibers.begin(), dump.fibers.end(), [](const auto& g) {
    return !g.creation_stack.empty() && g.wait_reason == "chan receive";
  });
  CHECK(recv.creation_stack.front().function == "main.main");
  CHECK(recv.creation_stack.front().file.find("main.go") != std::string::npos);
}

TEST_CASE("minutes in a Go dump become a lower bound on the blocked time", "[daemon]") {
  const auto dump = parse_go_dump(testdata("go119_after_70s.txt"));
  fiberleak::LeakRules rules;
  rules.threshold = std::chrono::nanoseconds(60'000'000'000);
  rules.ignore_top_functions = {"internal/poll.runtime_pollWait"};  // the accept loop: healthy
  const auto findings = fiberleak::detail::find_leaks(dump, rules);
  std::map<std::string, int> by_function;
  for (const auto& f : findings) {
    ++by_function[f.function];
    CHECK_FALSE(f.blocked_exact);
    CHECK(f.blocked_ns >= 60'000'000'000);
  }
  CHECK(by_function["main.receiveForever"] == 3);
  CHECK(by_function["main.sendAfterTimeout"] == 3);
  CHECK(by_function["main.lockForever"] == 3);
  CHECK(by_function.count("main.ticker") == 0);  // it wakes every 100 ms
  CHECK(findings.size() == 9);
}

TEST_CASE("minutes past what nanoseconds hold saturate, line numbers past int are no location", "[daemon]") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const char* minutes : {"99999999999999", "153722868", "18446744073709551615"}) {
    INFO(minutes);
    const auto dump =
        parse_go_dump(std::string("goroutine 1 [select, ") + minutes + " minutes]:\nmain.f()\n\t/m.go:1\n");
    CHECK(dump.fibers.at(0).blocked_ns == kMax);
  }
  // The largest count that fits is exact.
  const auto fits = parse_go_dump("goroutine 1 [select, 153722867 minutes]:\nmain.f()\n\t/m.go:1\n");
  CHECK(fits.fibers.at(0).blocked_ns == 153722867 * 60'000'000'000);
  CHECK_THROWS_AS(parse_go_dump("goroutine 1 [select]:\nmain.f()\n\t/m.go:2147483648\n"), GoDumpError);
}

TEST_CASE("bytes that are no UTF-8 become U+FFFD in a Go dump's names and files", "[daemon]") {
  const auto dump = parse_go_dump(
      "goroutine 1 [chan \xffreceive]:\nmain.le\xc3"
      "ak\xed\xa0\x80(0x1)\n\t/src/m\xe6\x97.go:3 +0x1\n");
  const auto& g = dump.fibers.at(0);
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  CHECK(g.wait_reason == "chan " + r + "receive");
  CHECK(g.stack.frames().at(0).function == "main.le" + r + "ak" + r + r + r);  // a cut character, a surrogate
  CHECK(g.stack.frames().at(0).file == "/src/m" + r + r + ".go");
  // Valid UTF-8 passes untouched.
  CHECK(parse_go_dump("goroutine 1 [select]:\nmain.日本()\n\t/m.go:1\n").fibers.at(0).stack.frames().at(0).function ==
        "main.日本");
}

TEST_CASE("newer Go layouts: 'in goroutine N', locked to thread, elided frames, inlined calls", "[daemon]") {
  const auto dump = parse_go_dump(
      "goroutine 1 [select, 5 minutes, locked to thread]:\n"
      "main.(*Server).loop(0xc000010000, {0x1, 0x2})\n"
      "\t/src/server.go:40 +0x1d\n"
      "main.helper(...)\n"
      "\t/src/server.go:12\n"
      "...additional frames elided...\n"
      "created by main.start in goroutine 7\n"
      "\t/src/main.go:9 +0x2f\n"
      "\n"
      "goroutine 9 [chan send]:\n"
      "main.deep(0x3)\n"
      "\t/src/deep.go:5 +0x10\n"
      "...8 frames elided...\n"
      "main.deep(0x0)\n"
      "\t/src/deep.go:5 +0x10\n");
  REQUIRE(dump.fibers.size() == 2);
  const auto& a = dump.fibers[0];
  CHECK(a.id == fiberleak::FiberId{1});
  CHECK(a.wait_reason == "select");
  CHECK(a.blocked_ns == 300'000'000'000);
  CHECK(a.locked_to_thread);
  CHECK(a.parent == fiberleak::FiberId{7});
  REQUIRE(a.stack.size() == 2);
  CHECK(a.stack[0].function == "main.(*Server).loop");
  CHECK(a.stack[1].function == "main.helper");
  CHECK(a.stack[1].inlined);
  CHECK(a.creation_stack.front().function == "main.start");
  CHECK(dump.fibers[1].wait == WaitKind::channel_push);
  CHECK(dump.fibers[1].stack.size() == 2);
}

TEST_CASE("Go 1.27's labels in the status become labels, the fiber label the name; bad ones are skipped", "[daemon]") {
  const auto dump = parse_go_dump(
      "goroutine 4 [chan receive, 2 minutes, labels:{\"fiber\":\"worker\", \"request\": \"a\\\"b\\x01\"}]:\n"
      "main.f()\n"
      "\t/src/f.go:3 +0x1\n"
      "\n"
      "goroutine 5 [select, labels:{\"broken]:\n"
      "main.g()\n"
      "\t/src/g.go:4 +0x1\n");
  REQUIRE(dump.fibers.size() == 2);
  const auto& a = dump.fibers[0];
  CHECK(a.wait_reason == "chan receive");
  CHECK(a.blocked_ns == 120'000'000'000);
  CHECK(a.name == "worker");
  CHECK(a.labels == std::vector<fiberleak::Label>{{"request", "a\"b\x01"}});
  CHECK(dump.fibers[1].wait_reason == "select");
  CHECK(dump.fibers[1].labels.empty());
}

TEST_CASE("garbage, truncated and empty bodies are rejected with the line at fault", "[daemon]") {
  CHECK_THROWS_WITH(parse_go_dump("<html>502 Bad Gateway</html>"), Catch::Contains("line 1: expected"));
  CHECK_THROWS_WITH(parse_go_dump(""), Catch::Contains("no goroutines"));
  CHECK_THROWS_WITH(parse_go_dump("goroutine 1 [running]:\nmain.main()\n"), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(parse_go_dump("goroutine x [running]:\n"), Catch::Contains("bad goroutine id"));
  CHECK_THROWS_AS(parse_go_dump(std::string(1 << 20, '\xff')), GoDumpError);
  // A dump cut in the middle of a block still fails loudly rather than
  // reporting a shorter stack.
  const std::string full = testdata("go119_fresh.txt");
  const auto cut = full.substr(0, full.find(" +0x", full.size() / 2));
  CHECK_THROWS_AS(parse_go_dump(cut.substr(0, cut.rfind('\n') + 2)), GoDumpError);
}

TEST_CASE("goroutines parked at one place share one copy of their stack", "[daemon]") {
  const auto dump = parse_go_dump(
      "goroutine 6 [chan receive]:\nmain.leak(0xc000010000)\n\t/src/main.go:7 +0x1d\n"
      "created by main.main\n\t/src/main.go:12 +0x2a\n\n"
      "goroutine 7 [chan receive]:\nmain.leak(0xc000020000)\n\t/src/main.go:7 +0x1d\n"
      "created by main.main\n\t/src/main.go:12 +0x2a\n\n"
      "goroutine 8 [chan receive]:\nmain.other(0xc000020000)\n\t/src/main.go:9 +0x1d\n");
  REQUIRE(dump.fibers.size() == 3);
  CHECK(dump.fibers[0].stack.identity() == dump.fibers[1].stack.identity());
  CHECK(dump.fibers[0].creation_stack.identity() == dump.fibers[1].creation_stack.identity());
  CHECK(dump.fibers[2].stack.identity() != dump.fibers[0].stack.identity());
  CHECK(dump.fibers[2].stack[0].function == "main.other");
  CHECK(dump.fibers[2].creation_stack.empty());
}

TEST_CASE("a dump that would decode to many times its size is refused", "[daemon]") {
  std::string flood;
  for (int i = 0; i < 300'000; ++i) flood += "goroutine " + std::to_string(i) + " [a]:\n\n";
  CHECK_THROWS_WITH(parse_go_dump(flood), Catch::Contains("the dump decodes to more than 4 times its size"));
}
