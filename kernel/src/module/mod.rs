//! Loadable modules: Linux's `kernel/module.c` (`load_module`,
//! `delete_module`, `/proc/modules`) on top of the host-tested
//! `kobold-loader` crate.
//!
//! `insmod` runs Linux's sequence, and every step can fail cleanly. Each
//! is one function, called in this order by `prepare` (steps 1 to 7) and
//! `load` (step 8); from step 4 on, what was allocated is held by a
//! `Loading` guard that frees it on any failure (on drop) unless the
//! module is committed to the list:
//!
//! 1. `check_signature` (Linux's `module_sig_check`, `signing`: the
//!    trailer taken off and verified against the built-in keyring),
//!    `validate` the ELF file and read `.modinfo` (name, license);
//! 2. `identify`: refuse an invalid name or one already loaded (`-EEXIST`),
//!    warn about the taints; `personality`: the ABI from `vermagic`
//!    (Kobold's own 3.18 API or Linux 6.1, `kobold_loader::linux61`),
//!    refused in Linux's words unless `insmod -f` (taint F, and E: a
//!    forced module is an unsigned one); then `reserve`
//!    the record's bookkeeping;
//! 3. `lay_out` the sections (core and init regions, permission groups,
//!    PLT);
//! 4. `allocate`: `module_alloc` both regions in
//!    `[MODULES_VADDR, MODULES_END)`, as
//!    `__vmalloc_node_range(size, 1, MODULES_VADDR, MODULES_END,
//!    GFP_KERNEL, PAGE_KERNEL_EXEC)` does, and widen `module_addr_min` /
//!    `module_addr_max` (Linux's `module_alloc_update_bounds`, the two
//!    kernel symbols the seed article reads with `devmem`);
//! 5. `link`: resolve symbols against the kernel's exports and other
//!    modules' (GPL-only exports only for GPL-compatible licenses) and
//!    relocate, the loader writing straight into the allocated regions;
//!    each module providing a symbol gains a user (`ref_module`). The
//!    module's ABI picks the kernel's table (`Backend::kernel_symbol`) and
//!    the modules it may link against (only those of its ABI). For a 6.1
//!    module, `linux61_fixups` then turns every `__mcount_loc` call site
//!    into ftrace's NOP and fills its `struct module` (name, state
//!    Coming; Live after init, Going before exit). Then read the `tables`
//!    (exports, refusing duplicates, and parameters: 3.18's or 6.1's
//!    `struct kernel_param`);
//! 6. `set_parameters` from `insmod` arguments (`module_param`, through
//!    `kobold_loader::params`); find the `entry_points` and the symbols
//!    kallsyms lists (`kobold_loader::kallsyms`);
//! 7. `protect`: W^X per group (text RX, rodata R, data RW, all but text
//!    XN — Linux's `module_enable_ro` / `module_enable_nx`), and flush the
//!    instruction cache; the module is listed as Coming;
//! 8. `load` calls `init_module`; on failure undo everything; on success
//!    free the init region and make `.data..ro_after_init` read-only.
//!
//! `rmmod` refuses a module others use (`-EAGAIN`, Linux's `-EWOULDBLOCK`)
//! or one with an init but no exit (`-EBUSY`, `[permanent]`), calls
//! `cleanup_module`, and frees it all.
//!
//! The hardware side (allocating, copying, protecting, calling) goes through
//! [`Backend`], so the whole sequence, its unwinding and the /proc formats
//! are unit-tested on the host with a fake.
//!
//! The unsafe line: the [`Backend`] methods that read, free or jump to an
//! address the loader computed (`module_bytes`, `free_string`, `call_init`,
//! `call_exit`) are `unsafe fn` with a `# Safety` contract; what makes the
//! address valid is this file's sequence (only `prepare` builds a
//! [`Module`]), and each call site says so in its `SAFETY` comment. Everything
//! ELF-level (which symbols kallsyms lists, parameter parsing) is the
//! `forbid(unsafe_code)` loader's.

pub mod copy;
pub mod export_index;
#[cfg(target_arch = "arm")]
pub mod exports;
#[cfg(target_arch = "arm")]
mod kernel;
pub mod kmod;
pub mod linux61;
pub mod signing;
pub mod sysfs;
#[cfg(target_arch = "arm")]
mod variadic;
pub mod vsprintf;

#[cfg(target_arch = "arm")]
pub use kernel::{insmod, insmod_flags, kobold_module_coming, rmmod, sysfs_list, sysfs_read};

use crate::errno::Errno;
use crate::sync::Mutex;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kobold_loader::ksymtab::{self, ParamType};
use kobold_loader::layout::{Group, ModuleLayout, Region};
use kobold_loader::link::Resolver;
pub use kobold_loader::linux61::Abi;
use kobold_loader::linux61::this_module;
use kobold_loader::relocate::Target;

/// `module.trace=1` on the command line: every load is traced as
/// `insmod -v` traces it, `modules-load=` included (Kobold's own boot
/// parameter, named as Linux names a built-in's parameters, `module.`).
static TRACE_ALL: AtomicBool = AtomicBool::new(false);

/// Sets `module.trace` (at boot, from the command line).
pub fn set_trace(on: bool) {
    TRACE_ALL.store(on, Ordering::Relaxed);
}

/// Whether a load asked to be `verbose` is traced: if it asked, or if
/// `module.trace` is on.
pub fn traced(verbose: bool) -> bool {
    verbose || TRACE_ALL.load(Ordering::Relaxed)
}

/// The loaded modules (Linux's `modules` list under `module_mutex`).
pub static MODULES: Mutex<Modules> = Mutex::new(Modules::new());

/// Linux's `module_addr_min`, a real kernel symbol (`nm` shows it as `D`,
/// initialised to -1, as in the seed's 3.18 vmlinux): the lowest address
/// any module allocation ever had.
#[unsafe(export_name = "module_addr_min")]
pub static MODULE_ADDR_MIN: AtomicU32 = AtomicU32::new(u32::MAX);
/// Linux's `module_addr_max` (`B`: zero-initialised, in .bss): one past the
/// highest.
#[unsafe(export_name = "module_addr_max")]
pub static MODULE_ADDR_MAX: AtomicU32 = AtomicU32::new(0);

/// Linux's MODULE_NAME_LEN - 1.
pub const MODULE_NAME_MAX: usize = kobold_loader::modinfo::MODULE_NAME_LEN - 1;

/// A module's name, held inline as Linux's `char name[MODULE_NAME_LEN]`,
/// so naming a module never allocates. Only names that
/// [`kobold_loader::modinfo::check_name`] accepts are ever built:
/// `[A-Za-z0-9_-]`, 1 to 55 bytes — nothing that could forge a line of
/// /proc/modules or be impossible to type at `rmmod`.
///
/// Word-aligned (its size stays 56 bytes): a `ModName` is moved by value
/// several times in every `insmod` (`identify`, `Identity`, `Prepared`, the
/// result), and with an alignment of 1 each move was `memcpy`'s byte loop
/// (about 200 instructions) instead of its word loop.
#[derive(Clone, Copy, Eq)]
#[repr(align(4))]
pub struct ModName {
    len: u8,
    bytes: [u8; MODULE_NAME_MAX],
}

impl ModName {
    /// `name` if it is a valid module name.
    pub fn new(name: &str) -> Result<Self, kobold_loader::modinfo::InvalidName<'_>> {
        kobold_loader::modinfo::check_name(name)?;
        // Built in place: a cleared array copied into the record at its
        // odd offset was a byte-by-byte `memcpy` of 55 bytes.
        let mut n = ModName {
            len: name.len() as u8,
            bytes: [0; MODULE_NAME_MAX],
        };
        n.bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(n)
    }

    /// The name kbuild gives the file at `path`: the file name without
    /// `.ko`, dashes made underscores; `None` if that is no valid name.
    pub fn from_path(path: &str) -> Option<Self> {
        let base = path.rsplit('/').next().unwrap_or(path);
        let stem = base.strip_suffix(".ko").unwrap_or(base);
        let mut name = ModName::new(stem).ok()?;
        for b in &mut name.bytes[..stem.len()] {
            if *b == b'-' {
                *b = b'_';
            }
        }
        Some(name)
    }

    /// The name's bytes (ASCII), without the `from_utf8` of
    /// [`ModName::as_str`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The name. Only ASCII that `check_name` accepted is ever stored
    /// (`new`; `from_path` changes `-` to `_`), so it is not decoded
    /// again: a `from_utf8` here cost about 95 instructions at each of the
    /// two uses in every `insmod`.
    pub fn as_str(&self) -> &str {
        let b = self.as_bytes();
        debug_assert!(b.is_ascii());
        // SAFETY: `bytes[..len]` is always ASCII (see above), hence UTF-8:
        // `new` copies it from a `&str` that `check_name` found to be
        // letters, digits, `_` and `-` only, and `from_path` only turns `-`
        // into `_`; nothing else writes `bytes` or `len`.
        unsafe { core::str::from_utf8_unchecked(b) }
    }
}

