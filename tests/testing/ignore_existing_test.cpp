// RunOptions::ignore_existing, in a binary of its own: it is read when the
// run's first test case begins, once per process.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <fiberleak/runtime.hpp>
#include <fiberleak/testing.hpp>

namespace ft = fiberleak::testing;

TEST_CASE("fibers that existed before the first test are not reported when asked, later ones are", "[testing]") {
  fiberleak::install();
  boost::fibers::buffered_channel<int> channel(2);
  auto reader = [&channel] {
    int value = 0;
    channel.pop(value);
  };
  fiberleak::spawn("before-the-tests", reader).detach();
  boost::this_fiber::yield();
  ft::run_options().ignore_existing = true;
  ft::run_options().check.attempts = 1;
  ft::begin_test("first");
  ft::end_test();
  fiberleak::spawn("between-the-tests", reader).detach();
  boost::this_fiber::yield();
  const ft::Leaks left = ft::end_run();
  REQUIRE(left.fibers.size() == 1);
  CHECK(left.fibers[0].name == "between-the-tests");
  CHECK(left.fibers[0].test.empty());
  CHECK(left.report.find("created outside any test case") != std::string::npos);
  channel.close();
  for (int i = 0; i < 1000 && !ft::find().empty(); ++i) boost::this_fiber::yield();
  CHECK(ft::find().empty());
}
