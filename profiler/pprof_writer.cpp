#include "profiler/pprof_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace fiberleak::detail {
namespace {

// profile.proto field numbers.
namespace field {
constexpr int kSampleType = 1, kSample = 2, kMapping = 3, kLocation = 4, kFunction = 5, kStringTable = 6,
              kTimeNanos = 9, kDurationNanos = 10, kPeriodType = 11, kPeriod = 12, kComment = 13,
              kDefaultSampleType = 14;
namespace value_type {
constexpr int kType = 1, kUnit = 2;
}
namespace sample {
constexpr int kLocationId = 1, kValue = 2, kLabel = 3;
}
namespace label {
constexpr int kKey = 1, kStr = 2, kNum = 3, kNumUnit = 4;
}
namespace mapping {
constexpr int kId = 1, kMemoryStart = 2, kMemoryLimit = 3, kFileOffset = 4, kFilename = 5, kBuildId = 6,
              kHasFunctions = 7, kHasFilenames = 8, kHasLineNumbers = 9, kHasInlineFrames = 10;
}
namespace location {
constexpr int kId = 1, kMappingId = 2, kAddress = 3, kLine = 4;
}
namespace line {
constexpr int kFunctionId = 1, kLine = 2;
}
namespace function {
constexpr int kId = 1, kName = 2, kSystemName = 3, kFilename = 4;
}
}  // namespace field

// Minimal protobuf wire-format encoder.
class Encoder {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(int field, int wire_type) {
    varint(static_cast<std::uint64_t>(field) << 3 | static_cast<unsigned>(wire_type));
  }
  void uint_field(int field, std::uint64_t v) {
    if (v == 0) return;  // proto3 default
    tag(field, 0);
    varint(v);
  }
  void int_field(int field, std::int64_t v) { uint_field(field, static_cast<std::uint64_t>(v)); }
  void bool_field(int field, bool v) { uint_field(field, v ? 1 : 0); }
  void bytes_field(int field, std::string_view bytes) {
    tag(field, 2);
    varint(bytes.size());
    out_.append(bytes);
  }
  void message(int field, const Encoder& nested) { bytes_field(field, nested.out_); }
  template <typename T>
  void packed(int field, const std::vector<T>& values) {
    if (values.empty()) return;
    Encoder body;
    for (T v : values) body.varint(static_cast<std::uint64_t>(v));
    message(field, body);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

}  // namespace

ProfileBuilder::ProfileBuilder(std::vector<std::pair<std::string, std::string>> sample_types,
                               std::pair<std::string, std::string> period_type, std::int64_t period)
    : period_(period) {
  intern("");  // string_table[0] must be ""
  for (const auto& [type, unit] : sample_types) sample_types_.emplace_back(intern(type), intern(unit));
  period_type_ = {intern(period_type.first), intern(period_type.second)};
}

StringId ProfileBuilder::intern(std::string_view s) {
  auto it = string_ids_.find(std::string(s));
  if (it != string_ids_.end()) return it->second;
  const StringId id{static_cast<std::int64_t>(strings_.size())};
  strings_.emplace_back(s);
  string_ids_.emplace(std::string(s), id);
  return id;
}

std::uint64_t ProfileBuilder::function_id(const DumpFrame& f) {
  std::string key = f.function;
  key += '\0';
  key += f.file;
  auto it = function_ids_.find(key);
  if (it != function_ids_.end()) return it->second;
  functions_.push_back({intern(f.function), intern(f.file)});
  const std::uint64_t id = functions_.size();
  function_ids_.emplace(std::move(key), id);
  return id;
}

std::uint64_t ProfileBuilder::mapping_for(std::uint64_t address) const {
  for (std::size_t i = 0; i < mappings_.size(); ++i) {
    if (address >= mappings_[i].start && address < mappings_[i].limit) return i + 1;
  }
  return 0;
}

LocationId ProfileBuilder::location(std::uint64_t address, const std::vector<DumpFrame>& frames) {
  auto it = location_ids_.find({address, frames.size()});
  if (it != location_ids_.end()) return it->second;
  Location loc{address, mapping_for(address), {}};
  for (const DumpFrame& f : frames) loc.lines.push_back({function_id(f), f.line});
  locations_.push_back(std::move(loc));
  const LocationId id{locations_.size()};
  location_ids_.emplace(std::make_pair(address, frames.size()), id);
  return id;
}

std::vector<LocationId> ProfileBuilder::locations(const std::vector<DumpFrame>& stack) {
  std::vector<LocationId> out;
  std::size_t i = 0;
  while (i < stack.size()) {
    std::size_t j = i;
    while (j + 1 < stack.size() && stack[j].inlined && stack[j + 1].pc == stack[i].pc) ++j;
    std::vector<DumpFrame> chain(stack.begin() + static_cast<std::ptrdiff_t>(i),
                                 stack.begin() + static_cast<std::ptrdiff_t>(j + 1));
    // Addresses from parsed dumps may be 0: give each chain its own location.
    const std::uint64_t address = stack[i].pc != 0 ? stack[i].pc : (1ull << 63) | locations_.size();
    out.push_back(location(address, chain));
    i = j + 1;
  }
  return out;
}

void ProfileBuilder::add_sample(const std::vector<LocationId>& locations, const std::vector<std::int64_t>& values,
                                const std::vector<SampleLabel>& labels) {
  Sample s{locations, values, {}};
  for (const SampleLabel& l : labels) {
    s.labels.emplace_back(intern(l.key), l.str.empty() ? StringId{0} : intern(l.str), l.num,
                          l.num_unit.empty() ? StringId{0} : intern(l.num_unit));
  }
  samples_.push_back(std::move(s));
}

void ProfileBuilder::set_time(std::int64_t time_nanos, std::int64_t duration_nanos) {
  time_nanos_ = time_nanos;
  duration_nanos_ = duration_nanos;
}

void ProfileBuilder::set_default_sample_type(std::string_view type) { default_sample_type_ = intern(type); }
void ProfileBuilder::add_comment(std::string_view comment) { comments_.push_back(intern(comment)); }
void ProfileBuilder::set_mappings(std::vector<Mapping> mappings) {
  mappings_ = std::move(mappings);
  for (const Mapping& m : mappings_) {
    intern(m.path);
    intern(m.build_id);
  }
}

std::string ProfileBuilder::serialize() const {
  Encoder out;
  for (const auto& [type, unit] : sample_types_) {
    Encoder vt;
    vt.int_field(field::value_type::kType, static_cast<std::int64_t>(type));
    vt.int_field(field::value_type::kUnit, static_cast<std::int64_t>(unit));
    out.message(field::kSampleType, vt);
  }
  for (const Sample& s : samples_) {
    Encoder e;
    e.packed(field::sample::kLocationId, s.locations);
    e.packed(field::sample::kValue, s.values);
    for (const auto& [key, str, num, unit] : s.labels) {
      Encoder l;
      l.int_field(field::label::kKey, static_cast<std::int64_t>(key));
      l.int_field(field::label::kStr, static_cast<std::int64_t>(str));
      l.int_field(field::label::kNum, num);
      l.int_field(field::label::kNumUnit, static_cast<std::int64_t>(unit));
      e.message(field::sample::kLabel, l);
    }
    out.message(field::kSample, e);
  }
  for (std::size_t i = 0; i < mappings_.size(); ++i) {
    const Mapping& m = mappings_[i];
    Encoder e;
    e.uint_field(field::mapping::kId, i + 1);
    e.uint_field(field::mapping::kMemoryStart, m.start);
    e.uint_field(field::mapping::kMemoryLimit, m.limit);
    e.uint_field(field::mapping::kFileOffset, m.file_offset);
    e.int_field(field::mapping::kFilename, static_cast<std::int64_t>(string_ids_.at(m.path)));
    e.int_field(field::mapping::kBuildId, static_cast<std::int64_t>(string_ids_.at(m.build_id)));
    e.bool_field(field::mapping::kHasFunctions, true);
    e.bool_field(field::mapping::kHasFilenames, true);
    e.bool_field(field::mapping::kHasLineNumbers, true);
    e.bool_field(field::mapping::kHasInlineFrames, true);
    out.message(field::kMapping, e);
  }
  for (std::size_t i = 0; i < locations_.size(); ++i) {
    const Location& loc = locations_[i];
    Encoder e;
    e.uint_field(field::location::kId, i + 1);
    e.uint_field(field::location::kMappingId, loc.mapping_id);
    e.uint_field(field::location::kAddress, loc.address);
    for (const Line& line : loc.lines) {
      Encoder l;
      l.uint_field(field::line::kFunctionId, line.function_id);
      l.int_field(field::line::kLine, line.line);
      e.message(field::location::kLine, l);
    }
    out.message(field::kLocation, e);
  }
  for (std::size_t i = 0; i < functions_.size(); ++i) {
    Encoder e;
    e.uint_field(field::function::kId, i + 1);
    e.int_field(field::function::kName, static_cast<std::int64_t>(functions_[i].name));
    e.int_field(field::function::kSystemName, static_cast<std::int64_t>(functions_[i].name));
    e.int_field(field::function::kFilename, static_cast<std::int64_t>(functions_[i].filename));
    out.message(field::kFunction, e);
  }
  for (const std::string& s : strings_) out.bytes_field(field::kStringTable, s);
  out.int_field(field::kTimeNanos, time_nanos_);
  out.int_field(field::kDurationNanos, duration_nanos_);
  Encoder pt;
  pt.int_field(field::value_type::kType, static_cast<std::int64_t>(period_type_.first));
  pt.int_field(field::value_type::kUnit, static_cast<std::int64_t>(period_type_.second));
  out.message(field::kPeriodType, pt);
  out.int_field(field::kPeriod, period_);
  for (StringId c : comments_) out.int_field(field::kComment, static_cast<std::int64_t>(c));
  out.int_field(field::kDefaultSampleType, static_cast<std::int64_t>(default_sample_type_));
  return out.str();
}

std::string ProfileBuilder::gzipped() const { return gzip(serialize()); }

std::string gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: gzip header and trailer.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
  out.resize(written);
  return out;
}

}  // namespace fiberleak::detail