/// The names' bytes, compared in line: the bytes after `len` are zero in
/// every `ModName` (`new` clears them, `from_path` changes only the name's
/// own), so this is the derived comparison of both fields, which compared
/// all 55 bytes through `memcmp` (about 340 instructions at each `insmod`,
/// to find the module just prepared in the list).
impl PartialEq for ModName {
    fn eq(&self, other: &Self) -> bool {
        kobold_loader::name_is_bytes(self.as_bytes(), other.as_bytes())
    }
}

impl core::ops::Deref for ModName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ModName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ModName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Page permissions a module's group gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Perm {
    /// Text: read-only, executable.
    ReadExec,
    /// Rodata, and ro-after-init once init is done: read-only, XN.
    ReadOnly,
    /// Data and bss: read-write, XN.
    ReadWrite,
}

/// A kernel symbol (Linux's `EXPORT_SYMBOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelSymbol {
    pub value: u32,
    pub is_func: bool,
    pub gpl_only: bool,
}

/// A `module_alloc` area: its address and its bytes, mapped read-write
/// (and executable) until the loader protects its groups; the memory stays
/// the module's until `module_memfree(addr)`.
pub struct ModuleMem {
    pub addr: u32,
    pub bytes: &'static mut [u8],
    /// The backend cleared `bytes` already (the kernel's does, with a
    /// store-multiple loop); else the loader clears them.
    pub zeroed: bool,
}

/// What loading needs from the running kernel.
pub trait Backend {
    /// `module_alloc(size)`: page-rounded, mapped RWX in the module window.
    fn module_alloc(&mut self, size: u32) -> Result<ModuleMem, Errno>;
    /// `module_memfree(addr)`.
    fn module_memfree(&mut self, addr: u32);
    /// `len` bytes of a loaded module's core memory from `addr` (to read
    /// the names of its exports, which live in its `__ksymtab_strings`).
    ///
    /// # Safety
    ///
    /// `[addr, addr + len)` is the core region of a module in the list
    /// (`module_alloc`ed and not yet freed), and it stays so while the
    /// returned slice lives.
    unsafe fn module_bytes(&self, addr: u32, len: u32) -> &[u8];
    /// Sets the permissions of `[addr, addr + len)` (page-aligned).
    fn protect(&mut self, addr: u32, len: u32, perm: Perm);
    /// Makes freshly written text executable (`flush_icache_range`).
    fn flush_icache(&mut self, start: u32, end: u32);
    /// Calls `int init_module(void)` at `addr`.
    ///
    /// # Safety
    ///
    /// `addr` is a loaded module's `init_module` as
    /// `kobold_loader::link::entry_points` found it (inside the module's
    /// text, bit 0 set for Thumb), the text is relocated, executable and
    /// flushed, and the module's memory outlives the call.
    unsafe fn call_init(&mut self, addr: u32) -> i32;
    /// Calls `void cleanup_module(void)` at `addr`.
    ///
    /// # Safety
    ///
    /// As for [`call_init`](Backend::call_init), with the module's
    /// `cleanup_module`.
    unsafe fn call_exit(&mut self, addr: u32);
    /// A symbol the kernel exports to modules built for `abi`: Kobold's
    /// own table (Linux 3.18's API) or the Linux 6.1 personality's
    /// (`linux61::exports()`).
    fn kernel_symbol(&self, abi: Abi, name: &str) -> Option<KernelSymbol>;
    /// Writes `value` at `addr`: a word of a module's writable data (its
    /// 6.1 `struct module`'s `state`, as Linux updates `mod->state`).
    ///
    /// # Safety
    ///
    /// `[addr, addr + 4)` is 4-byte aligned and lies in the writable data
    /// (`Data` group) of a module in the list, allocated and mapped
    /// read-write until the module is freed.
    unsafe fn write_module_word(&mut self, addr: u32, value: u32);
    /// Copies a `charp` parameter's value to kernel memory.
    fn alloc_string(&mut self, s: &str) -> Result<u32, Errno>;
    /// Frees a copy [`alloc_string`](Backend::alloc_string) made.
    ///
    /// # Safety
    ///
    /// `addr` was returned by `alloc_string` and is not freed yet, and
    /// nothing uses the string any more.
    unsafe fn free_string(&mut self, addr: u32);
    /// Logs a kernel message (`pr_err`, `pr_warn`, ...).
    fn log(&mut self, level: crate::console::printk::Level, msg: fmt::Arguments<'_>);
}

/// Linux's `enum module_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Live,
    Coming,
    Going,
}

/// A symbol of a loaded module, for kallsyms and oopses: which symbols
/// are listed and their `nm` letter are the loader's business
/// ([`kobold_loader::kallsyms`]); its name is an offset into the module's
/// copy of its string table.
pub use kobold_loader::kallsyms::Listed as ModSymbol;

/// One loaded module (Linux's `struct module`).
pub struct Module {
    pub name: ModName,
    pub state: State,
    pub core_base: u32,
    pub core_size: u32,
    /// The init region while it exists.
    pub init: Option<(u32, u32)>,
    pub init_fn: Option<u32>,
    pub exit_fn: Option<u32>,
    /// Sorted by name; the names are in the module's core memory.
    exports: Vec<ksymtab::Export>,
    /// Modules whose symbols this one uses (Linux's target_list).
    pub uses: Vec<ModName>,
    /// Linux's TAINT_PROPRIETARY_MODULE ('P') and TAINT_OOT_MODULE ('O').
    pub proprietary: bool,
    pub out_of_tree: bool,
    /// Loaded without a valid signature (taint E, `TAINT_UNSIGNED_MODULE`;
    /// Linux's `!mod->sig_ok`).
    pub unsigned: bool,
    /// Linux's TAINT_FORCED_MODULE ('F'): loaded with `insmod -f`.
    pub forced: bool,
    /// The ABI it was built for, which its imports resolved against.
    pub abi: Abi,
    /// Address of its 6.1 `struct module` (`.gnu.linkonce.this_module`,
    /// in its core data), whose `state` follows the module's.
    pub this_module: Option<u32>,
    /// Pins taken by other code through the module's `struct module`
    /// (Linux's `try_module_get`/`module_put` part of `refcnt`; see
    /// [`Modules::try_module_get`]).
    pub pins: u32,
    /// Sorted by address.
    symbols: Vec<ModSymbol>,
    /// One copy of the file's symbol string table (Linux keeps its
    /// `core_kallsyms` strings the same way): every symbol name points
    /// into it, so shared names cost nothing extra.
    strtab: Vec<u8>,
    /// `[addr, len)` of the ro-after-init group, made read-only after init.
    ro_after_init: Option<(u32, u32)>,
    /// `charp` parameter strings, freed with the module.
    strings: Vec<u32>,
    /// The layout's permission groups: (region, group, `[start, end)`
    /// offsets from the region's base), for `pt --module`. The init
    /// region's are stale once `init` is `None`.
    pub groups: Vec<(Region, Group, u32, u32)>,
    /// Each loaded section's name and address, and the parameters: what
    /// `/sys/module/NAME` shows and what gdb's `kobold-symbols` reads.
    sysfs: sysfs::Sysfs,
    /// Where each `.ARM.exidx*` section was placed (all in core rodata),
    /// for the oops unwinder (Linux's `mod->arch.unwind`).
    exidx: Vec<kobold_common::unwind::Index>,
}

