// fiberleak::testing's checks driven by hand (this binary does not link
// the framework listeners): the ignore options, the retry, attribution to
// the test that created a fiber and its report. Every case ends its fibers.
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <thread>

#include <fiberleak/runtime.hpp>
#include <fiberleak/testing.hpp>

namespace {

using Channel = boost::fibers::buffered_channel<int>;
namespace ft = fiberleak::testing;

// Quick checks: a leak is reported after one look.
ft::Options once() {
  ft::Options o;
  o.attempts = 1;
  return o;
}

void wait_in_pop(Channel& channel) {
  int value = 0;
  channel.pop(value);
}

void start_reader(Channel& channel) { fiberleak::spawn("leak-reader", wait_in_pop, std::ref(channel)).detach(); }

// Closes the channel and waits (polling) until no fiber is left.
void finish(Channel& channel) {
  channel.close();
  for (int i = 0; i < 10000 && !ft::find(once()).empty(); ++i) boost::this_fiber::yield();
  REQUIRE(ft::find(once()).empty());
}

struct Installed {
  Installed() {
    if (!fiberleak::installed()) fiberleak::install();
  }
};

}  // namespace

TEST_CASE("find reports a parked fiber with its name, labels, wait, stacks and function", "[testing]") {
  Installed installed;
  Channel channel(2);
  {
    fiberleak::label_scope scope("request", "r-7");
    start_reader(channel);
  }
  boost::this_fiber::yield();
  const ft::Leaks leaks = ft::find(once());
  REQUIRE(leaks.fibers.size() == 1);
  const ft::LeakedFiber& f = leaks.fibers[0];
  CHECK(f.name == "leak-reader");
  CHECK(f.state == fiberleak::FiberState::blocked);
  CHECK(f.wait_reason == "chan receive");
  CHECK(f.function.find("wait_in_pop") != std::string::npos);
  REQUIRE(f.labels.size() == 1);
  CHECK(f.labels[0].key == "request");
  CHECK(f.test.empty());
  CHECK(leaks.report.find("fiberleak: 1 fiber outlived the check") == 0);
  CHECK(leaks.report.find("\"leak-reader\"") != std::string::npos);
  CHECK(leaks.report.find("\"request\":\"r-7\"") != std::string::npos);
  CHECK(leaks.report.find("blocked in chan receive") != std::string::npos);
  CHECK(leaks.report.find("creation stack:") != std::string::npos);
  CHECK(leaks.report.find("testing_test.cpp:") != std::string::npos);
  // Trimmed as every dump: no Boost trampolines below the fiber's entry.
  CHECK(leaks.report.find("fiber_entry") == std::string::npos);
  finish(channel);
}

TEST_CASE("each ignore option hides a leaked fiber that is reported without it", "[testing]") {
  Installed installed;
  Channel channel(2);
  {
    fiberleak::label_scope scope("pool", "io");
    start_reader(channel);
  }
  boost::this_fiber::yield();
  REQUIRE(ft::find(once()).fibers.size() == 1);
  ft::Options o = once();
  SECTION("top function") { o.ignore_top_functions = {"wait_in_pop"}; }
  SECTION("any function") { o.ignore_any_functions = {"buffered_channel"}; }
  SECTION("created by") { o.ignore_created_by = {"start_reader"}; }
  SECTION("name") { o.ignore_names = {"leak-*"}; }
  SECTION("label") { o.ignore_labels = {"pool:io"}; }
  SECTION("what existed at a point") { o.ignore_current(); }
  CHECK(ft::find(o).empty());
  // A pattern that matches nothing hides nothing.
  ft::Options other = once();
  other.ignore_top_functions = {"no_such_function"};
  other.ignore_labels = {"pool:cpu"};
  CHECK(ft::find(other).fibers.size() == 1);
  finish(channel);
}

TEST_CASE("a check waits, with backoff, for a fiber that is about to end", "[testing]") {
  Installed installed;
  // Ends after ~20 ms of sleep: the default's 20 looks (up to 0.4 s) see it
  // go; a single look does not.
  boost::fibers::fiber([] { boost::this_fiber::sleep_for(std::chrono::milliseconds(20)); }).detach();
  CHECK(ft::find(once()).fibers.size() == 1);
  CHECK(ft::find().empty());
}

TEST_CASE("a fiber belongs to the test that created it, directly or through its fibers", "[testing]") {
  Installed installed;
  ft::run_options().check.attempts = 1;
  Channel channel(2), go(2);
  ft::begin_test("test A");
  // A fiber of test A that starts a child, then (told during test B)
  // another: all three are A's, wherever they were created.
  boost::fibers::fiber([&channel, &go] {
    start_reader(channel);
    wait_in_pop(go);
    start_reader(channel);
    wait_in_pop(channel);
  }).detach();
  boost::this_fiber::yield();
  boost::this_fiber::yield();
  ft::end_test();  // unchecked: A's fibers are not reported yet

  ft::begin_test("test B");
  go.push(1);
  boost::this_fiber::yield();
  boost::this_fiber::yield();
  CHECK(ft::check_test().empty());
  Channel b_channel(2);
  start_reader(b_channel);
  boost::this_fiber::yield();
  const ft::Leaks in_b = ft::verify_none(once());
  REQUIRE(in_b.fibers.size() == 1);
  CHECK(in_b.fibers[0].test == "test B");
  CHECK(in_b.report.find("created by test \"test B\"") != std::string::npos);
  // Reported once: the end of B does not report it again.
  CHECK(ft::check_test().empty());
  ft::end_test();

  // The end of the run reports what is left, A's three, once.
  const ft::Leaks left = ft::end_run();
  REQUIRE(left.fibers.size() == 3);
  for (const ft::LeakedFiber& f : left.fibers) CHECK(f.test == "test A");
  CHECK(ft::end_run().empty());
  ft::run_options().check.attempts = ft::Options().attempts;
  b_channel.close();
  finish(channel);
}

TEST_CASE("a fiber created during a test on a thread without its label belongs to that test", "[testing]") {
  Installed installed;
  ft::run_options().check.attempts = 1;
  Channel channel(2), started(2);
  ft::begin_test("test with a pool");
  std::thread pool([&] {
    fiberleak::install();
    start_reader(channel);
    started.push(1);
  });  // its thread ends once the reader does
  int ready = 0;
  started.pop(ready);
  const ft::Leaks leaks = ft::check_test();
  ft::end_test();
  REQUIRE(leaks.fibers.size() == 1);
  CHECK(leaks.fibers[0].test == "test with a pool");
  ft::run_options().check.attempts = ft::Options().attempts;
  channel.close();
  pool.join();
}
