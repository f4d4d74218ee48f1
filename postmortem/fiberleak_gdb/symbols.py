"""Recorded return addresses named by gdb: functions (inline chains too) and lines.

gdb knows the program's and libraries' symbols, so stacks recorded by the
runtime are symbolized here rather than by the profiler's libbacktrace.
Each address is looked up once per command (a cache lives in a Symbolizer).
"""

import gdb


class Frame:
    def __init__(self, pc, function, file="", line=0, inlined=False):
        self.pc = pc
        self.function = function
        self.file = file
        self.line = line
        self.inlined = inlined  # inlined into the next frame (same pc)

    def where(self):
        return "%s:%d" % (self.file, self.line) if self.file else ""


# The same tests as runtime/frame_info.cpp's is_library_function() and
# is_tracking_function(), which the endpoint applies to the same frames.
_LIBRARY_PREFIXES = ("boost::", "std::", "__gnu_cxx::", "make_fcontext", "jump_fcontext", "ontop_fcontext",
                     "__libc_start", "_start", "start_thread", "clone")
_RETURN_TYPES = ("void ", "bool ", "decltype(auto) ", "boost::fibers::channel_op_status ")
_TRACKING_PREFIXES = ("fiberleak::detail::TrackingAlgorithm::", "fiberleak::detail::capture_stack")


def is_tracking_function(name):
    return name.startswith(_TRACKING_PREFIXES)


def is_library_function(name):
    for prefix in _RETURN_TYPES:
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name.startswith(_LIBRARY_PREFIXES) or is_tracking_function(name) or name == "?"


class Symbolizer:
    def __init__(self):
        self._cache = {}

    def frames(self, pc):
        """The frames at return address `pc`, innermost (inlined) first."""
        if pc not in self._cache:
            self._cache[pc] = _describe(pc)
        return self._cache[pc]

    def stack(self, pcs):
        """A recorded stack as the profiler shows it (profiler/dump_builder.cpp's
        symbolize_stack): the runtime's own frames left out, and the library
        frames below the outermost user frame (thread start, fcontext) cut."""
        out = []
        for pc in pcs:
            out.extend(f for f in self.frames(pc) if not is_tracking_function(f.function))
        keep = len(out)
        while keep > 1 and is_library_function(out[keep - 1].function):
            keep -= 1
        while 0 < keep < len(out) and out[keep - 1].inlined:
            keep += 1  # never cut inside an inline chain
        return out[:keep]


def _describe(pc):
    lookup = pc - 1  # a return address: the call is the instruction before it
    functions = []
    try:
        block = gdb.block_for_pc(lookup)
    except RuntimeError:
        block = None
    while block is not None:
        if block.function is not None:
            functions.append(block.function.print_name)
        block = block.superblock
    sal = gdb.find_pc_line(lookup)
    file = sal.symtab.filename if sal.symtab is not None else ""
    if not functions:
        return [Frame(pc, _minimal_symbol(lookup), file, sal.line)]
    frames = []
    for i, name in enumerate(functions):
        inlined = i + 1 < len(functions)
        frames.append(Frame(pc, name, file if i == 0 else "", sal.line if i == 0 else 0, inlined))
    return frames


def _minimal_symbol(pc):
    """The ELF symbol (no debug info) at pc, e.g. a Boost library's function, or '?'."""
    try:
        text = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
    except gdb.error:
        return "?"
    if text.startswith("No symbol"):
        return "?"
    for sep in (" + ", " in section "):
        if sep in text:
            text = text.split(sep, 1)[0]
    return text


def top_user_frame(frames):
    """The first frame outside Boost, the standard library and fiberleak's hooks (as the profiler's)."""
    for f in frames:
        if not is_library_function(f.function):
            return f
    return None
