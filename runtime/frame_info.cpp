#include "runtime/frame_info.hpp"

#include <backtrace.h>
#include <cxxabi.h>

#include <cstdlib>
#include <cstring>

namespace fiberleak::detail {
namespace {

void ignore_error(void*, const char*, int) {}

backtrace_state* state() {
  // Created once and never freed (libbacktrace has no destroy); threaded=1
  // makes lookups safe from any thread.
  static backtrace_state* s = backtrace_create_state(nullptr, 1, ignore_error, nullptr);
  return s;
}

struct Collect {
  std::vector<FrameInfo>* out;
};

int on_pcinfo(void* data, std::uintptr_t, const char* file, int line, const char* function) {
  auto* c = static_cast<Collect*>(data);
  if (function == nullptr && file == nullptr) return 0;
  FrameInfo f;
  if (function != nullptr) f.function = demangle(function);
  if (file != nullptr) f.file = file;
  f.line = line;
  c->out->push_back(std::move(f));
  return 0;
}

void on_syminfo(void* data, std::uintptr_t, const char* symname, std::uintptr_t symval, std::uintptr_t) {
  auto* f = static_cast<FrameInfo*>(data);
  if (symname != nullptr) f->function = demangle(symname);
  f->symbol_start = symval;
}

}  // namespace

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return name;
  std::string result(out);
  std::free(out);
  return result;
}

namespace {
bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
}  // namespace

bool is_tracking_function(std::string_view f) {
  return starts_with(f, "fiberleak::detail::TrackingAlgorithm::") || starts_with(f, "fiberleak::detail::capture_stack");
}

namespace {
// Go frames (from parsed goroutine dumps): "pkg/path.Func". The standard
// library's import paths have no dot in their first element ("sync",
// "net/http", "internal/poll"); "main" and "example.com/x" are user code.
bool is_go_standard_library(std::string_view f) {
  const std::string_view head = f.substr(0, f.find('('));
  if (head.find("::") != std::string_view::npos || head.find('.') == std::string_view::npos) return false;
  const std::size_t slash = head.find('/');
  const std::string_view first = head.substr(0, slash == std::string_view::npos ? head.find('.') : slash);
  return first != "main" && first.find('.') == std::string_view::npos;
}
}  // namespace

bool is_library_function(std::string_view f) {
  if (is_go_standard_library(f)) return true;
  // Return types may precede a template function's name ("void std::...").
  for (std::string_view prefix : {"void ", "bool ", "decltype(auto) ", "boost::fibers::channel_op_status "}) {
    if (starts_with(f, prefix)) f.remove_prefix(prefix.size());
  }
  return starts_with(f, "boost::") || starts_with(f, "std::") || starts_with(f, "__gnu_cxx::") ||
         is_tracking_function(f) || starts_with(f, "make_fcontext") || starts_with(f, "jump_fcontext") ||
         starts_with(f, "ontop_fcontext") || starts_with(f, "__libc_start") || starts_with(f, "_start") ||
         starts_with(f, "start_thread") || starts_with(f, "clone") || f == "?";
}

std::vector<FrameInfo> describe_pc(std::uintptr_t pc) {
  std::vector<FrameInfo> frames;
  backtrace_state* s = state();
  if (s != nullptr) {
    Collect c{&frames};
    backtrace_pcinfo(s, pc, on_pcinfo, ignore_error, &c);
  }
  FrameInfo sym;
  if (s != nullptr) backtrace_syminfo(s, pc, on_syminfo, ignore_error, &sym);
  if (frames.empty()) {
    frames.push_back(std::move(sym));
  } else {
    // libbacktrace reports DW_AT_name for some functions (no class or
    // namespace); the symbol table's demangled name is fuller: prefer it
    // for the outermost (real) function.
    FrameInfo& outer = frames.back();
    if (!sym.function.empty() && sym.function.size() > outer.function.size()) outer.function = sym.function;
    outer.symbol_start = sym.symbol_start;
  }
  return frames;
}

}  // namespace fiberleak::detail
