"""Reads runtime/'s FiberRegistry out of a stopped process or a core dump.

The registry is immortal and its slots never move (runtime/fiber_registry.hpp),
so every record is in the inferior's memory: this module finds the registry
through its symbol, learns FiberSlot's layout from the debug info (fields by
name, so fields added later, such as labels, are read when present) and
copies each chunk of slots in one read. A slot whose seqlock is odd was
being written when the process stopped: it is reported as being updated,
with no other facts, and the walk goes on.
"""

import struct

import gdb

from . import debuginfo

_REGISTRY = "fiberleak::detail::(anonymous namespace)::g_registry"
_SLOT = "fiberleak::detail::FiberSlot"


class Fiber:
    """One tracked fiber as its record reads in the dump."""

    def __init__(self, slot_address):
        self.slot_address = slot_address
        self.updating = False  # the seqlock was odd: nothing else is known
        self.id = 0
        self.parent = 0
        self.name = ""
        self.labels = ""
        self.state = "unknown"
        self.is_main = False
        self.adopted = False
        self.thread = 0
        self.created_ticks = 0
        self.parked_ticks = 0
        self.parks = 0
        self.creation_stack = 0
        self.park_stack = 0
        self.stack_bytes = 0
        self.waits_on = 0
        self.context = 0  # address of its boost::fibers::context
        # Filled by waits.py:
        self.wait = "none"  # a WaitKind enumerator name
        self.waits_for = 0
        self.owner_ended = False

    @property
    def parked(self):
        return not self.updating and self.state in ("blocked", "sleeping")


