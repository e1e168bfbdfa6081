//! `insmod` and `rmmod` on the running kernel: the module sequence of
//! `super` run with the real [`KernelBackend`] (`exports.rs`) on the global
//! [`MODULES`] list, and the bounds it widened published in Linux's
//! `module_addr_min` / `module_addr_max`. Target only: the sequence itself
//! is host-tested with a fake backend.
//!
//! It also keeps the module list where a debugger can read it:
//! [`kobold_modules_debug`] is a small `#[repr(C)]` table of plain words
//! (no Rust `Vec` layout to decode), rewritten after every change, and
//! [`kobold_module_coming`] is called with the table up to date just before
//! a module's `init_module` runs — the point Linux's gdb scripts
//! (`scripts/gdb/linux/symbols.py`, `lx-symbols`) break on to load a new
//! module's symbols (`do_init_module`). `scripts/gdb/kobold.py` reads both.

use super::exports::KernelBackend;
use super::sysfs::SectionAddr;
use super::{
    Abi, Backend, KernelSymbol, LoadFlags, MODULE_ADDR_MAX, MODULE_ADDR_MIN, MODULES, ModName,
    ModuleMem, Modules, Perm, State, load_flags, unload,
};
use crate::errno::Errno;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

fn publish_bounds(mods: &Modules) {
    MODULE_ADDR_MIN.store(mods.addr_min, Ordering::Relaxed);
    MODULE_ADDR_MAX.store(mods.addr_max, Ordering::Relaxed);
}

/// Modules the debug table describes (the first ones loaded); `total`
/// tells a debugger when there are more.
pub const DEBUG_SLOTS: usize = 32;

/// Version of [`DebugTable`]'s layout, checked by the gdb script.
pub const DEBUG_VERSION: u32 = 1;

/// One module in [`kobold_modules_debug`]: 76 bytes of 32-bit words.
#[repr(C)]
pub struct DebugModule {
    /// The name, NUL-padded: `char name[56]` (MODULE_NAME_LEN), little-endian
    /// words.
    name: [AtomicU32; 14],
    /// 0 live, 1 coming (init sections loaded), 2 going.
    state: AtomicU32,
    /// How many [`SectionAddr`] records `sections` points to.
    nsections: AtomicU32,
    /// Address of the module's `SectionAddr` records `{name, addr, init}`.
    sections: AtomicU32,
    /// Address of the NUL-terminated section names `name` offsets into.
    names: AtomicU32,
    /// The core region's base (where `.text` is, or would be if it were
    /// not empty).
    core_base: AtomicU32,
}

impl DebugModule {
    const fn new() -> Self {
        DebugModule {
            name: [const { AtomicU32::new(0) }; 14],
            state: AtomicU32::new(0),
            nsections: AtomicU32::new(0),
            sections: AtomicU32::new(0),
            names: AtomicU32::new(0),
            core_base: AtomicU32::new(0),
        }
    }
}

/// The table a debugger reads the loaded modules from.
#[repr(C)]
pub struct DebugTable {
    /// [`DEBUG_VERSION`].
    version: AtomicU32,
    /// Incremented on every update.
    generation: AtomicU32,
    /// Entries of `modules` in use.
    count: AtomicU32,
    /// Modules loaded (more than `count` when the table is full).
    total: AtomicU32,
    modules: [DebugModule; DEBUG_SLOTS],
}

/// The module list for gdb (`kobold-symbols` in scripts/gdb/kobold.py).
#[unsafe(no_mangle)]
#[used]
pub static kobold_modules_debug: DebugTable = DebugTable {
    version: AtomicU32::new(DEBUG_VERSION),
    generation: AtomicU32::new(0),
    count: AtomicU32::new(0),
    total: AtomicU32::new(0),
    modules: [const { DebugModule::new() }; DEBUG_SLOTS],
};

/// Rewrites [`kobold_modules_debug`] from `mods`. The addresses stored are
/// those of each module's own records, which live (unmoved: they are
/// heap buffers) until the module is freed, after which this runs again.
fn publish_debug(mods: &Modules) {
    let t = &kobold_modules_debug;
    let mut n = 0;
    for (slot, m) in t.modules.iter().zip(mods.iter()) {
        let mut words = [0u32; 14];
        for (i, b) in m.name.as_bytes().iter().enumerate() {
            if let Some(w) = words.get_mut(i / 4) {
                *w |= u32::from(*b) << (8 * (i % 4));
            }
        }
        for (w, v) in slot.name.iter().zip(words) {
            w.store(v, Ordering::Relaxed);
        }
        let state = match m.state {
            State::Live => 0,
            State::Coming => 1,
            State::Going => 2,
        };
        let (sections, names): (&[SectionAddr], &[u8]) = m.sysfs().raw();
        slot.state.store(state, Ordering::Relaxed);
        slot.nsections
            .store(sections.len() as u32, Ordering::Relaxed);
        slot.sections
            .store(sections.as_ptr() as usize as u32, Ordering::Relaxed);
        slot.names
            .store(names.as_ptr() as usize as u32, Ordering::Relaxed);
        slot.core_base.store(m.core_base, Ordering::Relaxed);
        n += 1;
    }
    t.count.store(n, Ordering::Relaxed);
    t.total.store(mods.len() as u32, Ordering::Relaxed);
    t.generation.fetch_add(1, Ordering::Release);
}

