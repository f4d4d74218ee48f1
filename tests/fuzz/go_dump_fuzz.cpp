// libFuzzer: the Go goroutine dump parser (daemon/go_dump_parser.hpp) on any
// bytes a target may answer. A GoDumpError is the expected answer to
// garbage; anything else (a crash, ASan/UBSan report, other exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/go_dump_parser.hpp"
#include "profiler/leak_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    fiberleak::detail::FiberDump dump =
        fiberleak::detail::parse_go_dump(std::string_view(reinterpret_cast<const char*>(data), size));
    // What the sidecar does next with it: the leak rules and their reasons.
    fiberleak::LeakRules rules;
    rules.threshold = std::chrono::nanoseconds(0);
    for (const fiberleak::LeakFinding& f : fiberleak::detail::find_leaks(dump, rules)) {
      (void)fiberleak::detail::describe(f);
    }
  } catch (const fiberleak::detail::GoDumpError&) {
  }
  return 0;
}
