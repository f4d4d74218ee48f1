"""Dump: every fiber of the inferior as one command sees it.

The registry's records with what the endpoint derives from them at
snapshot time (wait kinds, mutex holders, joined fibers, ages, creators),
computed once per command: the inferior may have run since the last one.
"""

import gdb

from . import clock, debuginfo, registry, symbols, waits


class Dump:
    """Every fiber of the inferior, with waits and ages resolved (one per command)."""

    def __init__(self):
        self.registry = registry.Registry()
        self.fibers = self.registry.fibers()
        self.clock = clock.DumpClock(self.fibers)
        self.symbolizer = symbols.Symbolizer()
        self.reasons = waits.wait_reason_words()
        kinds = debuginfo.enumerators("fiberleak::WaitKind")
        told = {}  # (park stack, state) -> wait kind: fibers parked at one site share a stack
        for f in self.fibers:
            if not f.updating:
                key = (f.park_stack, f.state)
                if key not in told:
                    told[key] = waits.classify(f, self.registry, self.symbolizer, kinds)
                f.wait = told[key]
        waits.resolve_targets(self.fibers)
        self.by_id = {f.id: f for f in self.fibers if not f.updating}
        self._creators = {}  # creation stack id -> top user function (None: none)

    def fiber(self, argument):
        try:
            fiber_id = int(argument, 0)
        except ValueError:
            raise gdb.GdbError("fiberleak: '%s' is not a fiber id (see `fiberleak fibers`)" % argument) from None
        if fiber_id not in self.by_id and any(f.updating and f.id == fiber_id for f in self.fibers):
            raise gdb.GdbError("fiberleak: fiber %d's record was being updated when the process stopped" % fiber_id)
        if fiber_id not in self.by_id:
            raise gdb.GdbError("fiberleak: no live fiber %d (see `fiberleak fibers`)" % fiber_id)
        return self.by_id[fiber_id]

    def blocked_ns(self, f):
        return self.clock.age_ns(f.parked_ticks) if f.parked else 0

    def creator(self, f):
        if f.creation_stack not in self._creators:
            frame = symbols.top_user_frame(self.symbolizer.stack(self.registry.stack(f.creation_stack)))
            self._creators[f.creation_stack] = frame.function if frame is not None else None
        name = self._creators[f.creation_stack]
        return name if name is not None else ("?" if f.parent or f.creation_stack else "")

    def header(self):
        return "fiberleak: %d fibers; times as of %s\n" % (len(self.fibers), self.clock.source)
