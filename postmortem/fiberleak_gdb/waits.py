"""What each parked fiber waits on, for whom, and which fibers provably leak.

The same facts the endpoint computes at snapshot time, from the dump:
- the wait kind: cached in the stack table when a snapshot already told it
  (runtime/wait_classifier.cpp), else told here from the park stack by the
  same rules;
- waits_for / owner_ended: the mutex's owner read right after its wait queue
  (the offset from Boost's debug info), the joined fiber whose context holds
  the address (runtime/waits_on.cpp);
- verdicts: the threshold rule and the wait-for graph's definite leaks
  (profiler/leak_rules.cpp, profiler/wait_graph.cpp), with their sentences.
"""

import gdb

from . import debuginfo, symbols


def wait_reason_words():
    """{WaitKind enumerator name: Go-style words} from the runtime's own table."""
    names = debuginfo.enumerators("fiberleak::WaitKind")
    try:
        table = debuginfo.lookup_variable("fiberleak::detail::kWaitReasonWords")
        return {name: table[value].string() for value, name in names.items()}
    except (gdb.error, debuginfo.NoDebugInfo):
        return {name: name for name in names.values()}  # an older runtime: its enumerator names


def _kind_of_function(name):
    """runtime/wait_classifier.cpp's kind_of_function(), enumerator names."""
    if "boost::fibers::" not in name:
        return None
    if "boost::fibers::barrier::" in name:
        return "barrier"
    if "_channel<" in name:
        if ">::push" in name or ">::try_push" in name:
            return "channel_push"
        if any(s in name for s in (">::pop", ">::value_pop", ">::try_pop", "::iterator::increment_")):
            return "channel_pop"
        return None
    if any(s in name for s in ("mutex::lock", "mutex::try_lock_until", "mutex::try_lock_for")):
        return "mutex"
    if "condition_variable" in name:
        return "condition_variable"
    if any(s in name for s in ("future<", "future_base", "shared_state")):
        return "future"
    if "boost::fibers::fiber::join" in name or "boost::fibers::context::join" in name:
        return "join"
    if "this_fiber::sleep_" in name or "boost::fibers::context::wait_until(" in name:
        return "sleep"
    return None


def classify(fiber, registry, symbolizer, kinds):
    """The WaitKind enumerator name of a fiber (kinds: {value: name})."""
    if fiber.state == "yielded":
        return "yield"
    if not fiber.parked:
        return "none"
    cached = registry.stack_annotation(fiber.park_stack)
    if cached != 0 and cached - 1 in kinds:
        return kinds[cached - 1]
    pcs = registry.stack(fiber.park_stack)
    if not pcs:
        return "unknown"
    kind = None
    for frame in (f for pc in pcs for f in symbolizer.frames(pc)):
        k = _kind_of_function(frame.function)
        if k is not None:
            kind = k  # keep looking outward: future::get waits in a condition variable
        elif frame.function == "?" or not symbols.is_library_function(frame.function):
            break  # the first frame of user code
    if kind is None:
        kind = "sleep" if fiber.state == "sleeping" else "unknown"
    return kind


def resolve_targets(fibers):
    """Fills waits_for and owner_ended of the parked mutex and join waiters."""
    context_type = debuginfo.find_type("boost::fibers::context")
    if context_type is None:
        return
    context_size = context_type.sizeof
    by_context = {f.context: f for f in fibers if f.context}
    owner_after_queue = _owner_after_queue(context_type)
    oldest_park = {}
    for f in fibers:
        if f.parked and f.wait == "mutex" and f.waits_on:
            oldest_park[f.waits_on] = min(oldest_park.get(f.waits_on, f.parked_ticks), f.parked_ticks)
    for f in fibers:
        if not f.parked or not f.waits_on:
            continue
        if f.wait == "join":
            for address, joined in by_context.items():
                if address <= f.waits_on < address + context_size and not joined.updating:
                    f.waits_for = joined.id
        elif f.wait == "mutex" and owner_after_queue is not None:
            raw = debuginfo.read_memory(f.waits_on + owner_after_queue, 8)
            owner = int.from_bytes(raw, "little") if raw else 0
            if owner == 0:
                continue  # just unlocked: the waiter is being woken
            h = by_context.get(owner)
            if h is not None and h.updating:
                continue  # its record is being written: who holds the mutex is not known
            reused = h is not None and ((h.parked and h.waits_on == f.waits_on and h.wait == "mutex") or
                                        h.created_ticks > oldest_park[f.waits_on])
            if h is not None and not reused:
                f.waits_for = h.id
            else:
                f.owner_ended = True


