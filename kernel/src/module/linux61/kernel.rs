//! The 6.1 personality on the running kernel (target only): `current` and
//! its stack canary, the assembly entries whose ABI is not C's
//! (`__gnu_mcount_nc`, `__do_div64`, `__stack_chk_fail`), kernel-mode
//! NEON, `fortify_panic`, and 6.1's kmalloc family; NLS (`load_nls` pins
//! the owner, requesting `nls_CHARSET` when it is missing: `module::kmod`),
//! `__request_module`, `strncasecmp`, `gcd`,
//! `rational_best_approximation`, `__msecs_to_jiffies`,
//! `jiffies_to_msecs`, `arm_delay_ops`, `dev_printk` and dynamic debug,
//! `print_hex_dump`, `warn_slowpath_fmt`. What they compute is host-tested
//! in the sibling files (`task`, `gfp`, `slab`, `lib`, `nls`, `delay`,
//! `device`, `hexdump`).

use super::{delay, device, gfp, hexdump, i2c, lib, nls, slab, task};
use crate::mm::{buddy::Gfp, heap, pgtable::Prot, vmalloc};
use crate::sync;
use crate::time::jiffies::{LINUX61_HZ, LINUX61_JIFFIES, msleep_ticks};
use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

// ---------------------------------------------------------------------------
// current

/// The `task_struct` stand-in of the one kernel thread (Linux's
/// `init_task`): [`task::SIZE`] bytes, zero but for what `boot_init` sets.
#[repr(C, align(64))]
pub struct TaskStruct(UnsafeCell<[u32; task::SIZE / 4]>);

// SAFETY: Kobold runs one thread on one CPU with interrupts masked: the
// words are read and written (by modules and by this file) one access at a
// time, never concurrently.
unsafe impl Sync for TaskStruct {}

/// `init_task`: what TPIDRURO points at.
pub static INIT_TASK: TaskStruct = TaskStruct(UnsafeCell::new([0; task::SIZE / 4]));

impl TaskStruct {
    /// The stand-in's address (`current`).
    pub fn addr(&self) -> u32 {
        self.0.get() as u32
    }

    fn slot(&self, off: usize) -> *mut u32 {
        debug_assert!(off.is_multiple_of(4) && off < task::SIZE);
        self.0.get().cast::<u32>().wrapping_add(off / 4)
    }

    /// The word at offset `off` (one of `task`'s constants).
    pub fn read(&self, off: usize) -> u32 {
        // SAFETY: `off` is one of `task`'s offsets, within the static; a
        // volatile read, since modules write the words behind Rust's back.
        unsafe { self.slot(off).read_volatile() }
    }

    fn write(&self, off: usize, v: u32) {
        // SAFETY: as in `read`; no reference to the words exists.
        unsafe { self.slot(off).write_volatile(v) }
    }
}

