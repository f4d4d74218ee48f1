#include "runtime/label_set.hpp"

#include <cstring>
#include <string>

namespace fiberleak::detail {

std::size_t LabelSet::used() const noexcept {
  std::size_t at = 0;
  while (at < kMaxLabelBytes && bytes_[at] != '\0') {
    at += std::strlen(bytes_ + at) + 1;                           // key
    if (at < kMaxLabelBytes) at += std::strlen(bytes_ + at) + 1;  // value
  }
  return at < kMaxLabelBytes ? at : kMaxLabelBytes;
}

bool LabelSet::set(std::string_view key, std::string_view value) noexcept {
  if (key.empty() || key.find('\0') != std::string_view::npos || value.find('\0') != std::string_view::npos) {
    return false;
  }
  // Rebuild into a scratch buffer: the pairs before key, key=value, the rest.
  char out[kMaxLabelBytes] = {};
  std::size_t n = 0;
  bool placed = false;
  auto append = [&](std::string_view k, std::string_view v) {
    if (n + k.size() + v.size() + 2 > kMaxLabelBytes - 1) return false;  // keep a terminating NUL
    std::memcpy(out + n, k.data(), k.size());
    n += k.size() + 1;
    std::memcpy(out + n, v.data(), v.size());
    n += v.size() + 1;
    return true;
  };
  const std::size_t end = used();
  for (std::size_t at = 0; at < end;) {
    const std::string_view k(bytes_ + at);
    at += k.size() + 1;
    const std::string_view v(bytes_ + at);
    at += v.size() + 1;
    if (!placed && k >= key) {
      if (!append(key, value)) return false;
      placed = true;
      if (k == key) continue;
    }
    if (!append(k, v)) return false;
  }
  if (!placed && !append(key, value)) return false;
  std::memcpy(bytes_, out, kMaxLabelBytes);
  return true;
}

std::vector<Label> LabelSet::labels() const {
  std::vector<Label> out;
  const std::size_t end = used();
  for (std::size_t at = 0; at < end;) {
    Label l;
    l.key = std::string(bytes_ + at);
    at += l.key.size() + 1;
    l.value = std::string(bytes_ + at);
    at += l.value.size() + 1;
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace fiberleak::detail
