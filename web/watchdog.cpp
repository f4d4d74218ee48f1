#include "web/watchdog.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>


namespace fiberleak::detail {

std::shared_ptr<spdlog::logger> default_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    return std::make_shared<spdlog::logger>("fiberleak", sink);
  }();
  return logger;
}

Watchdog::Watchdog(std::function<FiberDump()> source, LeakRules rules, std::chrono::milliseconds interval,
                   std::shared_ptr<spdlog::logger> logger, Callbacks callbacks)
    : source_(std::move(source)),
      detector_(std::move(rules)),
      interval_(interval),
      logger_(logger ? std::move(logger) : default_logger()),
      callbacks_(std::move(callbacks)) {
  if (interval_.count() > 0) thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

LeakDetector::Result Watchdog::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}

std::uint64_t Watchdog::evaluations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return evaluations_;
}

void Watchdog::evaluate_now() {
  std::lock_guard<std::mutex> one_at_a_time(evaluate_mutex_);
  LeakDetector::Result result = detector_.evaluate(source_());

  std::set<std::uint64_t> leaking;
  for (const LeakFinding& f : result.findings) {
    leaking.insert(f.fiber_id);
    if (reported_leaks_.count(f.fiber_id) != 0) continue;
    logger_->warn("leak suspect: {}", describe(f));
    if (callbacks_.on_leak) callbacks_.on_leak(f);
  }
  for (std::uint64_t id : reported_leaks_) {
    if (leaking.count(id) == 0) logger_->info("leak resolved: fiber {} woke up or ended", id);
  }
  reported_leaks_ = std::move(leaking);

  std::set<std::string> growing;
  for (const GrowingSite& g : result.growing) {
    growing.insert(g.site);
    if (reported_sites_.count(g.site) != 0) continue;
    logger_->warn("growing park site: {} fibers at {} (rose {} evaluations in a row)", g.fibers, g.site,
                  g.history.size());
    if (callbacks_.on_growing_site) callbacks_.on_growing_site(g);
  }
  reported_sites_ = std::move(growing);

  std::lock_guard<std::mutex> lock(mutex_);
  latest_ = std::move(result);
  ++evaluations_;
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    lock.unlock();
    try {
      evaluate_now();
    } catch (const std::exception& e) {
      // A throwing callback or source must not end the watchdog.
      logger_->error("watchdog evaluation failed: {}", e.what());
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace fiberleak::detail
