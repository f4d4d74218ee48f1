#include "daemon/stop_signal.hpp"

#include <chrono>
#include <csignal>
#include <thread>

namespace fiberleak::detail {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }
extern "C" void on_reload_signal(int) { g_reload = 1; }

}  // namespace

void wait_for_stop_signal() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

void forget_signals() {
  g_stop = 0;
  g_reload = 0;
}

DaemonSignal wait_for_signal() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGHUP, on_reload_signal);
  for (;;) {
    if (g_stop) return DaemonSignal::stop;
    if (g_reload) {
      g_reload = 0;
      return DaemonSignal::reload;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace fiberleak::detail