impl Module {
    /// Linux's `module_flags()`: `(PO)`-style taints, then `-` while going
    /// and `+` while coming; nothing when there is none of these.
    pub fn write_flags(&self, out: &mut dyn Write) -> fmt::Result {
        let flags = [
            (self.proprietary, 'P'),
            (self.out_of_tree, 'O'),
            (self.forced, 'F'),
            (self.unsigned, 'E'),
            (self.state == State::Going, '-'),
            (self.state == State::Coming, '+'),
        ];
        if flags.iter().any(|&(on, _)| on) {
            out.write_char('(')?;
            for (_, c) in flags.iter().filter(|&&(on, _)| on) {
                out.write_char(*c)?;
            }
            out.write_char(')')?;
        }
        Ok(())
    }

    /// Each loaded section's name and address, and the parameters
    /// (`/sys/module/NAME`).
    pub fn sysfs(&self) -> &sysfs::Sysfs {
        &self.sysfs
    }

    fn tainted(&self) -> bool {
        self.proprietary || self.out_of_tree || self.forced || self.unsigned
    }

    /// Linux's `module_flags_taint()`: the taint letters alone (what
    /// `/sys/module/NAME/taint` shows), `P`, `O`, `F` in Linux's order.
    pub fn write_taint(&self, out: &mut dyn Write) -> fmt::Result {
        for (on, c) in [
            (self.proprietary, 'P'),
            (self.out_of_tree, 'O'),
            (self.forced, 'F'),
            (self.unsigned, 'E'),
        ] {
            if on {
                out.write_char(c)?;
            }
        }
        Ok(())
    }

    /// What /proc/modules shows as the size: Linux's
    /// `init_size + core_size`.
    pub fn size(&self) -> u32 {
        self.core_size + self.init.map_or(0, |i| i.1)
    }

    fn contains(&self, addr: u32) -> bool {
        let within = |base: u32, size: u32| addr >= base && addr - base < size;
        within(self.core_base, self.core_size) || self.init.is_some_and(|(b, s)| within(b, s))
    }

    /// A symbol's name.
    pub fn symbol_name(&self, s: &ModSymbol) -> &str {
        s.name(&self.strtab)
    }

    /// The module's unwind index tables (one per text section).
    pub fn exidx(&self) -> &[kobold_common::unwind::Index] {
        &self.exidx
    }

    /// The module's symbols for kallsyms, by address.
    pub fn symbols(&self) -> impl Iterator<Item = (&ModSymbol, &str)> {
        self.symbols.iter().map(|s| (s, self.symbol_name(s)))
    }

    /// The module's exports: (name, value, GPL-only), read through
    /// `backend` from the module's memory.
    pub fn exports<'b>(
        &'b self,
        backend: &'b dyn Backend,
    ) -> impl Iterator<Item = (&'b str, u32, bool)> + 'b {
        // SAFETY: the module is in the list (only `prepare` builds a
        // `Module`, and `unload` frees it only after removing it), so its
        // core region is allocated while `self` is borrowed.
        let core = unsafe { backend.module_bytes(self.core_base, self.core_size) };
        self.exports
            .iter()
            .map(move |e| (e.name(core).unwrap_or(""), e.value, e.gpl_only))
    }
}

/// All loaded modules, newest last, and the bounds of their memory.
pub struct Modules {
    list: Vec<Module>,
    /// Linux's `module_addr_min` / `module_addr_max`: only ever widened.
    pub addr_min: u32,
    pub addr_max: u32,
    /// "loading out-of-tree module taints kernel." is said once.
    oot_warned: bool,
    /// "module verification failed ..." is said once (`pr_notice_once`).
    unsigned_warned: bool,
    /// Linux's `tainted_mask` bits set by `add_taint` (e.g. `TAINT_WARN`
    /// from a module's `WARN()`), beside what the modules' own flags say.
    taint_mask: u32,
}

impl Default for Modules {
    fn default() -> Self {
        Self::new()
    }
}