/// TPIDRURO, the user read-only thread ID register: `current` for 6.1
/// modules (`CONFIG_CURRENT_POINTER_IN_TPIDRURO`).
pub fn tpidruro() -> u32 {
    let v: u32;
    // SAFETY: reading TPIDRURO has no side effect.
    unsafe {
        core::arch::asm!("mrc p15, 0, {}, c13, c0, 3", out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v
}

fn set_tpidruro(v: u32) {
    // SAFETY: nothing else in Kobold uses TPIDRURO (no user space, no TLS;
    // entry.S saves and restores only the general registers), so the value
    // stays for as long as the kernel runs.
    unsafe {
        core::arch::asm!("mcr p15, 0, {}, c13, c0, 3", in(reg) v, options(nomem, nostack, preserves_flags))
    };
}

/// Boot: `init_task`'s fields, its random canary (Linux's
/// `boot_init_stack_canary`) and `current` in TPIDRURO (Linux's
/// `set_current(&init_task)` in head.S). VFP/NEON access in CPACR is
/// granted earlier, by [`vfp_access_init`], the first step of
/// `start_kernel`. Called once from `start_kernel`, before any module can
/// load.
pub fn boot_init() {
    let counter = crate::board::vexpress_a9::sysregs::counter_24mhz;
    let mut samples = [0u32; 8];
    samples[0] = counter();
    let ns = crate::time::now_ns();
    samples[1] = ns as u32;
    samples[2] = (ns >> 32) as u32;
    // Reads separated by spins whose length depends on the previous
    // read: the host's scheduling of QEMU makes them jitter.
    for i in 3..6 {
        for _ in 0..(samples[i - 1] & 0xff) + 16 {
            core::hint::spin_loop();
        }
        samples[i] = counter();
    }
    samples[6] = INIT_TASK.addr();
    samples[7] = boot_init as *const () as u32;
    // The slice's length hidden from the optimiser: the loop stays a loop
    // instead of eight unrolled copies of the 64-bit mix, which QEMU would
    // translate once each (docs/BENCHMARKS.md, "Fifth pass").
    let samples = core::hint::black_box(&samples[..]);
    INIT_TASK.write(task::STACK_CANARY, task::canary_from(samples));
    INIT_TASK.write(task::TI_CPU, 0);
    INIT_TASK.write(task::PID, 0);
    set_tpidruro(INIT_TASK.addr());
}

/// `__stack_chk_fail`, called by a module's epilogue whose canary changed,
/// with the return address into that function in lr.
///
/// # Safety
///
/// Called only from `__stack_chk_fail`'s assembly entry, with the caller's
/// return address.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_stack_chk_fail(ret: u32) -> ! {
    let mut sym = crate::console::FixedBuf::<160>::default();
    let table = crate::kallsyms::kernel_table();
    if !crate::kallsyms::write_backtrace_symbol(&mut sym, table.as_ref(), ret, true)
        .unwrap_or(false)
    {
        let _ = write!(sym, "{ret:#x}");
    }
    crate::panic::panic_exit(format_args!(
        "stack-protector: Kernel stack is corrupted in: {}",
        sym.as_str()
    ))
}

// The entries whose register use is not C's. See each comment.
core::arch::global_asm!(
    crate::arch::armv7::arm_function_macro!("kobold_linux61_entry"),
    r#"

    @ __gnu_mcount_nc (arch/arm/kernel/entry-ftrace.S, DYNAMIC_FTRACE):
    @ GCC's -pg call site is `push {{lr}}; bl __gnu_mcount_nc`, so on
    @ entry lr is the return address into the traced function and [sp] is
    @ that function's own lr. Return with lr restored and the pushed word
    @ popped, touching no other register (not even ip), as Linux's does:
    @ push the return address, reload lr from the caller's slot, and pop
    @ both words into pc (`ldr pc` interworks: a Thumb caller returns to
    @ Thumb).
    kobold_linux61_entry __gnu_mcount_nc
    push {{lr}}
    ldr lr, [sp, #4]
    ldr pc, [sp], #8
    .size __gnu_mcount_nc, . - __gnu_mcount_nc

    @ __stack_chk_fail: hand the return address (the corrupted function)
    @ to Rust, which panics naming it (%pB).
    kobold_linux61_entry __stack_chk_fail
    mov r0, lr
    b kobold_linux61_stack_chk_fail
    .size __stack_chk_fail, . - __stack_chk_fail

    @ __do_div64 (arch/arm/lib/div64.S): not AAPCS. In: r0:r1 the 64-bit
    @ dividend (low:high), r4 the 32-bit divisor. Out: r2:r3 the quotient,
    @ r1 the remainder. Only ip (and lr, flags) change besides: 6.1's
    @ asm/div64.h passes r0:r1 as "+r" and clobbers "ip", "lr", "cc";
    @ r0 is kept anyway, for headers that declared it input-only. The
    @ Rust helper is an AAPCS call: it preserves r4-r11 itself.
    kobold_linux61_entry __do_div64
    push {{r0, r4, r5, lr}}
    sub sp, sp, #16
    str lr, [sp, #12]
    mov r2, r4
    mov r3, sp
    bl kobold_linux61_do_div64
    ldr r2, [sp]
    ldr r3, [sp, #4]
    ldr r1, [sp, #8]
    add sp, sp, #16
    pop {{r0, r4, r5, pc}}
    .size __do_div64, . - __do_div64
"#
);

unsafe extern "C" {
    pub fn __gnu_mcount_nc();
    pub fn __stack_chk_fail();
    pub fn __do_div64();
}

/// `__do_div64`'s arithmetic, called from its entry with `out` pointing at
/// four words: quotient low, high, remainder, and (in) the caller's lr.
///
/// # Safety
///
/// Called only from `__do_div64`'s assembly entry, with `out` its frame.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_do_div64(n: u64, base: u32, out: *mut u32) {
    let (q, r) = match lib::do_div64(n, base) {
        Some(qr) => qr,
        None => {
            // __div0 (arch/arm/kernel/traps.c), then div64.S's zeros.
            // SAFETY: the entry stored lr in the fourth word.
            let caller = unsafe { out.add(3).read() };
            let mut sym = crate::console::FixedBuf::<160>::default();
            let _ = crate::kallsyms::write_symbol(
                &mut sym,
                crate::kallsyms::kernel_table().as_ref(),
                caller,
            );
            crate::pr_err!("Division by zero in kernel.");
            crate::pr_err!("  called from {}", sym.as_str());
            (0, 0)
        }
    };
    // SAFETY: the entry's frame has room for the three results.
    unsafe {
        out.write(q as u32);
        out.add(1).write((q >> 32) as u32);
        out.add(2).write(r);
    }
}

// ---------------------------------------------------------------------------
// fortify_panic and BUG()

/// Linux's `BUG_INSTR_VALUE` (arch/arm/include/asm/bug.h): an undefined
/// instruction the undefined-instruction handler reports as `kernel BUG`.
pub const BUG_INSTR: u32 = 0xe7f0_01f2;

/// Linux's `BUG()`: the BUG instruction, which oopses.
fn bug() -> ! {
    // SAFETY: an undefined instruction: the exception handler reports it
    // as a BUG and panics; it never returns here.
    unsafe { core::arch::asm!(".inst 0xe7f001f2", options(nomem, nostack)) };
    crate::panic::halt()
}

/// `fortify_panic(name)` (lib/string_helpers.c): a fortified string
/// function found an overflow.
///
/// # Safety
///
/// `name` is a C string (the function's name, from the module's rodata).
unsafe extern "C" fn fortify_panic(name: *const u8) -> ! {
    // SAFETY: this function's contract.
    let name = unsafe { crate::module::exports::c_str(name as u32, 64) };
    crate::pr_emerg!(
        "detected buffer overflow in {}",
        core::str::from_utf8(name).unwrap_or("?")
    );
    bug()
}

// ---------------------------------------------------------------------------
// Atomic bit operations

/// The word of the bitmap at `p` that holds bit `nr`, checked as ARM's
/// `bitop` macro checks it: a bitmap that is not word-aligned is a bug
/// (6.1's `strbne r1, [ip]` faults on purpose; Kobold BUGs, which oopses
/// the same way, naming the caller).
///
/// # Safety
///
/// `p` points at a bitmap of at least `nr / 32 + 1` words (the caller's
/// contract in C).
unsafe fn bit_word(nr: u32, p: *mut u32) -> (&'static AtomicU32, u32) {
    if p as usize & 3 != 0 {
        bug();
    }
    let (w, m) = lib::bit_word_mask(nr);
    // SAFETY: this function's contract; `AtomicU32` has `u32`'s layout and
    // the word is aligned (checked above). `ldrex`/`strex` as 6.1's.
    (unsafe { AtomicU32::from_ptr(p.add(w)) }, m)
}

macro_rules! bitops {
    ($($name:ident => $op:ident, $test:literal;)*) => {$(
        /// 6.1's out-of-line ARM bit operation of the same name
        /// (arch/arm/lib/bitops.h): atomic, a full barrier on SMP.
        ///
        /// # Safety
        ///
        /// `p` points at a bitmap holding bit `nr`.
        unsafe extern "C" fn $name(nr: u32, p: *mut u32) -> u32 {
            // SAFETY: this function's contract.
            let (word, mask) = unsafe { bit_word(nr, p) };
            let old = bitops!(@$op word, mask);
            if $test { u32::from(old & mask != 0) } else { 0 }
        }
    )*};
    (@set $w:ident, $m:ident) => { $w.fetch_or($m, Ordering::SeqCst) };
    (@clear $w:ident, $m:ident) => { $w.fetch_and(!$m, Ordering::SeqCst) };
    (@change $w:ident, $m:ident) => { $w.fetch_xor($m, Ordering::SeqCst) };
}

bitops! {
    _set_bit => set, false;
    _clear_bit => clear, false;
    _change_bit => change, false;
    _test_and_set_bit => set, true;
    _test_and_clear_bit => clear, true;
    _test_and_change_bit => change, true;
}

/// 6.1's `usleep_range_state(min, max, state)` (what `usleep_range` is
/// inline over): at least `min` µs. Linux sleeps on an hrtimer in `state`;
/// with no other task, Kobold busy-waits `min` on the 24 MHz counter, as
/// its own `usleep_range` does (a `wfi` would oversleep to the next tick).
extern "C" fn usleep_range_state(min: u32, _max: u32, _state: u32) {
    let mut ticks = u64::from(min) * (crate::time::COUNTER_HZ / 1_000_000);
    while ticks > 0 {
        let chunk = ticks.min(1 << 30);
        crate::time::delay_ticks(chunk as u32);
        ticks -= chunk;
    }
}

// ---------------------------------------------------------------------------
// Kernel-mode NEON

/// FPEXC.EN: VFP/NEON instructions execute (else they are undefined).
pub const FPEXC_EN: u32 = 1 << 30;

/// CPACR: full access to cp10 and cp11 (VFP and NEON), ASEDIS and D32DIS
/// clear (Linux's `vfp_init`; FPEXC.EN stays off until
/// `kernel_neon_begin`, so a VFP instruction still traps as undefined).
///
/// Called first thing in `start_kernel`, not where Linux's `vfp_init` (a
/// `core_initcall`) would run: under QEMU's TCG the CPACR access bits are
/// part of every translation block's flags (the FP trap level), so writing
/// CPACR midway through boot made QEMU translate again every block that ran
/// both before and after it — 397 blocks, 2,202 guest instructions, 18 %
/// of all translation to the prompt (docs/BENCHMARKS.md, "The physical
/// floor"). Nothing before the kernel's first module load can observe when
/// the access was granted.
pub fn vfp_access_init() {
    let mut cpacr: u32;
    // SAFETY: CPACR only grants coprocessor access; the kernel itself
    // never executes a VFP instruction (armv7a-none-eabi is soft-float).
    unsafe {
        core::arch::asm!("mrc p15, 0, {}, c1, c0, 2", out(reg) cpacr, options(nomem, nostack, preserves_flags));
        cpacr = (cpacr | 0xf << 20) & !(3 << 30);
        core::arch::asm!("mcr p15, 0, {}, c1, c0, 2", "isb", in(reg) cpacr, options(nomem, nostack, preserves_flags));
    }
}

/// FPEXC (`vmrs r0, fpexc`, encoded: the kernel is built without VFP).
pub fn fpexc() -> u32 {
    let v: u32;
    // SAFETY: reading FPEXC is allowed once CPACR grants cp10/cp11, which
    // `boot_init` did before any module or test can run.
    unsafe {
        core::arch::asm!(".inst 0xeef80a10", out("r0") v, options(nomem, nostack, preserves_flags))
    };
    v
}

fn set_fpexc(v: u32) {
    // SAFETY: `vmsr fpexc, r0`: as `fpexc`; enabling or disabling the unit
    // changes nothing the kernel's own (soft-float) code depends on.
    unsafe {
        core::arch::asm!(".inst 0xeee80a10", in("r0") v, options(nomem, nostack, preserves_flags))
    };
}

/// `kernel_neon_begin()` (arch/arm/vfp/vfpmodule.c of 6.1, as Debian's
/// armmp image has it): `BUG_ON(in_interrupt())` (`preempt_count` read
/// from `current`), `get_cpu()` (only a compiler barrier without
/// `CONFIG_PREEMPT_COUNT`, which Debian's build lacks), then FPEXC.EN.
/// Linux also saves the VFP state of the task that owned the unit; Kobold
/// has no user tasks and its own code is soft-float (armv7a-none-eabi:
/// no VFP instruction in the image but FPEXC's accesses here), so nothing
/// else ever holds VFP/NEON registers, and with interrupts masked nothing
/// runs between `begin` and `end` but the module.
extern "C" fn kernel_neon_begin() {
    if INIT_TASK.read(task::TI_PREEMPT_COUNT) & task::IRQ_COUNT_MASK != 0 {
        bug();
    }
    set_fpexc(fpexc() | FPEXC_EN);
}

/// `kernel_neon_end()`: FPEXC.EN off (`put_cpu()`, a barrier).
extern "C" fn kernel_neon_end() {
    set_fpexc(fpexc() & !FPEXC_EN);
}

// ---------------------------------------------------------------------------
// kmalloc

/// A kmalloc cache (`struct kmem_cache`): opaque to modules, which only
/// pass its address back to `kmalloc_trace`.
#[repr(C)]
pub struct KmemCache {
    /// The object size (`kmalloc_size(index)`).
    pub size: u32,
    /// `enum kmalloc_cache_type`.
    pub kind: u8,
    /// The size class.
    pub index: u8,
}

const fn caches() -> [[KmemCache; slab::PER_TYPE]; slab::NR_TYPES] {
    let mut out = [const {
        [const {
            KmemCache {
                size: 0,
                kind: 0,
                index: 0,
            }
        }; slab::PER_TYPE]
    }; slab::NR_TYPES];
    let mut t = 0;
    while t < slab::NR_TYPES {
        let mut i = 0;
        while i < slab::PER_TYPE {
            out[t][i] = KmemCache {
                size: slab::class_size(i) as u32,
                kind: t as u8,
                index: i as u8,
            };
            i += 1;
        }
        t += 1;
    }
    out
}

/// The caches themselves (entries `create_kmalloc_caches` does not make
/// exist here too, but no pointer to them is handed out).
static CACHES: [[KmemCache; slab::PER_TYPE]; slab::NR_TYPES] = caches();

/// `kmalloc_caches`: 6.1's array of cache pointers, NULL where 6.1 has no
/// cache.
#[repr(transparent)]
pub struct CachePtrs(pub [[*const KmemCache; slab::PER_TYPE]; slab::NR_TYPES]);

// SAFETY: read-only pointers to immutable statics.
unsafe impl Sync for CachePtrs {}

const fn cache_ptrs(c: &'static [[KmemCache; slab::PER_TYPE]; slab::NR_TYPES]) -> CachePtrs {
    let mut out = [[core::ptr::null(); slab::PER_TYPE]; slab::NR_TYPES];
    let mut t = 0;
    while t < slab::NR_TYPES {
        let mut i = 0;
        while i < slab::PER_TYPE {
            if slab::has_cache(i) {
                out[t][i] = &c[t][i];
            }
            i += 1;
        }
        t += 1;
    }
    CachePtrs(out)
}

/// The exported `kmalloc_caches`.
pub static KMALLOC_CACHES: CachePtrs = cache_ptrs(&CACHES);

/// The cache at `s`, if it is one of `kmalloc_caches`' (a module passing
/// anything else gets NULL and a message, not a fault).
fn cache_at(s: *const KmemCache) -> Option<&'static KmemCache> {
    CACHES
        .iter()
        .flatten()
        .find(|c| core::ptr::eq(*c, s) && slab::has_cache(c.index as usize))
}

/// 6.1's `kmalloc_fix_flags`: the bits kmalloc must not get are dropped,
/// with its warning.
fn fix_flags(flags: u32) -> u32 {
    let bad = flags & gfp::SLAB_BUG_MASK;
    if bad != 0 {
        crate::pr_warn!(
            "Unexpected gfp: {bad:#x}. Fixing up to gfp: {:#x}. Fix your code!",
            flags & !gfp::SLAB_BUG_MASK
        );
    }
    flags & !gfp::SLAB_BUG_MASK
}

/// Every 6.1 kmalloc entry ends here: `size` bytes aligned as 6.1
/// guarantees ([`slab::align_for`], whole pages above
/// `KMALLOC_MAX_CACHE_SIZE`), zeroed for `__GFP_ZERO`; NULL (with SLUB's
/// or the page allocator's warning unless `__GFP_NOWARN`) when there is
/// no memory; `ZERO_SIZE_PTR` for 0.
fn alloc(size: usize, flags: u32, align: usize) -> *mut u8 {
    let flags = fix_flags(flags);
    if size == 0 {
        return heap::ZERO_SIZE_PTR as *mut u8;
    }
    let Some(p) = heap::kmalloc_aligned(size, align, gfp::to_kobold(flags)) else {
        if gfp::warns(flags) {
            if size > slab::MAX_CACHE_SIZE {
                crate::pr_warn!(
                    "kmalloc_large: page allocation failure: {size} bytes, mode:{flags:#x}"
                );
            } else {
                crate::pr_warn!("SLUB: Unable to allocate memory on node -1, gfp={flags:#x}");
            }
        }
        return core::ptr::null_mut();
    };
    if gfp::wants_zero(flags) {
        // SAFETY: a fresh block of at least `size` bytes.
        unsafe { core::ptr::write_bytes(p.as_ptr(), 0, size) };
    }
    p.as_ptr()
}

/// `__kmalloc(size, flags)`.
extern "C" fn __kmalloc(size: usize, flags: u32) -> *mut u8 {
    alloc(size, flags, slab::align_for(size))
}

/// `__kmalloc_node(size, flags, node)`: one node.
extern "C" fn __kmalloc_node(size: usize, flags: u32, _node: i32) -> *mut u8 {
    __kmalloc(size, flags)
}

/// `kmalloc_trace(s, flags, size)`: from the cache a module read out of
/// `kmalloc_caches` (inline `kmalloc` with a constant size).
extern "C" fn kmalloc_trace(s: *const KmemCache, flags: u32, size: usize) -> *mut u8 {
    match cache_at(s) {
        Some(c) => alloc(
            size.min(c.size as usize),
            flags,
            slab::align_for(c.size as usize),
        ),
        None => {
            crate::pr_err!("kmalloc_trace: {:#010x} is not a kmalloc cache", s as u32);
            core::ptr::null_mut()
        }
    }
}

/// `kmalloc_node_trace(s, flags, node, size)`.
extern "C" fn kmalloc_node_trace(
    s: *const KmemCache,
    flags: u32,
    _node: i32,
    size: usize,
) -> *mut u8 {
    kmalloc_trace(s, flags, size)
}

/// `kmalloc_large(size, flags)`: whole pages (inline `kmalloc` of a
/// constant size above `KMALLOC_MAX_CACHE_SIZE`).
extern "C" fn kmalloc_large(size: usize, flags: u32) -> *mut u8 {
    alloc(size, flags, kobold_layout::PAGE_SIZE as usize)
}

/// `kmalloc_large_node(size, flags, node)`.
extern "C" fn kmalloc_large_node(size: usize, flags: u32, _node: i32) -> *mut u8 {
    kmalloc_large(size, flags)
}

/// `kvmalloc_node(size, flags, node)` (mm/util.c): kmalloc first (quietly
/// and without retrying above a page), then vmalloc, unless the flags are
/// not GFP_KERNEL-compatible (then kmalloc only), as 6.1.
extern "C" fn kvmalloc_node(size: usize, flags: u32, _node: i32) -> *mut u8 {
    if flags & gfp::GFP_KERNEL != gfp::GFP_KERNEL {
        return __kmalloc(size, flags);
    }
    let page = kobold_layout::PAGE_SIZE as usize;
    let mut kflags = flags;
    if size > page {
        kflags |= gfp::NOWARN;
        if kflags & gfp::RETRY_MAYFAIL == 0 {
            kflags |= gfp::NORETRY;
        }
        kflags &= !gfp::NOFAIL;
    }
    let p = __kmalloc(size, kflags);
    if !p.is_null() || size <= page {
        return p;
    }
    let Ok(size32) = u32::try_from(size) else {
        return core::ptr::null_mut();
    };
    if size32 > i32::MAX as u32 {
        return core::ptr::null_mut();
    }
    let g = gfp::to_kobold(flags).union(Gfp::HIGHMEM);
    vmalloc::vmalloc_node_range(
        size32,
        1,
        vmalloc::Window::Vmalloc,
        g,
        Prot::KERNEL_RW,
        kvmalloc_node as *const () as u32,
    )
    .map_or(core::ptr::null_mut(), |a| a as *mut u8)
}

/// `kvfree(p)`: vfree for a vmalloc area, kfree otherwise.
///
/// # Safety
///
/// `p` is NULL or from kmalloc/kvmalloc/vmalloc, not yet freed.
unsafe extern "C" fn kvfree(p: *mut u8) {
    if vmalloc::vfree(p as u32).is_err() {
        // SAFETY: this function's contract: not a vmalloc area, so kmalloc's
        // (or NULL).
        unsafe { crate::module::exports::kobold_kfree(p) };
    }
}

// ---------------------------------------------------------------------------
// Strings

/// `strscpy(dest, src, count)` (lib/string.c).
///
/// # Safety
///
/// `src` is readable up to its NUL or `count` bytes, `dest` writable for
/// `count` bytes (C's contract).
unsafe extern "C" fn strscpy(dest: *mut u8, src: *const u8, count: usize) -> isize {
    let probe = if count > i32::MAX as usize { 0 } else { count };
    // SAFETY: this function's contract: readable up to NUL or `count`.
    let s = unsafe { crate::module::exports::c_str(src as u32, probe) };
    let (copy, ret) = lib::strscpy_plan(s, count);
    if let Some(n) = copy {
        // SAFETY: `n < count`: the bytes and the NUL fit in `dest`.
        unsafe {
            core::ptr::copy(s.as_ptr(), dest, n);
            dest.add(n).write(0);
        }
    }
    ret
}

/// `strncasecmp(s1, s2, len)` (lib/string.c).
///
/// # Safety
///
/// `s1` and `s2` are readable up to their NUL or `len` bytes (C's
/// contract); `lib::strncasecmp` reads no further.
unsafe extern "C" fn strncasecmp(s1: *const u8, s2: *const u8, len: usize) -> i32 {
    lib::strncasecmp(
        // SAFETY: byte `i` is before a NUL and below `len` (see above).
        &mut |i| unsafe { s1.add(i).read() },
        // SAFETY: as for `s1`.
        &mut |i| unsafe { s2.add(i).read() },
        len,
    )
}

/// `unsigned long gcd(unsigned long a, unsigned long b)` (lib/math/gcd.c).
extern "C" fn gcd(a: u32, b: u32) -> u32 {
    lib::gcd(a, b)
}

/// `rational_best_approximation(...)` (lib/math/rational.c).
///
/// # Safety
///
/// `best_numerator` and `best_denominator` are writable (C's contract).
unsafe extern "C" fn rational_best_approximation(
    given_numerator: u32,
    given_denominator: u32,
    max_numerator: u32,
    max_denominator: u32,
    best_numerator: *mut u32,
    best_denominator: *mut u32,
) {
    let (n, d) = lib::rational_best_approximation(
        given_numerator,
        given_denominator,
        max_numerator,
        max_denominator,
    );
    // SAFETY: this function's contract.
    unsafe {
        best_numerator.write(n);
        best_denominator.write(d);
    }
}

/// `unsigned long __msecs_to_jiffies(const unsigned int m)`
/// (kernel/time/time.c) at 6.1's HZ, 250: what `msecs_to_jiffies` calls
/// for a value the compiler could not fold.
extern "C" fn linux61_msecs_to_jiffies(m: u32) -> u32 {
    lib::msecs_to_jiffies(m)
}

/// `unsigned int jiffies_to_msecs(const unsigned long j)` at HZ=250.
extern "C" fn linux61_jiffies_to_msecs(j: u32) -> u32 {
    lib::jiffies_to_msecs(j)
}

/// `kfree_sensitive(p)` (mm/slab_common.c): zero the block (`ksize` bytes,
/// `memzero_explicit`: volatile writes the compiler cannot drop), then
/// `kfree`.
///
/// # Safety
///
/// `p` is NULL or a kmalloc block not yet freed (C's contract).
unsafe extern "C" fn kfree_sensitive(p: *mut u8) {
    // SAFETY: this function's contract.
    let ks = unsafe { heap::ksize(p) };
    for i in 0..ks {
        // SAFETY: within the block's `ks` bytes.
        unsafe { p.add(i).write_volatile(0) };
    }
    // SAFETY: this function's contract.
    unsafe { crate::module::exports::kobold_kfree(p) };
}

/// `div_s64_rem(dividend, divisor, &remainder)` (lib/math/div64.c).
///
/// # Safety
///
/// `remainder` is writable (C's contract).
unsafe extern "C" fn div_s64_rem(dividend: i64, divisor: i32, remainder: *mut i32) -> i64 {
    let (q, r) = lib::div_s64_rem(dividend, divisor).unwrap_or_else(|| {
        crate::pr_err!("Division by zero in kernel.");
        (0, 0)
    });
    // SAFETY: this function's contract.
    unsafe { remainder.write(r) };
    q
}

/// 6.1's `get_jiffies_64()`: the 250 Hz count (HZ of Debian's armmp).
extern "C" fn linux61_get_jiffies_64() -> u64 {
    LINUX61_JIFFIES.get_64()
}

/// 6.1's `msleep(msecs)`: `msecs_to_jiffies(msecs) + 1` ticks of the 250 Hz
/// count, waited for as Kobold's own `msleep` waits (a `wfi` loop: there is
/// no other task to run).
extern "C" fn linux61_msleep(msecs: u32) {
    crate::time::msleep(
        &LINUX61_JIFFIES,
        LINUX61_HZ,
        msleep_ticks(msecs, LINUX61_HZ),
    );
}

/// 6.1's `msleep_interruptible`: as `msleep`; no signal can end it early, so
/// the time left is always 0.
extern "C" fn linux61_msleep_interruptible(msecs: u32) -> u32 {
    linux61_msleep(msecs);
    0
}

// ---------------------------------------------------------------------------
// NLS (fs/nls/nls_base.c): the registry's memory is the modules' tables.

/// The tables' memory, read and written where the modules put it.
struct TableMem;

impl nls::Mem for TableMem {
    fn read(&self, addr: u32) -> u32 {
        // SAFETY: `addr` is a field of a `struct nls_table` a module
        // registered (and keeps, in its data, until it unregisters it at
        // exit) or is registering; a bad pointer from a module faults and
        // oopses naming it, as on Linux.
        unsafe { (addr as *const u32).read_volatile() }
    }
    fn write(&mut self, addr: u32, v: u32) {
        // SAFETY: as in `read`; the registry writes only `owner` and `next`.
        unsafe { (addr as *mut u32).write_volatile(v) }
    }
    fn c_str(&self, addr: u32, max: usize) -> &[u8] {
        // SAFETY: a table's `charset`/`alias` (or its owner's name): C
        // strings in the registering module's rodata, there while listed.
        unsafe { crate::module::exports::c_str(addr, max) }
    }
}

/// Linux's `tables`, under `nls_lock`.
static NLS: crate::sync::Mutex<nls::Registry> = crate::sync::Mutex::new(nls::Registry::new());

/// `int __register_nls(struct nls_table *nls, struct module *owner)`.
extern "C" fn register_nls(table: u32, owner: u32) -> i32 {
    NLS.lock().register(&mut TableMem, table, owner)
}

/// `int unregister_nls(struct nls_table *nls)`.
extern "C" fn unregister_nls(table: u32) -> i32 {
    NLS.lock().unregister(&mut TableMem, table)
}

/// `struct nls_table *load_nls(const char *charset)` (fs/nls/nls_base.c):
/// `try_then_request_module(find_nls(charset), "nls_%s", charset)` —
/// the table for `charset` (or alias) with its owner pinned by
/// `try_module_get` under `nls_lock`, so `rmmod` of the owner fails while
/// the caller holds it; if there is none, `request_module("nls_CHARSET")`
/// (the in-kernel modprobe, `module::kmod`) and a second look; else NULL.
///
/// # Safety
///
/// `charset` is a C string (C's contract).
unsafe extern "C" fn load_nls(charset: *const u8) -> u32 {
    // SAFETY: this function's contract.
    let name = unsafe { crate::module::exports::c_str(charset as u32, nls::MAX_NAME) };
    if let Some(t) = find_nls_get(name) {
        return t;
    }
    // "nls_%s" into Linux's `char module_name[MODULE_NAME_LEN]`: a longer
    // one is -ENAMETOOLONG there, nothing requested.
    let mut module = [0u8; crate::module::kmod::MODULE_NAME_LEN];
    let len = 4 + name.len();
    if let Some(dst) = module.get_mut(..len) {
        dst[..4].copy_from_slice(b"nls_");
        dst[4..].copy_from_slice(name);
        // The NLS lock is not held: the requested module's init registers
        // its table.
        crate::module::kmod::request_module(true, dst);
    }
    find_nls_get(name).unwrap_or(0)
}

/// 6.1's `find_nls`: the table for `charset` with its owner pinned.
fn find_nls_get(charset: &[u8]) -> Option<u32> {
    let tables = NLS.lock();
    let t = tables.find(&TableMem, charset)?;
    let owner = nls::Mem::read(&TableMem, t + nls::field::OWNER);
    crate::module::MODULES
        .lock()
        .try_module_get(owner)
        .then_some(t)
}

/// `int __request_module(bool wait, const char *fmt, ...)`
/// (kernel/kmod.c) after the variadic entry spilled its arguments: the
/// name formatted as `vsnprintf(module_name, MODULE_NAME_LEN, fmt, args)`
/// (`-ENAMETOOLONG` if it does not fit), then `module::kmod`'s modprobe.
///
/// # Safety
///
/// `slots` is a variadic call's argument words (the entry's layout): slot
/// 0 the `bool`, slot 1 a C format string matching the arguments after it.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_request_module_slots(slots: *const u32) -> i32 {
    use crate::module::kmod::{ENAMETOOLONG, MODULE_NAME_LEN, request_module};
    // SAFETY: this function's contract: slots 0 and 1 are r0 and r1.
    let (wait, fmt) = unsafe { (slots.read() & 0xff != 0, slots.add(1).read()) };
    // SAFETY: the format, a C string (this function's contract).
    let fmt = unsafe { crate::module::exports::c_str(fmt, 1024) };
    let mut name = NameBuf::default();
    // SAFETY: this function's contract: the arguments from slot 2 match
    // `fmt`.
    let _ = unsafe { crate::module::exports::format_slots(&mut name, fmt, slots, 2) };
    match name.bytes.get(..name.len) {
        Some(n) if name.len < MODULE_NAME_LEN => request_module(wait, n),
        _ => ENAMETOOLONG,
    }
}

/// `char module_name[MODULE_NAME_LEN]` for `vsnprintf`: keeps what fits,
/// counts all.
struct NameBuf {
    bytes: [u8; crate::module::kmod::MODULE_NAME_LEN],
    len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            bytes: [0; crate::module::kmod::MODULE_NAME_LEN],
            len: 0,
        }
    }
}

