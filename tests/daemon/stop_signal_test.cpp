// wait_for_stop_signal(): how demo and scrape run until Ctrl-C.
#include "daemon/stop_signal.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

TEST_CASE("SIGTERM ends the wait for a stop signal", "[daemon]") {
  std::thread sender([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::raise(SIGTERM);
  });
  fiberleak::detail::wait_for_stop_signal();  // the test hangs (and times out) if it does not
  sender.join();
  SUCCEED();
}
