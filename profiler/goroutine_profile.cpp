#include "profiler/goroutine_profile.hpp"

#include <chrono>
#include <map>
#include <tuple>
#include <unordered_map>

#include "profiler/pprof_writer.hpp"

namespace fiberleak::detail {
namespace {

struct Group {
  const DumpedFiber* example = nullptr;
  std::int64_t count = 0;
};

// Fibers group by stack and labels. Stacks are compared by identity first
// (dumps built in-process share one object per stack) and by content only
// once per distinct object.
struct GroupKey {
  std::string stack;  // content key of the stack
  FiberState state;
  std::string wait_reason;
  std::vector<Label> labels;  // shown_labels()
  bool operator<(const GroupKey& o) const {
    return std::tie(stack, state, wait_reason, labels) < std::tie(o.stack, o.state, o.wait_reason, o.labels);
  }
};

std::map<GroupKey, Group> group(const FiberDump& dump) {
  StackKeys keys;
  std::map<GroupKey, Group> groups;
  for (const DumpedFiber& f : dump.fibers) {
    Group& g = groups[GroupKey{keys.key(f.stack), f.state, f.wait_reason, f.shown_labels()}];
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
  for (const Label& l : f.shown_labels()) labels.push_back({l.key, l.value, 0, ""});
  if (f.stack.empty()) {
    // A running fiber's live stack is not captured (only its own thread
    // could take it). pprof drops samples without locations, so such fibers
    // get one placeholder frame and the counts still add up to the total.
    static const std::vector<DumpFrame> placeholder{DumpFrame{0, "(stack not captured)", "", 0, false}};
    b.add_sample(b.locations(placeholder), {count}, labels);
    return;
  }
  b.add_sample(b.locations(f.stack.frames()), {count}, labels);
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

}  // namespace fiberleak::detail
