#include "profiler/heap_profile.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>
#include <tuple>

#include <fiberleak/runtime.hpp>

#include "profiler/dump_builder.hpp"
#include "profiler/pprof_writer.hpp"

// Weak: defined when the program links fiberleak::heap.
extern "C" std::size_t fiberleak_heap_bucket_count() noexcept __attribute__((weak));
extern "C" int fiberleak_heap_read_bucket(std::size_t, FiberleakHeapBucketRecord*) noexcept __attribute__((weak));
extern "C" void fiberleak_heap_read_stats(FiberleakHeapStatsRecord*) noexcept __attribute__((weak));
extern "C" void fiberleak_heap_configure(std::int64_t, std::uint64_t) noexcept __attribute__((weak));
extern "C" void fiberleak_heap_exclude_this_thread() noexcept __attribute__((weak));

namespace fiberleak::detail {
namespace {

struct SamplerApi {
  decltype(&fiberleak_heap_bucket_count) bucket_count = nullptr;
  decltype(&fiberleak_heap_read_bucket) read_bucket = nullptr;
  decltype(&fiberleak_heap_read_stats) read_stats = nullptr;
  decltype(&fiberleak_heap_configure) configure = nullptr;
  decltype(&fiberleak_heap_exclude_this_thread) exclude_this_thread = nullptr;
  bool ok() const { return bucket_count && read_bucket && read_stats && configure; }
};

const SamplerApi& api() {
  static const SamplerApi a = [] {
    SamplerApi s;
    s.bucket_count = fiberleak_heap_bucket_count;
    s.read_bucket = fiberleak_heap_read_bucket;
    s.read_stats = fiberleak_heap_read_stats;
    s.configure = fiberleak_heap_configure;
    s.exclude_this_thread = fiberleak_heap_exclude_this_thread;
    if (!s.ok()) {  // preloaded: look it up in the global scope
      s.bucket_count = reinterpret_cast<decltype(s.bucket_count)>(dlsym(RTLD_DEFAULT, "fiberleak_heap_bucket_count"));
      s.read_bucket = reinterpret_cast<decltype(s.read_bucket)>(dlsym(RTLD_DEFAULT, "fiberleak_heap_read_bucket"));
      s.read_stats = reinterpret_cast<decltype(s.read_stats)>(dlsym(RTLD_DEFAULT, "fiberleak_heap_read_stats"));
      s.configure = reinterpret_cast<decltype(s.configure)>(dlsym(RTLD_DEFAULT, "fiberleak_heap_configure"));
      s.exclude_this_thread =
          reinterpret_cast<decltype(s.exclude_this_thread)>(dlsym(RTLD_DEFAULT, "fiberleak_heap_exclude_this_thread"));
    }
    return s;
  }();
  return a;
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Go's scaleHeapSample.
std::pair<std::int64_t, std::int64_t> scaled(std::int64_t count, std::int64_t bytes, std::int64_t rate) {
  if (count <= 0 || bytes <= 0) return {0, 0};
  if (rate <= 1) return {count, bytes};
  const double avg = static_cast<double>(bytes) / static_cast<double>(count);
  const double scale = 1.0 / (1.0 - std::exp(-avg / static_cast<double>(rate)));
  return {static_cast<std::int64_t>(static_cast<double>(count) * scale),
          static_cast<std::int64_t>(static_cast<double>(bytes) * scale)};
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Frames of the allocation machinery above the code that asked for memory.
bool allocator_frame(const std::vector<DumpFrame>& frames) {
  for (const DumpFrame& f : frames) {
    const std::string_view n = f.function;
    if (starts_with(n, "operator new") || starts_with(n, "std::allocator") ||
        starts_with(n, "__gnu_cxx::new_allocator") || starts_with(n, "std::__new_allocator") ||
        starts_with(n, "std::allocator_traits") || starts_with(n, "fiberleak::heap::"))
      return true;
  }
  return false;
}

std::vector<DumpFrame> symbolize(const std::vector<std::uintptr_t>& stack) {
  Symbolizer& sym = Symbolizer::instance();
  std::vector<DumpFrame> out;
  bool leading = true;
  for (std::uintptr_t pc : stack) {
    const std::vector<DumpFrame>& frames = sym.frames(pc);
    if (leading && allocator_frame(frames)) continue;
    leading = false;
    out.insert(out.end(), frames.begin(), frames.end());
  }
  trim_to_entry(out);
  return out;
}

// A bucket's counters as the arithmetic below wants them: signed, since in
// a delta the live part (allocations minus frees in the window) can be
// negative.
struct SignedCounts {
  std::int64_t alloc_objects, alloc_bytes, inuse_objects, inuse_bytes;
};
SignedCounts signed_counts(const heap::HeapBucket& r) {
  const auto alloc_objects = static_cast<std::int64_t>(r.alloc_objects);
  const auto alloc_bytes = static_cast<std::int64_t>(r.alloc_bytes);
  return {alloc_objects, alloc_bytes, alloc_objects - static_cast<std::int64_t>(r.free_objects),
          alloc_bytes - static_cast<std::int64_t>(r.free_bytes)};
}

std::string fiber_label(const heap::HeapBucket& r) {
  if (r.fiber_id == 0) return {};
  if (!r.fiber_name.empty()) return r.fiber_name;
  return "fiber-" + std::to_string(r.fiber_id);
}

}  // namespace

void exclude_this_thread_from_heap_profile() noexcept {
  if (api().exclude_this_thread != nullptr) api().exclude_this_thread();
}

bool heap_profiler_available() { return api().ok(); }

bool set_heap_sampling(std::int64_t rate, std::uint64_t seed) {
  if (!api().ok()) return false;
  api().configure(rate, seed);
  return true;
}

HeapData collect_heap() {
  HeapData d;
  d.taken_at_ns = wall_ns();
  const SamplerApi& a = api();
  if (!a.ok()) return d;
  FiberleakHeapStatsRecord st{};
  a.read_stats(&st);
  d.rate = st.rate;
  d.sampled_allocations = st.sampled_allocations;
  d.dropped_samples = st.dropped_samples;
  d.live_samples = st.live_samples;
  d.own_memory_bytes = st.own_memory_bytes;
  const std::size_t n = a.bucket_count();
  d.records.reserve(n);
  FiberleakHeapBucketRecord b{};
  for (std::size_t i = 0; i < n; ++i) {
    if (a.read_bucket(i, &b) == 0) break;
    d.records.push_back(heap::to_heap_bucket(b));
  }
  const bool any_fiber =
      std::any_of(d.records.begin(), d.records.end(), [](const heap::HeapBucket& r) { return r.fiber_id != 0; });
  if (any_fiber) {
    for (FiberSnapshot& f : fiberleak::snapshot().fibers) {
      if (!f.labels.empty()) d.fiber_labels.emplace(to_integer(f.id), std::move(f.labels));
    }
  }
  return d;
}

HeapData heap_delta(const HeapData& before, const HeapData& after) {
  std::map<std::pair<std::vector<std::uintptr_t>, std::uint64_t>, const heap::HeapBucket*> old;
  for (const heap::HeapBucket& r : before.records) old[{r.stack, r.fiber_id}] = &r;
  HeapData d = after;
  d.records.clear();
  for (const heap::HeapBucket& r : after.records) {
    heap::HeapBucket x = r;
    if (auto it = old.find({r.stack, r.fiber_id}); it != old.end()) {
      x.alloc_objects -= it->second->alloc_objects;
      x.alloc_bytes -= it->second->alloc_bytes;
      x.free_objects -= it->second->free_objects;
      x.free_bytes -= it->second->free_bytes;
    }
    if (x.alloc_objects != 0 || x.free_objects != 0) d.records.push_back(std::move(x));
  }
  return d;
}

std::string heap_profile(const HeapData& data, HeapProfileKind kind, const std::vector<Mapping>& mappings,
                         std::int64_t duration_ns) {
  ProfileBuilder b(
      {{"alloc_objects", "count"}, {"alloc_space", "bytes"}, {"inuse_objects", "count"}, {"inuse_space", "bytes"}},
      {"space", "bytes"}, data.rate);
  b.set_mappings(mappings);
  b.set_time(data.taken_at_ns, duration_ns);
  b.set_default_sample_type(kind == HeapProfileKind::heap ? "inuse_space" : "alloc_space");
  for (const heap::HeapBucket& r : data.records) {
    const SignedCounts c = signed_counts(r);
    const auto [ao, ab] = scaled(c.alloc_objects, c.alloc_bytes, data.rate);
    const auto [io, ib] = scaled(c.inuse_objects, c.inuse_bytes, data.rate);
    if (ao == 0 && io == 0) continue;
    std::vector<SampleLabel> labels;
    if (const std::string f = fiber_label(r); !f.empty()) {
      labels.push_back({"fiber", f, 0, ""});
      labels.push_back({"fiber_id", "", static_cast<std::int64_t>(r.fiber_id), ""});
    }
    if (auto it = data.fiber_labels.find(r.fiber_id); it != data.fiber_labels.end()) {
      for (const Label& l : it->second) {
        if (l.key != "fiber") labels.push_back({l.key, l.value, 0, ""});
      }
    }
    b.add_sample(b.locations(symbolize(r.stack)), {ao, ab, io, ib}, labels);
  }
  return b.gzipped();
}

std::string heap_text(const HeapData& data) {
  HeapTotals raw;
  for (const heap::HeapBucket& r : data.records) {
    const SignedCounts c = signed_counts(r);
    raw.inuse_objects += c.inuse_objects;
    raw.inuse_bytes += c.inuse_bytes;
    raw.alloc_objects += c.alloc_objects;
    raw.alloc_bytes += c.alloc_bytes;
  }
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @ heap/%" PRId64 "\n",
                raw.inuse_objects, raw.inuse_bytes, raw.alloc_objects, raw.alloc_bytes, 2 * data.rate);
  out += line;
  for (const heap::HeapBucket& r : data.records) {
    if (r.alloc_objects == 0) continue;
    const SignedCounts c = signed_counts(r);
    std::snprintf(line, sizeof line, "%" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @", c.inuse_objects,
                  c.inuse_bytes, c.alloc_objects, c.alloc_bytes);
    out += line;
    // The stack as debug=0 has it: allocator frames and the fiber's entry
    // trampolines cut (the dashboard's heap flame graph reads this text).
    const std::vector<DumpFrame> frames = symbolize(r.stack);
    std::uint64_t last_pc = 0;
    for (const DumpFrame& f : frames) {
      if (f.pc != last_pc) {
        std::snprintf(line, sizeof line, " %#" PRIx64, f.pc);
        out += line;
      }
      last_pc = f.pc;
    }
    if (const std::string f = fiber_label(r); !f.empty()) out += " fiber=" + f;
    out += '\n';
    for (const DumpFrame& f : frames) {
      std::snprintf(line, sizeof line, "#\t%#" PRIx64 "\t", f.pc);
      out += line;
      out += f.function;
      out += '\t';
      out += f.file.empty() ? "?" : f.file;
      out += ':' + std::to_string(f.line) + '\n';
    }
    out += '\n';
  }
  return out;
}

std::vector<std::pair<std::uint64_t, std::int64_t>> heap_live_bytes_by_fiber(const HeapData& data) {
  std::map<std::uint64_t, std::int64_t> by;
  for (const heap::HeapBucket& r : data.records) {
    if (r.fiber_id == 0) continue;
    const SignedCounts c = signed_counts(r);
    const auto [o, bytes] = scaled(c.inuse_objects, c.inuse_bytes, data.rate);
    if (bytes > 0) by[r.fiber_id] += bytes;
  }
  return {by.begin(), by.end()};
}

void attach_heap_live_bytes(FiberDump& dump) {
  if (!heap_profiler_available()) return;
  std::map<std::uint64_t, std::int64_t> by;
  for (const auto& [id, bytes] : heap_live_bytes_by_fiber(collect_heap())) by.emplace(id, bytes);
  for (DumpedFiber& f : dump.fibers) {
    auto it = by.find(to_integer(f.id));
    f.heap_live_bytes = it == by.end() ? 0 : it->second;
  }
}

HeapTotals heap_totals(const HeapData& data) {
  HeapTotals t;
  for (const heap::HeapBucket& r : data.records) {
    const SignedCounts c = signed_counts(r);
    const auto [ao, ab] = scaled(c.alloc_objects, c.alloc_bytes, data.rate);
    const auto [io, ib] = scaled(c.inuse_objects, c.inuse_bytes, data.rate);
    t.alloc_objects += ao;
    t.alloc_bytes += ab;
    t.inuse_objects += io;
    t.inuse_bytes += ib;
  }
  return t;
}

}  // namespace fiberleak::detail
