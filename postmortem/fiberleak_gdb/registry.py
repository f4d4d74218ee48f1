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
        self._table = _stack_table(self.value["stacks_"])
        self._stack_cache = {}
        # fiber_properties::ctx_ inside the record that FiberSlot::record_storage holds: set
        # when the record is made, outside the seqlock, so readable in a record being updated.
        self._context_at = (self.layout.arrays["record_storage"][0] +
                            debuginfo.require_offset(_record_type(), "ctx_"))

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
        fiber.context = struct.unpack_from("<Q", data, base + self._context_at)[0]
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

    def stack(self, stack_id):
        """The return addresses of a recorded stack, innermost first ([] for none)."""
        if stack_id not in self._stack_cache:
            self._stack_cache[stack_id] = self._read_stack(stack_id)
        return self._stack_cache[stack_id]

    def stack_annotation(self, stack_id):
        """The wait kind a snapshot cached for the stack (WaitKind value + 1), 0 if none."""
        entry = self._entry(stack_id)
        return 0 if entry is None else entry[2]

    def _entry(self, stack_id):
        """(ready, depth, annotation) of a stack table entry, or None (no such stack, unreadable)."""
        table = self._table
        if stack_id == 0 or stack_id > table["capacity"]:
            return None
        raw = debuginfo.read_memory(table["entries"] + (stack_id - 1) * table["entry_size"], table["entry_size"])
        if raw is None:
            return None
        return tuple(struct.unpack_from(fmt, raw, offset)[0] for offset, fmt in table["fields"])

    def _read_stack(self, stack_id):
        entry = self._entry(stack_id)
        if entry is None or entry[0] == 0:
            return []
        depth = min(entry[1], self._table["max_depth"])
        first = self._table["frames"] + (stack_id - 1) * self._table["max_depth"] * 8
        raw = debuginfo.read_memory(first, depth * 8)
        return [] if raw is None else list(struct.unpack("<%dQ" % depth, raw))


def _record_type():
    return (debuginfo.find_type("fiberleak::detail::FiberRecord") or
            debuginfo.lookup_type("boost::fibers::fiber_properties"))


def _stack_table(stacks):
    """Where runtime/stack_table's entries and frames are, read once per command."""
    entry = debuginfo.lookup_type("fiberleak::detail::StackTable::Entry")
    fields = []
    for name in ("ready", "depth", "annotation"):
        size = debuginfo.scalar_of(entry[name].type).sizeof
        fields.append((debuginfo.require_offset(entry, name), "<" + {1: "B", 2: "H", 4: "I", 8: "Q"}[size]))
    return {"capacity": int(stacks["capacity_"]), "max_depth": int(stacks["max_depth_"]),
            "entries": int(stacks["entries_"]), "frames": int(stacks["frames_"]), "entry_size": entry.sizeof,
            "fields": fields}


def _label_text(value):
    type_ = value.type.strip_typedefs()
    if type_.code == gdb.TYPE_CODE_ARRAY:
        raw = debuginfo.read_memory(int(value.address), type_.sizeof) or b""
        # LabelSet's layout: "key\0value\0" pairs (keys never empty), the rest zero.
        pairs, at = [], 0
        while at < len(raw) and raw[at] != 0:
            key_end = raw.find(b"\0", at)
            value_end = raw.find(b"\0", key_end + 1) if key_end >= 0 else -1
            if value_end < 0:
                break
            pairs.append(raw[at:key_end].decode("utf-8", "replace") + "=" +
                         raw[key_end + 1:value_end].decode("utf-8", "replace"))
            at = value_end + 1
        return " ".join(pairs)
    return str(value)
