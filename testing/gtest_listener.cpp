// fiberleak::gtest: a GoogleTest event listener that fails every test that
// leaves a fiber behind (<fiberleak/testing.hpp>). A static initializer in
// this file appends it to the listeners (the target adds the file to the
// test binary as an object, so it is linked whether anything refers to it
// or not), so it works with gtest_main and with a main of the program's own,
// and linking the target is all it takes.
//
// GoogleTest calls the listeners' OnTestEnd() in reverse order while the
// test is still the current one: this listener, appended after the default
// printer, adds its failure before the printer prints the test's result
// (as googletest's sample10 leak checker does).
#include <gtest/gtest.h>

#include <fiberleak/testing.hpp>

namespace fiberleak::detail {
namespace {

class LeakListener : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    testing::begin_test(std::string(info.test_suite_name()) + "." + info.name());
  }
  void OnTestEnd(const ::testing::TestInfo&) override {
    const testing::Leaks leaks = testing::check_test();
    testing::end_test();
    if (!leaks.empty()) ADD_FAILURE() << leaks.report;
  }
  void OnTestIterationEnd(const ::testing::UnitTest&, int) override {
    // Outside a test a failure fails the whole run (RUN_ALL_TESTS returns 1).
    const testing::Leaks leaks = testing::end_run(1);
    if (!leaks.empty()) ADD_FAILURE() << leaks.report;
  }
};

const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new LeakListener);
  return true;
}();

}  // namespace
}  // namespace fiberleak::detail
