// ProfileBuilder: writes pprof's profile.proto by hand, gzipped.
//
// Spec: https://github.com/google/pprof/blob/main/proto/profile.proto
// (field numbers below are that file's). Generic over sample types so the
// goroutine and heap profiles share it. Locations carry their inline chain
// as several Lines (innermost first, the caller last, as the spec says), and
// mappings are marked has_functions/has_filenames/has_line_numbers/
// has_inline_frames so `go tool pprof` never tries to re-symbolize C++.
// Not thread-safe: one builder per profile.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "profiler/fiber_dump.hpp"
#include "profiler/symbolizer.hpp"

namespace fiberleak::detail {

enum class StringId : std::int64_t {};
enum class LocationId : std::uint64_t {};

struct SampleLabel {
  std::string key;
  std::string str;  // string label (empty: numeric)
  std::int64_t num = 0;
  std::string num_unit;
};

class ProfileBuilder {
 public:
  // sample_types: (type, unit) pairs, e.g. {"goroutine","count"}.
  ProfileBuilder(std::vector<std::pair<std::string, std::string>> sample_types,
                 std::pair<std::string, std::string> period_type, std::int64_t period);

  StringId intern(std::string_view s);
  // The location of one return address with the frames it stands for
  // (pc of each frame = the address). Deduplicated by address and frame count.
  LocationId location(std::uint64_t address, const std::vector<DumpFrame>& frames);
  // Locations for a symbolized stack: consecutive frames with the same pc
  // form one location (the inline chain).
  std::vector<LocationId> locations(const std::vector<DumpFrame>& stack);
  void add_sample(const std::vector<LocationId>& locations, const std::vector<std::int64_t>& values,
                  const std::vector<SampleLabel>& labels = {});
  void set_time(std::int64_t time_nanos, std::int64_t duration_nanos);
  void set_default_sample_type(std::string_view type);
  void add_comment(std::string_view comment);
  void set_mappings(std::vector<Mapping> mappings);

  // The serialized profile (uncompressed) and gzipped.
  std::string serialize() const;
  std::string gzipped() const;

 private:
  struct Function {
    StringId name, filename;
  };
  struct Line {
    std::uint64_t function_id;
    std::int64_t line;
  };
  struct Location {
    std::uint64_t address;
    std::uint64_t mapping_id;
    std::vector<Line> lines;
  };
  struct Sample {
    std::vector<LocationId> locations;
    std::vector<std::int64_t> values;
    std::vector<std::tuple<StringId, StringId, std::int64_t, StringId>> labels;
  };
  std::uint64_t function_id(const DumpFrame& f);
  std::uint64_t mapping_for(std::uint64_t address) const;

  std::vector<std::string> strings_;
  std::unordered_map<std::string, StringId> string_ids_;
  std::vector<std::pair<StringId, StringId>> sample_types_;
  std::pair<StringId, StringId> period_type_;
  std::int64_t period_;
  std::vector<Function> functions_;
  std::unordered_map<std::string, std::uint64_t> function_ids_;
  std::vector<Location> locations_;
  // By address and number of lines: a stack trimmed inside an inline
  // chain (trim_to_entry) keeps only part of its address's chain.
  std::map<std::pair<std::uint64_t, std::size_t>, LocationId> location_ids_;
  std::vector<Sample> samples_;
  std::vector<Mapping> mappings_;
  std::vector<StringId> comments_;
  std::int64_t time_nanos_ = 0, duration_nanos_ = 0;
  StringId default_sample_type_{0};
};

// gzip (RFC 1952) of `data` with zlib.
std::string gzip(std::string_view data);

}  // namespace fiberleak::detail
