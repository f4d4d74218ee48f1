#include "web/route_set.hpp"

#include <algorithm>
#include <mutex>

namespace fiberleak::detail {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<RouteSet> sets;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_route_set(RouteSet set) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = std::find_if(r.sets.begin(), r.sets.end(), [&](const RouteSet& s) { return s.name == set.name; });
  if (it != r.sets.end()) {
    *it = std::move(set);
  } else {
    r.sets.push_back(std::move(set));
  }
}

void unregister_route_set(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.sets.erase(std::remove_if(r.sets.begin(), r.sets.end(), [&](const RouteSet& s) { return s.name == name; }),
               r.sets.end());
}

std::vector<RouteSet> registered_route_sets() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.sets;
}

}  // namespace fiberleak::detail
