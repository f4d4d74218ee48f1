// How `fiberleakd demo` and `scrape` run until Ctrl-C: SIGINT and SIGTERM
// (and, for scrape, SIGHUP) set a flag that the wait polls every 100 ms (a
// signal handler may do no more than that). Call from the main thread only.
#pragma once

namespace fiberleak::detail {

// Installs the handlers and returns when SIGINT or SIGTERM has arrived,
// at once if one already has.
void wait_for_stop_signal();

enum class DaemonSignal {
  stop,    // SIGINT or SIGTERM
  reload,  // SIGHUP (systemd's ExecReload, Prometheus' convention): re-read the config
};
// As wait_for_stop_signal(), and returns `reload` once for each burst of
// SIGHUPs since the last call (a stop that arrived meanwhile goes first).
DaemonSignal wait_for_signal();
// Tests: forgets the signals that have arrived (the flags are process-wide).
void forget_signals();

}  // namespace fiberleak::detail
