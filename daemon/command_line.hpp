// What fiberleakd's commands (demo_command.hpp, scrape_command.hpp,
// check_command.hpp) share to read their arguments and report usage
// errors. Each command parses its arguments into a struct, or says why
// not, before anything runs, so tests exercise the parsers on their own.
//
// Error style: a parser returns Parsed<Args> with `error` set (one line,
// no "fiberleakd: " prefix); main() prints it with usage_error() and exits
// ExitCode::error. Not thread-safe (an ArgList is one parser's cursor).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daemon/exit_code.hpp"

namespace fiberleak::detail {

// The arguments after the command name, read in order.
class ArgList {
 public:
  explicit ArgList(std::vector<std::string> items) : items_(std::move(items)) {}
  bool done() const { return next_ >= items_.size(); }
  // The next argument; call only when !done().
  const std::string& take() { return items_[next_++]; }
  // The value of the flag just taken, or nullopt when the arguments end.
  std::optional<std::string> value() {
    if (done()) return std::nullopt;
    return take();
  }

 private:
  std::vector<std::string> items_;
  std::size_t next_ = 0;
};

template <typename Args>
struct Parsed {
  Args args;          // meaningful when `error` is empty
  std::string error;  // why the arguments are not usable ("--threads takes 1..64, got \"0\"")
};

template <typename Args>
Parsed<Args> parse_error(std::string message) {
  return Parsed<Args>{Args{}, std::move(message)};
}
inline std::string missing_value(const std::string& flag) { return flag + " needs a value"; }

// A flag's whole number: decimal digits only (no sign, no spaces), in
// [min, max]; false, `out` untouched, otherwise (overflow included).
bool parse_whole_number(const std::string& text, std::uint64_t min, std::uint64_t max, std::uint64_t& out);

// Prints "fiberleakd: MESSAGE" and where to look on stderr; ExitCode::error.
ExitCode usage_error(const std::string& message);
// Prints every problem of a config file on stderr (nothing was started);
// ExitCode::error.
ExitCode config_error(const std::string& path, const std::vector<std::string>& problems);

// Parses, then runs the command, or reports the usage error.
template <typename Args>
ExitCode run_parsed(const Parsed<Args>& parsed, ExitCode (*run)(const Args&)) {
  if (!parsed.error.empty()) return usage_error(parsed.error);
  return run(parsed.args);
}

}  // namespace fiberleak::detail
