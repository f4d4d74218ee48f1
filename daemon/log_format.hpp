// How fiberleakd's log lines look (--log-format text|json), and what
// changes under systemd: when stderr is the journal (JOURNAL_STREAM names
// stderr's device and inode, systemd.exec(5)), journald stamps each line
// itself, so no timestamp is written, and text lines start with the
// syslog priority prefix "<4>" that journald turns into the entry's PRIORITY
// (sd-daemon(3)). JSON lines are one object each:
//   {"ts":"2026-12-01T15:04:05.123Z","level":"warn","logger":"fiberleak","msg":"..."}
// (no "ts" under the journal), the message's invalid UTF-8 replaced.
// Call before any thread logs.
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace fiberleak::detail {

enum class LogFormat { text, json };

// False, `out` untouched, for anything but "text" or "json".
bool parse_log_format(const std::string& text, LogFormat& out);
// True when stderr is the systemd journal's stream.
bool stderr_is_journal();
void set_log_format(spdlog::logger& logger, LogFormat format, bool journal);

}  // namespace fiberleak::detail
