// The search behind every test-time check (<fiberleak/testing.hpp>): look at
// the live fibers a check considers until none is left or the retries run
// out, then report those left. One place applies the ignore options (with
// the leak rules' own matching, profiler/leak_rules.hpp) and writes the
// report (with the goroutine dump's renderer, profiler/goroutine_text.hpp).
// Call from the test thread, outside scheduler hooks.
#pragma once

#include <functional>
#include <string>

#include <fiberleak/testing.hpp>

namespace fiberleak::detail {

struct LeakSearch {
  // Whether a fiber of the snapshot is the check's business at all (cheap:
  // runs before anything is symbolized). Main fibers never are.
  std::function<bool(const FiberSnapshot&)> considers;
  // The test case that created a fiber ("" none known), for the report.
  std::function<std::string(const FiberSnapshot&)> test_of;
  // What the fibers outlived, for the report's first line: "test \"x\"".
  std::string scope;
};

testing::Leaks search_leaks(const testing::Options& options, const LeakSearch& search);

}  // namespace fiberleak::detail
