#include "web/metrics_page.hpp"

#include <algorithm>
#include <map>

namespace fiberleak::detail {

void ProfileBuildTimes::record(ProfileFormat f, std::chrono::steady_clock::duration d) noexcept {
  const auto i = static_cast<std::size_t>(f);
  last_ns_[i].store(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::memory_order_relaxed);
  builds_[i].fetch_add(1, std::memory_order_relaxed);
}
double ProfileBuildTimes::last_seconds(ProfileFormat f) const noexcept {
  return last_ns_[static_cast<std::size_t>(f)].load(std::memory_order_relaxed) / 1e9;
}
std::uint64_t ProfileBuildTimes::builds(ProfileFormat f) const noexcept {
  return builds_[static_cast<std::size_t>(f)].load(std::memory_order_relaxed);
}
const char* ProfileBuildTimes::name(ProfileFormat f) noexcept {
  switch (f) {
    case ProfileFormat::goroutine_proto: return "goroutine_debug0";
    case ProfileFormat::goroutine_delta: return "goroutine_delta";
    case ProfileFormat::goroutine_debug1: return "goroutine_debug1";
    case ProfileFormat::goroutine_debug2: return "goroutine_debug2";
    case ProfileFormat::fibers_json: return "fibers_json";
    case ProfileFormat::count: break;
  }
  return "unknown";
}

std::string render_metrics(const MetricsInputs& in) {
  PrometheusText m;
  std::map<FiberState, std::size_t> by_state{{FiberState::running, 0},
                                             {FiberState::runnable, 0},
                                             {FiberState::blocked, 0},
                                             {FiberState::sleeping, 0},
                                             {FiberState::yielded, 0}};
  std::map<std::string, std::pair<std::size_t, const DumpedFiber*>> sites;
  for (const DumpedFiber& f : in.dump.fibers) {
    ++by_state[f.state];
    if (f.state == FiberState::blocked || f.state == FiberState::sleeping) {
      auto& s = sites[park_site(f)];
      ++s.first;
      s.second = &f;
    }
  }
  m.family("fiberleak_fibers", "gauge", "Live fibers by state.");
  for (const auto& [state, n] : by_state) m.sample("fiberleak_fibers", {{"state", std::string(to_string(state))}}, n);

  m.family("fiberleak_fibers_created_total", "counter", "Fibers created since the program started (tracked threads).");
  m.sample("fiberleak_fibers_created_total", in.counters.fibers_created);

  m.family("fiberleak_leaked_fibers", "gauge", "Fibers the leak rules flag now (blocked past the threshold).");
  m.sample("fiberleak_leaked_fibers", in.findings.size());

  m.family("fiberleak_leaks", "gauge",
           "Leaked fibers now, by verdict (definite: provably never woken; suspect: past the threshold).");
  std::size_t definite = 0;
  for (const LeakFinding& f : in.findings) definite += f.verdict == Verdict::definite ? 1 : 0;
  m.sample("fiberleak_leaks", {{"verdict", "definite"}}, definite);
  m.sample("fiberleak_leaks", {{"verdict", "suspect"}}, in.findings.size() - definite);

  m.family("fiberleak_growing_park_sites", "gauge", "Park sites whose population keeps rising (verdict growing).");
  m.sample("fiberleak_growing_park_sites", in.growing.size());

  std::vector<std::pair<std::size_t, std::string>> top;
  for (const auto& [site, s] : sites) top.emplace_back(s.first, site);
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  if (top.size() > kTopParkSites) top.resize(kTopParkSites);
  m.family("fiberleak_park_site_fibers", "gauge", "Fibers parked at each of the most populated park sites.");
  for (const auto& [n, site] : top) {
    m.sample("fiberleak_park_site_fibers", {{"site", site}, {"wait", sites.at(site).second->wait_reason}}, n);
  }

  m.family("fiberleak_records_dropped_total", "counter", "Fibers that ran untracked because the registry was full.");
  m.sample("fiberleak_records_dropped_total", in.counters.records_dropped);
  m.family("fiberleak_stacks_dropped_total", "counter", "Stacks not recorded because the stack table was full.");
  m.sample("fiberleak_stacks_dropped_total", in.counters.stacks_dropped);
  m.family("fiberleak_stack_table_entries", "gauge", "Distinct stacks recorded.");
  m.sample("fiberleak_stack_table_entries", in.counters.stack_table_size);
  m.family("fiberleak_stack_table_capacity", "gauge", "Distinct stacks the table can hold.");
  m.sample("fiberleak_stack_table_capacity", in.counters.stack_table_capacity);
  m.family("fiberleak_threads_installed", "gauge", "Threads with fiberleak's scheduler installed.");
  m.sample("fiberleak_threads_installed", in.counters.threads_installed);

  m.family("fiberleak_profile_build_seconds", "gauge", "How long the latest build of each profile format took.");
  m.family("fiberleak_profile_builds_total", "counter", "Profiles built, by format.");
  for (std::size_t i = 0; i < static_cast<std::size_t>(ProfileFormat::count); ++i) {
    const auto f = static_cast<ProfileFormat>(i);
    m.sample("fiberleak_profile_build_seconds", {{"format", ProfileBuildTimes::name(f)}},
             in.build_times.last_seconds(f));
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(ProfileFormat::count); ++i) {
    const auto f = static_cast<ProfileFormat>(i);
    m.sample("fiberleak_profile_builds_total", {{"format", ProfileBuildTimes::name(f)}},
             static_cast<double>(in.build_times.builds(f)));
  }
  return m.text();
}

}  // namespace fiberleak::detail
