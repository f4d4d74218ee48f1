// /metrics of the embedded endpoint: fibers by state, created total, leak
// suspects, the most populated park sites, runtime counters and how long
// profiles took to build. Prometheus text format (promtool-clean).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <vector>

#include <fiberleak/snapshot.hpp>

#include "profiler/fiber_dump.hpp"
#include "profiler/leak_rules.hpp"
#include "web/prometheus_text.hpp"

namespace fiberleak::detail {

enum class ProfileFormat : std::size_t {
  goroutine_proto,
  goroutine_delta,
  goroutine_debug1,
  goroutine_debug2,
  fibers_json,
  count
};

// Last build duration and build count per format. Thread-safe.
class ProfileBuildTimes {
 public:
  void record(ProfileFormat f, std::chrono::steady_clock::duration d) noexcept;
  double last_seconds(ProfileFormat f) const noexcept;
  std::uint64_t builds(ProfileFormat f) const noexcept;
  static const char* name(ProfileFormat f) noexcept;

 private:
  static constexpr std::size_t kFormats = static_cast<std::size_t>(ProfileFormat::count);
  std::array<std::atomic<std::int64_t>, kFormats> last_ns_{};
  std::array<std::atomic<std::uint64_t>, kFormats> builds_{};
};

struct MetricsInputs {
  const FiberDump& dump;
  const RuntimeCounters& counters;
  std::vector<LeakFinding> findings;
  std::vector<GrowingSite> growing;
  const ProfileBuildTimes& build_times;
};

// At most this many park sites get their own gauge (the most populated).
inline constexpr std::size_t kTopParkSites = 10;

std::string render_metrics(const MetricsInputs& in);

}  // namespace fiberleak::detail
