#include "web/json_fields.hpp"

#include <algorithm>

#include "profiler/duration.hpp"

namespace fiberleak::detail {

using nlohmann::json;

JsonFields::JsonFields(const json& object, std::string path, std::vector<std::string>* errors, JsonNull nulls)
    : object_(object), path_(std::move(path)), errors_(errors), nulls_(nulls), is_object_(object.is_object()) {
  if (!is_object_) problem(path_.empty() ? "document" : path_, "expected an object");
}

void JsonFields::reject_unknown(std::initializer_list<std::string_view> known) {
  if (!is_object_) return;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) problem(at(it.key()), "unknown field");
  }
}

void JsonFields::problem(const std::string& path, const std::string& what) {
  if (errors_ == nullptr) throw JsonSchemaError(path + ": " + what);
  errors_->push_back(path + ": " + what);
}

std::string JsonFields::at(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string JsonFields::item(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

const json* JsonFields::find(std::string_view key) const {
  if (!is_object_) return nullptr;
  const auto it = object_.find(std::string(key));
  if (it == object_.end() || (it->is_null() && nulls_ == JsonNull::absent)) return nullptr;
  return &*it;
}

void JsonFields::schema(const char* expected) {
  std::string got;
  string("schema", got);
  if (got != expected) problem(at("schema"), "expected \"" + std::string(expected) + "\", got \"" + got + "\"");
}

void JsonFields::string(std::string_view key, std::string& out) {
  if (const json* v = find(key)) {
    if (!v->is_string()) return problem(at(key), "expected a string");
    out = v->get<std::string>();
  }
}

void JsonFields::boolean(std::string_view key, bool& out) {
  if (const json* v = find(key)) {
    if (!v->is_boolean()) return problem(at(key), "expected true or false");
    out = v->get<bool>();
  }
}

void JsonFields::strings(std::string_view key, std::vector<std::string>& out) {
  const json* arr = array(key, "expected an array of strings");
  if (arr == nullptr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    if (!(*arr)[i].is_string()) {
      problem(item(at(key), i), "expected a string");
      continue;
    }
    out.push_back((*arr)[i].get<std::string>());
  }
}

void JsonFields::duration(std::string_view key, std::int64_t& out_ns, const char* expected, std::int64_t min_ns,
                          std::int64_t max_ns) {
  if (const json* v = find(key)) {
    std::int64_t ns = 0;
    if (!v->is_string() || !parse_duration(v->get<std::string>(), ns) || ns < min_ns || ns > max_ns) {
      return problem(at(key), expected);
    }
    out_ns = ns;
  }
}

const json* JsonFields::array(std::string_view key, const char* expected) {
  const json* v = find(key);
  if (v == nullptr || v->is_array()) return v;
  problem(at(key), expected);
  return nullptr;
}

const json* JsonFields::object(std::string_view key, const char* expected) {
  const json* v = find(key);
  if (v == nullptr || v->is_object()) return v;
  problem(at(key), expected);
  return nullptr;
}

}  // namespace fiberleak::detail