impl Modules {
    pub const fn new() -> Self {
        Modules {
            list: Vec::new(),
            addr_min: u32::MAX,
            addr_max: 0,
            oot_warned: false,
            unsigned_warned: false,
            taint_mask: 0,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Module> {
        self.list.iter().find(|m| m.name.as_str() == name)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Module> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Linux's `module_refcount`: the modules using `name`, plus the pins
    /// taken on it ([`Modules::try_module_get`]).
    pub fn refcount(&self, name: &str) -> usize {
        let pins = self
            .list
            .iter()
            .find(|m| m.name.as_str() == name)
            .map_or(0, |m| m.pins as usize);
        self.users(name).count() + pins
    }

    /// Linux's `try_module_get(owner)`, for a 6.1 module's `struct module`
    /// at `this_module` (what `THIS_MODULE` gives the code that registers
    /// something, e.g. an NLS table's `owner`): NULL (built-in) always
    /// succeeds; a listed module that is not Going is pinned (its refcount
    /// grows, so `rmmod` refuses it with `-EAGAIN`, Linux's
    /// `-EWOULDBLOCK`) and `true` comes back; a Going one, or an address
    /// that is no module's, gives `false`.
    pub fn try_module_get(&mut self, this_module: u32) -> bool {
        if this_module == 0 {
            return true;
        }
        match self.by_this_module(this_module) {
            Some(m) if m.state != State::Going => {
                m.pins = m.pins.saturating_add(1);
                true
            }
            _ => false,
        }
    }

    /// Linux's `module_put(owner)`: drops a pin [`Modules::try_module_get`]
    /// took. A put without a pin changes nothing and returns `false` (Linux
    /// WARNs: `atomic_dec_if_positive` went negative).
    pub fn module_put(&mut self, this_module: u32) -> bool {
        if this_module == 0 {
            return true;
        }
        match self.by_this_module(this_module) {
            Some(m) if m.pins > 0 => {
                m.pins -= 1;
                true
            }
            _ => false,
        }
    }

    /// The listed module whose 6.1 `struct module` is at `this_module`.
    fn by_this_module(&mut self, this_module: u32) -> Option<&mut Module> {
        self.list
            .iter_mut()
            .find(|m| m.this_module == Some(this_module))
    }

    fn users<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Module> + 'a {
        self.list
            .iter()
            .rev()
            .filter(move |m| m.uses.iter().any(|u| u.as_str() == name))
    }

    /// The loaded module whose memory holds `addr`.
    pub fn module_at(&self, addr: u32) -> Option<&Module> {
        if addr < self.addr_min || addr >= self.addr_max {
            return None;
        }
        self.list.iter().find(|m| m.contains(addr))
    }

    /// The module holding `addr`, and the symbol covering it:
    /// `(module, symbol name, offset, size)`.
    pub fn lookup(&self, addr: u32) -> Option<(&str, &str, u32, u32)> {
        if addr < self.addr_min || addr >= self.addr_max {
            return None;
        }
        let m = self.list.iter().find(|m| m.contains(addr))?;
        // The closest text symbol at or below `addr`; among aliases the
        // first in symbol-table order (locals such as `hello_init` come
        // before the global `init_module` alias), as Linux's get_ksymbol.
        // The symbols are sorted by address (stably), so that is the first
        // of the last run of addresses <= addr that covers it.
        let end = m.symbols.partition_point(|s| s.addr <= addr);
        let mut best: Option<&ModSymbol> = None;
        for s in m.symbols[..end]
            .iter()
            .rev()
            .filter(|s| s.kind.eq_ignore_ascii_case(&'t'))
        {
            match best {
                Some(b) if s.addr < b.addr => break,
                _ => {}
            }
            if addr - s.addr < s.size.max(1) {
                best = Some(s);
            } else if best.is_none() {
                break;
            }
        }
        let s = best?;
        Some((m.name.as_str(), m.symbol_name(s), addr - s.addr, s.size))
    }

    /// Writes /proc/modules in Linux's format, newest first:
    /// `name size refcnt users state 0xaddr (taints)`.
    pub fn write_proc_modules(&self, out: &mut dyn Write) -> fmt::Result {
        for m in self.list.iter().rev() {
            write!(out, "{} {} {} ", m.name, m.size(), self.refcount(&m.name))?;
            let mut any = false;
            for u in self.users(&m.name) {
                write!(out, "{},", u.name)?;
                any = true;
            }
            if m.init_fn.is_some() && m.exit_fn.is_none() {
                out.write_str("[permanent],")?;
                any = true;
            }
            if !any {
                out.write_str("-")?;
            }
            let state = match m.state {
                State::Live => "Live",
                State::Coming => "Loading",
                State::Going => "Unloading",
            };
            write!(out, " {state} {:#010x}", m.core_base)?;
            if m.tainted() {
                out.write_char(' ')?;
                m.write_flags(out)?;
            }
            out.write_char('\n')?;
        }
        Ok(())
    }

    /// Linux's `print_modules()` for an oops: ` name(flags)` per module,
    /// newest first. Writes no heap memory (it runs in exception context).
    pub fn write_linked_in(&self, out: &mut dyn Write) -> fmt::Result {
        for m in self.list.iter().rev() {
            write!(out, " {}", m.name)?;
            m.write_flags(out)?;
        }
        Ok(())
    }

    /// Linux's `print_tainted()` for what the modules taint, e.g.
    /// `G           O ` (P or G first, O at position 12); `None` when
    /// nothing is tainted.
    pub fn taint(&self) -> Option<[u8; 14]> {
        let mut t = *b"G             ";
        // 6.1's taint_flags letters, by bit (kernel/panic.c), for the
        // positions this string has.
        for (bit, letter) in b"PFSRMBUDAWCIOE".iter().enumerate() {
            if self.taint_mask & (1 << bit) != 0 {
                t[bit] = *letter;
            }
        }
        for m in &self.list {
            if m.proprietary {
                t[0] = b'P';
            }
            if m.out_of_tree {
                t[12] = b'O';
            }
            if m.forced {
                t[1] = b'F';
            }
            if m.unsigned {
                t[13] = b'E';
            }
        }
        (t != *b"G             ").then_some(t)
    }

    /// Linux's `add_taint(flag, ...)`: sets bit `flag` of the kernel's
    /// taint mask (`TAINT_WARN` = 9 is `W`); a flag Linux does not have
    /// (above `TAINT_FLAGS_COUNT` - 1 = 18) is ignored.
    pub fn add_taint(&mut self, flag: u32) {
        if flag <= 18 {
            self.taint_mask |= 1 << flag;
        }
    }

    /// Writes `lsmod` output as kmod's lsmod does.
    pub fn write_lsmod(&self, out: &mut dyn Write) -> fmt::Result {
        writeln!(out, "Module                  Size  Used by")?;
        for m in self.list.iter().rev() {
            write!(
                out,
                "{:<19} {:>8}  {}",
                m.name.as_str(),
                m.size(),
                self.refcount(&m.name)
            )?;
            let mut sep = ' ';
            for u in self.users(&m.name) {
                write!(out, "{sep}{}", u.name)?;
                sep = ',';
            }
            out.write_char('\n')?;
        }
        Ok(())
    }

    /// Writes the modules' lines of /proc/kallsyms (`addr type name\t[mod]`).
    pub fn write_kallsyms(&self, out: &mut dyn Write) -> fmt::Result {
        for m in &self.list {
            for (s, name) in m.symbols() {
                let name = crate::kallsyms::Demangled(name);
                writeln!(out, "{:08x} {} {}\t[{}]", s.addr, s.kind, name, m.name)?;
            }
        }
        Ok(())
    }

    /// A symbol exported by a loaded module built for `abi` (a module
    /// links only against modules of its own ABI): (value, gpl_only,
    /// module). Each module's exports are sorted, so this is a binary
    /// search per module.
    fn find_export(
        &self,
        backend: &dyn Backend,
        abi: Abi,
        name: &str,
    ) -> Option<(u32, bool, ModName)> {
        self.list
            .iter()
            .filter(|m| m.state != State::Going && m.abi == abi)
            .find_map(|m| {
                // SAFETY: `m` is in the list, so its core region is
                // allocated while `self` is borrowed.
                let core = unsafe { backend.module_bytes(m.core_base, m.core_size) };
                ksymtab::find_export(&m.exports, core, name).map(|e| (e.value, e.gpl_only, m.name))
            })
    }
}

/// Linux's `license_is_gpl_compatible`.
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

/// Resolves a module's undefined symbols: kernel exports first, then other
/// modules', remembering which modules were used and whether a GPL-only
/// symbol was refused. `used` has room for every loaded module before
/// linking starts, so recording a user never allocates.
struct ModResolver<'a> {
    modules: &'a Modules,
    /// Shared with the `insmod -v` trace sink, which logs between lookups.
    backend: &'a RefCell<&'a mut dyn Backend>,
    gpl_ok: bool,
    /// Which export tables the module's imports resolve against.
    abi: Abi,
    used: RefCell<Vec<ModName>>,
    gpl_refused: Cell<bool>,
    /// Who provided the last symbol resolved: `None` for the kernel.
    last_owner: Cell<Option<ModName>>,
}

impl Resolver for ModResolver<'_> {
    fn resolve(&self, name: &str) -> Option<Target> {
        let backend = self.backend.try_borrow().ok()?;
        let backend: &dyn Backend = &**backend;
        self.last_owner.set(None);
        if let Some(k) = backend.kernel_symbol(self.abi, name) {
            if k.gpl_only && !self.gpl_ok {
                self.gpl_refused.set(true);
                return None;
            }
            return Some(Target {
                value: k.value,
                is_func: k.is_func,
            });
        }
        let (value, gpl_only, owner) = self.modules.find_export(backend, self.abi, name)?;
        if gpl_only && !self.gpl_ok {
            self.gpl_refused.set(true);
            return None;
        }
        let mut used = self.used.borrow_mut();
        if !used.contains(&owner) && used.len() < used.capacity() {
            used.push(owner);
        }
        self.last_owner.set(Some(owner));
        // Module functions carry their Thumb bit; a module's exports are
        // functions when they point into text, which the caller cannot
        // know here: bit 0 says Thumb, and ARM code is treated as code.
        Some(Target {
            value,
            is_func: true,
        })
    }
    fn copy_section(&self, dst: &mut [u8], src: &[u8]) {
        copy::copy_bytes(dst, src);
    }
}

/// What `load` prepared before calling init (phase 1's result).
struct Prepared {
    name: ModName,
    init_fn: Option<u32>,
}

use crate::console::printk::Level;

macro_rules! klog {
    ($b:expr, $lvl:ident, $($arg:tt)*) => {
        $b.log(Level::$lvl, format_args!($($arg)*))
    };
}

/// Frees what a module owns: its `charp` strings, then its regions
/// (Linux's `free_module`: `kfree` of the parameters, `module_memfree`).
fn release(b: &mut dyn Backend, core: Option<u32>, init: Option<u32>, strings: &[u32]) {
    for &s in strings {
        // SAFETY: `strings` are `alloc_string` copies that only a
        // `Loading` guard or a `Module` held, released once (the guard is
        // consumed or dropped, the module removed from the list), and no
        // module code runs any more to use them.
        unsafe { b.free_string(s) };
    }
    for a in [core, init].into_iter().flatten() {
        b.module_memfree(a);
    }
}

/// What loading has allocated so far, held by a guard: dropping it — any
/// `?` after [`allocate`] — frees it all, in [`release`]'s order;
/// [`Loading::commit`] hands it to the module instead. The backend is
/// reached through the guard while it lives.
struct Loading<'b> {
    backend: &'b mut dyn Backend,
    core: Option<u32>,
    init: Option<u32>,
    /// `charp` copies; room for one per `insmod` word was reserved before
    /// anything was allocated, so recording one never allocates.
    strings: Vec<u32>,
}

impl Loading<'_> {
    /// Copies a `charp` value to kernel memory and owns the copy.
    fn copy_string(&mut self, s: &str) -> Result<u32, Errno> {
        if self.strings.len() == self.strings.capacity() {
            return Err(Errno::ENOMEM);
        }
        let addr = self.backend.alloc_string(s)?;
        self.strings.push(addr);
        Ok(addr)
    }

    /// The allocations, now the module's: (core, init, strings). Nothing
    /// is freed.
    fn commit(mut self) -> (Option<u32>, Option<u32>, Vec<u32>) {
        (
            self.core.take(),
            self.init.take(),
            core::mem::take(&mut self.strings),
        )
    }
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        release(self.backend, self.core, self.init, &self.strings);
    }
}

