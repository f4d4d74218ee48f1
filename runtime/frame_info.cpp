#include "runtime/frame_info.hpp"

#include <dwarf.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>

#include "runtime/function_name.hpp"

namespace fiberleak::detail {
namespace {

std::string die_function_name(Dwarf_Die* die, bool as_scope = false);

bool is_code_tag(int tag) {
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block;
}

// The DIEs of one compilation unit that can enclose code or name it
// (functions, inlined calls, blocks, namespaces, classes), each with its
// parent, and the address ranges of the code ones: read in one walk of the
// unit, where libdw's dwarf_getscopes()/dwarf_getscopes_die() walk it from
// the top on every call (seconds for a few hundred pcs in a unit that
// includes Boost).
class ScopeIndex {
 public:
  explicit ScopeIndex(Dwarf_Die* cu) { add_children(cu, -1); }

  // The innermost code DIE whose ranges hold pc (a module-relative address),
  // or -1.
  int innermost(Dwarf_Addr pc) const {
    int best = -1;
    for (const Range& r : ranges_) {
      if (pc >= r.low && pc < r.high && (best < 0 || scopes_[r.scope].depth > scopes_[best].depth)) best = r.scope;
    }
    return best;
  }

  // The entry of a DIE of this unit, or -1 when it is not one of its scopes.
  int find(const Dwarf_Die& die) const {
    const Dwarf_Off offset = dwarf_dieoffset(const_cast<Dwarf_Die*>(&die));
    auto it = std::lower_bound(scopes_.begin(), scopes_.end(), offset,
                               [](const Scope& s, Dwarf_Off off) { return s.offset < off; });
    return it != scopes_.end() && it->offset == offset ? static_cast<int>(it - scopes_.begin()) : -1;
  }

  // The DIE at `entry` and those enclosing it, innermost first (as
  // dwarf_getscopes_die() gives them, without the unit itself).
  std::vector<Dwarf_Die> chain(int entry) const {
    std::vector<Dwarf_Die> out;
    for (int i = entry; i >= 0; i = scopes_[i].parent) out.push_back(scopes_[i].die);
    return out;
  }

 private:
  struct Scope {
    Dwarf_Die die;
    Dwarf_Off offset;
    int parent;
    int depth;
  };
  struct Range {
    Dwarf_Addr low, high;
    int scope;
  };

  // Preorder, so scopes_ is sorted by offset.
  void add_children(Dwarf_Die* parent, int parent_entry) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
      const int tag = dwarf_tag(&child);
      const bool code = is_code_tag(tag);
      if (!code && tag != DW_TAG_namespace && tag != DW_TAG_structure_type && tag != DW_TAG_class_type &&
          tag != DW_TAG_union_type) {
        continue;
      }
      const int entry = static_cast<int>(scopes_.size());
      scopes_.push_back(
          {child, dwarf_dieoffset(&child), parent_entry, parent_entry < 0 ? 0 : scopes_[parent_entry].depth + 1});
      if (code) {
        Dwarf_Addr base = 0, low = 0, high = 0;
        for (ptrdiff_t at = 0; (at = dwarf_ranges(&child, at, &base, &low, &high)) > 0;) {
          ranges_.push_back({low, high, entry});
        }
      }
      if (dwarf_haschildren(&child) > 0) add_children(&child, entry);
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  std::vector<Scope> scopes_;
  std::vector<Range> ranges_;
};

// Every unit's index, built on first use; used under ProcessDwarf's lock and
// emptied when the modules are read again (a unit of an unloaded library
// must not be found by its old address).
std::map<const void*, std::unique_ptr<ScopeIndex>>& scope_indexes() {
  static auto* indexes = new std::map<const void*, std::unique_ptr<ScopeIndex>>();
  return *indexes;
}

const ScopeIndex& scope_index_of_unit(Dwarf_Die* cu) {
  std::unique_ptr<ScopeIndex>& index = scope_indexes()[cu->addr];
  if (!index) index = std::make_unique<ScopeIndex>(cu);
  return *index;
}

// A DIE and those enclosing it, innermost first, the unit excluded.
std::vector<Dwarf_Die> enclosing_scopes(Dwarf_Die* die) {
  Dwarf_Die cu;
  if (dwarf_diecu(die, &cu, nullptr, nullptr) != nullptr) {
    const ScopeIndex& index = scope_index_of_unit(&cu);
    const int entry = index.find(*die);
    if (entry >= 0) return index.chain(entry);
  }
  std::vector<Dwarf_Die> out;  // not a scope the index keeps: ask libdw
  Dwarf_Die* scopes = nullptr;
  const int n = dwarf_getscopes_die(die, &scopes);
  for (int i = 0; i < n; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit) break;
    out.push_back(scopes[i]);
  }
  std::free(scopes);
  return out;
}

// elfutils' view of this process: every loaded module, its symbol table
// and (lazily, a compilation unit at a time) its DWARF. libdwfl is not
// thread-safe: one mutex around every use.
class ProcessDwarf {
 public:
  static ProcessDwarf& instance() {
    static ProcessDwarf* p = new ProcessDwarf();  // never destroyed: dumps may run during exit
    return *p;
  }

