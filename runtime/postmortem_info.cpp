#include "runtime/postmortem_info.hpp"

#include <boost/context/fiber.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/mutex.hpp>

#include <fiberleak/fiber_state.hpp>

namespace fiberleak::detail {

const char* const kWaitReasonWords[kWaitKinds] = {
    "running",         // none
    "blocked",         // unknown
    "mutex lock",      // mutex
    "condition wait",  // condition_variable
    "chan send",       // channel_push
    "chan receive",    // channel_pop
    "future wait",     // future
    "join",            // join
    "sleep",           // sleep
    "barrier wait",    // barrier
    "runnable",        // yield
};
static_assert(static_cast<int>(WaitKind::yield) + 1 == kWaitKinds, "a WaitKind without its words");

// The Boost types the extension reads, described in full in this object's
// debug info (see the header). Never read by the program.
struct PostmortemTypes {
  boost::fibers::context* context;
  boost::context::fiber* fiber;
  boost::fibers::mutex* mutex;
};
extern const PostmortemTypes kPostmortemTypes;
const PostmortemTypes kPostmortemTypes{};

}  // namespace fiberleak::detail

#ifdef FIBERLEAK_GDB_SCRIPT
// gdb's auto-load entry (FIBERLEAK_GDB_AUTOLOAD): a .debug_gdb_scripts
// section naming the installed extension, which gdb sources when it loads a
// program linked with this runtime and `set auto-load safe-path` allows it
// (https://sourceware.org/gdb/onlinedocs/gdb/dotdebug_005fgdb_005fscripts-section.html).
// Type 4 (an inline Python script) sources the file only when it exists.
asm(".pushsection \".debug_gdb_scripts\", \"MS\",@progbits,1\n"
    ".byte 4\n"
    ".ascii \"gdb.inlined-script.fiberleak\\n\"\n"
    ".ascii \"import os, gdb\\n\"\n"
    ".ascii \"p = '" FIBERLEAK_GDB_SCRIPT
    "'\\n\"\n"
    ".ascii \"if os.path.exists(p): gdb.execute('source ' + p)\\n\"\n"
    ".byte 0\n"
    ".popsection\n");
#endif
