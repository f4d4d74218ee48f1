// libFuzzer: the one URL parser of fiberleakd's targets, webhook and `check
// URL` (web/url.hpp), and the mount prefix taken from its path.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "web/url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const std::optional<fiberleak::detail::HttpUrl> url = fiberleak::detail::parse_http_url(text)) {
    (void)fiberleak::detail::endpoint_prefix(url->path);
  }
  (void)fiberleak::detail::endpoint_prefix(text);
  return 0;
}
