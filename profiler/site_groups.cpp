#include "profiler/site_groups.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>

#include "profiler/byte_size.hpp"
#include "profiler/duration.hpp"

namespace fiberleak::detail {
namespace {

template <typename T>
T saturating_add(T a, T b) {
  T sum;
  return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::min())
                                            : sum;
}

}  // namespace

std::vector<SiteGroup> group_by_site(const std::vector<LeakFinding>& findings,
                                     const std::vector<GrowingSite>& growing) {
  std::vector<const LeakFinding*> all;
  all.reserve(findings.size());
  for (const LeakFinding& f : findings) all.push_back(&f);
  return group_by_site(all, growing);
}

std::vector<SiteGroup> group_by_site(const std::vector<const LeakFinding*>& findings,
                                     const std::vector<GrowingSite>& growing) {
  std::vector<const LeakFinding*> longest_first = findings;
  std::stable_sort(longest_first.begin(), longest_first.end(),
                   [](const LeakFinding* a, const LeakFinding* b) { return a->blocked_ns > b->blocked_ns; });
  std::map<std::string, SiteGroup> by_site;
  std::map<std::string, std::set<std::uint64_t>> primitives;
  for (const LeakFinding* f : longest_first) {
    SiteGroup& g = by_site[f->site];
    g.site = f->site;
    g.fibers.push_back(f->fiber_id);
    if (!g.oldest) g.oldest = *f;
    if (f->waits_on != 0) primitives[f->site].insert(f->waits_on);
    g.stack_bytes = saturating_add(g.stack_bytes, f->stack_bytes);
    if (f->heap_live_bytes) g.heap_live_bytes = saturating_add(g.heap_live_bytes.value_or(0), *f->heap_live_bytes);
    if (f->verdict == Verdict::definite || g.verdict.empty()) g.verdict = std::string(to_string(f->verdict));
  }
  for (const GrowingSite& s : growing) {
    SiteGroup& g = by_site[s.site];
    g.site = s.site;
    g.growing = s;
    if (g.verdict.empty()) g.verdict = "growing";
  }
  std::vector<SiteGroup> out;
  out.reserve(by_site.size());
  for (auto& [site, g] : by_site) {
    g.primitives = primitives[site].size();
    out.push_back(std::move(g));
  }
  auto rank = [](const SiteGroup& g) { return g.verdict == "definite" ? 0 : g.verdict == "suspect" ? 1 : 2; };
  std::stable_sort(out.begin(), out.end(), [&](const SiteGroup& a, const SiteGroup& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    const std::size_t na = a.oldest ? a.fibers.size() : a.growing->fibers;
    const std::size_t nb = b.oldest ? b.fibers.size() : b.growing->fibers;
    return na > nb;
  });
  return out;
}

std::string describe(const SiteGroup& g) {
  std::string out = g.verdict == "definite"  ? "definite leak: "
                    : g.verdict == "suspect" ? "leak suspect: "
                                             : "growing site: ";
  if (g.oldest) {
    const LeakFinding& o = *g.oldest;
    out += std::to_string(g.fibers.size()) + (g.fibers.size() == 1 ? " fiber at " : " fibers at ") + g.site;
    if (g.primitives > 1) out += " (on " + std::to_string(g.primitives) + " primitives)";
    out += g.fibers.size() == 1 ? ": fiber " : ", the oldest fiber ";
    out += std::to_string(to_integer(o.fiber_id));
    if (!o.name.empty()) out += " \"" + o.name + "\"";
    out += " for " + std::string(o.blocked_exact ? "" : "at least ") + format_duration(o.blocked_ns);
    const char* sep = ", holding ";
    if (g.stack_bytes != 0) {
      out +=
          sep + ("stack " + format_bytes(static_cast<std::int64_t>(std::min<std::uint64_t>(g.stack_bytes, INT64_MAX))));
      sep = ", ";
    }
    if (g.heap_live_bytes) out += sep + ("heap " + format_bytes(*g.heap_live_bytes));
    if (!o.reason.empty()) out += " (" + o.reason + ")";
  } else {
    out += std::to_string(g.growing->fibers) + " fibers at " + g.site;
  }
  if (g.growing) out += "; growing: " + g.growing->reason;
  return out;
}

}  // namespace fiberleak::detail
