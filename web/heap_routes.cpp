#include "web/heap_routes.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "profiler/heap_profile.hpp"
#include "web/delta_slot.hpp"
#include "web/query_params.hpp"
#include "web/route_set.hpp"

namespace fiberleak::detail {
namespace {

bool parse_int(const std::string& s, int lo, int hi, int& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  const int v = std::atoi(s.c_str());
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

void profile(const httplib::Request& req, httplib::Response& res, HeapProfileKind kind, int max_seconds) {
  int debug = 0, seconds = 0, gc = 0;
  for (const auto& [k, v] : req.params) {
    bool ok = false;
    if (k == "debug")
      ok = parse_int(v, 0, 2, debug);
    else if (k == "seconds")
      ok = parse_int(v, 1, max_seconds, seconds);
    else if (k == "gc")
      ok = parse_int(v, 0, 1, gc);
    if (!ok) return bad_request(res, kHeapUsage);
  }
  if (seconds > 0 && debug != 0) return bad_request(res, kHeapUsage);
  if (!heap_profiler_available()) {
    res.status = 503;
    res.set_content("heap profiler not active: link fiberleak::heap or LD_PRELOAD libfiberleak_heap.so\n",
                    "text/plain; charset=utf-8");
    return;
  }
  const char* name = kind == HeapProfileKind::heap ? "heap" : "allocs";
  if (debug != 0) {
    res.set_content(heap_text(collect_heap()), "text/plain; charset=utf-8");
    return;
  }
  if (seconds > 0) {
    const DeltaSlot slot = DeltaSlot::take();
    if (!slot.held()) return refuse_delta(res, seconds);
    const HeapData before = collect_heap();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const HeapData after = collect_heap();
    res.set_content(
        heap_profile(heap_delta(before, after), kind, Symbolizer::mappings(), after.taken_at_ns - before.taken_at_ns),
        "application/octet-stream");
    res.set_header("Content-Disposition", std::string("attachment; filename=\"") + name + "-delta.pb.gz\"");
    return;
  }
  res.set_content(heap_profile(collect_heap(), kind, Symbolizer::mappings()), "application/octet-stream");
  res.set_header("Content-Disposition", std::string("attachment; filename=\"") + name + ".pb.gz\"");
}

}  // namespace

void mount_heap_routes(httplib::Server& server, const std::string& prefix, int max_delta_seconds) {
  server.Get(prefix + "/debug/pprof/heap", [max_delta_seconds](const httplib::Request& req, httplib::Response& res) {
    profile(req, res, HeapProfileKind::heap, max_delta_seconds);
  });
  server.Get(prefix + "/debug/pprof/allocs", [max_delta_seconds](const httplib::Request& req, httplib::Response& res) {
    profile(req, res, HeapProfileKind::allocs, max_delta_seconds);
  });
  server.Get(prefix + "/debug/heap/fibers", [](const httplib::Request& req, httplib::Response& res) {
    if (!req.params.empty()) return bad_request(res, "usage: /debug/heap/fibers (no parameters)");
    std::string out = "# fiber_id estimated_live_bytes\n";
    for (const auto& [id, bytes] : heap_live_bytes_by_fiber(collect_heap()))
      out += std::to_string(id) + ' ' + std::to_string(bytes) + '\n';
    res.set_content(out, "text/plain; charset=utf-8");
  });
}

RouteSet heap_route_set(int max_delta_seconds) {
  auto live_samples = [] { return static_cast<std::int64_t>(collect_heap().live_samples); };
  auto sampled = [] { return static_cast<std::int64_t>(collect_heap().sampled_allocations); };
  return {"heap",
          [max_delta_seconds](httplib::Server& s, const std::string& prefix) {
            mount_heap_routes(s, prefix, max_delta_seconds);
          },
          {{"allocs", "allocs?debug=1", "A sampling of all past memory allocations.", sampled},
           {"heap", "heap?debug=1", "A sampling of memory allocations of live objects.", live_samples}},
          [] { return heap_metrics_text(); }};
}

void register_heap_routes(int max_delta_seconds) { register_route_set(heap_route_set(max_delta_seconds)); }

std::string heap_metrics_text() {
  if (!heap_profiler_available()) return {};
  const HeapData d = collect_heap();
  const HeapTotals t = heap_totals(d);
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, std::int64_t v) {
    out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' + name + ' ' +
           std::to_string(v) + '\n';
  };
  metric("fiberleak_heap_inuse_bytes", "gauge", "Estimated live heap bytes (sampled, unsampled by Go's scale).",
         t.inuse_bytes);
  metric("fiberleak_heap_inuse_objects", "gauge", "Estimated live heap objects.", t.inuse_objects);
  metric("fiberleak_heap_sampled_allocations_total", "counter", "Allocations the heap sampler recorded.",
         static_cast<std::int64_t>(d.sampled_allocations));
  metric("fiberleak_heap_dropped_samples_total", "counter", "Samples dropped because the sampler's tables were full.",
         static_cast<std::int64_t>(d.dropped_samples));
  metric("fiberleak_heap_sampling_rate_bytes", "gauge", "Mean bytes between heap samples (0: off).", d.rate);
  metric("fiberleak_heap_profiler_memory_bytes", "gauge",
         "Memory the heap sampler's tables use (buckets made, live-table slots).",
         static_cast<std::int64_t>(d.own_memory_bytes));
  return out;
}

}  // namespace fiberleak::detail
