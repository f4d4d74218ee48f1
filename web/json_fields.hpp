// JsonFields: the one reader of JSON object fields with type checks, for
// every JSON document fiberleak reads (web/fiber_json.cpp's fibers/v1 and
// leaks/v1, fiberleakd's config and check baseline).
//
// Each problem is reported with its JSON path ("fibers[3].stack[0].line:
// expected an integer"). Two error styles, chosen by the caller:
// - errors == nullptr: the first problem throws JsonSchemaError (decoders
//   of documents fiberleak wrote itself: one bad field and the rest is moot);
// - errors != nullptr: every problem is appended and reading goes on (a
//   config, whose author wants all of them at once).
// A missing field leaves its output untouched (the output's default), and so
// does a field with a problem. Numbers are checked against the range of the
// output type here, so nothing from outside reaches arithmetic unchecked.
//
// Not thread-safe; the JSON it reads must outlive it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fiberleak/fiber_state.hpp>

namespace fiberleak::detail {

// A document did not decode: what() is "path: problem".
class JsonSchemaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a JSON null in a field means.
enum class JsonNull {
  absent,   // the same as a missing field (wire formats: null is "unknown")
  invalid,  // a problem of the field's type (config files)
};

class JsonFields {
 public:
  // `path` is the object's own ("" for the document, "targets[2]").
  JsonFields(const nlohmann::json& object, std::string path, std::vector<std::string>* errors,
             JsonNull nulls = JsonNull::absent);

  // Reports every field not in `known` as "unknown field".
  void reject_unknown(std::initializer_list<std::string_view> known);
  // Reports a problem at `path`: throws JsonSchemaError or records it.
  void problem(const std::string& path, const std::string& what);

  std::string at(std::string_view key) const;
  static std::string item(const std::string& path, std::size_t index);  // "path[index]"
  // The field, or nullptr when missing (or null under JsonNull::absent, or
  // when this is no object).
  const nlohmann::json* find(std::string_view key) const;

  // "schema" must be exactly `expected`.
  void schema(const char* expected);
  void string(std::string_view key, std::string& out);
  void boolean(std::string_view key, bool& out);
  // Any integer that fits T ("expected an integer", "expected a
  // non-negative integer", "expected an integer from MIN to MAX").
  template <typename T>
  void integer(std::string_view key, T& out);
  template <typename T>
  void optional_integer(std::string_view key, std::optional<T>& out);
  // An integer in [min, max]; any problem is reported as `expected`.
  template <typename T>
  void integer(std::string_view key, T& out, T min, T max, const char* expected);
  // A fiber id (a non-negative integer), and an array of them.
  void id(std::string_view key, FiberId& out) {
    std::uint64_t v = to_integer(out);
    integer(key, v);
    out = static_cast<FiberId>(v);
  }
  void ids(std::string_view key, std::vector<FiberId>& out) {
    std::vector<std::uint64_t> v;
    integers(key, v);
    out.clear();
    for (std::uint64_t id : v) out.push_back(static_cast<FiberId>(id));
  }
  // An array of integers that fit T; an element's problem names its index.
  template <typename T>
  void integers(std::string_view key, std::vector<T>& out);
  void strings(std::string_view key, std::vector<std::string>& out);
  // A duration string ("30s", profiler/duration.hpp) from min_ns to max_ns;
  // any problem is reported as `expected`.
  void duration(std::string_view key, std::int64_t& out_ns, const char* expected, std::int64_t min_ns = 0,
                std::int64_t max_ns = std::numeric_limits<std::int64_t>::max());
  // The field if it is an array (object), else a problem and nullptr.
  const nlohmann::json* array(std::string_view key, const char* expected = "expected an array");
  const nlohmann::json* object(std::string_view key, const char* expected = "expected an object");

 private:
  template <typename T>
  static std::string read_integer(const nlohmann::json& value, T& out);
  template <typename T>
  bool read_integer(const nlohmann::json& value, const std::string& path, T& out);

  const nlohmann::json& object_;
  std::string path_;
  std::vector<std::string>* errors_;
  JsonNull nulls_;
  bool is_object_;
};

// Why `value` is no T ("" when it is one, stored in `out`).
template <typename T>
std::string JsonFields::read_integer(const nlohmann::json& value, T& out) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (!value.is_number_integer()) return "expected an integer";
  if (std::is_unsigned_v<T> && !value.is_number_unsigned()) return "expected a non-negative integer";
  constexpr T kMin = std::numeric_limits<T>::min();
  constexpr T kMax = std::numeric_limits<T>::max();
  const bool fits = value.is_number_unsigned()
                        ? value.get<std::uint64_t>() <= static_cast<std::uint64_t>(kMax)
                        : value.get<std::int64_t>() >= static_cast<std::int64_t>(kMin) &&
                              (std::is_unsigned_v<T> || value.get<std::int64_t>() <= static_cast<std::int64_t>(kMax));
  if (!fits) return "expected an integer from " + std::to_string(kMin) + " to " + std::to_string(kMax);
  out = value.get<T>();
  return "";
}

template <typename T>
bool JsonFields::read_integer(const nlohmann::json& value, const std::string& path, T& out) {
  const std::string why = read_integer(value, out);
  if (!why.empty()) problem(path, why);
  return why.empty();
}

template <typename T>
void JsonFields::integer(std::string_view key, T& out) {
  if (const nlohmann::json* v = find(key)) read_integer(*v, at(key), out);
}

template <typename T>
void JsonFields::optional_integer(std::string_view key, std::optional<T>& out) {
  T v{};
  if (const nlohmann::json* j = find(key); j != nullptr && read_integer(*j, at(key), v)) out = v;
}

template <typename T>
void JsonFields::integer(std::string_view key, T& out, T min, T max, const char* expected) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return;
  T value{};
  if (!read_integer(*v, value).empty() || value < min || value > max) return problem(at(key), expected);
  out = value;
}

template <typename T>
void JsonFields::integers(std::string_view key, std::vector<T>& out) {
  const nlohmann::json* arr = array(key);
  if (arr == nullptr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    T v{};
    if (read_integer((*arr)[i], item(at(key), i), v)) out.push_back(v);
  }
}

}  // namespace fiberleak::detail
