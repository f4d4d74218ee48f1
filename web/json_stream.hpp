// stream_json(): reads a JSON document whose bulk is a few top-level arrays
// (a fibers/v1 document: "fibers" and "stacks") one element at a time, so
// that decoding costs about the decoded structures, never a DOM of the
// whole text (nlohmann's DOM takes ~20-100 times the text).
//
// Each element of a streamed array is built as a small DOM, handed to the
// sink and freed; every other top-level field is kept in the object
// returned. No element (and no other top-level value) may hold more than
// `max_values` JSON values, so one element's DOM is bounded too. Built on
// nlohmann's SAX interface. Stateless function: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string_view>

namespace fiberleak::detail {

// One element: the array's key, the element's index in it, the element.
using JsonElementSink = std::function<void(std::string_view key, std::size_t index, nlohmann::json element)>;

inline constexpr std::size_t kMaxJsonElementValues = std::size_t{1} << 16;

// The document's top-level fields, each streamed array among them as an
// empty array (the document itself when it is no object). Throws JsonSchemaError (web/json_fields.hpp)
// when the text is not JSON ("document: not valid JSON") or an element is too
// big ("fibers[3]: more than 65536 values"), and whatever `sink` throws.
nlohmann::json stream_json(std::string_view text, std::initializer_list<std::string_view> streamed,
                           const JsonElementSink& sink, std::size_t max_values = kMaxJsonElementValues);

}  // namespace fiberleak::detail
