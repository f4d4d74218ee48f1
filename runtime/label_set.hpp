// LabelSet: a fiber's key/value labels (as Go's pprof labels) in a fixed
// kMaxLabelBytes buffer, as FiberSlot stores them: "key\0value\0" pairs
// sorted by key, the rest zero. Fixed-size so that copying a parent's
// labels to a child in the creation hook is a few word copies, and setting
// one allocates nothing. Plain value; not thread-safe (FiberSlot's seqlock
// guards the stored copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <fiberleak/snapshot.hpp>

namespace fiberleak::detail {

inline constexpr std::size_t kMaxLabelBytes = 128;

class LabelSet {
 public:
  // Sets key to value (replacing a value it had). False, and unchanged,
  // when the set has no room for it or key or value is not storable (empty
  // key, a NUL byte).
  bool set(std::string_view key, std::string_view value) noexcept;
  // Every label, sorted by key. Allocates.
  std::vector<Label> labels() const;
  bool empty() const noexcept { return bytes_[0] == '\0'; }

  // The storage as words, for FiberSlot's atomics.
  static constexpr std::size_t kWords = kMaxLabelBytes / 8;
  std::uint64_t word(std::size_t i) const noexcept {
    std::uint64_t w;
    std::memcpy(&w, bytes_ + i * 8, 8);
    return w;
  }
  void set_word(std::size_t i, std::uint64_t w) noexcept { std::memcpy(bytes_ + i * 8, &w, 8); }

 private:
  // Used bytes (up to the terminating empty key).
  std::size_t used() const noexcept;
  char bytes_[kMaxLabelBytes] = {};
};

}  // namespace fiberleak::detail
