// describe_pc(): what code a program counter belongs to — every function
// inlined at that point (innermost first) with file:line where debug info has
// them, else the ELF symbol, else the module and offset. Backed by elfutils'
// libdw (DWARF inline records: an inlined Boost or standard-library function
// keeps its qualified name and its header, a lambda its enclosing function).
// Names come from function_name(). Used at snapshot and dump time, never in
// a hook: it allocates and, on first use, reads symbol tables (~tens of ms).
// Thread-safe (one lock around libdw). Runs on a stack of its own, so a
// fiber with a small stack may call it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fiberleak::detail {

struct FrameInfo {
  std::string function;  // function_name(); "module+0xoffset" when no symbol covers the pc
  std::string file;      // empty without debug info
  int line = 0;
  std::uintptr_t symbol_start = 0;  // function entry when known from the symbol table, else 0
};

// pc: an address inside the instruction of interest (for a return address,
// pass return_address - 1). Returns at least one entry; the outermost (the
// real, non-inlined function) is last.
std::vector<FrameInfo> describe_pc(std::uintptr_t pc);

// Frames of Boost, the standard library, the C runtime or fiberleak's own
// tracking hooks (a demangled name, or "?" when unknown), and of Go's
// standard library in parsed Go dumps ("sync.(*Mutex).Lock"): what wait-kind
// classification, leak rules and "created by" look through to find the
// user's own code.
bool is_library_function(std::string_view function);
// Where the C runtime starts the process or a thread (_start, start_thread,
// __clone3, ...), or code of a shared library no symbol covers
// ("libstdc++.so.6+0xd44a2"): part of is_library_function().
bool is_start_function(std::string_view function);
// is_library_function(), or code from a system header (/usr/include/...:
// Boost or libstdc++ inlined into the program) by its file.
bool is_library_frame(std::string_view function, std::string_view file);
// Frames of the tracking hooks themselves, never shown to users. User code
// may live in a fiberleak:: namespace too, so only the hooks match.
bool is_tracking_function(std::string_view function);

}  // namespace fiberleak::detail
