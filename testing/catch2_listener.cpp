// fiberleak::catch2: a Catch2 v2 listener that fails every test case that
// leaves a fiber behind (<fiberleak/testing.hpp>). It is registered by
// CATCH_REGISTER_LISTENER in this file, which the target adds to the test
// binary as an object (a static library's member nobody refers to would
// not be linked), so linking the target is all it takes.
//
// Catch2 v2 counts a test case as failed by the assertions made while it
// ran, and has counted them by the time testCaseEnded() reaches listeners;
// the end of the test case's own section (the body's run, sectionEnded() at
// depth 1, once per run for test cases with sections) still comes before
// that count, so the check runs there and fails the test with FAIL_CHECK.
// The reporter and listener bases are declared only with this defined.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fiberleak/testing.hpp>

namespace fiberleak::detail {
namespace {

[[noreturn]] void fail_exit() {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(1);
}

class LeakListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(Catch::TestCaseInfo const& info) override {
    depth_ = 0;
    testing::begin_test(info.name);
  }
  void sectionStarting(Catch::SectionInfo const&) override { ++depth_; }
  void sectionEnded(Catch::SectionStats const&) override {
    if (--depth_ != 0) return;
    const testing::Leaks leaks = testing::check_test();
    if (!leaks.empty()) FAIL_CHECK(leaks.report);
  }
  void testCaseEnded(Catch::TestCaseStats const&) override { testing::end_test(); }
  void testRunEnded(Catch::TestRunStats const& stats) override {
    // Catch2's exit status: its count of failed assertions, at most 255.
    const auto failed = static_cast<int>(std::min<std::uint64_t>(stats.totals.assertions.failed, 255));
    const testing::Leaks leaks = testing::end_run(std::max(failed, 1));
    if (leaks.empty()) return;
    Catch::cerr() << leaks.report << std::flush;
    // No test case is left to fail, and Catch2's main returns what its
    // assertions say: fail the exit instead (atexit handlers run after
    // main returns, before the static destructors registered earlier).
    if (failed == 0) std::atexit(fail_exit);
  }

 private:
  int depth_ = 0;
};

CATCH_REGISTER_LISTENER(LeakListener)

}  // namespace
}  // namespace fiberleak::detail
