// Watchdog: evaluates the leak rules periodically on its own thread, logs
// each new finding once (and once more when a leak suspect resolves; see
// FindingTracker), and calls the program's callbacks. A callback that
// throws is logged and the evaluation goes on. Thread-safe: latest() may be
// called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "profiler/fiber_dump.hpp"
#include "profiler/finding_tracker.hpp"
#include "profiler/leak_rules.hpp"

namespace spdlog {
class logger;
}

namespace fiberleak::detail {

class Watchdog {
 public:
  struct Callbacks {
    std::function<void(const LeakFinding&)> on_leak;
    std::function<void(const GrowingSite&)> on_growing_site;
  };
  // source: produces the dump to evaluate (a snapshot, or a scrape).
  Watchdog(std::function<FiberDump()> source, LeakRules rules, std::chrono::milliseconds interval,
           std::shared_ptr<spdlog::logger> logger, Callbacks callbacks);
  ~Watchdog();  // stops and joins the thread
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // The process's watchdog, shared by every endpoint that wants one
  // (serve() and mount()), so that each finding is logged once: the first
  // call makes it with its arguments; later calls, while any holder keeps
  // it, return that one and drop theirs. It stops when its last holder lets
  // go; the next call makes a new one. Thread-safe.
  static std::shared_ptr<Watchdog> shared(std::function<FiberDump()> source, LeakRules rules,
                                          std::chrono::milliseconds interval, std::shared_ptr<spdlog::logger> logger,
                                          Callbacks callbacks);
  // The shared watchdog while it runs, else null (tests).
  static std::shared_ptr<Watchdog> running_shared();

  // The result of the latest evaluation (empty before the first).
  LeakDetector::Result latest() const;
  std::uint64_t evaluations() const;
  // Runs one evaluation now, on the calling thread (tests; also used once at start).
  void evaluate_now();

 private:
  void run();
  void log_changes(const FindingTracker::Changes& changes);
  template <typename Finding>
  void call_back(const std::function<void(const Finding&)>& callback, const Finding& finding);

  std::function<FiberDump()> source_;
  LeakDetector detector_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<spdlog::logger> logger_;
  Callbacks callbacks_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  LeakDetector::Result latest_;
  std::uint64_t evaluations_ = 0;
  FindingTracker tracker_;     // under evaluate_mutex_
  std::mutex evaluate_mutex_;  // one evaluation at a time
  std::thread thread_;
};

// The library's own logger, registered in spdlog's registry as "fiberleak"
// so that the host finds it (spdlog::get("fiberleak")) and its
// spdlog::set_level() reaches it; stderr, with the host's global level and
// pattern when it is made. A logger the host registered under that name
// first is used instead. Never the host's default logger. Thread-safe.
inline constexpr const char* kLoggerName = "fiberleak";
std::shared_ptr<spdlog::logger> default_logger();

}  // namespace fiberleak::detail
