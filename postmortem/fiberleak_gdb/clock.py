"""The dump's time, and runtime/tick_clock's ticks turned into it.

Records carry TickClock ticks: the CPU's time-stamp counter when it is
invariant (converted with a rate measured from the anchor pair the runtime
took at start-up), else steady_clock nanoseconds. A snapshot measures the
rate against "now"; a dump has no now of its own, so:

- a live or attached process: now is this machine's CLOCK_MONOTONIC
  (steady_clock), and the rate is measured from the process's anchor to a
  time-stamp counter read here (the same machine and boot);
- a core file: its time is when the core file was created (else its
  modification time), brought onto CLOCK_MONOTONIC with this boot's
  offset: an upper bound, late by the time the dumper took to start.
  A core from another machine or boot cannot convert ticks (ages unknown);
  a core time before the newest recorded event (a copied core) gives way
  to that event, and ages are then lower bounds, said so.
"""

import ctypes
import mmap
import os
import time

import gdb

from . import debuginfo

_NS = "fiberleak::detail::(anonymous namespace)::"


_rdtsc = None  # (page, function), made once


def _read_tsc():
    """(this CPU's time-stamp counter, CLOCK_MONOTONIC ns) read together (x86_64 only), or None.

    Python cannot execute rdtsc itself: a page holding the instruction is
    called through ctypes (None where executable pages are refused).
    """
    global _rdtsc
    if os.uname().machine != "x86_64":
        return None
    try:
        if _rdtsc is None:
            code = bytes([0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, 0xc3])  # rdtsc; rdx<<32|rax; ret
            page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
            page.write(code)
            function = ctypes.CFUNCTYPE(ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
            _rdtsc = (page, function)
        return _rdtsc[1](), time.monotonic_ns()
    except (OSError, ValueError, TypeError):
        return None


class DumpClock:
    """Converts a registry's ticks into nanoseconds before the dump's time.

    rate_known: False when ticks cannot be turned into nanoseconds (a core
    from another machine or boot): ages are then None. exact: False when
    ages count to the newest recorded event, not to the dump's time.
    """

    def __init__(self, fibers):
        self.tsc = bool(debuginfo.load(debuginfo.lookup_variable("fiberleak::detail::TickClock::tsc_usable_")))
        self.anchor_tsc = debuginfo.load(debuginfo.lookup_variable(_NS + "g_anchor_tsc"))
        self.anchor_ns = debuginfo.load(debuginfo.lookup_variable(_NS + "g_anchor_ns"))
        self.ns_per_tick = 1.0
        self.rate_known = True
        self.exact = True
        newest = max([max(f.created_ticks, f.parked_ticks) for f in fibers if not f.updating] or [0])
        if self.tsc:
            self.rate_known = self._measure_rate(newest)
        newest_ns = self.to_steady_ns(newest) if newest else 0
        if not debuginfo.is_core_file():
            stopped = _stopped_at.get(gdb.selected_inferior().num)
            if stopped is not None:
                self.now_ns, self.source = stopped, "its stop (a live process)"
            else:
                self.now_ns = time.monotonic_ns()
                self.source = ("now (a live process; ages include the time it has been stopped, "
                               "load the extension before attaching to count to the stop)")
        else:
            self.now_ns, self.source = _core_time()
        if self.now_ns is None or self.now_ns < newest_ns:
            self.now_ns = newest_ns
            self.exact = False
            self.source = "the newest event in the dump (the dump's own time is unknown): ages are lower bounds"
        if not self.rate_known:
            self.source = "unknown: the dump comes from another machine or boot (ticks cannot be converted)"

    def _measure_rate(self, newest):
        pair = _read_tsc()
        if pair is None or pair[0] <= self.anchor_tsc or pair[1] <= self.anchor_ns or newest > pair[0]:
            return False
        rate = (pair[1] - self.anchor_ns) / (pair[0] - self.anchor_tsc)
        if not 0.05 < rate < 20:  # 50 MHz .. 20 GHz: anything else is another boot's counter
            return False
        self.ns_per_tick = rate
        return True

    def to_steady_ns(self, ticks):
        if not self.tsc:
            return ticks
        return self.anchor_ns + int((ticks - self.anchor_tsc) * self.ns_per_tick)

    def age_ns(self, ticks):
        """How long before the dump's time `ticks` was; 0 for none, None when unknown."""
        if ticks == 0:
            return 0
        if not self.rate_known:
            return None
        return max(0, self.now_ns - self.to_steady_ns(ticks))


# When each inferior last stopped (CLOCK_MONOTONIC ns), seen from the moment
# the extension was loaded: a stopped process's fibers cannot wake, so their
# ages are counted to the stop, not to when a command runs.
_stopped_at = {}


def _on_stop(event):
    inferior = gdb.selected_inferior()
    if inferior is not None:
        _stopped_at[inferior.num] = time.monotonic_ns()


def _on_run(event):
    _stopped_at.pop(gdb.selected_inferior().num, None)


def track_stops():
    """Called once when the extension loads."""
    gdb.events.stop.connect(_on_stop)
    gdb.events.cont.connect(_on_run)
    gdb.events.exited.connect(_on_run)


def _core_time():
    """(CLOCK_MONOTONIC ns, description) of the core file's mtime, or (None, '')."""
    core = _core_path()
    if core is None:
        return None, ""
    written = _birth_time_ns(core) or os.stat(core).st_mtime_ns
    at = written - (time.time_ns() - time.monotonic_ns())
    if at > time.monotonic_ns():
        return None, ""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(written / 1e9))
    return at, "the core file's creation, %s" % when


def _birth_time_ns(path):
    """When the file was created (statx's btime), or None where the file system does not say.

    A core is written after its process stopped (gcore: a 600 MB core of the
    demo takes ~3 s), so its creation is nearer the stop than its mtime.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buffer = ctypes.create_string_buffer(256)  # struct statx (linux/stat.h)
        statx_btime = 0x800
        if libc.statx(-100, os.fsencode(path), 0, statx_btime, buffer) != 0:  # AT_FDCWD
            return None
        mask = int.from_bytes(buffer.raw[0:4], "little")
        if not mask & statx_btime:
            return None
        seconds = int.from_bytes(buffer.raw[80:88], "little", signed=True)  # stx_btime.tv_sec
        return seconds * 10**9 + int.from_bytes(buffer.raw[88:92], "little")
    except (OSError, AttributeError):
        return None


def _core_path():
    """The core file gdb has open, from `info target`, or None."""
    in_core = False
    for line in gdb.execute("info target", to_string=True).splitlines():
        line = line.strip()
        if line.startswith("Local core dump file:"):
            in_core = True
        elif in_core and line.startswith("`") and "'," in line:
            path = line[1:line.index("',")]
            return path if os.path.exists(path) else None
    return None