def _owner_after_queue(context_type):
    mutex = debuginfo.find_type("boost::fibers::mutex")
    if mutex is not None:
        queue, owner = debuginfo.member_offset(mutex, "wait_queue_"), debuginfo.member_offset(mutex, "owner_")
        if queue is not None and owner is not None:
            return owner - queue
    queue_type = debuginfo.find_type("boost::fibers::context::wait_queue_t")
    return queue_type.sizeof if queue_type is not None else None


def who(f):
    return "fiber %d" % f.id + (' "%s"' % f.name if f.name else "")


class WaitGraph:
    """profiler/wait_graph.cpp over the dump's fibers: definite leaks and wait chains."""

    def __init__(self, fibers, reasons):
        self.by_id = {f.id: f for f in fibers if not f.updating}
        self.reasons = reasons
        self.definite = {}  # id -> (kind, reason, cycle)
        state = {}
        for start in self.by_id.values():
            walk = []
            at = start.id
            while at and state.get(at, 0) == 0:
                state[at] = 1
                walk.append(at)
                at = self.edge(self.by_id[at])
            if at and state.get(at) == 1:
                cycle = walk[walk.index(at):]
                members = ""
                for i, m in enumerate(cycle):
                    members += ("" if i == 0 else " and " if i + 1 == len(cycle) else ", ") + who(self.by_id[m])
                waits = ", ".join(self.reasons[self.by_id[m].wait] for m in cycle)
                for m in cycle:
                    self.definite[m] = ("deadlock", "deadlock: %s wait for each other (%s)" % (members, waits), cycle)
            for i in walk:
                state[i] = 2
        for f in self.by_id.values():
            if f.state == "blocked" and f.wait == "mutex" and f.owner_ended and f.id not in self.definite:
                self.definite[f.id] = ("owner ended", "waits on a mutex whose owner ended holding it", [])
        grew = True
        while grew:
            grew = False
            for f in self.by_id.values():
                target = self.edge(f)
                if f.id in self.definite or target not in self.definite:
                    continue
                self.definite[f.id] = ("waits on a leaked fiber", "waits in %s for %s, which never wakes (%s)" %
                                       (self.reasons[f.wait], who(self.by_id[target]), self.definite[target][0]), [])
                grew = True

    def edge(self, f):
        untimed = f.state == "blocked" and f.wait in ("mutex", "join")
        return f.waits_for if untimed and f.waits_for in self.by_id else 0

    def chain(self, fiber_id):
        """The fibers fiber_id waits for, transitively (timed waits too: they explain)."""
        out, seen, f = [], {fiber_id}, self.by_id.get(fiber_id)
        while f is not None and f.waits_for and f.parked and f.wait in ("mutex", "join"):
            out.append(f.waits_for)
            if f.waits_for in seen:
                break
            seen.add(f.waits_for)
            f = self.by_id.get(f.waits_for)
        return out

    def describe_chain(self, fiber_id):
        """'waits in mutex lock for fiber 7 "writer", which waits in chan send', or ''."""
        f, out = self.by_id.get(fiber_id), ""
        for next_id in self.chain(fiber_id):
            n = self.by_id.get(next_id)
            if f is None or n is None:
                break
            out += ("waits in " if not out else ", which waits in ") + self.reasons[f.wait] + " for " + who(n)
            f = n
        if f is not None and out and not f.waits_for:
            out += (", which waits in " if f.parked else ", which is ") + self.reasons[f.wait]
        return out
