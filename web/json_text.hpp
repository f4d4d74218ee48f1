// json_text(): the one place fiberleak turns a JSON value into text, for
// every document it writes (/debug/fibers, /debug/leaks, fiberleakd's
// /api/targets, /api/findings and webhook payloads, check --json, baseline
// files). Strings from outside (fiber names set by the program, symbols)
// may hold invalid UTF-8: each invalid byte is written as U+FFFD instead of
// nlohmann's default, an exception that would turn the answer into a 500.
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fiberleak::detail {

// indent -1: one line; N: pretty-printed with N spaces.
std::string json_text(const nlohmann::json& value, int indent = -1);

}  // namespace fiberleak::detail
