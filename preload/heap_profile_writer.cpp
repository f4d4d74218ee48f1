// libfiberleak_heap_profile.so: FIBERLEAK_HEAP_PROFILE=PATH for a program
// run under LD_PRELOAD=libfiberleak_heap.so: at exit, the profile of what is
// still allocated (the leaks), written to PATH ("%p": the process id). It
// needs only the profiler (pprof writer, symbolizer, zlib): a process that
// only wants its profile loads no HTTP or TLS library.
//
// The file: checked writable when the program starts (reported then, not
// after the program ran), written at exit to a fresh temporary file in the
// same directory (mkstemp: O_CREAT|O_EXCL, never a path a symlink could
// redirect) and renamed over PATH, so a reader never sees half of it and a
// symlink at PATH is replaced, not followed.
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "preload/heap_server_interface.hpp"
#include "preload/preload_report.hpp"
#include "profiler/heap_profile.hpp"

namespace {

using fiberleak::detail::preload_report;

// FIBERLEAK_HEAP_PROFILE with every "%p" replaced by the process id.
std::string profile_path() {
  const char* pattern = std::getenv("FIBERLEAK_HEAP_PROFILE");
  std::string path = pattern == nullptr ? "" : pattern;
  const std::string pid = std::to_string(getpid());
  for (auto at = path.find("%p"); at != std::string::npos; at = path.find("%p", at + pid.size())) {
    path.replace(at, 2, pid);
  }
  return path;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Why PATH cannot be written, or "" (its directory exists, is a directory
// and is writable; PATH itself, if there, is no directory).
std::string unwritable(const std::string& path) {
  const std::string dir = directory_of(path);
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) return dir + ": " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return dir + ": not a directory";
  if (access(dir.c_str(), W_OK) != 0) return dir + ": " + std::strerror(errno);
  if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + ": is a directory";
  return "";
}

bool write_all(int fd, const std::string& data) {
  for (std::size_t done = 0; done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void write_final_profile() {
  if (!fiberleak::detail::heap_profiler_available()) return;
  // Collected before anything else: what the writer allocates from here on
  // is not in the profile.
  const fiberleak::detail::HeapData heap = fiberleak::detail::collect_heap();
  const std::string path = profile_path();
  if (path.empty()) return;
  std::string temporary = path + ".XXXXXX";
  const int fd = mkstemp(temporary.data());
  if (fd < 0) {
    preload_report("FIBERLEAK_HEAP_PROFILE: cannot write %s: %s", path.c_str(), std::strerror(errno));
    return;
  }
  try {
    const std::string data = fiberleak::detail::heap_profile(heap, fiberleak::detail::HeapProfileKind::heap,
                                                             fiberleak::detail::Symbolizer::mappings());
    // The errno of the first step that fails; close() runs either way.
    int error = 0;
    if (!write_all(fd, data) || fchmod(fd, 0644) != 0) error = errno;
    if (close(fd) != 0 && error == 0) error = errno;
    if (error == 0 && std::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
    if (error != 0) {
      unlink(temporary.c_str());
      preload_report("FIBERLEAK_HEAP_PROFILE: cannot write %s: %s", path.c_str(), std::strerror(error));
    }
  } catch (const std::exception& e) {
    close(fd);
    unlink(temporary.c_str());
    preload_report("FIBERLEAK_HEAP_PROFILE: no profile written: %s", e.what());
  }
}

}  // namespace

extern "C" int fiberleak_heap_profile_start() noexcept {
  try {
    const std::string path = profile_path();
    if (const std::string why = unwritable(path); !why.empty()) {
      preload_report("FIBERLEAK_HEAP_PROFILE: cannot write %s (%s); no profile will be written", path.c_str(),
                     why.c_str());
      return -1;
    }
    if (std::atexit(write_final_profile) != 0) {
      preload_report("FIBERLEAK_HEAP_PROFILE: cannot register the exit handler; no profile will be written");
      return -1;
    }
  } catch (const std::exception& e) {
    preload_report("FIBERLEAK_HEAP_PROFILE: %s", e.what());
    return -1;
  }
  return 0;
}
