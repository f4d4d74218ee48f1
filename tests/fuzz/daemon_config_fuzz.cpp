// libFuzzer: fiberleakd's config loader (daemon/daemon_config.hpp), for
// both uses. Bad configs come back as errors in the result, never thrown.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/daemon_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (fiberleak::detail::ConfigUse use : {fiberleak::detail::ConfigUse::scrape, fiberleak::detail::ConfigUse::rules}) {
    (void)fiberleak::detail::parse_daemon_config(text, use);
  }
  return 0;
}