impl Write for NameBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
            }
            self.len = self.len.saturating_add(1);
        }
        Ok(())
    }
}

/// `void unload_nls(struct nls_table *nls)`: `module_put(nls->owner)`
/// for a table `load_nls` returned (NULL is ignored).
extern "C" fn unload_nls(table: u32) {
    if table == 0 {
        return;
    }
    let owner = nls::Mem::read(&TableMem, table + nls::field::OWNER);
    if !crate::module::MODULES.lock().module_put(owner) {
        crate::sync::warn(
            "kernel/module/main.c",
            0,
            "module_put",
            format_args!("unload_nls: {table:#010x}'s owner holds no reference"),
        );
    }
}

/// The registered table for `charset` (or alias), without 6.1's module
/// pin (see `nls`'s docs): for the shell's `selftest nls`, whose thread is
/// the only one that could `rmmod` its owner.
pub fn find_nls(charset: &[u8]) -> Option<u32> {
    NLS.lock().find(&TableMem, charset)
}

/// `cat /sys/kernel/kobold/nls`.
pub fn write_nls(out: &mut dyn Write) -> core::fmt::Result {
    let owner = |m: u32, out: &mut dyn Write| -> core::fmt::Result {
        if m == 0 {
            return out.write_str("-");
        }
        // SAFETY: the owner is the registering module's own `struct
        // module` (`THIS_MODULE`), whose name (+0xc, MODULE_NAME_LEN 56)
        // Kobold filled when it loaded the module.
        let name = unsafe { crate::module::exports::c_str(m + 0xc, 56) };
        out.write_str(core::str::from_utf8(name).unwrap_or("?"))
    };
    nls::write_listing(&NLS.lock(), &TableMem, &owner, out)
}