/// How `insmod` was asked to load a module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadFlags {
    /// `insmod -v`: log every step of the link.
    pub verbose: bool,
    /// `insmod -f`: ignore the `version magic` (loading past its refusal),
    /// tainting the module F, and the signature, as Linux's
    /// `MODULE_INIT_IGNORE_VERMAGIC` does (an unsigned module: taint E, or
    /// refused under `module.sig_enforce=1`; see `signing`).
    pub force: bool,
}

/// Loads a module from `bytes` (read from `path`) with `args`
/// (`name=value` words), runs its init, and returns its name.
pub fn load(
    registry: &Mutex<Modules>,
    backend: &mut dyn Backend,
    path: &str,
    bytes: &[u8],
    args: &[&str],
) -> Result<ModName, Errno> {
    load_flags(registry, backend, path, bytes, args, LoadFlags::default())
}

/// [`load`] with all of `insmod`'s options ([`LoadFlags`]); with
/// `verbose` (`insmod -v`), every step of the link is logged at `pr_info`
/// level as the loader's [`kobold_loader::trace`] events: sections placed,
/// symbols resolved (from the kernel or which module), relocations applied.
/// Logging allocates nothing.
pub fn load_flags(
    registry: &Mutex<Modules>,
    backend: &mut dyn Backend,
    path: &str,
    bytes: &[u8],
    args: &[&str],
    flags: LoadFlags,
) -> Result<ModName, Errno> {
    let prepared = {
        let mut mods = registry.lock();
        prepare(&mut mods, backend, path, bytes, args, flags)?
    };
    // Linux calls init without module_mutex held; so does Kobold, so that
    // an oops in init can still find the module's symbols.
    let ret = prepared.init_fn.map_or(0, |f| {
        // SAFETY: `f` is the module's `init_module` as the loader's
        // `entry_points` found it: inside the module's text, relocated,
        // made executable and flushed by `prepare`. The module is listed
        // as Coming, which `unload` refuses, so its memory lives until the
        // call returns.
        unsafe { backend.call_init(f) }
    });
    let mut mods = registry.lock();
    let Some(idx) = mods.list.iter().position(|m| m.name == prepared.name) else {
        return Err(Errno::ENOENT);
    };
    if ret < 0 {
        let m = mods.list.remove(idx);
        klog!(
            backend,
            Debug,
            "{}: init_module returned {ret}, unloading",
            m.name
        );
        free_module(backend, m);
        return Err(Errno(ret.checked_neg().unwrap_or(Errno::EINVAL.0)));
    }
    if ret > 0 {
        klog!(
            backend,
            Warning,
            "{}: '{}'->init suspiciously returned {ret}, it should follow 0/-E convention",
            prepared.name,
            prepared.name
        );
    }
    let m = &mut mods.list[idx];
    m.state = State::Live;
    if let Some(tm) = m.this_module {
        // SAFETY: `tm` is the module's 6.1 `struct module`, which `prepare`
        // found 4-byte aligned in its core `Data` group (read-write for
        // the module's life); the module is in the list.
        unsafe {
            backend.write_module_word(tm + this_module::STATE, this_module::MODULE_STATE_LIVE)
        };
    }
    if let Some((addr, len)) = m.ro_after_init.take() {
        backend.protect(addr, len, Perm::ReadOnly);
    }
    if let Some((addr, _)) = m.init.take() {
        backend.module_memfree(addr);
    }
    // Keeping only core symbols cannot allocate (retain works in place).
    m.symbols.retain(|s| !s.init);
    Ok(prepared.name)
}

fn free_module(backend: &mut dyn Backend, m: Module) {
    release(backend, Some(m.core_base), m.init.map(|i| i.0), &m.strings);
}

/// A vector with room for `n` elements, or -ENOMEM.
fn vec_with_capacity<T>(n: usize) -> Result<Vec<T>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
    Ok(v)
}

/// Phase 1 of `insmod` (Linux's `load_module` up to `do_init_module`):
/// the steps of this module's doc, one call each. Every step logs its own
/// refusal in Linux's words and returns its errno; what was allocated is
/// held by the [`Loading`] guard from step 5 on and freed by any `?`.
fn prepare(
    mods: &mut Modules,
    backend: &mut dyn Backend,
    path: &str,
    bytes: &[u8],
    args: &[&str],
    flags: LoadFlags,
) -> Result<Prepared, Errno> {
    let verbose = flags.verbose;
    // 1-2. The file (its signature trailer taken off), its name (not
    // already loaded), license and ABI.
    let (bytes, sig_ok) = check_signature(backend, path, bytes, flags.force)?;
    let m = validate(backend, path, bytes)?;
    let mut id = identify(mods, backend, path, &m)?;
    // try_to_force_load says it only while the kernel is not tainted F.
    let tainted_f = mods.list.iter().any(|m| m.forced);
    personality(backend, &mut id, &m, flags.force, tainted_f)?;
    // Linux says it once, after check_modinfo (`pr_notice_once`).
    if !sig_ok && !mods.unsigned_warned {
        mods.unsigned_warned = true;
        klog!(
            backend,
            Notice,
            "{}: module verification failed: signature and/or required key missing - tainting kernel",
            id.name
        );
    }
    // 3. Layout.
    let mut l = lay_out(backend, &id.name, &m)?;
    // Bookkeeping, while nothing needs undoing.
    let book = reserve(mods, &m, args)?;
    // 4. module_alloc; from here on `loading` frees on failure.
    let (mut loading, mut img) = allocate(mods, backend, &id.name, &l, book.strings)?;
    // 5. Resolve and relocate.
    let (linked, used) = link(
        mods,
        &mut loading,
        &id,
        &m,
        &l,
        &mut img,
        book.used,
        verbose,
    )?;
    // A 6.1 module: ftrace's call sites to NOPs, its `struct module` filled.
    let this_module = linux61_fixups(&mut loading, &id, &m, &l, &linked, &mut img, verbose)?;
    // The module's exports and parameters (`__ksymtab*`, `__param`).
    let (exports, params) = tables(mods, &mut loading, &id, &m, &l, &img)?;
    // 6. Parameters.
    set_parameters(&mut loading, &id.name, &params, &mut img, args)?;
    // Entry points and kallsyms symbols.
    let (init_fn, exit_fn) = entry_points(&mut loading, &id.name, &m, &l, &linked)?;
    let symbols = kobold_loader::kallsyms::listed_symbols(&m, &l, &linked.symbol_addrs)
        .map_err(|_| Errno::ENOMEM)?;
    // 7. W^X and the instruction cache.
    let ro_after_init = protect(loading.backend, &l, &img);
    // Where each section went (`/sys/module/NAME/sections`), and the
    // parameters for `/sys/module/NAME/parameters`.
    let sysfs = sysfs::Sysfs::new(&m, &l, img.core_base, img.init_base, params)?;
    let exidx = exidx_tables(&m, &l, &img)?;
    // The module is listed as Coming; step 8 (init) is `load`'s.
    let (core, init, strings) = loading.commit();
    let init_region = init.map(|a| (a, l.init_size));
    // Room was reserved: this push cannot allocate.
    mods.list.push(Module {
        name: id.name,
        state: State::Coming,
        core_base: core.unwrap_or(img.core_base),
        core_size: l.core_size,
        init: init_region,
        init_fn,
        exit_fn,
        exports,
        uses: used,
        proprietary: !id.gpl_ok,
        out_of_tree: id.out_of_tree,
        unsigned: !sig_ok,
        forced: id.forced,
        abi: id.abi,
        this_module,
        pins: 0,
        symbols,
        strtab: book.strtab,
        ro_after_init,
        strings,
        // Moved, not copied: nothing is allocated.
        groups: core::mem::take(&mut l.groups),
        sysfs,
        exidx,
    });
    Ok(Prepared {
        name: id.name,
        init_fn,
    })
}