  // Runs on a stack of its own: libdw and the demangler recurse deeply,
  // and callers may be fibers with Boost's 128 KiB default stack (a fiber
  // that takes a snapshot overflowed it one time in twenty).
  std::vector<FrameInfo> describe(std::uintptr_t pc) {
    std::lock_guard<std::mutex> lock(mutex_);
    request_pc_ = pc;
    request_frames_.clear();
    request_error_ = nullptr;
    if (!worker_) {
      worker_ = boost::context::fiber(std::allocator_arg, boost::context::protected_fixedsize_stack(kStackBytes),
                                      [this](boost::context::fiber&& caller) {
                                        for (;;) {
                                          try {
                                            request_frames_ = describe_here(request_pc_);
                                          } catch (...) {  // bad_alloc: rethrown on the caller's stack
                                            request_error_ = std::current_exception();
                                          }
                                          caller = std::move(caller).resume();
                                        }
                                        return std::move(caller);
                                      });
    }
    worker_ = std::move(worker_).resume();
    if (request_error_) std::rethrow_exception(request_error_);
    return std::move(request_frames_);
  }

 private:
  static constexpr std::size_t kStackBytes = 8 << 20;  // address space; touched pages only

  std::vector<FrameInfo> describe_here(std::uintptr_t pc) {
    std::vector<FrameInfo> frames;
    if (modules_changed()) report();  // loaded or unloaded since: a module's range may now hold another
    Dwfl_Module* module = dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, pc) : nullptr;
    if (module == nullptr) {
      frames.emplace_back();
      return frames;
    }
    FrameInfo symbol = symbol_of(module, pc);
    Dwarf_Addr bias = 0;
    if (Dwarf_Die* cu = dwfl_module_addrdie(module, pc, &bias)) inline_chain(module, cu, pc, bias, frames);
    if (frames.empty()) {
      frames.push_back(std::move(symbol));
    } else {
      // The symbol table names the real function the same way whether or
      // not DWARF does (it is what heap and goroutine profiles share).
      FrameInfo& outer = frames.back();
      if (!symbol.function.empty()) outer.function = std::move(symbol.function);
      outer.symbol_start = symbol.symbol_start;
    }
    return frames;
  }

  ProcessDwarf() {
    callbacks_.find_elf = dwfl_linux_proc_find_elf;
    callbacks_.find_debuginfo = find_local_debuginfo;
    callbacks_.debuginfo_path = nullptr;
    dwfl_ = dwfl_begin(&callbacks_);
    modules_changed();  // the counts of what this first report reads
    report();
  }

