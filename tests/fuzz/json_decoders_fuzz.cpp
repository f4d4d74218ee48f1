// libFuzzer: every JSON decoder of documents from outside — fibers/v1 (what
// fiberleakd reads from each fiberleak target's /debug/fibers), leaks/v1
// (/debug/leaks) and baseline/v1 (check --baseline FILE) — on the same
// input, then what follows each: the leak rules and the JSON writers (the
// fibers writer checked against nlohmann's layout of its own output).
// JsonSchemaError is the expected answer to a bad document.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/baseline.hpp"
#include "profiler/leak_rules.hpp"
#include "web/fiber_json.hpp"
#include "web/json_text.hpp"

namespace fl = fiberleak::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const fl::FiberDump dump = fl::fibers_from_json_text(text);
    fiberleak::LeakRules rules;
    rules.threshold = std::chrono::nanoseconds(0);
    const std::vector<fiberleak::LeakFinding> findings = fl::find_leaks(dump, rules);
    for (const fiberleak::LeakFinding& f : findings) (void)fl::describe(f);
    // The streaming writer writes what nlohmann would for the same value.
    for (int indent : {-1, 2}) {
      const std::string written = fl::fibers_json_text(dump, {}, nullptr, indent < 0, indent);
      if (fl::json_text(nlohmann::json::parse(written), indent) != written) __builtin_trap();
    }
    (void)fl::json_text(fl::findings_to_json(findings, {}));
  } catch (const fl::JsonSchemaError&) {
  }
  try {
    const fl::Findings found = fl::findings_from_json_text(text);
    for (const fiberleak::LeakFinding& f : found.leaks) (void)fl::describe(f);
    (void)fl::json_text(fl::findings_to_json(found.leaks, found.growing), 2);
  } catch (const fl::JsonSchemaError&) {
  }
  try {
    const fl::SiteCounts sites = fl::baseline_from_json_text(text);
    (void)fl::grown_sites(sites, sites, 0);
    (void)fl::json_text(fl::baseline_to_json(sites));
  } catch (const fl::JsonSchemaError&) {
  }
  return 0;
}
