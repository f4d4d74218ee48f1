#include "daemon/log_format.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "web/json_text.hpp"

namespace fiberleak::detail {
namespace {

// One JSON object a line; json_text() escapes and repairs the message.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  explicit JsonLogFormatter(bool with_time) : with_time_(with_time) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json line = nlohmann::json::object();
    if (with_time_) {
      const auto since = msg.time.time_since_epoch();
      const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since).count();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count() % 1000;
      std::tm tm{};
      gmtime_r(&secs, &tm);
      char buf[80];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
      line["ts"] = buf;
    }
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string(level.data(), level.size());
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string text = json_text(line) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLogFormatter>(with_time_); }

 private:
  bool with_time_;
};

// "<N>": the syslog priority of spdlog's level, as journald reads it.
class SyslogPriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char kPriority[] = {'7', '7', '6', '4', '3', '2', '6'};  // trace..critical, off
    const char p[] = {'<', kPriority[static_cast<int>(msg.level)], '>'};
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<SyslogPriorityFlag>(); }
};

}  // namespace

bool parse_log_format(const std::string& text, LogFormat& out) {
  if (text == "text") {
    out = LogFormat::text;
  } else if (text == "json") {
    out = LogFormat::json;
  } else {
    return false;
  }
  return true;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

void set_log_format(spdlog::logger& logger, LogFormat format, bool journal) {
  if (format == LogFormat::json) {
    logger.set_formatter(std::make_unique<JsonLogFormatter>(!journal));
  } else if (journal) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<SyslogPriorityFlag>('*').set_pattern("%*[%l] %v");
    logger.set_formatter(std::move(f));
  }  // text on a terminal or file: spdlog's default line, timestamp and all
}

}  // namespace fiberleak::detail
