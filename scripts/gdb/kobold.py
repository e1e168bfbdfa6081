# Kobold's gdb helpers, loaded by `cargo xtask gdb` (gdb -x scripts/gdb/kobold.py).
#
# kobold-symbols [DIR-OR-FILE...]
#     Like Linux's lx-symbols (scripts/gdb/linux/symbols.py): reads the loaded
#     modules and each one's section addresses from the running kernel's
#     `kobold_modules_debug` table (kernel/src/module/kernel.rs, a #[repr(C)]
#     table of 32-bit words), finds each module's .ko under
#     target/kobold/modules (and the paths given) and runs
#     `add-symbol-file FILE ADDR -s SECTION ADDR ...`, init sections included
#     while the module's init runs. It also sets a breakpoint on
#     `kobold_module_coming`, which the kernel calls just before a module's
#     init_module, that re-runs it and continues: `break hello_init` set
#     before `insmod` hits, with source lines.
#
# The table (version 1), all little-endian u32:
#   struct { version, generation, count, total;
#            struct { char name[56]; state (0 live, 1 coming, 2 going);
#                     nsections; sections; names; core_base; } modules[32]; }
#   sections points to nsections {name offset into names, addr, init} records.

import os
import struct

import gdb

TABLE = "kobold_modules_debug"
VERSION = 1
HEADER = 16
MODULE_SIZE = 76
SECTION_SIZE = 12
STATE_COMING = 1

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "target", "kobold", "modules"))


def read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def words(addr, n):
    return struct.unpack("<%dI" % n, read(addr, 4 * n))


def cstring(addr, limit=256):
    raw = read(addr, limit)
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def symbol_address(name):
    """A kernel symbol's address, whatever language gdb is in (Rust)."""
    language = gdb.parameter("language")
    gdb.execute("set language c", to_string=True)
    try:
        return int(gdb.parse_and_eval("(unsigned int)&'%s'" % name))
    finally:
        gdb.execute("set language %s" % language, to_string=True)


def loaded_modules():
    """[(name, state, core_base, [(section, addr, init)])] from the kernel."""
    table = symbol_address(TABLE)
    version, _generation, count, total = words(table, 4)
    if version != VERSION:
        raise gdb.GdbError("%s: version %d, this script reads %d" % (TABLE, version, VERSION))
    if total > count:
        gdb.write("kobold-symbols: only the first %d of %d modules are listed\n" % (count, total))
    mods = []
    for i in range(count):
        base = table + HEADER + i * MODULE_SIZE
        name = read(base, 56).split(b"\0", 1)[0].decode("ascii", "replace")
        state, nsec, secs, names, core = words(base + 56, 5)
        sections = []
        for j in range(nsec):
            off, addr, init = words(secs + j * SECTION_SIZE, 3)
            sections.append((cstring(names + off), addr, bool(init)))
        mods.append((name, state, core, sections))
    return mods


def find_ko(name, paths):
    want = {name + ".ko", name.replace("_", "-") + ".ko"}
    for p in paths:
        if os.path.isfile(p) and os.path.basename(p) in want:
            return p
        if os.path.isdir(p):
            for dirpath, _dirs, files in os.walk(p):
                for f in sorted(files):
                    if f in want:
                        return os.path.join(dirpath, f)
    return None


def add_symbol_file_command(path, state, core, sections):
    """The add-symbol-file line for one module."""
    text = next((a for (s, a, _i) in sections if s == ".text"), core)
    args = ["add-symbol-file", path, "0x%x" % text]
    for s, addr, init in sections:
        if s == ".text" or (init and state != STATE_COMING):
            continue
        args += ["-s", s, "0x%x" % addr]
    return " ".join(args)


class KoboldSymbols(gdb.Command):
    """Load the symbols of Kobold's loaded modules: kobold-symbols [PATH...]

Reads the module list from the kernel's kobold_modules_debug table and runs
add-symbol-file for each module's .ko, found under target/kobold/modules and
the PATHs given. A breakpoint on kobold_module_coming re-runs it each time
a module is about to run its init."""

    def __init__(self):
        super().__init__("kobold-symbols", gdb.COMMAND_FILES, gdb.COMPLETE_FILENAME)
        self.paths = [DEFAULT_DIR]
        self.breakpoint = None
        self.loaded = {}

    def load_all(self, quiet=False):
        try:
            mods = loaded_modules()
        except gdb.MemoryError:
            # Before the MMU is on (e.g. halted at reset) the table is not
            # mapped yet: no modules.
            mods = []
        for name, state, core, sections in mods:
            path = find_ko(name, self.paths)
            if path is None:
                gdb.write("kobold-symbols: no %s.ko found in %s\n" % (name, ", ".join(self.paths)))
                continue
            cmd = add_symbol_file_command(path, state, core, sections)
            if self.loaded.get(name) == cmd:
                continue
            if name in self.loaded:
                # Forget the old addresses first (a reload, or init done).
                try:
                    gdb.execute("remove-symbol-file " + path, to_string=True)
                except gdb.error:
                    pass
            if not quiet:
                gdb.write("loading @0x%x: %s\n" % (core, path))
            gdb.execute(cmd, to_string=True)
            self.loaded[name] = cmd

    def invoke(self, arg, from_tty):
        for p in gdb.string_to_argv(arg):
            p = os.path.abspath(os.path.expanduser(p))
            if p not in self.paths:
                self.paths.append(p)
        self.load_all()
        if self.breakpoint is None or not self.breakpoint.is_valid():
            self.breakpoint = ModuleComing(self)


class ModuleComing(gdb.Breakpoint):
    """Stops nowhere: reloads the module symbols when a module comes."""

    def __init__(self, command):
        super().__init__("kobold_module_coming", internal=True)
        self.silent = True
        self.command = command

    def stop(self):
        self.command.load_all()
        return False


KoboldSymbols()
