// json_text(): the one place fiberleak turns a JSON value into text, for
// every document it writes (/debug/fibers, /debug/leaks, fiberleakd's
// /api/targets, /api/findings and webhook payloads, check --json, baseline
// files). Strings from outside (fiber names set by the program, symbols)
// may hold invalid UTF-8: each invalid byte is written as U+FFFD instead of
// nlohmann's default, an exception that would turn the answer into a 500.
//
// JsonWriter writes a document straight to text, value by value, for the
// one too big to build as a DOM first: /debug/fibers (100k fibers' DOM
// took ~100 times as long as writing their debug=2 text;
// bench/web/fibers_json_bench). It writes the bytes json_text() writes for
// the same value, layout and escaping included: any string but plain
// printable ASCII goes through json_text() itself. Keys come out in the
// order given: give them sorted, as nlohmann's objects hold them.
// Stateless function; a JsonWriter is one document, one thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace fiberleak::detail {

// indent -1: one line; N: pretty-printed with N spaces.
std::string json_text(const nlohmann::json& value, int indent = -1);

class JsonWriter {
 public:
  explicit JsonWriter(int indent = -1) : indent_(indent) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // In an object: the key of the value written next.
  void key(std::string_view k);

  void string(std::string_view s);
  template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  void number(T v) {
    if constexpr (std::is_signed_v<T>) {
      integer(v);
    } else {
      unsigned_integer(v);
    }
  }
  void boolean(bool v);
  void null();
  // A small DOM, in place (its objects' keys are sorted already).
  void value(const nlohmann::json& v);

  // The text; the writer is empty afterwards.
  std::string take();

 private:
  void integer(std::int64_t v);
  void unsigned_integer(std::uint64_t v);
  void before_value();
  void open(char bracket);
  void close(char bracket);
  void newline(std::size_t depth);
  void escaped(std::string_view s);

  const int indent_;
  std::string out_;
  std::vector<std::size_t> counts_;  // values so far in each open container
  bool after_key_ = false;
};

}  // namespace fiberleak::detail