/// `int utf8_to_utf32(const u8 *s, int inlen, unicode_t *pu)`.
///
/// # Safety
///
/// `s` is readable for the sequence (at most `inlen` bytes, and its first
/// byte), `pu` writable (C's contract).
unsafe extern "C" fn utf8_to_utf32(s: *const u8, inlen: i32, pu: *mut u32) -> i32 {
    // SAFETY: this function's contract: `nls::utf8_to_utf32` reads byte 0
    // and then only bytes below `inlen`.
    let mut byte = |i: usize| unsafe { s.add(i).read() };
    match nls::utf8_to_utf32(&mut byte, inlen) {
        Some((n, u)) => {
            // SAFETY: this function's contract.
            unsafe { pu.write(u) };
            n
        }
        None => -1,
    }
}

/// `int utf32_to_utf8(unicode_t u, u8 *s, int maxout)`: 0 for a NULL `s`.
///
/// # Safety
///
/// `s` is NULL or writable for `maxout` bytes (C's contract).
unsafe extern "C" fn utf32_to_utf8(u: u32, s: *mut u8, maxout: i32) -> i32 {
    if s.is_null() {
        return 0;
    }
    match nls::utf32_to_utf8(u, maxout) {
        Some((bytes, n)) => {
            // SAFETY: `n` bytes, no more than `maxout` when it is positive
            // (this function's contract); 6.1 writes the same.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), s, n as usize) };
            n
        }
        None => -1,
    }
}