/// Where the module's `.ARM.exidx*` sections landed (SHT_ARM_EXIDX).
fn exidx_tables(
    m: &kobold_loader::Module<'_>,
    l: &ModuleLayout,
    img: &Images,
) -> Result<Vec<kobold_common::unwind::Index>, Errno> {
    const SHT_ARM_EXIDX: u32 = 0x7000_0001;
    let placed = || {
        m.sections
            .iter()
            .filter(|s| s.sh_type == SHT_ARM_EXIDX)
            .filter_map(|s| l.placements.get(s.index as usize).copied().flatten())
    };
    let mut v = vec_with_capacity(placed().count())?;
    for p in placed() {
        let base = match p.region {
            Region::Core => img.core_base,
            Region::Init => img.init_base,
        };
        let start = base + p.offset;
        v.push(kobold_common::unwind::Index {
            start,
            end: start + p.size,
        });
    }
    Ok(v)
}

/// What to call a module in messages before its real name is known: the
/// file name of its `path`, worked out only when a message is written.
#[derive(Clone, Copy)]
struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.rsplit('/').next().unwrap_or(self.0))
    }
}

/// Step 1: the loader's validation. What to call the module in messages
/// before its real name is known: the file name.
fn validate<'a>(
    backend: &mut dyn Backend,
    path: &str,
    bytes: &'a [u8],
) -> Result<kobold_loader::Module<'a>, Errno> {
    // Only a message needs it (an `rsplit` is a `memrchr` call).
    let shown = Shown(path);
    match kobold_loader::validate(bytes) {
        Ok(m) => Ok(m),
        Err(kobold_loader::LoadError::NoMemory) => Err(Errno::ENOMEM),
        Err(e) => {
            klog!(backend, Err, "{shown}: {e}");
            // Linux's terse line, then what it means for this file.
            if let Some(why) = e.explain(bytes) {
                klog!(backend, Err, "{shown}: {why}");
            }
            Err(Errno::ENOEXEC)
        }
    }
}

/// Who a module is: its name, what its license allows, and the ABI it
/// was built for.
struct Identity<'a> {
    name: ModName,
    license: &'a str,
    gpl_ok: bool,
    out_of_tree: bool,
    abi: Abi,
    /// Loaded with `-f` past a refusal (taint F).
    forced: bool,
    /// `.modinfo`'s `vermagic`, read with the other keys for `personality`.
    vermagic: Option<&'a str>,
}

/// Before step 1: Linux's `module_sig_check` (module/signing.rs): the
/// signature trailer taken off and verified against the built-in keyring.
/// Returns the ELF bytes and `sig_ok`. A kernel without a keyring (no
/// `CONFIG_MODULE_SIG`) only takes the trailer off, as before.
fn check_signature<'a>(
    backend: &mut dyn Backend,
    path: &str,
    bytes: &'a [u8],
    force: bool,
) -> Result<(&'a [u8], bool), Errno> {
    use kobold_loader::signature::{self, SigError};
    // Only a message needs it (an `rsplit` is a `memrchr` call).
    let shown = Shown(path);
    if !signing::KEYRING.is_empty() {
        // The verifier's crates allocate infallibly: reserve their bounded
        // budget fallibly first (-ENOMEM), then run them exempt from fault
        // injection, as failslab exempts __GFP_NOFAIL.
        let mut budget: Vec<u8> = Vec::new();
        budget
            .try_reserve_exact(signing::HEAP_BUDGET)
            .map_err(|_| Errno::ENOMEM)?;
        drop(budget);
        let checked = crate::mm::fault_inject::nofail(|| {
            signing::check(bytes, signing::KEYRING, signing::enforced(), force)
        });
        return match checked {
            Ok(c) => Ok((c.elf, c.sig_ok)),
            Err(r) => {
                if r.logged {
                    klog!(backend, Notice, "Loading of {} is rejected", r.reason);
                }
                Err(r.errno)
            }
        };
    }
    match signature::split(bytes) {
        Ok((elf, _)) => Ok((elf, true)),
        Err(e @ SigError::NotPkcs7 { .. }) => {
            klog!(backend, Warning, "{shown}: {e}");
            Ok((bytes, true))
        }
        Err(e) => {
            klog!(backend, Err, "{shown}: {e}");
            Err(Errno::EBADMSG)
        }
    }
}

/// Step 2, continued: the ABI the module was built for, from its
/// `vermagic` and `struct module` (`kobold_loader::linux61::detect`).
/// Refused in Linux's words (`version magic '...' should be '...'`,
/// `disagrees about version of symbol module_layout`) with `-ENOEXEC`.
/// `force` is Linux's `MODULE_INIT_IGNORE_VERMAGIC`: `check_modinfo` then
/// ignores the vermagic whatever it says and calls `try_to_force_load`,
/// which taints the module F and says "NAME: bad vermagic: kernel
/// tainted." unless the kernel is tainted F already (`tainted_f`); the
/// vermagic still picks the ABI (a refused one through `forced_abi`), and
/// a `struct module` of the wrong size is still refused (the loader writes
/// into it).
fn personality(
    backend: &mut dyn Backend,
    id: &mut Identity<'_>,
    m: &kobold_loader::Module<'_>,
    force: bool,
    tainted_f: bool,
) -> Result<(), Errno> {
    let name = id.name;
    let abi = match kobold_loader::linux61::detect_vermagic(m, id.vermagic) {
        Ok(abi) => abi,
        Err(e) => match e.forced_abi().filter(|_| force) {
            Some(abi) => abi,
            None => {
                klog!(backend, Err, "{name}: {e}");
                return Err(Errno::ENOEXEC);
            }
        },
    };
    id.abi = abi;
    if force {
        if !tainted_f {
            klog!(backend, Warning, "{name}: bad vermagic: kernel tainted.");
        }
        id.forced = true;
    }
    Ok(())
}

/// After linking a 6.1 module (Linux's `ftrace_module_init`, then the
/// `struct module` becoming the live one): every `__mcount_loc` call site
/// becomes ftrace's NOP (`kobold_loader::linux61::patch_mcount`; counted in
/// `insmod -v`, and a warning for sites left alone), and its
/// `.gnu.linkonce.this_module` gets the module's name and state Coming.
/// Returns the `struct module`'s address, if it has 6.1's.
fn linux61_fixups(
    loading: &mut Loading<'_>,
    id: &Identity<'_>,
    m: &kobold_loader::Module<'_>,
    l: &ModuleLayout,
    linked: &kobold_loader::link::Linked,
    img: &mut Images,
    verbose: bool,
) -> Result<Option<u32>, Errno> {
    use kobold_loader::linux61;
    if id.abi != Abi::Linux61 {
        return Ok(None);
    }
    let (name, backend) = (&id.name, &mut *loading.backend);
    let mcount = linux61::mcount_address(m, linked);
    let mut images = linux61::Images {
        core: &mut *img.core,
        core_base: img.core_base,
        init: &mut *img.init,
        init_base: img.init_base,
    };
    let sites = match linux61::patch_mcount(m, l, &mut images, mcount) {
        Ok(s) => s,
        Err(e) => {
            klog!(backend, Err, "{name}: {e}");
            return Err(Errno::ENOEXEC);
        }
    };
    if verbose {
        klog!(
            backend,
            Info,
            "{name}: ftrace: {} __mcount_loc call sites patched to nop (pop {{lr}}), {} skipped",
            sites.patched,
            sites.skipped
        );
    }
    if sites.skipped > 0 {
        klog!(
            backend,
            Warning,
            "{name}: ftrace: {} __mcount_loc entries are not a call to __gnu_mcount_nc: left as they are",
            sites.skipped
        );
    }
    let Some(off) = linux61::this_module_offset(m, l) else {
        return Ok(None);
    };
    if linux61::fill_this_module(img.core, off, name, this_module::MODULE_STATE_COMING).is_none() {
        klog!(backend, Err, "{name}: struct module is outside the module");
        return Err(Errno::ENOEXEC);
    }
    Ok(Some(img.core_base + off))
}

