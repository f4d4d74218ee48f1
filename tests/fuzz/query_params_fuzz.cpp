// libFuzzer: the endpoint's query-string parsers (web/query_params.hpp) on a
// query string split by httplib as its server does, and the duration parser
// (profiler/duration.hpp) on every value. Bad queries come back as a usage
// message, never an exception.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "profiler/duration.hpp"
#include "web/query_params.hpp"

namespace fl = fiberleak::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  httplib::Params params;
  httplib::detail::parse_query_text(query, params);
  fl::GoroutineParams goroutine;
  (void)fl::parse_goroutine_params(params, 300, goroutine);
  fl::FibersParams fibers;
  (void)fl::parse_fibers_params(params, fibers);
  (void)fl::parse_no_params(params, "/metrics");
  for (const auto& [key, value] : params) {
    std::int64_t ns = 0;
    if (fl::parse_duration(value, ns)) (void)fl::format_duration(ns);
  }
  return 0;
}
