// How `fiberleakd demo` and `scrape` run until Ctrl-C: SIGINT and SIGTERM
// set a flag that wait_for_stop_signal() polls every 100 ms (a signal
// handler may do no more than that). Call from the main thread only.
#pragma once

namespace fiberleak::detail {

// Installs the handlers and returns when either signal has arrived,
// at once if one already has.
void wait_for_stop_signal();

}  // namespace fiberleak::detail