/// Steps 1-2: the name (`.modinfo` `name=`, else the file's), refused if
/// invalid (`-EINVAL`) or loaded (`-EEXIST`); the license and out-of-tree
/// taints, warned about as Linux does.
fn identify<'a>(
    mods: &mut Modules,
    backend: &mut dyn Backend,
    path: &str,
    m: &kobold_loader::Module<'a>,
) -> Result<Identity<'a>, Errno> {
    // Only a message needs it (an `rsplit` is a `memrchr` call).
    let shown = Shown(path);
    // The four keys insmod reads, found in one pass over `.modinfo`.
    let [name, license, intree, vermagic] =
        m.modinfo_get_many(["name", "license", "intree", "vermagic"]);
    let name = match name {
        Some(n) => ModName::new(n).map_err(|e| {
            klog!(backend, Err, "{shown}: {e}");
            Errno::EINVAL
        })?,
        None => ModName::from_path(path).ok_or_else(|| {
            klog!(
                backend,
                Err,
                "{shown}: module name is invalid: only letters, digits, '_' and '-', at most {MODULE_NAME_MAX} bytes"
            );
            Errno::EINVAL
        })?,
    };
    if mods.get(&name).is_some() {
        return Err(Errno::EEXIST);
    }
    let license = license.unwrap_or("unspecified");
    let gpl_ok = license_is_gpl_compatible(license);
    if !gpl_ok {
        klog!(
            backend,
            Warning,
            "{name}: module license '{license}' taints kernel."
        );
    }
    let out_of_tree = intree != Some("Y");
    if out_of_tree && !mods.oot_warned {
        mods.oot_warned = true;
        klog!(
            backend,
            Warning,
            "{name}: loading out-of-tree module taints kernel."
        );
    }
    Ok(Identity {
        name,
        license,
        gpl_ok,
        out_of_tree,
        abi: Abi::Kobold,
        forced: false,
        vermagic,
    })
}

/// Step 3: the loader's layout; a module with nothing to load is refused.
fn lay_out(
    backend: &mut dyn Backend,
    name: &ModName,
    m: &kobold_loader::Module<'_>,
) -> Result<ModuleLayout, Errno> {
    let l = match kobold_loader::layout::layout(m) {
        Ok(l) => l,
        Err(kobold_loader::layout::ModuleLayoutError::NoMemory) => return Err(Errno::ENOMEM),
        Err(e) => {
            klog!(backend, Err, "{name}: {e}");
            return Err(Errno::ENOEXEC);
        }
    };
    if l.core_size == 0 {
        klog!(backend, Err, "{name}: module has no loadable sections");
        return Err(Errno::ENOEXEC);
    }
    Ok(l)
}

/// The module record's storage, reserved before anything is allocated in
/// the module window, so that failing here needs no undoing and nothing
/// later allocates.
struct Bookkeeping {
    /// The copy of the symbol string table the kallsyms names point into.
    strtab: Vec<u8>,
    /// Room for one `charp` copy per `insmod` word.
    strings: Vec<u32>,
    /// Room for every loaded module as a user.
    used: Vec<ModName>,
}

fn reserve(
    mods: &mut Modules,
    m: &kobold_loader::Module<'_>,
    args: &[&str],
) -> Result<Bookkeeping, Errno> {
    let in_file = m.symbol_strtab();
    let mut strtab = vec_with_capacity(in_file.len())?;
    copy::extend_within(&mut strtab, in_file);
    let strings = vec_with_capacity(args.len())?;
    let used = vec_with_capacity(mods.list.len())?;
    mods.list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
    Ok(Bookkeeping {
        strtab,
        strings,
        used,
    })
}

/// The module's two regions as the loader writes them: it copies and
/// relocates in place, so the image is never staged on the heap.
struct Images {
    core: &'static mut [u8],
    core_base: u32,
    init: &'static mut [u8],
    init_base: u32,
    /// Both regions hold zeros already ([`ModuleMem::zeroed`]).
    zeroed: bool,
}

/// Step 4: `module_alloc` for both regions, widening `module_addr_min` /
/// `module_addr_max`. Returns the guard owning them (and `strings`).
fn allocate<'b>(
    mods: &mut Modules,
    backend: &'b mut dyn Backend,
    name: &ModName,
    l: &ModuleLayout,
    strings: Vec<u32>,
) -> Result<(Loading<'b>, Images), Errno> {
    let mut loading = Loading {
        backend,
        core: None,
        init: None,
        strings,
    };
    let mut regions: [Option<ModuleMem>; 2] = [None, None];
    for (slot, size) in [l.core_size, l.init_size].into_iter().enumerate() {
        if size == 0 {
            continue;
        }
        let mem = loading.backend.module_alloc(size).inspect_err(|e| {
            klog!(
                loading.backend,
                Err,
                "{name}: module_alloc of {size} bytes failed ({})",
                e.name()
            );
        })?;
        if slot == 0 {
            loading.core = Some(mem.addr);
        } else {
            loading.init = Some(mem.addr);
        }
        mods.addr_min = mods.addr_min.min(mem.addr);
        mods.addr_max = mods.addr_max.max(mem.addr.saturating_add(size));
        regions[slot] = Some(mem);
    }
    let [Some(core), init] = regions else {
        return Err(Errno::ENOEXEC);
    };
    let zeroed = core.zeroed && init.as_ref().is_none_or(|i| i.zeroed);
    let (init_base, init): (u32, &'static mut [u8]) = match init {
        Some(mem) => (mem.addr, mem.bytes),
        None => (0, &mut []),
    };
    let img = Images {
        core_base: core.addr,
        core: core.bytes,
        init,
        init_base,
        zeroed,
    };
    Ok((loading, img))
}

/// Step 5: resolve symbols (kernel exports, then other modules'; GPL-only
/// ones only for a GPL-compatible license) and relocate. Returns the link
/// and the modules used (`ref_module`).
#[allow(clippy::too_many_arguments)]
fn link<'a>(
    mods: &Modules,
    loading: &mut Loading<'_>,
    id: &Identity<'_>,
    m: &kobold_loader::Module<'a>,
    l: &ModuleLayout,
    img: &mut Images,
    used: Vec<ModName>,
    verbose: bool,
) -> Result<(kobold_loader::link::Linked, Vec<ModName>), Errno> {
    let shared: RefCell<&mut dyn Backend> = RefCell::new(&mut *loading.backend);
    let resolver = ModResolver {
        modules: mods,
        backend: &shared,
        gpl_ok: id.gpl_ok,
        abi: id.abi,
        used: RefCell::new(used),
        gpl_refused: Cell::new(false),
        last_owner: Cell::new(None),
    };
    let mut sink = LinkTrace {
        name: &id.name,
        resolver: &resolver,
    };
    let mut quiet = kobold_loader::trace::NoTrace;
    let trace: &mut dyn kobold_loader::trace::Trace = if verbose { &mut sink } else { &mut quiet };
    let link = if img.zeroed {
        kobold_loader::link::link_zeroed_traced
    } else {
        kobold_loader::link::link_traced
    };
    let linked = link(
        m,
        l,
        img.core,
        img.core_base,
        img.init,
        img.init_base,
        &resolver,
        trace,
    );
    let used = resolver.used.into_inner();
    let gpl_refused = resolver.gpl_refused.get();
    let (name, backend) = (&id.name, &mut *loading.backend);
    match linked {
        Ok(linked) => Ok((linked, used)),
        Err(kobold_loader::link::LinkError::NoMemory) => Err(Errno::ENOMEM),
        Err(e @ kobold_loader::link::LinkError::UnknownSymbol { name: sym }) => {
            if gpl_refused {
                let license = id.license;
                klog!(
                    backend,
                    Err,
                    "{name}: {sym} is exported GPL-only and this module's license is '{license}'"
                );
            }
            klog!(backend, Warning, "{name}: {e}");
            Err(Errno::ENOENT)
        }
        Err(e) => {
            klog!(backend, Err, "{name}: {e}");
            Err(Errno::ENOEXEC)
        }
    }
}

/// `insmod -v`'s sink: each loader event, prefixed with the module's name,
/// logged at `pr_info` level through the backend the resolver shares
/// (never while a lookup holds it). Formatting writes straight into the
/// log: nothing is allocated.
struct LinkTrace<'r, 'a> {
    name: &'r ModName,
    resolver: &'r ModResolver<'a>,
}

