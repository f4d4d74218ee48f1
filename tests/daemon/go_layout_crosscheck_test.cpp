// fiberleak's debug=2 text checked against something fiberleak did not
// write: the Go dump parser (itself tested on real Go dumps) reads the
// profiler's golden file back field by field, fiberleak's rendering of a
// real Go 1.19 dump (testdata/go119_after_70s.txt, written by Go) matches
// Go's own text line for line where both carry the same facts, and debug=1
// follows the grammar a real Go 1.19 debug=1 dump (go119_debug1.txt) does.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "../profiler/sample_dump.hpp"
#include "daemon/go_dump_parser.hpp"
#include "profiler/goroutine_text.hpp"

using fiberleak::detail::DumpedFiber;
using fiberleak::detail::DumpFrame;
using fiberleak::detail::parse_go_dump;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  REQUIRE_FALSE(ss.str().empty());
  return ss.str();
}

// The lines of `text` that start with `prefix`, in order.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

// A frame as the Go parser reads it back: the argument list is not a fact
// fiberleak records (C++ names keep their parameter list), an unknown file
// is Go's "?", and only Go-style names can carry Go's inline mark "(...)"
// (a C++ inlined frame is told by its missing +0x offset alone).
void check_frame(const DumpFrame& got, const DumpFrame& want) {
  INFO(want.function);
  CHECK((got.function == want.function || want.function.rfind(got.function + "(", 0) == 0));
  CHECK(got.file == (want.file.empty() ? "?" : want.file));
  CHECK(got.line == want.line);
  if (want.function.empty() || want.function.back() != ')') CHECK(got.inlined == want.inlined);
}

struct Debug1 {
  std::size_t total = 0;
  std::vector<std::size_t> counts;     // per group
  std::vector<std::string> functions;  // every "#" line's function
  std::size_t labelled_groups = 0;     // groups with a "# labels: {...}" line
};

// A reader of the debug=1 layout (runtime/pprof's printCountProfile):
// "goroutine profile: total N", then groups of "COUNT @ 0xPC...", one
// "#\t0xPC\tFUNCTION+0xOFF\tFILE:LINE" line a frame (Go pads with more
// tabs), and a blank line.
Debug1 read_debug1(const std::string& text) {
  static const std::regex header(R"(^goroutine profile: total (\d+)$)");
  static const std::regex group(R"(^(\d+) @((?: 0x[0-9a-f]+)*)$)");
  static const std::regex frame(R"(^#\t0x[0-9a-f]+\t(.+)\+0x[0-9a-f]+\t+(.*):(\d+)$)");
  static const std::regex labels(R"(^# labels: \{.*\}$)");
  Debug1 out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  REQUIRE(std::getline(in, line));
  REQUIRE(std::regex_match(line, m, header));
  out.total = std::stoul(m[1]);
  bool in_group = false;
  std::size_t frames_in_group = 0;
  while (std::getline(in, line)) {
    INFO(line);
    if (line.empty()) {
      REQUIRE(in_group);
      in_group = false;
    } else if (!in_group) {
      REQUIRE(std::regex_match(line, m, group));
      out.counts.push_back(std::stoul(m[1]));
      in_group = true;
      frames_in_group = 0;
    } else if (frames_in_group == 0 && std::regex_match(line, labels)) {
      ++out.labelled_groups;  // Go prints a group's labels before its frames
    } else {
      REQUIRE(std::regex_match(line, m, frame));
      out.functions.push_back(m[1]);
      ++frames_in_group;
    }
  }
  CHECK_FALSE(in_group);  // every group ends with a blank line
  return out;
}

std::size_t sum(const std::vector<std::size_t>& v) {
  std::size_t n = 0;
  for (std::size_t x : v) n += x;
  return n;
}

}  // namespace

