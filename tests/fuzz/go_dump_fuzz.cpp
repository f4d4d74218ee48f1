// libFuzzer: the Go goroutine dump parser (daemon/go_dump_parser.hpp) on any
// bytes a target may answer. A GoDumpError is the expected answer to
// garbage; anything else (a crash, ASan/UBSan report, other exception) is a bug.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "daemon/go_dump_parser.hpp"
#include "profiler/leak_rules.hpp"
#include "web/fiber_json.hpp"
#include "web/json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fiberleak::detail::FiberDump dump =
        fiberleak::detail::parse_go_dump(std::string_view(reinterpret_cast<const char*>(data), size));
    // What the sidecar and check do next with it: the leak rules, their
    // reasons and the JSON written from them.
    fiberleak::LeakRules rules;
    rules.threshold = std::chrono::nanoseconds(0);
    const std::vector<fiberleak::LeakFinding> findings = fiberleak::detail::find_leaks(dump, rules);
    for (const fiberleak::LeakFinding& f : findings) (void)fiberleak::detail::describe(f);
    (void)fiberleak::detail::json_text(fiberleak::detail::findings_to_json(findings, {}));
    (void)fiberleak::detail::fibers_json_text(dump, {});
  } catch (const fiberleak::detail::GoDumpError&) {
  }
  return 0;
}
