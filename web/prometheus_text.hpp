// PrometheusText: writes the Prometheus text exposition format (0.0.4):
// one HELP and TYPE line per family, escaped label values. Used by the
// endpoint's /metrics and by fiberleakd's. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fiberleak::detail {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Starts a metric family; samples of it follow. type: gauge, counter, summary, untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  const std::string& text() const { return out_; }

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // A label name Prometheus takes: [a-zA-Z_][a-zA-Z0-9_]* (names starting
  // "__" are its reserved, meta ones: valid here, callers decide).
  static bool valid_label_name(std::string_view name);

 private:
  std::string out_;
};

}  // namespace fiberleak::detail