TEST_CASE("debug=1 follows the grammar of a real Go 1.19 debug=1 dump, counts adding up to the total", "[daemon]") {
  const Debug1 go = read_debug1(read_text(std::string(FIBERLEAK_TESTDATA) + "/go119_debug1.txt"));
  CHECK(go.total == 14);
  CHECK(sum(go.counts) == go.total);
  CHECK(std::count(go.functions.begin(), go.functions.end(), "main.receiveForever") == 1);  // one group of 3
  const auto dump = fiberleak::detail::testing::sample_dump();
  for (const std::string& text : {fiberleak::detail::render_debug1(dump, nullptr),
                                  read_text(std::string(FIBERLEAK_PROFILER_TESTDATA) + "/sample_debug1.txt")}) {
    const Debug1 ours = read_debug1(text);
    CHECK(ours.total == dump.fibers.size());
    CHECK(sum(ours.counts) == ours.total);
    CHECK(ours.counts.front() == 2);  // fibers 7 and 8 share a stack: the biggest group first
    CHECK(ours.labelled_groups > 0);
    CHECK(std::count(ours.functions.begin(), ours.functions.end(),
                     "app::wait_for_orders(boost::fibers::buffered_channel<int>&)") == 1);
  }
}

TEST_CASE("the debug=2 golden file reads back through the Go dump parser field by field", "[daemon]") {
  const auto want = fiberleak::detail::testing::sample_dump();
  const auto got = parse_go_dump(read_text(std::string(FIBERLEAK_PROFILER_TESTDATA) + "/sample_debug2.txt"));
  REQUIRE(got.fibers.size() == want.fibers.size());
  for (std::size_t i = 0; i < want.fibers.size(); ++i) {
    const DumpedFiber& w = want.fibers[i];
    const DumpedFiber& g = got.fibers[i];
    INFO("fiber " << fiberleak::to_integer(w.id));
    CHECK(g.id == w.id);
    CHECK(g.parent == w.parent);
    CHECK(g.wait_reason == w.wait_reason);
    CHECK(g.blocked_ns == w.blocked_ns / 60'000'000'000 * 60'000'000'000);  // Go's whole minutes
    CHECK(g.state == w.state);
    if (w.wait == fiberleak::WaitKind::channel_pop) CHECK(g.wait == w.wait);  // Go's words for it
    REQUIRE(g.stack.size() == w.stack.size());
    for (std::size_t k = 0; k < w.stack.size(); ++k) check_frame(g.stack[k], w.stack[k]);
    if (w.parent != fiberleak::kNoFiber) {
      REQUIRE(g.creation_stack.size() == 1);  // Go prints the creating frame only
      const DumpFrame* creator = nullptr;
      for (const DumpFrame& f : w.creation_stack) {
        if (f.function.rfind("boost::", 0) != 0) creator = &f;
      }
      REQUIRE(creator != nullptr);
      check_frame(g.creation_stack[0], *creator);
    }
  }
}

TEST_CASE("a real Go 1.19 dump rendered by fiberleak has Go's headers, frames and creators", "[daemon]") {
  const std::string go_text = read_text(std::string(FIBERLEAK_TESTDATA) + "/go119_after_70s.txt");
  const auto go = parse_go_dump(go_text);
  const std::string ours = fiberleak::detail::render_debug2(go, nullptr);
  // States and minutes: "goroutine 19 [chan receive, 1 minutes]:", "goroutine 28 [sleep]:", ...
  CHECK(lines_starting(ours, "goroutine ") == lines_starting(go_text, "goroutine "));
  // Creators: "created by main.main" (Go 1.19 names no creating goroutine).
  CHECK(lines_starting(ours, "created by ") == lines_starting(go_text, "created by "));
  // Every frame and creator location, read back.
  const auto again = parse_go_dump(ours);
  REQUIRE(again.fibers.size() == go.fibers.size());
  for (std::size_t i = 0; i < go.fibers.size(); ++i) {
    const DumpedFiber& w = go.fibers[i];
    const DumpedFiber& g = again.fibers[i];
    INFO("goroutine " << fiberleak::to_integer(w.id));
    CHECK(g.state == w.state);
    CHECK(g.wait == w.wait);
    CHECK(g.blocked_ns == w.blocked_ns);
    REQUIRE(g.stack.size() == w.stack.size());
    for (std::size_t k = 0; k < w.stack.size(); ++k) check_frame(g.stack[k], w.stack[k]);
    REQUIRE(g.creation_stack.size() == w.creation_stack.size());
    for (std::size_t k = 0; k < w.creation_stack.size(); ++k) check_frame(g.creation_stack[k], w.creation_stack[k]);
  }
}
