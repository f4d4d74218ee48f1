// A GoogleTest binary linked with fiberleak::gtest (its tests use nothing
// of fiberleak's but the explicit check, in the third): three tests, the
// middle one leaves a fiber blocked on a channel that stays parked through
// the third. run_leaky.sh checks that only the middle one fails, with the
// report, and that the binary ends. Built twice: with gtest_main, and
// (FIBERLEAK_OWN_MAIN) with a main of its own.
#include <boost/fiber/all.hpp>
#include <gtest/gtest.h>

#include <fiberleak/gtest.hpp>

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

TEST(Leaky, CleanBeforeTheLeak) {
  boost::fibers::fiber worker([] { boost::this_fiber::yield(); });
  worker.join();
}

TEST(Leaky, LeaksAFiberBlockedOnAChannel) {
  boost::fibers::fiber(read_forever, std::ref(forgotten_channel())).detach();
  boost::this_fiber::yield();  // it parks in pop()
}

TEST(Leaky, CleanWhileTheLeakedFiberIsStillParked) {
  Channel channel(2);
  boost::fibers::fiber reader([&] {
    int value = 0;
    channel.pop(value);
  });
  channel.push(1);
  reader.join();
  // The explicit check: the fiber the test before leaked is not this one's.
  FIBERLEAK_EXPECT_NO_LEAKS();
}

#ifdef FIBERLEAK_OWN_MAIN
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
#endif