impl LinkTrace<'_, '_> {
    fn log(&self, msg: fmt::Arguments<'_>) {
        if let Ok(mut b) = self.resolver.backend.try_borrow_mut() {
            b.log(Level::Info, msg);
        }
    }
}

impl kobold_loader::trace::Trace for LinkTrace<'_, '_> {
    fn section(&mut self, e: &kobold_loader::trace::SectionEvent<'_>) {
        self.log(format_args!("{}: {e}", self.name));
    }
    fn symbol(&mut self, e: &kobold_loader::trace::SymbolEvent<'_>) {
        use kobold_loader::trace::{SymbolEvent, SymbolFrom};
        let owner = self.resolver.last_owner.get();
        let from = match (e.from, &owner) {
            (SymbolFrom::Resolver, None) => SymbolFrom::Named("kernel"),
            (SymbolFrom::Resolver, Some(_)) => SymbolFrom::Named("module"),
            (other, _) => other,
        };
        let e = SymbolEvent { from, ..*e };
        match owner.filter(|_| from == SymbolFrom::Named("module")) {
            Some(o) => self.log(format_args!("{}: {e} `{o}`", self.name)),
            None => self.log(format_args!("{}: {e}", self.name)),
        }
    }
    fn reloc(&mut self, e: &kobold_loader::trace::RelocEvent<'_>) {
        self.log(format_args!("{}: {e}", self.name));
    }
}

/// The linked module's exports and parameters; an export the kernel or a
/// loaded module already has is refused, as Linux's `verify_exported_symbols`.
fn tables(
    mods: &Modules,
    loading: &mut Loading<'_>,
    id: &Identity<'_>,
    m: &kobold_loader::Module<'_>,
    l: &ModuleLayout,
    img: &Images,
) -> Result<(Vec<ksymtab::Export>, Vec<ksymtab::Param>), Errno> {
    let (name, abi) = (&id.name, id.abi);
    let backend = &mut *loading.backend;
    let core = &*img.core;
    let read = {
        let kernel = &*backend;
        let classify = |ops: u32| {
            ParamType::ALL.into_iter().find(|t| {
                kernel
                    .kernel_symbol(abi, t.ops_symbol())
                    .is_some_and(|k| k.value == ops)
            })
        };
        ksymtab::exports(m, l, core, img.core_base).and_then(|e| {
            ksymtab::params_abi(m, l, core, img.core_base, img.init_base, abi, &classify)
                .map(|p| (e, p))
        })
    };
    let (exports, params) = match read {
        Ok(t) => t,
        Err(ksymtab::TableError::NoMemory) => return Err(Errno::ENOMEM),
        Err(e) => {
            klog!(backend, Err, "{name}: {e}");
            return Err(Errno::ENOEXEC);
        }
    };
    for e in &exports {
        let ename = e.name(core).unwrap_or("");
        let owner = match backend.kernel_symbol(abi, ename) {
            Some(_) => Some(None),
            None => mods.find_export(&*backend, abi, ename).map(|x| Some(x.2)),
        };
        if let Some(owner) = owner {
            let owner = owner.as_ref().map_or("kernel", |o| o.as_str());
            // Linux: "%s: exports duplicate symbol %s (owned by %s)".
            klog!(
                backend,
                Err,
                "{name}: exports duplicate symbol {ename} (owned by {owner})"
            );
            return Err(Errno::ENOEXEC);
        }
    }
    Ok((exports, params))
}

/// Step 6: the `insmod` words, as Linux's `parse_args` (the loader's
/// [`kobold_loader::params`]): an unknown name is a warning, a bad value
/// `-EINVAL`; `charp` values are copied to kernel memory the guard owns.
fn set_parameters(
    loading: &mut Loading<'_>,
    name: &ModName,
    params: &[ksymtab::Param],
    img: &mut Images,
    args: &[&str],
) -> Result<(), Errno> {
    use kobold_loader::params::{self, ParamError};
    for arg in args {
        let applied = params::apply(params, img.core, img.init, arg, &mut |s| {
            loading.copy_string(s)
        });
        let backend = &mut *loading.backend;
        match applied {
            Ok(()) => {}
            Err(e @ ParamError::Unknown { .. }) => klog!(backend, Warning, "{name}: {e}"),
            Err(ParamError::InvalidValue { name: pname, value }) => {
                // What the type accepts, in words; then Linux's own line
                // (last, as Linux's is the one kmod users grep for).
                if let Some(p) = ksymtab::find_param(params, img.core, pname) {
                    klog!(
                        backend,
                        Err,
                        "{name}: parameter {pname} takes {}",
                        p.ty.expects()
                    );
                }
                klog!(
                    backend,
                    Err,
                    "{}",
                    ksymtab::invalid_value_message(name, value, pname)
                );
                return Err(Errno::EINVAL);
            }
            Err(e @ ParamError::Outside { .. }) => {
                klog!(backend, Err, "{name}: {e}");
                return Err(Errno::ENOEXEC);
            }
            Err(ParamError::CopyString(e)) => return Err(e),
        }
    }
    Ok(())
}

/// `init_module` and `cleanup_module`, which must lie in the module's text.
fn entry_points(
    loading: &mut Loading<'_>,
    name: &ModName,
    m: &kobold_loader::Module<'_>,
    l: &ModuleLayout,
    linked: &kobold_loader::link::Linked,
) -> Result<(Option<u32>, Option<u32>), Errno> {
    match kobold_loader::link::entry_points(m, l, linked) {
        Ok(e) => Ok((e.init, e.exit)),
        Err(e) => {
            klog!(loading.backend, Err, "{name}: {e}");
            Err(Errno::ENOEXEC)
        }
    }
}

/// Step 7: W^X per group (Linux's `module_enable_ro` / `module_enable_nx`)
/// and the instruction cache flushed for text. The ro-after-init group
/// stays writable until init is done: returns it.
fn protect(backend: &mut dyn Backend, l: &ModuleLayout, img: &Images) -> Option<(u32, u32)> {
    let mut ro_after_init = None;
    for &(region, group, start, end) in &l.groups {
        let base = if region == Region::Core {
            img.core_base
        } else {
            img.init_base
        };
        let len = (end - start).next_multiple_of(4096);
        let perm = match group {
            Group::Text => Perm::ReadExec,
            Group::Rodata => Perm::ReadOnly,
            Group::RoAfterInit => {
                ro_after_init = Some((base + start, len));
                Perm::ReadWrite
            }
            Group::Data => Perm::ReadWrite,
        };
        backend.protect(base + start, len, perm);
        if group == Group::Text {
            backend.flush_icache(base + start, base + end);
        }
    }
    ro_after_init
}

/// Unloads `name` (Linux's `delete_module` without O_TRUNC).
pub fn unload(
    registry: &Mutex<Modules>,
    backend: &mut dyn Backend,
    name: &str,
) -> Result<(), Errno> {
    let exit_fn = {
        let mut mods = registry.lock();
        let Some(idx) = mods.list.iter().position(|m| m.name.as_str() == name) else {
            return Err(Errno::ENOENT);
        };
        if mods.refcount(name) > 0 {
            return Err(Errno::EAGAIN);
        }
        let m = &mut mods.list[idx];
        if m.state != State::Live {
            return Err(Errno::EBUSY);
        }
        if m.init_fn.is_some() && m.exit_fn.is_none() {
            return Err(Errno::EBUSY);
        }
        m.state = State::Going;
        if let Some(tm) = m.this_module {
            // SAFETY: as in `load_flags`: the module's 6.1 `struct module`,
            // aligned in its read-write core data; the module is listed.
            unsafe {
                backend.write_module_word(tm + this_module::STATE, this_module::MODULE_STATE_GOING)
            };
        }
        m.exit_fn
    };
    if let Some(f) = exit_fn {
        // SAFETY: `f` is the module's `cleanup_module` as the loader's
        // `entry_points` found it, in its (executable) text; the module is
        // Going, so nothing else unloads it, and its memory is freed only
        // below, after the call returns.
        unsafe { backend.call_exit(f) };
    }
    let mut mods = registry.lock();
    if let Some(idx) = mods.list.iter().position(|m| m.name.as_str() == name) {
        let m = mods.list.remove(idx);
        free_module(backend, m);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