/// Called just before a module's `init_module` runs, with the module listed
/// as coming in `kobold_modules_debug` (init sections included): gdb's
/// `kobold-symbols` breaks here to load the module's symbols, so a
/// breakpoint on the module's init function set before `insmod` hits.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn kobold_module_coming() {
    // Something the optimiser cannot fold away, so the function stays a
    // distinct address to break on.
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// The kernel's backend, with the debugger's hook before `init_module`.
struct DebugBackend(KernelBackend);

impl Backend for DebugBackend {
    fn module_alloc(&mut self, size: u32) -> Result<ModuleMem, Errno> {
        self.0.module_alloc(size)
    }
    fn module_memfree(&mut self, addr: u32) {
        self.0.module_memfree(addr)
    }
    unsafe fn module_bytes(&self, addr: u32, len: u32) -> &[u8] {
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.module_bytes(addr, len) }
    }
    fn protect(&mut self, addr: u32, len: u32, perm: Perm) {
        self.0.protect(addr, len, perm)
    }
    fn flush_icache(&mut self, start: u32, end: u32) {
        self.0.flush_icache(start, end)
    }
    unsafe fn call_init(&mut self, addr: u32) -> i32 {
        // `load` calls init without the module lock, as Linux does.
        publish_debug(&MODULES.lock());
        kobold_module_coming();
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.call_init(addr) }
    }
    unsafe fn call_exit(&mut self, addr: u32) {
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.call_exit(addr) }
    }
    fn kernel_symbol(&self, abi: Abi, name: &str) -> Option<KernelSymbol> {
        self.0.kernel_symbol(abi, name)
    }
    unsafe fn write_module_word(&mut self, addr: u32, value: u32) {
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.write_module_word(addr, value) }
    }
    fn alloc_string(&mut self, s: &str) -> Result<u32, Errno> {
        self.0.alloc_string(s)
    }
    unsafe fn free_string(&mut self, addr: u32) {
        // SAFETY: the caller's contract, passed on unchanged.
        unsafe { self.0.free_string(addr) }
    }
    fn log(&mut self, level: crate::console::printk::Level, msg: fmt::Arguments<'_>) {
        self.0.log(level, msg)
    }
}

/// `insmod`: loads `bytes` (the file at `path`) with `args` into the running
/// kernel.
pub fn insmod(path: &str, bytes: &[u8], args: &[&str]) -> Result<ModName, Errno> {
    insmod_flags(path, bytes, args, LoadFlags::default())
}

/// `insmod [-v] [-f]`: [`insmod`] with all of its options; every load is
/// traced as with `-v` when `module.trace=1` is on the command line.
pub fn insmod_flags(
    path: &str,
    bytes: &[u8],
    args: &[&str],
    flags: LoadFlags,
) -> Result<ModName, Errno> {
    let r = load_flags(
        &MODULES,
        &mut DebugBackend(KernelBackend),
        path,
        bytes,
        args,
        LoadFlags {
            verbose: super::traced(flags.verbose),
            ..flags
        },
    );
    let mods = MODULES.lock();
    publish_bounds(&mods);
    publish_debug(&mods);
    r
}

/// `rmmod NAME`.
pub fn rmmod(name: &str) -> Result<(), Errno> {
    let r = unload(&MODULES, &mut KernelBackend, name);
    publish_debug(&MODULES.lock());
    r
}

/// Where the kernel lists the names of each ABI's export table, one per
/// line (`EXPORTS_DIR` + `kobold-3.18` / `linux-6.1`): Linux's
/// `Module.symvers` read from the running kernel, so that `cargo xtask
/// linux-modules` learns what the built kernel exports instead of keeping a
/// copy of the list.
pub const EXPORTS_DIR: &str = "/sys/kernel/kobold/exports/";

/// Writes `/sys/module/...` file `path` (and `EXPORTS_DIR`'s files).
pub fn sysfs_read(path: &str, out: &mut dyn fmt::Write) -> Result<(), Errno> {
    if let Some(abi) = path.strip_prefix(EXPORTS_DIR) {
        let table = match abi {
            "kobold-3.18" => super::exports::exports(),
            "linux-6.1" => super::linux61::exports(),
            _ => return Err(Errno::ENOENT),
        };
        return table
            .iter()
            .try_for_each(|e| writeln!(out, "{}", e.name))
            .map_err(|_| Errno::EIO);
    }
    let charp = |addr: u32, out: &mut dyn fmt::Write| -> fmt::Result {
        // SAFETY: `sysfs::read` passes only addresses in the module's
        // `strings`: `alloc_string` copies (NUL-terminated kmalloc blocks)
        // the module owns until it is freed, which needs the module lock
        // held by our caller.
        let s = unsafe { core::ffi::CStr::from_ptr(addr as usize as *const core::ffi::c_char) };
        for chunk in s.to_bytes().utf8_chunks() {
            out.write_str(chunk.valid())?;
        }
        Ok(())
    };
    super::sysfs::read(&MODULES.lock(), &KernelBackend, &charp, path, out)
}

/// Lists `/sys/module...` directory `path`.
pub fn sysfs_list(path: &str, out: &mut dyn fmt::Write) -> Result<(), Errno> {
    super::sysfs::list(&MODULES.lock(), &KernelBackend, path, out)
}