// ---------------------------------------------------------------------------
// ___ratelimit (lib/ratelimit.c) and synchronize_rcu

/// `int ___ratelimit(struct ratelimit_state *rs, const char *func)`: 1 if
/// the caller may print. The lock is the state's first word (6.1's
/// `raw_spinlock_t`, the ticket lock of `sync::spinlock`), taken with
/// `raw_spin_trylock_irqsave` as 6.1 does (held: 0, "too busy"); the
/// suppressed count is reported with `printk_deferred(KERN_WARNING ...)`,
/// which for Kobold's synchronous console is `printk`.
///
/// # Safety
///
/// `rs` is a `struct ratelimit_state` and `func` a C string (C's contract).
unsafe extern "C" fn ratelimit(rs: *mut u32, func: *const u8) -> i32 {
    // SAFETY: this function's contract: 7 words.
    let word = |i: usize| unsafe { rs.add(i).read_volatile() };
    if word(1) == 0 {
        return 1;
    }
    let lock = rs.cast::<sync::spinlock::RawSpinlock>();
    let flags = crate::arch::armv7::irqflags::local_irq_save();
    // SAFETY: the state's lock word (this function's contract).
    if unsafe { sync::spinlock::raw_spin_trylock(lock) } == 0 {
        crate::arch::armv7::irqflags::local_irq_restore(flags);
        return 0;
    }
    let mut st = lib::Ratelimit {
        interval: word(1) as i32,
        burst: word(2) as i32,
        printed: word(3) as i32,
        missed: word(4) as i32,
        begin: word(5),
        flags: word(6),
    };
    let (ok, report) = lib::ratelimit(&mut st, LINUX61_JIFFIES.get());
    for (i, v) in [(3, st.printed as u32), (4, st.missed as u32), (5, st.begin)] {
        // SAFETY: as `word`, with the state's lock held.
        unsafe { rs.add(i).write_volatile(v) };
    }
    if let Some(n) = report {
        // SAFETY: this function's contract.
        let func = unsafe { crate::module::exports::c_str(func as u32, 64) };
        crate::pr_warn!(
            "{}: {n} callbacks suppressed",
            core::str::from_utf8(func).unwrap_or("?")
        );
    }
    // SAFETY: taken above; `flags` from the save above.
    unsafe { sync::spinlock::raw_spin_unlock_irqrestore(lock, flags.0) };
    ok as i32
}

