#include "profiler/symbolizer.hpp"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/frame_info.hpp"

namespace fiberleak::detail {

Symbolizer& Symbolizer::instance() {
  static Symbolizer* s = new Symbolizer();
  return *s;
}

Symbolizer::Entry Symbolizer::describe(std::uint64_t pc) {
  Entry entry;
  const std::vector<FrameInfo> infos = describe_pc(static_cast<std::uintptr_t>(pc - 1));
  for (std::size_t i = 0; i < infos.size(); ++i) {
    DumpFrame f;
    f.pc = pc;
    f.function = infos[i].function.empty() ? "?" : infos[i].function;
    f.file = infos[i].file;
    f.line = infos[i].line;
    f.inlined = i + 1 < infos.size();
    entry.frames.push_back(std::move(f));
    if (infos[i].symbol_start != 0) entry.function_start = infos[i].symbol_start;
  }
  return entry;
}

const Symbolizer::Entry& Symbolizer::lookup(std::uint64_t pc) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(pc);
    if (it != cache_.end()) return it->second;
  }
  // Look up outside the lock: describe_pc() is thread-safe and may be slow.
  Entry entry = describe(pc);
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_.size() >= max_cached_ && cache_.count(pc) == 0) {
    thread_local Entry uncached;
    uncached = std::move(entry);
    return uncached;
  }
  // unordered_map never moves its elements: references stay valid.
  return cache_.emplace(pc, std::move(entry)).first->second;
}

std::string Symbolizer::function_name(std::uint64_t pc) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(pc);
    if (it != cache_.end()) return it->second.frames.empty() ? "?" : it->second.frames.back().function;
  }
  const Entry entry = describe(pc);
  return entry.frames.empty() ? "?" : entry.frames.back().function;
}

const std::vector<DumpFrame>& Symbolizer::frames(std::uint64_t pc) { return lookup(pc).frames; }

std::uint64_t Symbolizer::offset_in_function(std::uint64_t pc) {
  const Entry& e = lookup(pc);
  return e.function_start != 0 && pc >= e.function_start ? pc - e.function_start : 0;
}

std::size_t Symbolizer::cached_pcs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cache_.size();
}

namespace {

std::string read_build_id(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
    const unsigned char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const unsigned char* name = p + sizeof(ElfW(Nhdr));
      const unsigned char* desc = name + ((note->n_namesz + 3) & ~3u);
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        std::string hex;
        char buf[3];
        for (unsigned j = 0; j < note->n_descsz; ++j) {
          std::snprintf(buf, sizeof buf, "%02x", desc[j]);
          hex += buf;
        }
        return hex;
      }
      p = desc + ((note->n_descsz + 3) & ~3u);
    }
  }
  return {};
}

std::string executable_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

std::vector<Mapping> Symbolizer::mappings() {
  std::vector<Mapping> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* out = static_cast<std::vector<Mapping>*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
          Mapping m;
          m.start = info->dlpi_addr + ph.p_vaddr;
          m.limit = m.start + ph.p_memsz;
          m.file_offset = ph.p_offset;
          m.path = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0' ? info->dlpi_name : "";
          if (m.path.empty() && out->empty()) m.path = executable_path();
          if (m.path.empty()) continue;  // the vDSO
          m.build_id = read_build_id(info);
          out->push_back(std::move(m));
        }
        return 0;
      },
      &out);
  return out;
}

}  // namespace fiberleak::detail
