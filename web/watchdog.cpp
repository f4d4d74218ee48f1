#include "web/watchdog.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <set>

#include "profiler/heap_profile.hpp"
#include "profiler/site_groups.hpp"

namespace fiberleak::detail {

std::shared_ptr<spdlog::logger> default_logger() {
  static std::mutex creating;
  std::lock_guard<std::mutex> lock(creating);
  if (auto registered = spdlog::get(kLoggerName)) return registered;
  auto logger = std::make_shared<spdlog::logger>(kLoggerName, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  try {
    // The host's level, pattern and error handler, as its own loggers get
    // them; this registers it too, unless the host turned that off.
    spdlog::initialize_logger(logger);
    if (!spdlog::get(kLoggerName)) spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // The host registered one of that name meanwhile: log through it.
    if (auto registered = spdlog::get(kLoggerName)) return registered;
  }
  return logger;
}

Watchdog::Watchdog(std::function<FiberDump()> source, LeakRules rules, std::chrono::milliseconds interval,
                   std::shared_ptr<spdlog::logger> logger, Callbacks callbacks)
    : source_(std::move(source)),
      detector_(std::move(rules)),
      interval_(interval),
      logger_(logger ? std::move(logger) : default_logger()),
      callbacks_(std::move(callbacks)) {
  if (interval_.count() > 0) {
    thread_ = std::thread([this] {
      exclude_this_thread_from_heap_profile();
      run();
    });
  }
}

namespace {

struct SharedWatchdog {
  std::mutex mutex;
  std::weak_ptr<Watchdog> running;
};
SharedWatchdog& shared_watchdog() {
  static SharedWatchdog* shared = new SharedWatchdog;  // never destroyed: endpoints may outlive statics
  return *shared;
}

}  // namespace

std::shared_ptr<Watchdog> Watchdog::shared(std::function<FiberDump()> source, LeakRules rules,
                                           std::chrono::milliseconds interval, std::shared_ptr<spdlog::logger> logger,
                                           Callbacks callbacks) {
  SharedWatchdog& shared = shared_watchdog();
  std::lock_guard<std::mutex> lock(shared.mutex);
  if (auto running = shared.running.lock()) return running;
  auto made = std::make_shared<Watchdog>(std::move(source), std::move(rules), interval, std::move(logger),
                                         std::move(callbacks));
  shared.running = made;
  return made;
}

std::shared_ptr<Watchdog> Watchdog::running_shared() {
  SharedWatchdog& shared = shared_watchdog();
  std::lock_guard<std::mutex> lock(shared.mutex);
  return shared.running.lock();
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

template <typename Finding>
void Watchdog::call_back(const std::function<void(const Finding&)>& callback, const Finding& finding) {
  if (!callback) return;
  try {
    callback(finding);
  } catch (const std::exception& e) {
    // The finding stays reported: the rest of the evaluation goes on.
    logger_->error("watchdog callback failed: {}", e.what());
  }
}

// One line per park site, however many fibers it holds.
void Watchdog::log_changes(const FindingTracker::Changes& changes) {
  std::vector<const LeakFinding*> fresh;
  std::set<std::string> known_sites;  // sites of findings reported before
  for (const Tracked<LeakFinding>& t : changes.leaks) {
    if (t.lifecycle == FindingLifecycle::fresh) {
      fresh.push_back(&t.finding);
    } else {
      known_sites.insert(t.finding.site);
    }
  }
  std::vector<GrowingSite> growing;
  for (const Tracked<GrowingSite>& t : changes.sites) {
    if (t.lifecycle == FindingLifecycle::fresh) growing.push_back(t.finding);
  }
  for (const SiteGroup& g : group_by_site(fresh, growing)) {
    // A site already reported gaining fibers is news, not a new leak.
    if (known_sites.count(g.site) != 0 && !g.growing) {
      logger_->info("more at a known site: {}", describe(g));
    } else {
      logger_->warn("{}", describe(g));
    }
  }
  std::map<std::string, std::size_t> resolved;
  for (const Tracked<LeakFinding>& t : changes.resolved_leaks) ++resolved[t.finding.site];
  for (const auto& [site, n] : resolved) {
    logger_->info("leak resolved: {} {} at {} woke up or ended", n, n == 1 ? "fiber" : "fibers", site);
  }
}

void Watchdog::evaluate_now() {
  std::lock_guard<std::mutex> one_at_a_time(evaluate_mutex_);
  LeakDetector::Result result = detector_.evaluate(source_());
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  const FindingTracker::Changes changes = tracker_.update(result.findings, result.growing, now_ms);
  log_changes(changes);
  for (const Tracked<LeakFinding>& t : changes.leaks) {
    if (t.lifecycle == FindingLifecycle::fresh) call_back(callbacks_.on_leak, t.finding);
  }
  for (const Tracked<GrowingSite>& t : changes.sites) {
    if (t.lifecycle == FindingLifecycle::fresh) call_back(callbacks_.on_growing_site, t.finding);
  }

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
      // A throwing source must not end the watchdog.
      logger_->error("watchdog evaluation failed: {}", e.what());
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace fiberleak::detail
