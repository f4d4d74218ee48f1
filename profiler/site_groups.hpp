// Site groups: leak findings as a person reads them, one group per park
// site instead of one line per fiber (a pile-up of 1,600 fibers at one site
// is one line). The JSON outputs keep every finding and add the groups;
// `fiberleakd check` and the logs print the groups.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <fiberleak/leak_rules.hpp>

namespace fiberleak::detail {

struct SiteGroup {
  std::string site;  // LeakFinding::site / GrowingSite::site
  // "definite" when any of its findings is, else "suspect"; "growing" for a
  // growing site none of whose fibers is a finding yet.
  std::string verdict;
  std::vector<FiberId> fibers;         // its findings' fibers, longest blocked first
  std::size_t primitives = 0;          // distinct primitives they wait on (0: unknown)
  std::optional<LeakFinding> oldest;   // its longest blocked finding (none: growing only)
  std::optional<GrowingSite> growing;  // when the site is growing too
  // What its fibers hold, summed (saturating): reserved stacks (0 unknown)
  // and estimated live heap (none unless known for some of them).
  std::uint64_t stack_bytes = 0;
  std::optional<std::int64_t> heap_live_bytes;
};

// Definite groups first, then by number of fibers, then growing-only sites.
std::vector<SiteGroup> group_by_site(const std::vector<LeakFinding>& findings, const std::vector<GrowingSite>& growing);
// The same over findings held elsewhere (copies only each site's oldest).
std::vector<SiteGroup> group_by_site(const std::vector<const LeakFinding*>& findings,
                                     const std::vector<GrowingSite>& growing);

// One line: `definite leak: 3 fibers at mutex lock @ f() at a.cpp:9, the
// oldest fiber 7 "w" for 2m0s (deadlock: ...)`, `leak suspect: 1 fiber at
// ...: fiber 9 for ...`, `growing site: 40 fibers at ...`; a growing site
// adds its reason ("; growing: ...").
std::string describe(const SiteGroup& group);

}  // namespace fiberleak::detail
