#include "daemon/scrape_command.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "daemon/sidecar.hpp"
#include "daemon/stop_signal.hpp"
#include "web/watchdog.hpp"

namespace fiberleak::detail {

Parsed<ScrapeArgs> parse_scrape_args(std::vector<std::string> items) {
  ScrapeArgs args;
  ArgList list(std::move(items));
  while (!list.done()) {
    const std::string flag = list.take();
    if (flag == "--log-format") {
      const std::optional<std::string> v = list.value();
      if (!v) return parse_error<ScrapeArgs>(missing_value(flag));
      if (!parse_log_format(*v, args.log_format))
        return parse_error<ScrapeArgs>("--log-format takes text or json, got \"" + *v + "\"");
      continue;
    }
    std::string* into = flag == "--config"       ? &args.config_path
                        : flag == "--listen"     ? &args.overrides.listen
                        : flag == "--log-level"  ? &args.overrides.log_level
                        : flag == "--token"      ? &args.overrides.token
                        : flag == "--token-file" ? &args.overrides.token_file
                                                 : nullptr;
    if (into == nullptr) return parse_error<ScrapeArgs>("scrape: unknown option \"" + flag + "\"");
    const std::optional<std::string> v = list.value();
    if (!v) return parse_error<ScrapeArgs>(missing_value(flag));
    *into = *v;
  }
  if (args.config_path.empty()) return parse_error<ScrapeArgs>("scrape needs --config FILE");
  return {args, ""};
}

ExitCode run_scrape(const ScrapeArgs& args) {
  const ConfigResult loaded = load_daemon_config(args.config_path, ConfigUse::scrape, args.overrides);
  if (!loaded.errors.empty()) return config_error(args.config_path, loaded.errors);
  const DaemonConfig& config = loaded.config;
  auto logger = default_logger();
  set_log_format(*logger, args.log_format, stderr_is_journal());
  logger->set_level(spdlog::level::from_str(config.log_level));
  Sidecar sidecar(config, logger,
                  [&args] { return load_daemon_config(args.config_path, ConfigUse::scrape, args.overrides); });
  try {
    sidecar.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fiberleakd: %s\n", e.what());
    return ExitCode::error;
  }
  logger->info(
      "scraping {} static target{} and {} discovery source{}; serving http://{}:{}/metrics, /api/targets, "
      "/api/findings; SIGHUP or POST /-/reload reloads {}",
      config.targets.size(), config.targets.size() == 1 ? "" : "s", config.file_sd.size() + config.http_sd.size(),
      config.file_sd.size() + config.http_sd.size() == 1 ? "" : "s", config.listen_host, sidecar.port(),
      args.config_path);
  while (wait_for_signal() == DaemonSignal::reload) sidecar.reload();
  logger->info("stopping");
  if (!sidecar.stop()) {
    // A scrape still connecting to a host that does not answer: the process
    // exits without waiting for it (nothing of it is kept).
    logger->warn("a scrape is still connecting after {} ms; exiting without it", Sidecar::kStopGrace.count());
    logger->flush();
    std::fflush(nullptr);
    std::_Exit(to_int(ExitCode::ok));
  }
  return ExitCode::ok;
}

}  // namespace fiberleak::detail
