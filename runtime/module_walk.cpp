// The module walk GCC's libbacktrace does once, on its first use, moved out
// of glibc's loader lock.
//
// libbacktrace reads every shared object's symbol table and debug info from
// inside dl_iterate_phdr's callback, so glibc's loader lock stays held for
// the 100-200 ms that takes. The scheduler hooks unwind with libunwind,
// which calls dl_iterate_phdr for every return address it has not seen
// before: a fiber parking at a new site during the first symbolizing dump
// waited for all of it (measured: fibers sleeping 20 ms woke 120-170 ms
// late). runtime/CMakeLists.txt renames libbacktrace's reference to
// dl_iterate_phdr to the function below, which copies the module list
// under the lock (microseconds) and hands it to libbacktrace after
// releasing it. The copies hold what libbacktrace reads: the name, the load
// address and the program headers (which stay mapped: libbacktrace keeps
// addresses of every module it reads anyway).
#include <link.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Module {
  dl_phdr_info info;
  std::size_t info_size;
  std::string name;
  std::vector<ElfW(Phdr)> headers;
};

int copy_module(dl_phdr_info* info, std::size_t size, void* out) {
  auto* modules = static_cast<std::vector<Module>*>(out);
  Module m{};
  m.info_size = size < sizeof(dl_phdr_info) ? size : sizeof(dl_phdr_info);
  std::memcpy(&m.info, info, m.info_size);
  if (info->dlpi_name != nullptr) m.name = info->dlpi_name;
  m.headers.assign(info->dlpi_phdr, info->dlpi_phdr + info->dlpi_phnum);
  modules->push_back(std::move(m));
  return 0;
}

}  // namespace

// Same contract as dl_iterate_phdr(3), except that `callback` runs after
// glibc's lock is released. Called by libbacktrace only (a symbol rename).
extern "C" int fiberleak_backtrace_dl_iterate_phdr(int (*callback)(dl_phdr_info*, std::size_t, void*), void* data) {
  std::vector<Module> modules;
  modules.reserve(64);
  dl_iterate_phdr(copy_module, &modules);
  for (Module& m : modules) {
    m.info.dlpi_name = m.name.c_str();
    m.info.dlpi_phdr = m.headers.data();
    if (const int stop = callback(&m.info, m.info_size, data); stop != 0) return stop;
  }
  return 0;
}
