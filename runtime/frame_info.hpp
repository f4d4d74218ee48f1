// describe_pc(): what code a program counter belongs to — every function
// inlined at that point (innermost first) with file:line where debug info has
// them, else the ELF symbol. Backed by GCC's libbacktrace (DWARF, inline
// aware; shipped with g++). Used at snapshot and dump time, never in a hook:
// it allocates and, on first use, reads debug info (~tens of ms).
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fiberleak::detail {

struct FrameInfo {
  std::string function;  // demangled; empty when unknown
  std::string file;      // empty without debug info
  int line = 0;
  std::uintptr_t symbol_start = 0;  // function entry when known from the symbol table, else 0
};

// pc: an address inside the instruction of interest (for a return address,
// pass return_address - 1). Returns at least one entry; the outermost (the
// real, non-inlined function) is last.
std::vector<FrameInfo> describe_pc(std::uintptr_t pc);

// Demangles a C++ symbol name; returns it unchanged when it is not one.
std::string demangle(const char* name);

// Frames of Boost, the standard library, the C runtime or fiberleak's own
// tracking hooks (a demangled name, or "?" when unknown), and of Go's
// standard library in parsed Go dumps ("sync.(*Mutex).Lock"): what wait-kind
// classification, leak rules and "created by" look through to find the
// user's own code.
bool is_library_function(std::string_view function);
// Frames of the tracking hooks themselves, never shown to users. User code
// may live in a fiberleak:: namespace too, so only the hooks match.
bool is_tracking_function(std::string_view function);

}  // namespace fiberleak::detail