  // Separate debug info by build id under /usr/lib/debug (Debian's -dbgsym
  // packages), else the module's own. Not dwfl_standard_find_debuginfo:
  // with DEBUGINFOD_URLS set it downloads what is missing, in the middle of
  // a dump.
  static int find_local_debuginfo(Dwfl_Module* module, void**, const char*, Dwarf_Addr, const char*, const char*,
                                  GElf_Word, char** debuginfo_file_name) {
    const unsigned char* bits = nullptr;
    GElf_Addr vaddr = 0;
    const int n = dwfl_module_build_id(module, &bits, &vaddr);
    if (n < 2) return -1;
    std::string path = "/usr/lib/debug/.build-id/";
    char hex[3];
    for (int i = 0; i < n; ++i) {
      std::snprintf(hex, sizeof hex, "%02x", bits[i]);
      path += hex;
      if (i == 0) path += '/';
    }
    path += ".debug";
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) *debuginfo_file_name = strdup(path.c_str());
    return fd;
  }

  // Whether a library was loaded or unloaded since the last report(), by
  // the dynamic linker's counts: cheap enough for every pc, where reading
  // /proc/self/maps again for every pc in no module (garbage sent to
  // /debug/pprof/symbol) took seconds.
  bool modules_changed() {
    std::pair<unsigned long long, unsigned long long> counts{0, 0};
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t size, void* data) {
          if (size >= offsetof(dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
            *static_cast<std::pair<unsigned long long, unsigned long long>*>(data) = {info->dlpi_adds, info->dlpi_subs};
          }
          return 1;  // the counts are the same in every entry
        },
        &counts);
    const bool changed = counts != reported_counts_ || counts.first == 0;
    reported_counts_ = counts;
    return changed;
  }

  bool report() {
    if (dwfl_ == nullptr) return false;
    scope_indexes().clear();
    dwfl_report_begin(dwfl_);
    const int rc = dwfl_linux_proc_report(dwfl_, getpid());
    dwfl_report_end(dwfl_, nullptr, nullptr);
    return rc == 0;
  }

  // The ELF symbol containing pc; "module+0xoffset" when there is none.
  static FrameInfo symbol_of(Dwfl_Module* module, std::uintptr_t pc) {
    FrameInfo f;
    GElf_Off offset = 0;
    GElf_Sym sym;
    if (const char* name = dwfl_module_addrinfo(module, pc, &offset, &sym, nullptr, nullptr, nullptr)) {
      f.function = function_name(name);
      f.symbol_start = pc - offset;
      return f;
    }
    Dwarf_Addr start = 0;
    const char* path = dwfl_module_info(module, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
    const char* base = path != nullptr && std::strrchr(path, '/') != nullptr ? std::strrchr(path, '/') + 1 : path;
    char buf[64];
    std::snprintf(buf, sizeof buf, "+0x%llx", static_cast<unsigned long long>(pc - start));
    f.function = std::string(base != nullptr ? base : "?") + buf;
    return f;
  }

  // Functions inlined at pc, innermost first, then the real function; each
  // with the file:line it is at (the innermost's from the line table, the
  // others' from the call site of the function inlined into them).
  static void inline_chain(Dwfl_Module* module, Dwarf_Die* cu, std::uintptr_t pc, Dwarf_Addr bias,
                           std::vector<FrameInfo>& out) {
    const ScopeIndex& index = scope_index_of_unit(cu);
    const int innermost = index.innermost(pc - bias);
    if (innermost < 0) return;
    std::vector<Dwarf_Die> scopes = index.chain(innermost);
    const int n = static_cast<int>(scopes.size());
    const char* file = nullptr;
    int line = 0;
    if (Dwfl_Line* l = dwfl_module_getsrc(module, pc))
      file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
    Dwarf_Files* files = nullptr;
    std::size_t file_count = 0;
    if (dwarf_getsrcfiles(cu, &files, &file_count) != 0) files = nullptr;
    for (int i = 0; i < n; ++i) {
      const int tag = dwarf_tag(&scopes[i]);
      if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
      FrameInfo f;
      f.function = die_function_name(&scopes[i]);
      if (file != nullptr) f.file = file;
      f.line = line;
      out.push_back(std::move(f));
      if (tag == DW_TAG_subprogram) break;
      Dwarf_Attribute attr;
      Dwarf_Word value = 0;
      line = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &value) == 0 ? static_cast<int>(value) : 0;
      file = nullptr;
      if (files != nullptr && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &value) == 0) {
        file = dwarf_filesrc(files, value, nullptr, nullptr);
      }
    }
  }

  std::mutex mutex_;  // held for every use of dwfl_ and the worker
  std::pair<unsigned long long, unsigned long long> reported_counts_{0, 0};  // dl_phdr_info's adds, subs
  Dwfl_Callbacks callbacks_{};
  Dwfl* dwfl_ = nullptr;
  // The stack describe_here() runs on, suspended between requests; never
  // destroyed, as the object is not.
  boost::context::fiber worker_;
  std::uintptr_t request_pc_ = 0;
  std::vector<FrameInfo> request_frames_;
  std::exception_ptr request_error_;
};

