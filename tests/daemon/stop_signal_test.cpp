// wait_for_stop_signal(): how demo and scrape run until Ctrl-C.
#include "daemon/stop_signal.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <sys/wait.h>

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

TEST_CASE("SIGHUP asks for a reload once, and a stop signal still ends the wait", "[daemon]") {
  using fiberleak::detail::DaemonSignal;
  fiberleak::detail::forget_signals();  // the SIGTERM of the test above
  std::thread hup([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::raise(SIGHUP);
  });
  CHECK(fiberleak::detail::wait_for_signal() == DaemonSignal::reload);
  hup.join();
  std::thread term([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the wait has polled: no second reload is left
    std::raise(SIGTERM);
  });
  CHECK(fiberleak::detail::wait_for_signal() == DaemonSignal::stop);
  term.join();
}
