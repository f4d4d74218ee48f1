#include "profiler/goroutine_profile.hpp"

#include <chrono>
#include <map>

#include "profiler/pprof_writer.hpp"

namespace fiberleak {
namespace {

struct Group {
  const DumpedFiber* example = nullptr;
  std::int64_t count = 0;
};

std::string group_key(const DumpedFiber& f) {
  std::string key;
  key.reserve(f.stack.size() * 24 + f.name.size() + 32);
  for (const DumpFrame& fr : f.stack) {
    key += std::to_string(fr.pc);
    key += fr.pc == 0 ? fr.function + ':' + std::to_string(fr.line) : std::string();
    key += ',';
  }
  key += '|';
  key += to_string(f.state);
  key += '|';
  key += f.wait_reason;
  key += '|';
  key += f.name;
  return key;
}

std::map<std::string, Group> group(const FiberDump& dump) {
  std::map<std::string, Group> groups;
  for (const DumpedFiber& f : dump.fibers) {
    Group& g = groups[group_key(f)];
    g.example = &f;
    ++g.count;
  }
  return groups;
}

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void add_group(ProfileBuilder& b, const DumpedFiber& f, std::int64_t count) {
  std::vector<SampleLabel> labels{{"state", std::string(to_string(f.state)), 0, ""}};
  if (f.wait != WaitKind::none) labels.push_back({"wait", f.wait_reason, 0, ""});
  if (!f.name.empty()) labels.push_back({"fiber", f.name, 0, ""});
  b.add_sample(b.locations(f.stack), {count}, labels);
}

ProfileBuilder make_builder(const std::vector<Mapping>& mappings) {
  ProfileBuilder b({{"goroutine", "count"}}, {"goroutine", "count"}, 1);
  b.set_mappings(mappings);
  return b;
}

}  // namespace

std::string goroutine_profile(const FiberDump& dump, const std::vector<Mapping>& mappings) {
  ProfileBuilder b = make_builder(mappings);
  for (const auto& [key, g] : group(dump)) add_group(b, *g.example, g.count);
  b.set_time(wall_now_ns(), 0);
  return b.gzipped();
}

std::string goroutine_delta_profile(const FiberDump& before, const FiberDump& after,
                                    const std::vector<Mapping>& mappings) {
  ProfileBuilder b = make_builder(mappings);
  const auto old_groups = group(before);
  const auto new_groups = group(after);
  for (const auto& [key, g] : new_groups) {
    auto it = old_groups.find(key);
    const std::int64_t delta = g.count - (it == old_groups.end() ? 0 : it->second.count);
    if (delta != 0) add_group(b, *g.example, delta);
  }
  for (const auto& [key, g] : old_groups) {
    if (new_groups.count(key) == 0) add_group(b, *g.example, -g.count);
  }
  b.set_time(wall_now_ns(), after.taken_at_ns - before.taken_at_ns);
  return b.gzipped();
}

}  // namespace fiberleak