/// `void synchronize_rcu(void)` (kernel/rcu/tree.c, TREE_RCU without
/// PREEMPT_RCU, as Debian's armmp): 6.1 returns at once when
/// `rcu_blocking_is_gp()`, i.e. when one CPU is online, because a caller
/// that may block is itself a quiescent state and, with one CPU and no
/// preemption of RCU readers, no reader can be running. Kobold has one
/// CPU, and its readers (non-preemptible `rcu_read_lock` sections, IRQ
/// handlers) always finish before the one thread calls this: the grace
/// period has elapsed on entry.
extern "C" fn synchronize_rcu() {
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

// ---------------------------------------------------------------------------
// arm_delay_ops (arch/arm/lib/delay.c, timer-based): see `delay`.

// 6.1's `struct arm_delay_ops` has 3.18's layout (three functions and
// `ticks_per_jiffy`); only the arithmetic behind them changed.
use crate::module::exports::ArmDelayOps;

/// The 24 MHz counter's ticks per 6.1 jiffy (250 Hz).
const TICKS_PER_JIFFY: u32 = delay::ticks_per_jiffy(crate::time::COUNTER_HZ as u32, LINUX61_HZ);

/// Waits `cycles` counter ticks (more than 32 bits in pieces).
fn wait_cycles(mut cycles: u64) {
    while cycles > 0 {
        let chunk = cycles.min(1 << 30);
        crate::time::delay_ticks(chunk as u32);
        cycles -= chunk;
    }
}

/// `__timer_delay(cycles)`: `cycles` ticks of the delay timer.
extern "C" fn timer_delay(cycles: u32) {
    wait_cycles(u64::from(cycles));
}

/// `__timer_const_udelay(xloops)`.
extern "C" fn timer_const_udelay(xloops: u32) {
    wait_cycles(delay::const_udelay_cycles(xloops, TICKS_PER_JIFFY));
}

/// `__timer_udelay(usecs)`.
extern "C" fn timer_udelay(usecs: u32) {
    wait_cycles(delay::udelay_cycles(usecs, LINUX61_HZ, TICKS_PER_JIFFY));
}

/// `read_current_timer(&val)` (arch/arm/lib/delay.c, GPL-only; what 6.1's
/// `get_cycles()` reads on ARM): the delay timer's count, the same 24 MHz
/// counter `arm_delay_ops` waits on, counting up; returns 0. Linux returns
/// `-ENXIO` only when no delay timer registered, which cannot happen here;
/// a NULL `val` is refused with `-EINVAL` instead of written through.
///
/// # Safety
///
/// `val` is NULL or a writable `unsigned long` (C's contract).
unsafe extern "C" fn read_current_timer(val: *mut u32) -> i32 {
    if val.is_null() {
        return -crate::errno::Errno::EINVAL.0;
    }
    // SAFETY: the caller's writable word (see above).
    unsafe { val.write(crate::board::vexpress_a9::sysregs::counter_24mhz()) };
    0
}

/// The exported `arm_delay_ops` (read-only here: Linux writes it only
/// when a delay timer registers, at boot).
pub static ARM_DELAY_OPS: ArmDelayOps = ArmDelayOps {
    delay: timer_delay,
    const_udelay: timer_const_udelay,
    udelay: timer_udelay,
    ticks_per_jiffy: TICKS_PER_JIFFY,
};

// ---------------------------------------------------------------------------
// dev_printk and dynamic debug: see `device`.

/// Module memory, read where the module put it.
struct ModMem;

impl device::Mem for ModMem {
    fn read(&self, addr: u32) -> u32 {
        // SAFETY: a field of a `struct device` (or of its driver, bus or
        // class) or of a `struct _ddebug` a module passed: readable as on
        // Linux; a bad pointer faults and oopses naming the module, as
        // Linux's `dev_name` would.
        unsafe { (addr as *const u32).read_volatile() }
    }
    fn c_str(&self, addr: u32, max: usize) -> &[u8] {
        // SAFETY: a name the device's owner keeps while it prints.
        unsafe { crate::module::exports::c_str(addr, max) }
    }
}

fn level_of(digit: u8) -> crate::console::printk::Level {
    use crate::console::printk::Level;
    match digit {
        0 => Level::Emerg,
        1 => Level::Alert,
        2 => Level::Crit,
        3 => Level::Err,
        4 => Level::Warning,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    }
}

/// Prints `prefix` then the module's format at `fmt_slot` with the
/// arguments after it, at `level`, as one line (`dev_printk_emit`).
///
/// # Safety
///
/// `slots` is an entry's spill area (r0-r3 then the caller's stack
/// arguments) and slot `fmt_slot` holds the format, a C string matching
/// the arguments after it.
unsafe fn emit(
    level: u8,
    slots: *const u32,
    fmt_slot: usize,
    prefix: &dyn Fn(&mut dyn Write) -> core::fmt::Result,
) {
    let mut buf = crate::console::FixedBuf::<1024>::default();
    let _ = prefix(&mut buf);
    // SAFETY: this function's contract.
    unsafe {
        let fmt = crate::module::exports::c_str(slots.add(fmt_slot).read(), 1024);
        let _ = crate::module::exports::format_slots(&mut buf, fmt, slots, fmt_slot + 1);
    }
    let text = buf.as_str();
    crate::console::printk::vprintk(
        level_of(level),
        format_args!("{}", text.strip_suffix('\n').unwrap_or(text)),
    );
}

/// `_dev_emerg` .. `_dev_info(dev, fmt, ...)` after their entries (which
/// pass the level).
///
/// # Safety
///
/// As [`emit`], with slot 0 a `struct device *` (or NULL) and slot 1 the
/// format.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_dev_level_slots(slots: *const u32, level: u32) {
    // SAFETY: this function's contract.
    let dev = unsafe { slots.read() };
    let prefix = |out: &mut dyn Write| device::write_dev_prefix(out, &ModMem, dev);
    // SAFETY: this function's contract.
    unsafe { emit(level as u8, slots, 1, &prefix) };
}

/// `_dev_printk(level, dev, fmt, ...)`: the level is a `KERN_*` string.
///
/// # Safety
///
/// As [`emit`], with slot 0 a C string, slot 1 a `struct device *` (or
/// NULL) and slot 2 the format.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_dev_printk_slots(slots: *const u32) {
    // SAFETY: this function's contract.
    let (level, dev) = unsafe {
        (
            crate::module::exports::c_str(slots.read(), 2),
            slots.add(1).read(),
        )
    };
    // `level[1] - '0'`; anything else is KERN_DEFAULT (the default level).
    let level = device::level_digit(level).unwrap_or(4);
    let prefix = |out: &mut dyn Write| device::write_dev_prefix(out, &ModMem, dev);
    // SAFETY: this function's contract.
    unsafe { emit(level, slots, 2, &prefix) };
}

fn in_interrupt() -> bool {
    INIT_TASK.read(task::TI_PREEMPT_COUNT) & task::IRQ_COUNT_MASK != 0
}

