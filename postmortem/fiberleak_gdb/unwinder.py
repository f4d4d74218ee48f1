"""Shows a suspended fiber's stack as the selected thread's callers.

A suspended fiber's registers are on its own stack, where Boost.Context's
jump_fcontext pushed them; its boost::fibers::context keeps the pointer
(c_.fctx_). This Python unwinder answers for the innermost frame of the
thread the user switched on: its caller is the fiber's top frame, with the
saved rip, rsp, rbp and the other callee-saved registers, so gdb's own
unwinding (DWARF CFI) carries on down the fiber's stack. It works the same
on a live process, an attached one and a core file, and changes nothing in
the inferior. Frame #0 stays the thread's own; the fiber starts at #1.

The layout of the saved registers is Boost.Context's x86_64 System V
assembly (jump_x86_64_sysv_elf_gas.S, Boost 1.61-1.74): assembly has no
debug info, so its offsets are written here, checked against the return
address they yield (it must lie in a function gdb knows).
"""

import gdb
import gdb.unwinder

# Words from the saved context pointer: mxcsr/x87 control word, r12, r13,
# r14, r15, rbx, rbp, then the return address; rsp is just past it.
_SAVED = (("r12", 1), ("r13", 2), ("r14", 3), ("r15", 4), ("rbx", 5), ("rbp", 6), ("rip", 7))
_WORDS = 8


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class FiberUnwinder(gdb.unwinder.Unwinder):
    def __init__(self):
        super().__init__("fiberleak")
        self.thread = None  # (pid, lwp, tid) of the thread the fiber is shown on
        self.registers = None  # {name: int}, rsp included
        self.fiber_id = 0

    def __call__(self, pending_frame):
        if self.registers is None or pending_frame.level() != 0:
            return None
        thread = gdb.selected_thread()
        if thread is None or thread.ptid != self.thread:
            return None
        # Frame #0's id names a stack address just below the fiber's saved
        # registers: gdb stops a backtrace whose frames go inwards, and the
        # fiber's stack need not lie above the thread's.
        u64 = gdb.lookup_type("unsigned long")
        pc = pending_frame.read_register("rip")
        below = gdb.Value(self.registers["rsp"] - 8 * _WORDS - 8).cast(u64)
        info = pending_frame.create_unwind_info(_FrameId(below, pc))
        for name, value in self.registers.items():
            info.add_saved_register(name, gdb.Value(value).cast(u64))
        return info


_unwinder = None


def unwinder():
    global _unwinder
    if _unwinder is None:
        _unwinder = FiberUnwinder()
        gdb.unwinder.register_unwinder(None, _unwinder, replace=True)
    return _unwinder


def saved_registers(fctx):
    """The registers jump_fcontext saved at `fctx` (rsp included), or None when unreadable."""
    try:
        words = gdb.selected_inferior().read_memory(fctx, _WORDS * 8)
    except gdb.MemoryError:
        return None
    raw = bytes(words)
    registers = {name: int.from_bytes(raw[i * 8:i * 8 + 8], "little") for name, i in _SAVED}
    registers["rsp"] = fctx + _WORDS * 8
    return registers


def show(fiber_id, registers):
    u = unwinder()
    u.thread = gdb.selected_thread().ptid
    u.registers = registers
    u.fiber_id = fiber_id
    gdb.invalidate_cached_frames()


def clear():
    """Back to the thread's own stack; the fiber id shown before, or 0."""
    u = unwinder()
    shown, u.registers, u.thread, u.fiber_id = u.fiber_id, None, None, 0
    gdb.invalidate_cached_frames()
    return shown
