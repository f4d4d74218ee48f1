#include "web/query_params.hpp"

#include <charconv>

#include "profiler/duration.hpp"

namespace fiberleak::detail {
namespace {

bool parse_limit(const std::string& text, std::size_t& out) {
  const char* end = text.data() + text.size();
  std::size_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || v < 1 || v > 10'000'000) return false;
  out = v;
  return true;
}

bool parse_int(const std::string& text, int& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::string unknown_params(const httplib::Params& params, std::initializer_list<const char*> known, const char* usage) {
  for (const auto& [key, value] : params) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) return "unknown parameter \"" + key + "\"; " + usage;
  }
  return {};
}

}  // namespace

std::string parse_goroutine_params(const httplib::Params& params, int max_seconds, GoroutineParams& out) {
  if (auto err = unknown_params(params, {"debug", "seconds", "gc"}, kGoroutineUsage); !err.empty()) return err;
  bool has_debug = false;
  for (const auto& [key, value] : params) {
    if (key == "debug") {
      has_debug = true;
      if (!parse_int(value, out.debug) || out.debug < 0 || out.debug > 2) {
        return "debug must be 0, 1 or 2, got \"" + value + "\"; " + kGoroutineUsage;
      }
    } else if (key == "seconds") {
      if (!parse_int(value, out.seconds) || out.seconds < 1 || out.seconds > max_seconds) {
        return "seconds must be a whole number from 1 to " + std::to_string(max_seconds) + ", got \"" + value + "\"; " +
               kGoroutineUsage;
      }
    }
  }
  if (out.seconds > 0 && has_debug && out.debug != 0) {
    return std::string("seconds is supported only with debug=0 (a delta profile); ") + kGoroutineUsage;
  }
  return {};
}

std::string parse_fibers_params(const httplib::Params& params, FibersParams& out) {
  if (auto err =
          unknown_params(params, {"state", "min_blocked", "name", "label", "leaks", "stacks", "limit"}, kFibersUsage);
      !err.empty()) {
    return err;
  }
  for (const auto& [key, value] : params) {
    if (key == "state") {
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = value.find(',', start);
        const std::string word = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        FiberState s;
        if (!parse_state(word, s)) {
          return "unknown state \"" + word + "\" (running, runnable, blocked, sleeping, yielded); " + kFibersUsage;
        }
        out.states.insert(s);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (key == "min_blocked") {
      if (!parse_duration(value, out.min_blocked_ns)) {
        return "min_blocked must be a duration like 500ms, 30s or 2m, got \"" + value + "\"; " + kFibersUsage;
      }
    } else if (key == "name") {
      out.name = value;
    } else if (key == "label") {
      const std::size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0) {
        return "label must be key:value, got \"" + value + "\"; " + kFibersUsage;
      }
      out.labels.push_back(value);
    } else if (key == "stacks") {
      if (value != "inline" && value != "shared")
        return "stacks must be inline or shared, got \"" + value + "\"; " + kFibersUsage;
      out.shared_stacks = value == "shared";
    } else if (key == "leaks") {
      if (value != "0" && value != "1" && value != "true" && value != "false") {
        return "leaks must be 0 or 1, got \"" + value + "\"; " + kFibersUsage;
      }
      out.leaks_only = value == "1" || value == "true";
    } else if (key == "limit") {
      if (!parse_limit(value, out.limit)) return "limit must be 1..10000000, got \"" + value + "\"; " + kFibersUsage;
    }
  }
  return {};
}

std::string parse_leaks_params(const httplib::Params& params, std::size_t& limit) {
  if (auto err = unknown_params(params, {"limit"}, kLeaksUsage); !err.empty()) return err;
  for (const auto& [key, value] : params) {
    if (!parse_limit(value, limit)) return "limit must be 1..10000000, got \"" + value + "\"; " + kLeaksUsage;
  }
  return {};
}

void bad_request(httplib::Response& res, const std::string& message) {
  res.status = 400;
  res.set_content(message + "\n", "text/plain; charset=utf-8");
}

std::string parse_no_params(const httplib::Params& params, const char* route) {
  if (params.empty()) return {};
  return "unknown parameter \"" + params.begin()->first + "\"; usage: " + route + " takes no parameters";
}

}  // namespace fiberleak::detail