/// `__dynamic_pr_debug(desc, fmt, ...)`: KERN_DEBUG, the descriptor's
/// prefix, the message (6.1 BUGs on a NULL descriptor or format).
///
/// # Safety
///
/// As [`emit`], with slot 0 a `struct _ddebug *` and slot 1 the format.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_dynamic_pr_debug_slots(slots: *const u32) {
    // SAFETY: this function's contract.
    let (desc, fmt) = unsafe { (slots.read(), slots.add(1).read()) };
    if desc == 0 || fmt == 0 {
        bug();
    }
    let pid = INIT_TASK.read(task::PID);
    let prefix =
        |out: &mut dyn Write| device::write_ddebug_prefix(out, &ModMem, desc, pid, in_interrupt());
    // SAFETY: this function's contract.
    unsafe { emit(7, slots, 1, &prefix) };
}

/// `__dynamic_dev_dbg(desc, dev, fmt, ...)`: KERN_DEBUG; for a device,
/// the descriptor's prefix then `dev_printk`'s; for NULL,
/// `(NULL device *): ` alone, as 6.1 prints it.
///
/// # Safety
///
/// As [`emit`], with slot 0 a `struct _ddebug *`, slot 1 a `struct
/// device *` (or NULL) and slot 2 the format.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_dynamic_dev_dbg_slots(slots: *const u32) {
    // SAFETY: this function's contract.
    let (desc, dev, fmt) = unsafe { (slots.read(), slots.add(1).read(), slots.add(2).read()) };
    if desc == 0 || fmt == 0 {
        bug();
    }
    let pid = INIT_TASK.read(task::PID);
    let prefix = |out: &mut dyn Write| {
        if dev != 0 {
            device::write_ddebug_prefix(out, &ModMem, desc, pid, in_interrupt())?;
        }
        device::write_dev_prefix(out, &ModMem, dev)
    };
    // SAFETY: this function's contract.
    unsafe { emit(7, slots, 2, &prefix) };
}

/// `print_hex_dump(level, prefix_str, prefix_type, rowsize, groupsize,
/// buf, len, ascii)` (lib/hexdump.c): one printk per row at `level`, as
/// [`hexdump`] lays it out.
///
/// # Safety
///
/// `level` and `prefix_str` are C strings, `buf` is readable for `len`
/// bytes (C's contract).
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn print_hex_dump(
    level: *const u8,
    prefix_str: *const u8,
    prefix_type: i32,
    rowsize: i32,
    groupsize: i32,
    buf: *const u8,
    len: usize,
    ascii: bool,
) {
    // SAFETY: this function's contract.
    let (level, prefix) = unsafe {
        (
            crate::module::exports::c_str(level as u32, 2),
            crate::module::exports::c_str(prefix_str as u32, 128),
        )
    };
    let level = level_of(device::level_digit(level).unwrap_or(4));
    let row = hexdump::rowsize(rowsize);
    let mut i = 0;
    while i < len {
        let n = (len - i).min(row);
        // SAFETY: `i + n <= len`: within the caller's buffer.
        let bytes = unsafe { core::slice::from_raw_parts(buf.add(i), n) };
        let mut line = crate::console::FixedBuf::<256>::default();
        let _ =
            hexdump::write_line_prefix(&mut line, prefix, prefix_type, buf as u32 + i as u32, i);
        let _ = hexdump::hex_dump_line(&mut line, bytes, rowsize, groupsize, ascii);
        crate::console::printk::vprintk(level, format_args!("{}", line.as_str()));
        i += n;
    }
}

/// `arm_heavy_mb()` (arch/arm/mm/flush.c, `CONFIG_ARM_HEAVY_MB`): what
/// `mb()`, `wmb()` and `rmb()` call after their `dsb`: the outer cache's
/// `sync` if there is one, then the SoC's `soc_mb` if one is set. Kobold
/// runs the vexpress-a9 with its L2C-310 outer cache left disabled and
/// sets no `soc_mb`, so both are absent, as on a Linux without them; a
/// `dsb` is kept so a caller's ordering holds even without its own.
extern "C" fn arm_heavy_mb() {
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("dsb", options(nostack, preserves_flags)) };
}

/// `warn_slowpath_fmt(file, line, taint, fmt, ...)` (kernel/panic.c), what
/// `WARN()`, `WARN_ON()` and `WARN_ONCE()` call on ARM (no `__WARN_FLAGS`):
/// the cut line, `WARNING: CPU: 0 PID: <pid> at <file>:<line> <caller>`
/// (the caller as `%pS`), the message if there is one, `Modules linked
/// in:`, the end-of-trace marker, then `add_taint(taint)` (`TAINT_WARN`, W,
/// shown in the next oops' `Tainted:`). Linux also dumps the stack; Kobold's
/// warnings do not yet (as `sync::warn`).
///
/// # Safety
///
/// `slots` is the entry's spill area with the entry's saved lr just below
/// it; slot 0 is NULL or a C string (the file), slot 3 NULL or the format,
/// matching the arguments after it.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_linux61_warn_slots(slots: *const u32) {
    // SAFETY: this function's contract: the entry pushed {r4, lr} right
    // below r0-r3.
    let (file, line, taint, fmt, caller) = unsafe {
        (
            slots.read(),
            slots.add(1).read(),
            slots.add(2).read(),
            slots.add(3).read(),
            slots.sub(1).read(),
        )
    };
    crate::pr_warn!("------------[ cut here ]------------");
    let mut at = crate::console::FixedBuf::<256>::default();
    let _ = write!(at, "WARNING: CPU: 0 PID: {} at ", INIT_TASK.read(task::PID));
    if file != 0 {
        // SAFETY: the file name `__FILE__`, a C string in the module.
        let f = unsafe { crate::module::exports::c_str(file, 128) };
        let _ = write!(
            at,
            "{}:{} ",
            core::str::from_utf8(f).unwrap_or("?"),
            line as i32
        );
    }
    // `%pS` of the return address.
    let table = crate::kallsyms::kernel_table();
    if !crate::kallsyms::write_symbol_name(&mut at, table.as_ref(), caller, true).unwrap_or(false) {
        let _ = write!(at, "{caller:#x}");
    }
    crate::pr_warn!("{}", at.as_str());
    if fmt != 0 {
        // `vprintk(fmt, args)`: the format's own level, else the default.
        // SAFETY: this function's contract.
        let whole = unsafe { crate::module::exports::c_str(fmt, 1024) };
        let (level, rest) = crate::module::vsprintf::split_level(whole);
        let mut buf = crate::console::FixedBuf::<1024>::default();
        // SAFETY: this function's contract: the arguments follow the format.
        let _ = unsafe { crate::module::exports::format_slots(&mut buf, rest, slots, 4) };
        let text = buf.as_str();
        crate::console::printk::vprintk(
            level,
            format_args!("{}", text.strip_suffix('\n').unwrap_or(text)),
        );
    }
    let mut linked = crate::console::FixedBuf::<256>::default();
    if let Some(mut mods) = crate::module::MODULES.try_lock() {
        let _ = mods.write_linked_in(&mut linked);
        mods.add_taint(taint);
    }
    crate::pr_warn!("Modules linked in:{}", linked.as_str());
    crate::pr_warn!("---[ end trace 0000000000000000 ]---");
}

// The variadic entries (`_dev_<level>`, `_dev_printk`, dynamic debug,
// `warn_slowpath_fmt`, `__request_module`) are in `module::variadic`.

unsafe extern "C" {
    fn _dev_emerg();
    fn _dev_alert();
    fn _dev_crit();
    fn _dev_err();
    fn _dev_warn();
    fn _dev_notice();
    fn _dev_info();
    fn _dev_printk();
    fn __dynamic_pr_debug();
    fn __dynamic_dev_dbg();
    fn warn_slowpath_fmt();
    fn __request_module();
}

/// `fips_enabled` (crypto/fips.c, `fips=` on the command line): Kobold
/// never runs in FIPS mode.
pub static FIPS_ENABLED: i32 = 0;

