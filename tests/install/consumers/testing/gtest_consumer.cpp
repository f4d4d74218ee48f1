// A GoogleTest binary of a project outside the fiberleak tree, linked with
// fiberleak::gtest and nothing else of fiberleak's: Consumer.Leaks leaves a
// fiber blocked on a channel and must fail; Consumer.Clean must pass; the
// binary must end.
#include <boost/fiber/all.hpp>
#include <gtest/gtest.h>

TEST(Consumer, Clean) {
  boost::fibers::fiber worker([] { boost::this_fiber::yield(); });
  worker.join();
}

TEST(Consumer, Leaks) {
  static auto* channel = new boost::fibers::buffered_channel<int>(2);
  boost::fibers::fiber([] {
    int value = 0;
    channel->pop(value);
  }).detach();
  boost::this_fiber::yield();
}
