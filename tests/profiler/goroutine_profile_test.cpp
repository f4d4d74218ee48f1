// The debug=0 goroutine profile and its delta written to files and read by
// the real client, `go tool pprof`; the Symbolizer on this test binary.
#include "profiler/goroutine_profile.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "profiler/pprof_writer.hpp"
#include "profiler/symbolizer.hpp"
#include "sample_dump.hpp"

namespace {

struct Command {
  int status;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `profile` to a file in a fresh directory and runs
// `go tool pprof <mode> <file>` there, stdout and stderr apart.
Command pprof(const std::string& mode, const std::string& profile) {
  char dir_template[] = "/tmp/fiberleak-pprof-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::ofstream(dir + "/goroutine.pb.gz", std::ios::binary) << profile;
  const std::string cmd = "cd " + dir + " && HOME=" + dir + " PPROF_TMPDIR=" + dir + " GOCACHE=" + dir +
                          "/gocache go tool pprof " + mode + " goroutine.pb.gz >out 2>err";
  const int rc = std::system(cmd.c_str());
  Command c{rc, slurp(dir + "/out"), slurp(dir + "/err")};
  std::system(("rm -rf " + dir).c_str());
  return c;
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// A mapping covering the sample dump's made-up addresses, at a path that
// does not exist: pprof must not need it.
std::vector<fiberleak::detail::Mapping> fake_mappings() {
  fiberleak::detail::Mapping m;
  m.start = 0x400000;
  m.limit = 0x500000;
  m.path = "/nonexistent/orders-service";
  m.build_id = "0123456789abcdef";
  return {m};
}

// Sample values of `go tool pprof -raw` output, sorted.
std::vector<long> raw_values(const std::string& raw) {
  std::vector<long> out;
  const auto samples = raw.find("Samples:");
  const auto locations = raw.find("Locations");
  REQUIRE(samples != std::string::npos);
  std::istringstream in(raw.substr(samples, locations - samples));
  std::string line;
  const std::regex value_line(R"(^\s+(-?\d+): [\d ]+$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, value_line)) out.push_back(std::stol(m[1]));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("go tool pprof -raw and -traces show C++ names, inline frames and file:line with no warnings",
          "[profiler][go]") {
  const std::string profile =
      fiberleak::detail::goroutine_profile(fiberleak::detail::testing::sample_dump(), fake_mappings());
  REQUIRE(profile.substr(0, 2) == "\x1f\x8b");  // gzip magic
  for (const char* mode : {"-raw", "-traces -lines"}) {
    INFO(mode);
    const Command c = pprof(mode, profile);
    INFO("stdout: " << c.out);
    INFO("stderr: " << c.err);
    CHECK(c.status == 0);
    CHECK(c.err.empty());
    CHECK(contains(c.out, "app::wait_for_orders"));
    CHECK(contains(c.out, "boost::fibers::buffered_channel"));  // the inlined frame
    CHECK(contains(c.out, "app::update_ledger"));
    CHECK(contains(c.out, "orders.cpp:42"));
    CHECK(contains(c.out, "buffered_channel.hpp:400"));
  }
  const Command raw = pprof("-raw", profile);
  CHECK(contains(raw.out, "PeriodType: goroutine count"));
  CHECK(contains(raw.out, "/src/app/orders.cpp:42"));
  CHECK(contains(raw.out, "/usr/include/boost/fiber/buffered_channel.hpp:400"));
  CHECK(contains(raw.out, "/src/app/ledger.cpp:88"));
  CHECK(contains(raw.out, "fiber:[order-worker]"));
  CHECK(contains(raw.out, "wait:[chan receive]"));
  CHECK(contains(raw.out, "state:[blocked]"));
  // Two order workers with one stack are one sample of 2; the mutex waiter
  // and the running main fiber (no stack captured) are one each.
  CHECK(raw_values(raw.out) == std::vector<long>{1, 1, 2});
  CHECK(contains(raw.out, "state:[running]"));
  CHECK(contains(raw.out, "app::wait_for_orders(boost::fibers::buffered_channel<int>&)"));  // full C++ name
  const Command traces = pprof("-traces", profile);
  CHECK(contains(traces.out, "boost::fibers::buffered_channel::pop (inline)"));
}

TEST_CASE("a delta profile counts what grew and shrank per stack and leaves the rest out", "[profiler][go]") {
  using fiberleak::detail::testing::frame;
  const fiberleak::detail::FiberDump before = fiberleak::detail::testing::sample_dump();
  fiberleak::detail::FiberDump after = before;
  after.taken_at_ns += 5'000'000'000;
  after.fibers.erase(after.fibers.begin() + 2);  // one order worker (id 8) finished
  fiberleak::detail::DumpedFiber newcomer;       // and a fiber parked at a new site
  newcomer.id = fiberleak::FiberId{10};
  newcomer.state = fiberleak::FiberState::blocked;
  newcomer.wait = fiberleak::WaitKind::sleep;
  newcomer.wait_reason = "sleep";
  newcomer.stack = std::vector<fiberleak::detail::DumpFrame>{frame(0x409080, "app::nap()", "/src/app/nap.cpp", 5)};
  after.fibers.push_back(newcomer);

  const std::string delta = fiberleak::detail::goroutine_delta_profile(before, after, fake_mappings());
  const Command raw = pprof("-raw", delta);
  INFO("stdout: " << raw.out);
  INFO("stderr: " << raw.err);
  CHECK(raw.status == 0);
  CHECK(raw.err.empty());
  CHECK(raw_values(raw.out) == std::vector<long>{-1, 1});  // main and the mutex waiter unchanged
  CHECK(contains(raw.out, "app::nap()"));
  CHECK_FALSE(contains(raw.out, "app::update_ledger()"));
  CHECK(contains(raw.out, "Duration: 5s"));

  const std::string none = fiberleak::detail::goroutine_delta_profile(before, before, fake_mappings());
  CHECK(raw_values(pprof("-raw", none).out).empty());
}