class _SlotLayout:
    """Where FiberSlot's fields are, from the debug info."""

    def __init__(self):
        slot_type = debuginfo.lookup_type(_SLOT)
        self.size = slot_type.sizeof
        self.scalars = {}  # name -> (offset, struct format)
        self.arrays = {}  # name -> (offset, bytes, type)
        for name, offset, type_ in debuginfo.data_fields(slot_type):
            if type_.code == gdb.TYPE_CODE_ARRAY:
                self.arrays[name] = (offset, type_.sizeof, type_)
                continue
            scalar = debuginfo.scalar_of(type_)
            fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(scalar.sizeof)
            if fmt is not None:
                self.scalars[name] = (offset, "<" + fmt)
        for required in ("seq", "in_use", "state", "flags", "id", "parent", "parked_ticks", "park_stack",
                         "creation_stack", "record_storage"):
            if required not in self.scalars and required not in self.arrays:
                raise debuginfo.NoDebugInfo("fiberleak: FiberSlot has no field '%s': this fiberleak is not the one "
                                            "the extension knows" % required)
        self.flag_main = int(debuginfo.lookup_variable(_SLOT + "::kFlagMain"))
        self.flag_adopted = int(debuginfo.lookup_variable(_SLOT + "::kFlagAdopted"))
        self.label_fields = [name for name in list(self.scalars) + list(self.arrays) if name.startswith("label")]

    def get(self, data, base, name, default=0):
        field = self.scalars.get(name)
        if field is None:
            return default
        return struct.unpack_from(field[1], data, base + field[0])[0]

    def text(self, data, base, name):
        offset, size, _ = self.arrays[name]
        raw = data[base + offset:base + offset + size]
        return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class Registry:
    """The registry of the selected inferior; build one per command."""

    def __init__(self):
        holder = debuginfo.lookup_variable(_REGISTRY)
        address = debuginfo.load(holder)
        if address == 0:
            raise gdb.GdbError("fiberleak: the registry was never created: no fiber was tracked "
                               "(fiberleak::install() not called yet)")
        registry_type = debuginfo.lookup_type("fiberleak::detail::FiberRegistry")
        self.value = gdb.Value(address).cast(registry_type.pointer()).dereference()
        self.layout = _SlotLayout()
        self.states = debuginfo.enumerators("fiberleak::FiberState")
        self._stacks = self.value["stacks_"]
        self._entry_type = debuginfo.lookup_type("fiberleak::detail::StackTable::Entry")

    def counter(self, name):
        return debuginfo.load(self.value[name])

    def fibers(self):
        """Every live tracked fiber (and every record being updated), ordered by id."""
        layout = self.layout
        n = min(self.counter("high_water_"), int(self.value["max_fibers_"]))
        chunks = self.value["chunks_"]
        per_chunk = int(debuginfo.lookup_variable("fiberleak::detail::FiberRegistry::kChunkSlots"))
        out = []
        chunk_index = 0
        while chunk_index * per_chunk < n:
            chunk = debuginfo.load(chunks[chunk_index])
            count = min(per_chunk, n - chunk_index * per_chunk)
            chunk_index += 1
            if chunk == 0:
                continue
            data = debuginfo.read_memory(chunk, count * layout.size)
            if data is None:
                gdb.write("fiberleak: slots at 0x%x are not in the dump; skipped\n" % chunk, gdb.STDERR)
                continue
            for i in range(count):
                fiber = self._decode(data, i * layout.size, chunk + i * layout.size)
                if fiber is not None:
                    out.append(fiber)
        out.sort(key=lambda f: (f.updating, f.id))
        return out

    def _decode(self, data, base, address):
        layout = self.layout
        fiber = Fiber(address)
        fiber.context = self._context(address)  # set at construction, outside the seqlock
        if layout.get(data, base, "seq") & 1:
            fiber.updating = True
            fiber.id = layout.get(data, base, "id")  # may be the old or the new one
            return fiber
        if not layout.get(data, base, "in_use"):
            return None
        fiber.state = self.states.get(layout.get(data, base, "state"), "unknown")
        if fiber.state == "done":
            return None
        flags = layout.get(data, base, "flags")
        fiber.is_main = bool(flags & layout.flag_main)
        fiber.adopted = bool(flags & layout.flag_adopted)
        for name in ("id", "parent", "thread", "created_ticks", "parked_ticks", "parks", "creation_stack",
                     "park_stack", "stack_bytes", "waits_on"):
            setattr(fiber, name, layout.get(data, base, name))
        if "name_words" in layout.arrays:
            fiber.name = layout.text(data, base, "name_words")
        fiber.labels = self._labels(address)
        return fiber

    def _labels(self, slot_address):
        """The fiber's labels as text when FiberSlot has label fields (a later runtime), else ''."""
        if not self.layout.label_fields:
            return ""
        slot = gdb.Value(slot_address).cast(debuginfo.lookup_type(_SLOT).pointer()).dereference()
        parts = []
        for name in self.layout.label_fields:
            try:
                parts.append(_label_text(slot[name]))
            except gdb.error:
                parts.append("?")
        return " ".join(p for p in parts if p)

    def _context(self, slot_address):
        record = gdb.Value(slot_address).cast(_record_type().pointer()).dereference()
        try:
            return int(record["ctx_"])
        except gdb.error:
            return 0

    def stack(self, stack_id):
        """The return addresses of a recorded stack, innermost first ([] for none)."""
        capacity = int(self._stacks["capacity_"])
        if stack_id == 0 or stack_id > capacity:
            return []
        entry = (self._stacks["entries_"] + (stack_id - 1)).dereference()
        if debuginfo.load(entry["ready"]) == 0:
            return []
        depth = min(debuginfo.load(entry["depth"]), int(self._stacks["max_depth_"]))
        first = int(self._stacks["frames_"]) + (stack_id - 1) * int(self._stacks["max_depth_"]) * 8
        raw = debuginfo.read_memory(first, depth * 8)
        return [] if raw is None else list(struct.unpack("<%dQ" % depth, raw))

    def stack_annotation(self, stack_id):
        """The wait kind a snapshot cached for the stack (WaitKind value + 1), 0 if none."""
        capacity = int(self._stacks["capacity_"])
        if stack_id == 0 or stack_id > capacity:
            return 0
        return debuginfo.load((self._stacks["entries_"] + (stack_id - 1)).dereference()["annotation"])


def _record_type():
    return (debuginfo.find_type("fiberleak::detail::FiberRecord") or
            debuginfo.lookup_type("boost::fibers::fiber_properties"))


def _label_text(value):
    type_ = value.type.strip_typedefs()
    if type_.code == gdb.TYPE_CODE_ARRAY:
        raw = debuginfo.read_memory(int(value.address), type_.sizeof) or b""
        return " ".join(p.decode("utf-8", "replace") for p in raw.split(b"\0") if p)
    return str(value)
