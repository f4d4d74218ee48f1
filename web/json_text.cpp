#include "web/json_text.hpp"

#include <algorithm>
#include <charconv>

namespace fiberleak::detail {

std::string json_text(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonWriter::newline(std::size_t depth) {
  if (indent_ < 0) return;
  out_ += '\n';
  out_.append(depth * static_cast<std::size_t>(indent_), ' ');
}

// A value's separator and line: none right after its key.
void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (counts_.empty()) return;
  if (counts_.back()++ > 0) out_ += ',';
  newline(counts_.size());
}

void JsonWriter::open(char bracket) {
  before_value();
  out_ += bracket;
  counts_.push_back(0);
}

// An empty container closes on its line ("{}", "[]"), as nlohmann writes it.
void JsonWriter::close(char bracket) {
  const bool empty = counts_.back() == 0;
  counts_.pop_back();
  if (!empty) newline(counts_.size());
  out_ += bracket;
}

void JsonWriter::begin_object() { open('{'); }
void JsonWriter::end_object() { close('}'); }
void JsonWriter::begin_array() { open('['); }
void JsonWriter::end_array() { close(']'); }

void JsonWriter::escaped(std::string_view s) {
  const bool plain =
      std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (!plain) {
    out_ += json_text(nlohmann::json(std::string(s)));
    return;
  }
  out_ += '"';
  out_ += s;
  out_ += '"';
}

void JsonWriter::key(std::string_view k) {
  before_value();
  escaped(k);
  out_ += indent_ < 0 ? ":" : ": ";
  after_key_ = true;
}

void JsonWriter::string(std::string_view s) {
  before_value();
  escaped(s);
}

void JsonWriter::integer(std::int64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void JsonWriter::unsigned_integer(std::uint64_t v) {
  before_value();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void JsonWriter::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

void JsonWriter::value(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      begin_object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        key(it.key());
        value(it.value());
      }
      return end_object();
    case nlohmann::json::value_t::array:
      begin_array();
      for (const nlohmann::json& e : v) value(e);
      return end_array();
    case nlohmann::json::value_t::string: return string(v.get_ref<const std::string&>());
    case nlohmann::json::value_t::number_integer: return integer(v.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return unsigned_integer(v.get<std::uint64_t>());
    case nlohmann::json::value_t::boolean: return boolean(v.get<bool>());
    case nlohmann::json::value_t::null: return null();
    default:  // floats (nlohmann's shortest round-trip form), binary, discarded
      before_value();
      out_ += json_text(v);
  }
}

std::string JsonWriter::take() {
  counts_.clear();
  after_key_ = false;
  std::string text;
  text.swap(out_);
  return text;
}

}  // namespace fiberleak::detail
