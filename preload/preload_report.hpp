// The one way the preload product (its bootstrap and companions) reports a problem: a single
// stderr line "fiberleak: PROGRAM (pid N): ...", never an exception or an
// abort in the host program.
#pragma once

#include <errno.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

namespace fiberleak::detail {

__attribute__((format(printf, 1, 2))) inline void preload_report(const char* format, ...) {
  std::fprintf(stderr, "fiberleak: %s (pid %d): ", program_invocation_short_name, static_cast<int>(getpid()));
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

}  // namespace fiberleak::detail
