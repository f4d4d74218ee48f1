"""The `fiberleak` commands: fibers, stacks, switch, back, leaks.

Each command reads the registry afresh (the inferior may have run since),
so they work the same on a live process, an attached one and a core file.
Errors are gdb.GdbError: one line, no Python traceback.
"""

import re

import gdb

from . import clock, debuginfo, unwinder, waits
from .dump import Dump


def format_duration(ns):
    """profiler/duration.cpp's format_duration(): 850us, 12ms, 3.5s, 2m5s, 1h3m."""
    if ns is None:
        return "?"
    if ns < 1_000_000:
        return "%.0fus" % (ns / 1e3)
    if ns < 1_000_000_000:
        return "%.0fms" % (ns / 1e6)
    if ns < 60_000_000_000:
        return "%.1fs" % (ns / 1e9)
    s = ns // 1_000_000_000
    return "%dm%ds" % (s // 60, s % 60) if s < 3600 else "%dh%dm" % (s // 3600, s % 3600 // 60)


def parse_duration(text):
    """'30s', '1m30s', '500ms', a bare number of seconds -> ns (profiler/duration.cpp's units)."""
    units = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text) * 1e9)
    parts = re.findall(r"(\d+(?:\.\d+)?)([a-z]+)", text)
    if not parts or "".join(a + b for a, b in parts) != text or any(u not in units for _, u in parts):
        raise gdb.GdbError("fiberleak: bad duration '%s' (e.g. 30s, 1m30s, 500ms)" % text)
    return int(sum(float(v) * units[u] for v, u in parts))


class FiberleakCommand(gdb.Command):
    """Fibers of a program linked with fiberleak, from its registry: live, attached or a core file.

fiberleak fibers            every tracked fiber: state, wait, blocked for, holder, parent, creator
fiberleak stacks ID         the park and creation stacks of fiber ID
fiberleak switch ID         show suspended fiber ID's stack as the thread's (bt, frame, info locals)
fiberleak back              back to the thread's own stack
fiberleak leaks [THRESHOLD] [--include-main]   leak verdicts as /debug/leaks (default 30s)"""

    def __init__(self):
        super().__init__("fiberleak", gdb.COMMAND_STACK, prefix=True)

    def invoke(self, argument, from_tty):
        gdb.execute("help fiberleak", from_tty)


