#include "web/json_stream.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "web/json_fields.hpp"

namespace fiberleak::detail {
namespace {

using nlohmann::json;

// nlohmann's SAX events, assembled into one element at a time (as its own
// DOM parser does for the whole document).
class ElementStream {
 public:
  ElementStream(std::initializer_list<std::string_view> streamed, const JsonElementSink& sink, std::size_t max_values)
      : streamed_(streamed), sink_(sink), max_values_(max_values) {}

  bool null() { return add(json(nullptr)); }
  bool boolean(bool v) { return add(json(v)); }
  bool number_integer(json::number_integer_t v) { return add(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return add(json(v)); }
  bool string(std::string& v) { return add(json(std::move(v))); }
  bool binary(json::binary_t& v) { return add(json(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) {
    if (building_.empty() && depth_ == 1 &&
        std::find(streamed_.begin(), streamed_.end(), std::string_view(key_)) != streamed_.end()) {
      in_stream_ = true;
      index_ = 0;
      top_[key_] = json::array();  // its elements went to the sink
      ++depth_;
      return true;
    }
    return open(json::array());
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& k) {
    (building_.empty() ? key_ : pending_key_) = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

  json& top() { return top_; }
  std::exception_ptr failure() const { return failure_; }

 private:
  std::string path() const {
    return in_stream_ ? JsonFields::item(key_, index_) : depth_ >= 1 && !key_.empty() ? key_ : "document";
  }

  bool fail(std::exception_ptr e) {
    failure_ = std::move(e);
    return false;
  }

  // Puts a value into the element being built; the slot it took, or nullptr.
  json* insert(json v) {
    if (++values_ > max_values_) {
      fail(std::make_exception_ptr(JsonSchemaError(path() + ": more than " + std::to_string(max_values_) + " values")));
      return nullptr;
    }
    json& parent = *building_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[pending_key_];
    slot = std::move(v);
    return &slot;
  }

  bool add(json v) {
    if (!building_.empty()) return insert(std::move(v)) != nullptr;
    return finish(std::move(v));
  }

  bool open(json container) {
    if (!building_.empty()) {
      json* child = insert(std::move(container));
      if (child == nullptr) return false;
      building_.push_back(child);
    } else if (depth_ == 0 && container.is_object()) {
      top_ = json::object();  // the document: its fields are read one by one
    } else {
      element_ = std::move(container);
      values_ = 1;
      building_.push_back(&element_);
    }
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    if (!building_.empty()) {
      building_.pop_back();
      if (building_.empty()) return finish(std::move(element_));
    } else if (in_stream_ && depth_ == 1) {
      in_stream_ = false;
    }
    return true;
  }

  // A whole value outside any element being built: an element of a stream,
  // a top-level field, or the document itself.
  bool finish(json v) {
    if (in_stream_) {
      try {
        sink_(key_, index_++, std::move(v));
      } catch (...) {
        return fail(std::current_exception());
      }
    } else if (depth_ == 1) {
      top_[key_] = std::move(v);
    } else {
      top_ = std::move(v);
    }
    return true;
  }

  const std::initializer_list<std::string_view> streamed_;
  const JsonElementSink& sink_;
  const std::size_t max_values_;
  json top_;
  json element_;                 // the element being built
  std::vector<json*> building_;  // its open containers, innermost last
  std::size_t values_ = 0;       // in element_
  std::size_t depth_ = 0;        // containers open in the document
  bool in_stream_ = false;       // inside a streamed array (depth_ 2 outside elements)
  std::size_t index_ = 0;
  std::string key_;          // the top-level field being read
  std::string pending_key_;  // the key of the next value inside element_
  std::exception_ptr failure_;
};

}  // namespace

json stream_json(std::string_view text, std::initializer_list<std::string_view> streamed, const JsonElementSink& sink,
                 std::size_t max_values) {
  ElementStream stream(streamed, sink, max_values);
  const bool ok = json::sax_parse(text.data(), text.data() + text.size(), &stream);
  if (stream.failure()) std::rethrow_exception(stream.failure());
  if (!ok) throw JsonSchemaError("document: not valid JSON");
  return std::move(stream.top());
}

}  // namespace fiberleak::detail
