// Routes other modules add to every endpoint (the heap profiler's
// /debug/pprof/heap and /allocs, for instance) without editing web/endpoint.
//
//   fiberleak::detail::register_route_set({
//       "heap",
//       [](httplib::Server& s, const std::string& prefix) { mount_heap_routes(s, prefix); },
//       {{"heap", "heap?debug=1", "Sampled live memory.", [] { return live_objects(); }}},
//       [] { return heap_metrics_text(); }});
//
// A set registered before serve()/mount() is mounted by them under the same
// prefix, listed on /debug/pprof/ (with its count) and its metrics text is
// appended to /metrics. Registering a name twice replaces the first set.
// Thread-safe (a mutex; registration is a startup-time operation).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fiberleak::detail {

// One row of the /debug/pprof/ index.
struct ProfileIndexEntry {
  std::string name;         // "heap"
  std::string link;         // relative to /debug/pprof/: "heap?debug=1"
  std::string description;  // one sentence
  // The count column; empty function or a negative value: left blank.
  std::function<std::int64_t()> count;
};

struct RouteSet {
  std::string name;
  // Adds the routes under `prefix` ("" or e.g. "/admin").
  std::function<void(httplib::Server&, const std::string& prefix)> mount;
  std::vector<ProfileIndexEntry> index;
  // Complete Prometheus text families (HELP/TYPE/samples) for /metrics;
  // may be empty. Names must not clash with fiberleak_fibers* families.
  std::function<std::string()> metrics;
};

void register_route_set(RouteSet set);
// Removes a set by name (later serve()/mount() calls no longer mount it).
void unregister_route_set(const std::string& name);
// A copy of the registered sets, in registration order.
std::vector<RouteSet> registered_route_sets();

}  // namespace fiberleak::detail
