// The debug=1 and debug=2 renderers against golden files, and an
// independent parser of Go's debug=2 layout that reads our dump back.
#include "profiler/goroutine_text.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "sample_dump.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Set FIBERLEAK_UPDATE_GOLDEN=1 to rewrite the golden files after a
// deliberate format change (then review the diff).
void check_golden(const std::string& actual, const std::string& name) {
  const std::string path = std::string(FIBERLEAK_TESTDATA) + "/" + name;
  if (std::getenv("FIBERLEAK_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  const std::string expected = read_file(path);
  REQUIRE_FALSE(expected.empty());
  CHECK(actual == expected);
}

// A reader of Go's goroutine?debug=2 layout, written from the format's
// description, not from our renderer.
struct ParsedGoroutine {
  std::uint64_t id = 0;
  std::string status;
  std::vector<std::pair<std::string, std::string>> frames;  // function, file:line
  std::string created_by;
  std::uint64_t created_in = 0;
};

std::vector<ParsedGoroutine> parse_debug2(const std::string& text) {
  std::vector<ParsedGoroutine> out;
  std::istringstream in(text);
  std::string line;
  const std::regex header(R"(^goroutine (\d+) \[([^\]]+)\]:$)");
  const std::regex created(R"(^created by (.+?)(?: in goroutine (\d+))?$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, header)) {
      out.push_back({std::stoull(m[1]), m[2], {}, "", 0});
    } else if (line.empty()) {
      continue;
    } else if (std::regex_match(line, m, created)) {
      out.back().created_by = m[1];
      if (m[2].matched) out.back().created_in = std::stoull(m[2]);
      std::getline(in, line);  // its file:line
    } else {
      std::string location;
      std::getline(in, location);
      REQUIRE(location.size() > 1);
      REQUIRE(location[0] == '\t');
      out.back().frames.emplace_back(
          line,
          location.substr(1, location.find(' ') == std::string::npos ? std::string::npos : location.find(' ') - 1));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("debug=2 renders Go's one-block-per-goroutine layout (golden)", "[profiler]") {
  check_golden(fiberleak::detail::render_debug2(fiberleak::detail::testing::sample_dump(), nullptr),
               "sample_debug2.txt");
}

TEST_CASE("debug=1 groups fibers with the same stack and counts them (golden)", "[profiler]") {
  check_golden(fiberleak::detail::render_debug1(fiberleak::detail::testing::sample_dump(), nullptr),
               "sample_debug1.txt");
}

TEST_CASE("an independent debug=2 parser reads back every fiber, status and frame", "[profiler]") {
  const auto dump = fiberleak::detail::testing::sample_dump();
  const auto parsed = parse_debug2(fiberleak::detail::render_debug2(dump, nullptr));
  REQUIRE(parsed.size() == dump.fibers.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto& want = dump.fibers[i];
    const auto& got = parsed[i];
    CHECK(got.id == fiberleak::to_integer(want.id));
    CHECK(got.status.rfind(want.wait_reason, 0) == 0);
    REQUIRE(got.frames.size() == want.stack.size());
    for (std::size_t k = 0; k < got.frames.size(); ++k) {
      CHECK(got.frames[k].first.rfind(want.stack[k].function, 0) == 0);
      if (!want.stack[k].file.empty()) {
        CHECK(got.frames[k].second == want.stack[k].file + ":" + std::to_string(want.stack[k].line));
      }
    }
    CHECK(got.created_in == fiberleak::to_integer(want.parent));
  }
  CHECK(parsed[1].status == R"(chan receive, 3 minutes, labels:{"fiber":"order-worker"})");
  CHECK(parsed[2].status == R"(chan receive, labels:{"fiber":"order-worker"})");
  CHECK(parsed[3].status == R"(mutex lock, 1 minutes, labels:{"request":"r7 \"quoted\""})");
  CHECK(parsed[1].created_by == "app::start_workers(int)");
}

TEST_CASE("debug=2 prints whole minutes truncated as Go does, none below one minute", "[profiler]") {
  // Go (runtime/traceback.go): waitfor = (nanotime() - waitsince) / 60e9,
  // printed as ", N minutes" only when waitfor >= 1.
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "goroutine 8 [chan receive]:"},
      {59'999'999'999, "goroutine 8 [chan receive]:"},
      {60'000'000'000, "goroutine 8 [chan receive, 1 minutes]:"},
      {90'000'000'000, "goroutine 8 [chan receive, 1 minutes]:"},
      {119'999'999'999, "goroutine 8 [chan receive, 1 minutes]:"},
      {150'000'000'000, "goroutine 8 [chan receive, 2 minutes]:"},
      {179'999'999'999, "goroutine 8 [chan receive, 2 minutes]:"},
      {3'600'000'000'000, "goroutine 8 [chan receive, 60 minutes]:"},
  };
  for (const auto& [blocked_ns, header] : cases) {
    auto dump = fiberleak::detail::testing::sample_dump();
    dump.fibers = {dump.fibers[2]};  // fiber 8: chan receive
    dump.fibers[0].blocked_ns = blocked_ns;
    dump.fibers[0].name.clear();  // no labels: they follow the minutes (tested above)
    dump.fibers[0].labels.clear();
    const std::string text = fiberleak::detail::render_debug2(dump, nullptr);
    INFO("blocked " << blocked_ns << " ns");
    CHECK(text.substr(0, text.find('\n')) == header);
  }
}

TEST_CASE("debug=1 gives a fiber without a recorded stack an address Go's parsers accept", "[profiler]") {
  auto dump = fiberleak::detail::testing::sample_dump();
  dump.fibers = {dump.fibers[2]};
  dump.fibers[0].name.clear();
  dump.fibers[0].labels.clear();
  dump.fibers[0].stack = {};
  const std::string text = fiberleak::detail::render_debug1(dump, nullptr);
  CHECK(text == "goroutine profile: total 1\n1 @ 0x0\n\n");
}
