// Symbolizer: program counters to source frames, cached, plus the process's
// memory mappings for pprof's Mapping table.
//
// Symbolization happens at dump time, never in a scheduler hook. The first
// lookup reads debug info (tens of ms); warm lookups are a hash-map hit.
// The cache holds at most max_cached pcs (default kMaxCachedPcs, ~100 MB at
// worst, far more than the code of real programs): beyond that, lookups are
// not kept. Thread-safe: one mutex around the cache (lookups are short).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "profiler/fiber_dump.hpp"

namespace fiberleak::detail {

// One loaded object (executable or shared library) of this process.
struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t limit = 0;
  std::uint64_t file_offset = 0;
  std::string path;
  std::string build_id;  // hex GNU build id, empty when the object has none
};

inline constexpr std::size_t kMaxCachedPcs = std::size_t{1} << 18;

class Symbolizer {
 public:
  explicit Symbolizer(std::size_t max_cached = kMaxCachedPcs) : max_cached_(max_cached) {}

  // The process-wide instance (never destroyed: dumps may run during exit).
  static Symbolizer& instance();

  // The frames a return address stands for, inlined functions first, the
  // real function last. The pc of every frame is `return_address`. The
  // reference stays valid for good, except when the cache is full: then
  // until this thread's next lookup.
  const std::vector<DumpFrame>& frames(std::uint64_t return_address);
  // Offset of the return address into its (real) function, 0 when unknown.
  std::uint64_t offset_in_function(std::uint64_t return_address);

  // The real function's name at a return address ("?": unknown), from the
  // cache or else looked up without being cached: for addresses from
  // outside (/debug/pprof/symbol), which must not grow the cache.
  std::string function_name(std::uint64_t return_address);

  // Every executable mapping of the process, refreshed on each call.
  static std::vector<Mapping> mappings();

  std::size_t cached_pcs() const;

 private:
  struct Entry {
    std::vector<DumpFrame> frames;
    std::uint64_t function_start = 0;
  };
  const Entry& lookup(std::uint64_t return_address);
  static Entry describe(std::uint64_t return_address);

  const std::size_t max_cached_;
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, Entry> cache_;
};

}  // namespace fiberleak::detail