// The DIE that declares what `die` defines: through DW_AT_abstract_origin
// (an inlined or out-of-line instance) and DW_AT_specification (a
// definition outside its class).
Dwarf_Die declaration_of(Dwarf_Die* die) {
  Dwarf_Die current = *die;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    Dwarf_Attribute* a = dwarf_attr(&current, DW_AT_abstract_origin, &attr);
    if (a == nullptr) a = dwarf_attr(&current, DW_AT_specification, &attr);
    if (a == nullptr || dwarf_formref_die(a, &next) == nullptr) break;
    current = next;
  }
  return current;
}

bool is_lambda_class(Dwarf_Die* die) {
  const int tag = dwarf_tag(die);
  return (tag == DW_TAG_structure_type || tag == DW_TAG_class_type) && dwarf_diename(die) == nullptr;
}

// The call operator of a closure type, or false.
bool call_operator_of(Dwarf_Die* closure, Dwarf_Die* out) {
  Dwarf_Die child;
  if (dwarf_child(closure, &child) != 0) return false;
  do {
    const char* name = dwarf_diename(&child);
    if (dwarf_tag(&child) == DW_TAG_subprogram && name != nullptr && std::strcmp(name, "operator()") == 0) {
      *out = child;
      return true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// The type offsets of a call operator's declared parameters (not `this`).
std::vector<Dwarf_Off> parameter_types(Dwarf_Die* function) {
  std::vector<Dwarf_Off> out;
  Dwarf_Die child;
  if (dwarf_child(function, &child) != 0) return out;
  do {
    if (dwarf_tag(&child) != DW_TAG_formal_parameter || dwarf_hasattr(&child, DW_AT_artificial)) continue;
    Dwarf_Attribute attr;
    Dwarf_Die type;
    out.push_back(dwarf_formref_die(dwarf_attr(&child, DW_AT_type, &attr), &type) != nullptr ? dwarf_dieoffset(&type)
                                                                                             : 0);
  } while (dwarf_siblingof(&child, &child) == 0);
  return out;
}

// Closure types with the given parameter types in `scope`'s subtree (not in
// nested functions), in declaration order: GCC numbers lambdas that way
// ("{lambda()#2}" is the second lambda without parameters in its function).
void count_lambdas(Dwarf_Die* scope, const std::vector<Dwarf_Off>& signature, Dwarf_Off target, int& index,
                   bool& found) {
  Dwarf_Die child;
  if (found || dwarf_child(scope, &child) != 0) return;
  do {
    const int tag = dwarf_tag(&child);
    if (is_lambda_class(&child)) {
      Dwarf_Die op;
      if (call_operator_of(&child, &op) && parameter_types(&op) == signature) {
        ++index;
        if (dwarf_dieoffset(&child) == target) {
          found = true;
          return;
        }
      }
    } else if (tag == DW_TAG_lexical_block) {
      count_lambdas(&child, signature, target, index, found);
      if (found) return;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// A function's name as function_name() makes it: from its linkage name when
// DWARF has one, else built from its declaration's scopes (namespaces,
// classes, the enclosing function of a lambda), which DWARF gives for every
// function, inlined or not. Lambdas' call operators have no linkage name:
// they are named "enclosing(args)::{lambda()#N}", as the demangler names
// their out-of-line copies.
std::string die_function_name(Dwarf_Die* die, bool as_scope) {
  Dwarf_Attribute attr;
  const char* linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (linkage == nullptr) linkage = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  if (linkage != nullptr) return as_scope ? scope_name(linkage) : function_name(linkage);
  Dwarf_Die decl = declaration_of(die);
  const char* own = dwarf_diename(&decl);
  std::string name = own != nullptr ? own : "?";
  std::vector<Dwarf_Die> scopes = enclosing_scopes(&decl);
  const int n = static_cast<int>(scopes.size());
  // scopes[0] is decl itself; the rest enclose it, innermost first.
  for (int i = 1; i < n; ++i) {
    Dwarf_Die* scope = &scopes[i];
    const int tag = dwarf_tag(scope);
    if (tag == DW_TAG_lexical_block) continue;
    if (tag == DW_TAG_subprogram) {  // a function-local class: the function names the rest
      name = die_function_name(scope, true) + "::" + name;
      break;
    }
    if (is_lambda_class(scope)) {
      // The closure's own function: "{lambda()#N}" within the enclosing one.
      Dwarf_Die op;
      const std::vector<Dwarf_Off> signature =
          call_operator_of(scope, &op) ? parameter_types(&op) : std::vector<Dwarf_Off>{};
      int index = 0;
      bool found = false;
      for (int j = i + 1; j < n && !found; ++j) {
        if (dwarf_tag(&scopes[j]) == DW_TAG_subprogram)
          count_lambdas(&scopes[j], signature, dwarf_dieoffset(scope), index, found);
      }
      std::string marker = signature.empty() ? "{lambda()" : "{lambda(...)";
      marker += found ? "#" + std::to_string(index) + "}" : "}";
      name = (name == "operator()") ? marker : marker + "::" + name;
      continue;
    }
    const char* scope_name = dwarf_diename(scope);
    if (tag == DW_TAG_namespace) {
      name = std::string(scope_name != nullptr ? scope_name : "(anonymous namespace)") + "::" + name;
    } else if (tag == DW_TAG_structure_type || tag == DW_TAG_class_type || tag == DW_TAG_union_type) {
      name = std::string(scope_name) + "::" + name;
    }
  }
  return name;
}

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

// "libstdc++.so.6.0.30+0xd44a2": code of a shared library no symbol covers
// (describe_pc()'s last resort). A program's own unsymbolized code
// ("server+0x1234") stays user code: it is all a stripped program shows.
bool is_unsymbolized_shared_object(std::string_view f) {
  const std::size_t plus = f.rfind("+0x");
  if (plus == std::string_view::npos) return false;
  const std::string_view module = f.substr(0, plus);
  return module.find(".so") != std::string_view::npos && module.find_first_of(":( ") == std::string_view::npos;
}
}  // namespace

bool is_library_function(std::string_view f) {
  if (is_go_standard_library(f)) return true;
  // Names from older dumps may still carry a return type ("void std::...").
  for (std::string_view prefix : {"void ", "bool ", "int ", "decltype(auto) ", "boost::fibers::channel_op_status "}) {
    if (starts_with(f, prefix)) f.remove_prefix(prefix.size());
  }
  return starts_with(f, "boost::") || starts_with(f, "std::") || starts_with(f, "__gnu_cxx::") ||
         is_tracking_function(f) || starts_with(f, "fiberleak::spawn<") || starts_with(f, "make_fcontext") ||
         starts_with(f, "jump_fcontext") || starts_with(f, "ontop_fcontext") || is_start_function(f) || f == "?";
}

bool is_start_function(std::string_view f) {
  for (std::string_view prefix : {"_start", "__libc_start", "start_thread", "clone", "__clone"}) {
    if (starts_with(f, prefix)) return true;
  }
  return is_unsymbolized_shared_object(f);
}

bool is_library_frame(std::string_view function, std::string_view file) {
  // Headers of system libraries (Boost, libstdc++) inlined into user code.
  return is_library_function(function) || starts_with(file, "/usr/include/");
}

std::vector<FrameInfo> describe_pc(std::uintptr_t pc) { return ProcessDwarf::instance().describe(pc); }

}  // namespace fiberleak::detail