/// The address behind each name of [`super::symbols::SYMBOLS`] (0 for a
/// name without one, which the `linux61` self-test reports).
pub fn address(name: &str) -> u32 {
    use crate::module::exports as k;
    unsafe extern "C" {
        fn _printk();
        fn snprintf();
        fn sprintf();
        fn memcpy();
        fn memmove();
        fn memset();
        fn memcmp();
        fn strlen();
        fn strnlen();
        fn strcmp();
        fn strncmp();
        fn strcpy();
        fn strncpy();
        fn strchr();
        fn __aeabi_uidiv();
        fn __aeabi_uidivmod();
        fn __aeabi_idiv();
        fn __aeabi_idivmod();
        fn __aeabi_llsl();
        fn __aeabi_llsr();
        fn __aeabi_lasr();
    }
    let f: *const () = match name {
        "___ratelimit" => ratelimit as *const (),
        "__dynamic_dev_dbg" => __dynamic_dev_dbg as *const (),
        "__request_module" => __request_module as *const (),
        "__dynamic_pr_debug" => __dynamic_pr_debug as *const (),
        "_dev_alert" => _dev_alert as *const (),
        "_dev_crit" => _dev_crit as *const (),
        "_dev_emerg" => _dev_emerg as *const (),
        "_dev_err" => _dev_err as *const (),
        "_dev_info" => _dev_info as *const (),
        "_dev_notice" => _dev_notice as *const (),
        "_dev_printk" => _dev_printk as *const (),
        "_dev_warn" => _dev_warn as *const (),
        "arm_delay_ops" => (&raw const ARM_DELAY_OPS).cast(),
        "arm_heavy_mb" => arm_heavy_mb as *const (),
        "print_hex_dump" => print_hex_dump as *const (),
        "warn_slowpath_fmt" => warn_slowpath_fmt as *const (),
        "__register_nls" => register_nls as *const (),
        "load_nls" => load_nls as *const (),
        "unload_nls" => unload_nls as *const (),
        "synchronize_rcu" => synchronize_rcu as *const (),
        "unregister_nls" => unregister_nls as *const (),
        "utf32_to_utf8" => utf32_to_utf8 as *const (),
        "utf8_to_utf32" => utf8_to_utf32 as *const (),
        "__aeabi_idiv" => __aeabi_idiv as *const (),
        "__aeabi_idivmod" => __aeabi_idivmod as *const (),
        "__aeabi_lasr" => __aeabi_lasr as *const (),
        "__aeabi_llsl" => __aeabi_llsl as *const (),
        "__aeabi_llsr" => __aeabi_llsr as *const (),
        "__aeabi_uidiv" => __aeabi_uidiv as *const (),
        "__aeabi_uidivmod" => __aeabi_uidivmod as *const (),
        "__aeabi_unwind_cpp_pr0" | "__aeabi_unwind_cpp_pr1" | "__aeabi_unwind_cpp_pr2" => {
            k::kobold_unwind_cpp_pr as *const ()
        }
        "__do_div64" => __do_div64 as *const (),
        "_change_bit" => _change_bit as *const (),
        "_clear_bit" => _clear_bit as *const (),
        "_set_bit" => _set_bit as *const (),
        "_test_and_change_bit" => _test_and_change_bit as *const (),
        "_test_and_clear_bit" => _test_and_clear_bit as *const (),
        "_test_and_set_bit" => _test_and_set_bit as *const (),
        "usleep_range_state" => usleep_range_state as *const (),
        "__list_add_valid" => sync::list_debug::list_add_valid as *const (),
        "__list_del_entry_valid" => sync::list_debug::list_del_entry_valid as *const (),
        "__mutex_init" => sync::mutex::mutex_init as *const (),
        "_raw_spin_lock" => sync::spinlock::raw_spin_lock as *const (),
        "_raw_spin_lock_irq" => sync::spinlock::raw_spin_lock_irq as *const (),
        "_raw_spin_lock_irqsave" => sync::spinlock::raw_spin_lock_irqsave as *const (),
        "_raw_spin_trylock" => sync::spinlock::raw_spin_trylock as *const (),
        "_raw_spin_unlock_irqrestore" => sync::spinlock::raw_spin_unlock_irqrestore as *const (),
        "get_jiffies_64" => linux61_get_jiffies_64 as *const (),
        "jiffies" | "jiffies_64" => LINUX61_JIFFIES.as_ptr().cast(),
        "msleep" => linux61_msleep as *const (),
        "msleep_interruptible" => linux61_msleep_interruptible as *const (),
        "mutex_is_locked" => sync::mutex::mutex_is_locked as *const (),
        "mutex_lock" => sync::mutex::mutex_lock as *const (),
        "mutex_lock_interruptible" => sync::mutex::mutex_lock_interruptible as *const (),
        "mutex_trylock" => sync::mutex::mutex_trylock as *const (),
        "mutex_unlock" => sync::mutex::mutex_unlock as *const (),
        "__gnu_mcount_nc" => __gnu_mcount_nc as *const (),
        "__i2c_transfer" => i2c::__i2c_transfer as *const (),
        "i2c_transfer" => i2c::i2c_transfer as *const (),
        "i2c_transfer_buffer_flags" => i2c::i2c_transfer_buffer_flags as *const (),
        "__msecs_to_jiffies" => linux61_msecs_to_jiffies as *const (),
        "jiffies_to_msecs" => linux61_jiffies_to_msecs as *const (),
        "strncasecmp" => strncasecmp as *const (),
        "gcd" => gcd as *const (),
        "rational_best_approximation" => rational_best_approximation as *const (),
        "read_current_timer" => read_current_timer as *const (),
        "__kmalloc" => __kmalloc as *const (),
        "__kmalloc_node" => __kmalloc_node as *const (),
        "__stack_chk_fail" => __stack_chk_fail as *const (),
        "_printk" => _printk as *const (),
        "div_s64_rem" => div_s64_rem as *const (),
        "fips_enabled" => (&raw const FIPS_ENABLED).cast(),
        "fortify_panic" => fortify_panic as *const (),
        "kernel_neon_begin" => kernel_neon_begin as *const (),
        "kernel_neon_end" => kernel_neon_end as *const (),
        "kfree" => k::kobold_kfree as *const (),
        "kfree_sensitive" => kfree_sensitive as *const (),
        "kmalloc_caches" => (&raw const KMALLOC_CACHES).cast(),
        "kmalloc_large" => kmalloc_large as *const (),
        "kmalloc_large_node" => kmalloc_large_node as *const (),
        "kmalloc_node_trace" => kmalloc_node_trace as *const (),
        "kmalloc_trace" => kmalloc_trace as *const (),
        "kvfree" => kvfree as *const (),
        "kvmalloc_node" => kvmalloc_node as *const (),
        "memcmp" => memcmp as *const (),
        "memcpy" => memcpy as *const (),
        "memmove" => memmove as *const (),
        "memset" => memset as *const (),
        "param_ops_bool" => (&raw const k::param_ops_bool).cast(),
        "param_ops_byte" => (&raw const k::param_ops_byte).cast(),
        "param_ops_charp" => (&raw const k::param_ops_charp).cast(),
        "param_ops_int" => (&raw const k::param_ops_int).cast(),
        "param_ops_long" => (&raw const k::param_ops_long).cast(),
        "param_ops_short" => (&raw const k::param_ops_short).cast(),
        "param_ops_uint" => (&raw const k::param_ops_uint).cast(),
        "param_ops_ulong" => (&raw const k::param_ops_ulong).cast(),
        "param_ops_ushort" => (&raw const k::param_ops_ushort).cast(),
        "snprintf" => snprintf as *const (),
        "sprintf" => sprintf as *const (),
        "strchr" => strchr as *const (),
        "strcmp" => strcmp as *const (),
        "strcpy" => strcpy as *const (),
        "strlen" => strlen as *const (),
        "strncmp" => strncmp as *const (),
        "strncpy" => strncpy as *const (),
        "strnlen" => strnlen as *const (),
        "strscpy" => strscpy as *const (),
        _ => core::ptr::null(),
    };
    f as u32
}
