// A Catch2 v2 binary linked with fiberleak::catch2 (its tests use nothing
// of fiberleak's but the explicit check, in the third): three test cases,
// the middle one leaves a fiber blocked on a channel that stays parked
// through the third. run_leaky.sh checks that only the middle one fails,
// with the report, and that the binary ends.
#define CATCH_CONFIG_MAIN
#include <boost/fiber/all.hpp>
#include <catch2/catch.hpp>

#include <fiberleak/catch2.hpp>

namespace {

using Channel = boost::fibers::buffered_channel<int>;

// Never closed: the fiber reading it waits for ever.
Channel& forgotten_channel() {
  static auto* channel = new Channel(2);
  return *channel;
}

void read_forever(Channel& channel) {
  int value = 0;
  channel.pop(value);
}

}  // namespace

TEST_CASE("a clean test before the leak") {
  boost::fibers::fiber worker([] { boost::this_fiber::yield(); });
  worker.join();
  CHECK(true);
}

TEST_CASE("a test that leaks a fiber blocked on a channel") {
  boost::fibers::fiber(read_forever, std::ref(forgotten_channel())).detach();
  boost::this_fiber::yield();  // it parks in pop()
  CHECK(true);
}

TEST_CASE("a clean test while the leaked fiber is still parked") {
  Channel channel(2);
  boost::fibers::fiber reader([&] {
    int value = 0;
    channel.pop(value);
  });
  channel.push(1);
  reader.join();
  // The explicit check: the fiber the test before leaked is not this one's.
  FIBERLEAK_CHECK_NO_LEAKS();
}
