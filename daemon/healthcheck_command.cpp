#include "daemon/healthcheck_command.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdio>

#include "profiler/duration.hpp"
#include "web/http_error.hpp"
#include "web/url.hpp"

namespace fiberleak::detail {

Parsed<HealthcheckArgs> parse_healthcheck_args(std::vector<std::string> items, const char* env_url) {
  HealthcheckArgs a;
  if (env_url != nullptr && *env_url != '\0') a.url = env_url;
  bool url_given = false;
  ArgList args(std::move(items));
  while (!args.done()) {
    const std::string item = args.take();
    if (item == "--timeout") {
      auto v = args.value();
      if (!v) return parse_error<HealthcheckArgs>(missing_value(item));
      std::int64_t ns = 0;
      if (!parse_duration(*v, ns) || ns <= 0 || ns > 3'600'000'000'000) {
        return parse_error<HealthcheckArgs>("--timeout takes a duration from 1ms to 1h, got \"" + *v + "\"");
      }
      a.timeout_ns = ns;
    } else if (item.rfind("--", 0) == 0) {
      return parse_error<HealthcheckArgs>("healthcheck: unknown option \"" + item + "\"");
    } else if (url_given) {
      return parse_error<HealthcheckArgs>("healthcheck: one URL only");
    } else {
      a.url = item;
      url_given = true;
    }
  }
  if (!parse_http_url(a.url)) return parse_error<HealthcheckArgs>("healthcheck: not an http:// URL: \"" + a.url + "\"");
  return {a, ""};
}

ExitCode run_healthcheck(const HealthcheckArgs& args) {
  const auto url = parse_http_url(args.url);  // checked by the parser
  httplib::Client client(url->origin);
  const auto timeout = std::chrono::nanoseconds(args.timeout_ns);
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  client.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
  const auto response = client.Get(url->path.empty() ? "/" : url->path);
  if (!response) {
    std::fprintf(stderr, "fiberleakd: healthcheck: %s: %s\n", args.url.c_str(),
                 describe_http_error(response.error()).c_str());
    return ExitCode::error;
  }
  if (response->status != 200) {
    std::fprintf(stderr, "fiberleakd: healthcheck: %s: HTTP %d\n", args.url.c_str(), response->status);
    return ExitCode::error;
  }
  return ExitCode::ok;
}

}  // namespace fiberleak::detail