class FibersCommand(gdb.Command):
    """List every tracked fiber: id, name, labels, state, wait reason, blocked for, what it waits on
and who holds it, parent, creating function. Usage: fiberleak fibers"""

    def __init__(self):
        super().__init__("fiberleak fibers", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        if argument.strip():
            raise gdb.GdbError("usage: fiberleak fibers (no arguments)")
        dump = Dump()
        with_labels = any(f.labels for f in dump.fibers)
        rows = [["id", "name"] + (["labels"] if with_labels else []) +
                ["state", "wait", "blocked", "parent", "waits on", "created by"]]
        for f in dump.fibers:
            if f.updating:
                rows.append([str(f.id), "?"] + (["?"] if with_labels else []) + ["being updated", "", "", "", "", ""])
                continue
            target = "0x%x" % f.waits_on if f.waits_on else "-"
            if f.waits_for:
                target += " held by %d" % f.waits_for if f.wait == "mutex" else " (fiber %d)" % f.waits_for
            elif f.owner_ended:
                target += " held by an ended fiber"
            wait = dump.reasons[f.wait] if f.wait != "none" else "-"
            rows.append([str(f.id), f.name or "-"] + ([f.labels or "-"] if with_labels else []) + [
                f.state + (" (main)" if f.is_main else ""), wait,
                format_duration(dump.blocked_ns(f)) if f.parked else "-",
                str(f.parent) if f.parent else "-", target, dump.creator(f) or "-"])
        gdb.write(dump.header())
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            gdb.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")


def _write_stack(title, frames):
    gdb.write("%s:\n" % title)
    if not frames:
        gdb.write("    (not recorded)\n")
    for i, f in enumerate(frames):
        where = " at %s" % f.where() if f.where() else ""
        gdb.write("    #%-2d 0x%016x in %s%s%s\n" % (i, f.pc, f.function, where, " (inlined)" if f.inlined else ""))


class StacksCommand(gdb.Command):
    """The park and creation stacks of one fiber, named by gdb. Usage: fiberleak stacks ID"""

    def __init__(self):
        super().__init__("fiberleak stacks", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        args = gdb.string_to_argv(argument)
        if len(args) != 1:
            raise gdb.GdbError("usage: fiberleak stacks ID")
        dump = Dump()
        f = dump.fiber(args[0])
        reason = dump.reasons[f.wait] if f.wait != "none" else f.state
        gdb.write("fiber %d%s [%s%s]\n" % (f.id, ' "%s"' % f.name if f.name else "", reason,
                                         ", " + format_duration(dump.blocked_ns(f)) if f.parked else ""))
        _write_stack("park stack (latest park)", dump.symbolizer.stack(dump.registry.stack(f.park_stack)))
        creation = dump.symbolizer.stack(dump.registry.stack(f.creation_stack))
        _write_stack("creation stack" + (" (in fiber %d)" % f.parent if f.parent else ""), creation)


class SwitchCommand(gdb.Command):
    """Show a suspended fiber's stack as the selected thread's callers, so that bt, frame, up/down and
info locals work there (frame #1 is the fiber's top). Usage: fiberleak switch ID; back with
`fiberleak back`."""

    def __init__(self):
        super().__init__("fiberleak switch", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        args = gdb.string_to_argv(argument)
        if len(args) != 1:
            raise gdb.GdbError("usage: fiberleak switch ID")
        if gdb.selected_thread() is None:
            raise gdb.GdbError("fiberleak: no thread selected: start, attach to or load a core of the program")
        arch = gdb.selected_frame().architecture().name()
        if arch != "i386:x86-64":
            raise gdb.GdbError("fiberleak: switching is implemented for x86_64 only (this is %s)" % arch)
        dump = Dump()
        f = dump.fiber(args[0])
        if f.state == "running":
            raise gdb.GdbError("fiberleak: fiber %d is running: its stack is its thread's (thread ordinal %d); "
                               "select that thread" % (f.id, f.thread))
        context_type = debuginfo.lookup_type("boost::fibers::context")
        fctx_at = (debuginfo.require_offset(context_type, "c_") +
                   debuginfo.require_offset(debuginfo.lookup_type("boost::context::fiber"), "fctx_"))
        raw = debuginfo.read_memory(f.context + fctx_at, 8) if f.context else None
        fctx = int.from_bytes(raw, "little") if raw else 0
        if fctx == 0:
            raise gdb.GdbError("fiberleak: fiber %d has no saved context (it is being switched in or out)" % f.id)
        registers = unwinder.saved_registers(fctx)
        if registers is None or dump.symbolizer.frames(registers["rip"])[0].function == "?":
            raise gdb.GdbError("fiberleak: fiber %d's saved context at 0x%x does not hold a return address" %
                               (f.id, fctx))
        unwinder.show(f.id, registers)
        gdb.execute("frame 1", to_string=True)
        gdb.write("fiberleak: showing fiber %d%s on this thread: frame #1 is its top; `fiberleak back` returns\n" %
                  (f.id, ' "%s"' % f.name if f.name else ""))
        gdb.execute("frame")


class BackCommand(gdb.Command):
    """Back to the selected thread's own stack after `fiberleak switch`. Usage: fiberleak back"""

    def __init__(self):
        super().__init__("fiberleak back", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        shown = unwinder.clear()
        if gdb.selected_thread() is not None:
            gdb.execute("frame 0", to_string=True)
        gdb.write("fiberleak: back on the thread's own stack%s\n" % (" (from fiber %d)" % shown if shown else ""))


class LeaksCommand(gdb.Command):
    """Leak verdicts as /debug/leaks computes them: fibers parked past THRESHOLD (default 30s) are
suspects; deadlock cycles of mutex and join waits, waits on a mutex whose owner ended, and waits on
such fibers are definite. A thread's main fiber counts only with --include-main.
Usage: fiberleak leaks [THRESHOLD] [--include-main]"""

    def __init__(self):
        super().__init__("fiberleak leaks", gdb.COMMAND_STACK)

    def invoke(self, argument, from_tty):
        threshold, include_main = 30 * 10**9, False
        for arg in gdb.string_to_argv(argument):
            if arg == "--include-main":
                include_main = True
            elif arg.startswith("-"):
                raise gdb.GdbError("usage: fiberleak leaks [THRESHOLD] [--include-main]")
            else:
                threshold = parse_duration(arg)
        dump = Dump()
        graph = waits.WaitGraph(dump.fibers, dump.reasons)
        findings = []
        for f in dump.fibers:
            if not f.parked or (f.is_main and not include_main):
                continue
            blocked = dump.blocked_ns(f)
            definite = graph.definite.get(f.id)
            if definite is None and (blocked is None or blocked < threshold):
                continue
            if definite is not None:
                reason = "definite: " + definite[1]
            else:
                reason = "suspect: parked for %s%s, past the %s threshold" % (
                    "" if dump.clock.exact else "at least ", format_duration(blocked), format_duration(threshold))
            chain = graph.describe_chain(f.id)
            if chain and (definite is None or not definite[2]):
                reason += "; " + chain
            findings.append((definite is None, -(blocked or 0), f, reason))
        findings.sort(key=lambda t: (t[0], t[1], t[2].id))
        gdb.write(dump.header())
        if not findings:
            gdb.write("no leaks (threshold %s)\n" % format_duration(threshold))
        for _, _, f, reason in findings:
            gdb.write('fiber %d%s blocked in %s for %s [%s]\n' % (
                f.id, ' "%s"' % f.name if f.name else "", dump.reasons[f.wait],
                format_duration(dump.blocked_ns(f)), reason))
        cycles = {tuple(d[2]) for d in graph.definite.values() if d[2]}
        for cycle in sorted(cycles):
            gdb.write("deadlock cycle: %s\n" % " -> ".join(str(i) for i in cycle + (cycle[0],)))


def register():
    FiberleakCommand()
    FibersCommand()
    StacksCommand()
    SwitchCommand()
    BackCommand()
    LeaksCommand()
    unwinder.unwinder()
    clock.track_stops()
