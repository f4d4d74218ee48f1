// TargetDiscovery: fiberleakd's file_sd and http_sd providers, each on a
// thread of its own, and the targets they found.
//
// A file_sd provider checks its globs every second (a file that appears,
// goes, or changes size, mtime or inode is re-read) and re-reads every file
// at its refresh_interval; an http_sd provider GETs its URL at its
// refresh_interval through a TargetClient (total deadline, body capped at
// kMaxSdBytes, nothing decompressed). A bad file or answer (parse_sd_targets()
// lists why) is logged with every problem (once while the same problems
// stay) and changes nothing: that source's last good targets stay. A file that is gone takes its targets with it, as
// in Prometheus. `on_change` runs on a provider's thread, with no lock held,
// whenever the targets of that provider changed; it reads targets() for the
// latest whole list.
// Thread-safe; configure() and stop() are serialized by the caller (the sidecar's
// reload), and must not be called while holding a lock on_change takes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "daemon/sd_targets.hpp"

namespace spdlog {
class logger;
}

namespace fiberleak::detail {

class TargetDiscovery {
 public:
  // How often a file_sd provider looks at its files for changes.
  static constexpr std::chrono::milliseconds kWatchTick{1000};
  // An http_sd request's total deadline (or its refresh_interval, if shorter).
  static constexpr std::chrono::milliseconds kHttpTimeout{10000};

  struct Counters {
    std::uint64_t file_failures = 0;  // files that could not be read or parsed
    std::uint64_t http_failures = 0;  // http_sd requests that failed or got a bad answer
  };

  TargetDiscovery(std::shared_ptr<spdlog::logger> logger, std::function<void()> on_change);
  ~TargetDiscovery();  // stop()
  TargetDiscovery(const TargetDiscovery&) = delete;
  TargetDiscovery& operator=(const TargetDiscovery&) = delete;

  // Keeps the providers whose entry is unchanged, with what they found;
  // stops the others and starts new ones. A new file_sd provider has read its
  // files when this returns; a new http_sd one asks on its own thread.
  void configure(const std::vector<FileSdConfig>& files, const std::vector<HttpSdConfig>& urls);
  // Every provider's targets, in configuration order.
  std::vector<SdTarget> targets() const;
  Counters counters() const;
  void stop();

  struct Provider;  // daemon/target_discovery.cpp

 private:
  void run(Provider& p);
  void refresh(Provider& p, bool force);
  // Logs a source's problems, unless they are the ones logged last time.
  void report(Provider& p, const std::string& what, const std::string& source, const std::vector<std::string>& errors,
              const std::map<std::string, std::vector<SdTarget>>& found);
  void stop_provider(Provider& p);

  std::shared_ptr<spdlog::logger> logger_;
  std::function<void()> on_change_;
  std::vector<std::unique_ptr<Provider>> providers_;  // touched by configure() and stop() only
  mutable std::mutex mutex_;                          // guards each provider's targets and the counters
  Counters counters_;
};

}  // namespace fiberleak::detail
