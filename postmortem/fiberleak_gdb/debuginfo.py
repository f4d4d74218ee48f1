"""Types, symbols and field offsets of the inferior, looked up by name.

Everything the extension knows about fiberleak's and Boost's layouts comes
from the program's DWARF through these helpers; nothing here hard-codes an
offset. A lookup that fails raises NoDebugInfo with a sentence the commands
print as is.
"""

import gdb


class NoDebugInfo(gdb.GdbError):
    """The program lacks the debug info (or the symbol) a command needs."""


_HINT = ("build the program with debug info for fiberleak (-g, e.g. CMAKE_BUILD_TYPE=RelWithDebInfo) "
         "and load its symbols")


def lookup_type(name):
    try:
        return gdb.lookup_type(name).strip_typedefs()
    except gdb.error:
        raise NoDebugInfo("fiberleak: no debug info for type '%s': %s" % (name, _HINT)) from None


def find_type(name):
    """The type, or None when the program's debug info does not have it."""
    try:
        return gdb.lookup_type(name).strip_typedefs()
    except gdb.error:
        return None


def lookup_variable(name):
    """The value of a global, file-static or static member variable (constants too), by qualified name."""
    symbol = gdb.lookup_static_symbol(name) or gdb.lookup_global_symbol(name) or gdb.lookup_symbol(name)[0]
    if symbol is not None:
        try:
            return symbol.value()
        except gdb.error:
            pass
    # Parsed as C++ whatever the selected frame's language (a core often stops in C code).
    language = gdb.parameter("language")
    try:
        gdb.execute("set language c++", to_string=True)
        return gdb.parse_and_eval("'%s'" % name if "(anonymous namespace)" in name else name)
    except gdb.error:
        raise NoDebugInfo("fiberleak: symbol '%s' not found: is fiberleak linked into this program? %s" %
                          (name, _HINT)) from None
    finally:
        gdb.execute("set language %s" % language, to_string=True)


def member_offset(type_, name):
    """Byte offset of data member `name` in `type_`, searching base classes; None if absent."""
    type_ = type_.strip_typedefs()
    for field in type_.fields():
        if not hasattr(field, "bitpos"):
            continue  # static member
        if field.name == name:
            return field.bitpos // 8
        if field.is_base_class:
            inner = member_offset(field.type, name)
            if inner is not None:
                return field.bitpos // 8 + inner
    return None


def require_offset(type_, name):
    offset = member_offset(type_, name)
    if offset is None:
        raise NoDebugInfo("fiberleak: type '%s' has no member '%s': this fiberleak or Boost is not the one the "
                          "extension knows" % (type_, name))
    return offset


def data_fields(type_):
    """(name, byte offset, type) of the non-static data members of `type_`, in order."""
    out = []
    for field in type_.strip_typedefs().fields():
        if hasattr(field, "bitpos") and not field.is_base_class and field.name:
            out.append((field.name, field.bitpos // 8, field.type.strip_typedefs()))
    return out


def load(value):
    """The integer inside a std::atomic<T> (or a plain integer or pointer) value."""
    scalar = scalar_of(value.type)
    return int(value.address.cast(scalar.pointer()).dereference())


def scalar_of(type_):
    """The integer or pointer type inside a std::atomic<T> (or T itself)."""
    type_ = type_.strip_typedefs()
    while type_.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
        inner = None
        for field in type_.fields():
            if hasattr(field, "bitpos"):
                inner = field.type.strip_typedefs()
                break
        if inner is None:
            raise NoDebugInfo("fiberleak: cannot see inside type '%s'" % type_)
        type_ = inner
    return type_


def enumerators(type_name):
    """{value: unqualified name} of an enum type, e.g. {2: "blocked"} for fiberleak::FiberState."""
    return {field.enumval: field.name.rsplit("::", 1)[-1] for field in lookup_type(type_name).fields()}


def is_core_file():
    """Whether the selected inferior is a core file (no process to read the clock of)."""
    connection = gdb.selected_inferior().connection
    return connection is not None and connection.type == "core"


def read_memory(address, length):
    """Bytes of the inferior at `address`, or None when they are not readable."""
    try:
        return bytes(gdb.selected_inferior().read_memory(address, length))
    except gdb.MemoryError:
        return None
