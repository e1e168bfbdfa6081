//! What the kernel offers modules: its exported symbols (Linux's
//! `EXPORT_SYMBOL` / `EXPORT_SYMBOL_GPL`) with Linux's names and C ABI, and
//! the real [`Backend`] that loads modules into the module window.
//!
//! The list is `docs/module-api.md`'s: printing (`printk`, `_printk`,
//! `snprintf`, `sprintf`), memory (`kmalloc`, `__kmalloc`, `kzalloc`,
//! `kfree`, `vmalloc`, `vzalloc`, `vfree`), strings (`memcpy`, `memmove`,
//! `memset`, `memcmp`, `strlen`, `strnlen`, `strcmp`, `strncmp`, `strcpy`,
//! `strncpy`, `strchr`), the ARM EABI helpers GCC and rustc call for
//! division and block moves (`__aeabi_*`, as Linux's armksyms.c), the
//! unwinder personality stubs that `.ARM.exidx` references, the
//! `param_ops_*` objects behind `module_param`, two GPL-only symbols
//! (`sprint_symbol`, `kallsyms_lookup_name`); time: `jiffies`,
//! `jiffies_64`, `get_jiffies_64`, the jiffies conversions, `msleep`,
//! `msleep_interruptible`, `usleep_range` and `arm_delay_ops` (behind
//! `udelay`/`mdelay`); and what textbook examples use: the `list_head`
//! checks, mutexes and spinlocks (`crate::sync`, laid out as Linux 6.1's
//! so the 6.1 personality reuses them), `kstrdup`, `kstrndup`, `kmemdup`,
//! `kasprintf`, `kvasprintf` and the rest of the snprintf family
//! (`scnprintf`, `vsnprintf`, `vscnprintf`, `vsprintf`).
//!
//! `printk` is variadic. Stable Rust cannot define a C variadic function,
//! so a four-instruction assembly entry spills r0–r3 next to the caller's
//! stack arguments, which makes every argument one array of words in AAPCS
//! order (a 64-bit argument starts at an even slot, counting r0 as slot 0),
//! and hands that array to Rust. A `va_list` (the `v*printf` functions) is
//! the same kind of array: ARM EABI's `va_list` points at the next argument
//! word.

use super::export_index::ExportIndex;
use super::vsprintf::{self, Args, CBuf, Measure, StackWords};
use super::{Abi, Backend, KernelSymbol, ModuleMem, Perm};
use crate::console::printk::{Level, vprintk};
use crate::errno::Errno;
use crate::mm::buddy::Gfp;
use crate::mm::pgtable::Prot;
use crate::mm::{self, vmalloc};
use crate::sync;
use core::fmt::{self, Write};
use core::ptr::NonNull;

// The variadic entry points (`printk`, `snprintf`, ...) are in
// `module::variadic`.

unsafe extern "C" {
    fn printk();
    fn _printk();
    fn snprintf();
    fn sprintf();
    // compiler_builtins provides these for the kernel itself.
    fn memcpy();
    fn memmove();
    fn memset();
    fn memcmp();
    fn strlen();
    fn __aeabi_uidiv();
    fn __aeabi_uidivmod();
    fn __aeabi_idiv();
    fn __aeabi_idivmod();
    fn __aeabi_uldivmod();
    fn __aeabi_ldivmod();
    fn __aeabi_memcpy();
    fn __aeabi_memcpy4();
    fn __aeabi_memcpy8();
    fn __aeabi_memmove();
    fn __aeabi_memmove4();
    fn __aeabi_memmove8();
    fn __aeabi_memset();
    fn __aeabi_memset4();
    fn __aeabi_memset8();
    fn __aeabi_memclr();
    fn __aeabi_memclr4();
    fn __aeabi_memclr8();
    fn __aeabi_llsl();
    fn __aeabi_llsr();
    fn __aeabi_lasr();
}

/// The argument words of a variadic call, from slot `next` on, or of a
/// `va_list`. Only [`Slots::new`] builds one, so holding one proves its
/// words are a C caller's arguments matching its format string.
#[derive(Clone, Copy)]
struct Slots(StackWords);

impl Slots {
    /// # Safety
    ///
    /// `base` points at r0-r3 followed by the caller's stack arguments (as
    /// the assembly entry lays them out), or is a `va_list` (then `next` is
    /// 0), and the call is a valid C `printf`-style call: every `%s`
    /// argument is a NUL-terminated string that stays readable during the
    /// call.
    unsafe fn new(base: *const u32, next: usize) -> Self {
        // SAFETY: this function's contract: the call's argument words.
        Slots(unsafe { StackWords::new(base.wrapping_add(next)) })
    }
}

/// Bytes of the NUL-terminated string at `addr`, at most `max`.
///
/// # Safety
///
/// `addr` is a C string a module handed the kernel: readable up to its NUL
/// or `max` bytes, whichever comes first, and unchanged while the returned
/// slice lives (`'a` is the caller's to bound). A bad pointer from a module
/// faults and oopses naming the module, as on Linux.
pub(crate) unsafe fn c_str<'a>(addr: u32, max: usize) -> &'a [u8] {
    let p = addr as *const u8;
    let mut n = 0;
    // SAFETY: the caller's contract: readable up to the NUL or `max`.
    while n < max && unsafe { p.add(n).read() } != 0 {
        n += 1;
    }
    // SAFETY: the `n` bytes just read, unchanged while the slice lives.
    unsafe { core::slice::from_raw_parts(p, n) }
}

impl Args for Slots {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn string(&mut self, addr: u32, max: usize) -> &[u8] {
        // SAFETY: `Slots::new`'s contract: a `%s` argument of a valid C
        // call is a C string, readable during the call.
        unsafe { c_str(addr, max) }
    }
    fn symbol(&mut self, out: &mut dyn Write, addr: u32, with_offset: bool) -> bool {
        crate::kallsyms::write_symbol_name(
            out,
            crate::kallsyms::kernel_table().as_ref(),
            addr,
            with_offset,
        )
        .unwrap_or(false)
    }
}

/// Formats the C format `fmt` with a variadic call's arguments, from
/// slot `next` of `slots` on (the 6.1 personality's `_dev_*` and dynamic
/// debug entries, whose fixed arguments come first).
///
/// # Safety
///
/// `slots` and `next` are as for [`Slots::new`], and `fmt` is the call's
/// format (the arguments match it).
pub(crate) unsafe fn format_slots(
    out: &mut dyn Write,
    fmt: &[u8],
    slots: *const u32,
    next: usize,
) -> fmt::Result {
    // SAFETY: this function's contract.
    let mut args = unsafe { Slots::new(slots, next) };
    vsprintf::format(out, fmt, &mut args)
}

/// Counts what it is given (printk's and snprintf's return value).
struct Counting<'a> {
    inner: &'a mut dyn Write,
    count: usize,
}

impl Write for Counting<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.count += s.len();
        self.inner.write_str(s)
    }
}

/// `printk(fmt, ...)` after the assembly entry spilled its arguments.
///
/// # Safety
///
/// `slots` is as for [`Slots::new`], and slot 0 (r0) is the format, a C
/// string.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_printk_slots(slots: *const u32) -> i32 {
    // SAFETY: this function's contract.
    let mut args = unsafe { Slots::new(slots, 1) };
    // SAFETY: slot 0 is r0, the format string, a C string.
    let fmt = unsafe { c_str(slots.read(), 1024) };
    let (level, fmt) = vsprintf::split_level(fmt);
    let mut buf = crate::console::FixedBuf::<1024>::default();
    let mut w = Counting {
        inner: &mut buf,
        count: 0,
    };
    let _ = vsprintf::format(&mut w, fmt, &mut args);
    let n = w.count;
    let text = buf.as_str();
    vprintk(
        level,
        format_args!("{}", text.strip_suffix('\n').unwrap_or(text)),
    );
    n as i32
}

/// `vsnprintf(buf, size, fmt, args)`.
///
/// # Safety
///
/// `buf` is writable for `size` bytes and `fmt_addr` is a C string (the
/// format `args` was built for).
unsafe fn c_format(buf: *mut u8, size: usize, fmt_addr: u32, mut args: Slots) -> i32 {
    // SAFETY: this function's contract.
    let (mut w, fmt) = unsafe { (CBuf::new(buf, size), c_str(fmt_addr, 4096)) };
    let _ = vsprintf::format(&mut w, fmt, &mut args);
    w.finish() as i32
}

/// `snprintf(buf, size, fmt, ...)` after the assembly entry.
///
/// # Safety
///
/// `slots` is as for [`Slots::new`]; slots 0..3 (r0-r2) are a buffer
/// writable for `size` bytes, `size`, and the format, a C string.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_snprintf_slots(slots: *const u32) -> i32 {
    // SAFETY: this function's contract: slots 0..3 are r0-r2: buf, size,
    // fmt; the buffer holds `size` bytes and `fmt` is a C string.
    unsafe {
        let (buf, size, fmt) = (slots.read(), slots.add(1).read(), slots.add(2).read());
        c_format(buf as *mut u8, size as usize, fmt, Slots::new(slots, 3))
    }
}

/// `sprintf(buf, fmt, ...)` after the assembly entry.
///
/// # Safety
///
/// `slots` is as for [`Slots::new`]; slots 0..2 (r0-r1) are a buffer large
/// enough for the output (C's contract: sprintf has no bound) and the
/// format, a C string.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_sprintf_slots(slots: *const u32) -> i32 {
    // SAFETY: this function's contract: slots 0..2 are r0-r1: buf, fmt;
    // the buffer holds what the format writes.
    unsafe {
        let (buf, fmt) = (slots.read(), slots.add(1).read());
        c_format(buf as *mut u8, usize::MAX, fmt, Slots::new(slots, 2))
    }
}

extern "C" fn kobold_kmalloc(size: usize, flags: u32) -> *mut u8 {
    let p = mm::heap::kmalloc(size, Gfp(flags)).map_or(core::ptr::null_mut(), NonNull::as_ptr);
    // __GFP_ZERO: kzalloc.
    if !p.is_null() && flags & Gfp::ZERO.0 != 0 {
        // SAFETY: a fresh block of `size` bytes.
        unsafe { core::ptr::write_bytes(p, 0, size) };
    }
    p
}

extern "C" fn kobold_kzalloc(size: usize, flags: u32) -> *mut u8 {
    kobold_kmalloc(size, flags | Gfp::ZERO.0)
}

/// `kfree(p)`.
///
/// # Safety
///
/// `p` is null or a block from `kmalloc` not yet freed (C's contract, as
/// Linux's).
pub(crate) unsafe extern "C" fn kobold_kfree(p: *mut u8) {
    if let Some(p) = NonNull::new(p) {
        // SAFETY: this function's contract: `p` came from kmalloc.
        unsafe { mm::heap::kfree(p) };
    }
}

extern "C" fn kobold_vmalloc(size: u32) -> u32 {
    vmalloc::vmalloc(size, kobold_vmalloc as *const () as u32).unwrap_or(0)
}

extern "C" fn kobold_vzalloc(size: u32) -> u32 {
    vmalloc::vzalloc(size, kobold_vzalloc as *const () as u32).unwrap_or(0)
}

extern "C" fn kobold_vfree(addr: u32) {
    if addr != 0
        && let Err(e) = vmalloc::vfree(addr)
    {
        crate::pr_err!("vfree: bad address {addr:#010x} ({})", e.name());
    }
}

// The C string functions: their callers (modules) promise C's contracts,
// which is what each `# Safety` section states.

/// `strnlen(s, max)`.
///
/// # Safety
///
/// `s` is readable up to its NUL or `max` bytes.
#[unsafe(export_name = "strnlen")]
unsafe extern "C" fn kobold_strnlen(s: *const u8, max: usize) -> usize {
    // SAFETY: this function's contract.
    unsafe { c_str(s as u32, max) }.len()
}

/// `strcmp(a, b)`.
///
/// # Safety
///
/// `a` and `b` are C strings.
#[unsafe(export_name = "strcmp")]
unsafe extern "C" fn kobold_strcmp(a: *const u8, b: *const u8) -> i32 {
    // SAFETY: C strings, compared up to the first NUL.
    unsafe { kobold_strncmp(a, b, usize::MAX) }
}

/// `strncmp(a, b, n)`.
///
/// # Safety
///
/// `a` and `b` are readable up to their NUL or `n` bytes.
#[unsafe(export_name = "strncmp")]
unsafe extern "C" fn kobold_strncmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: this function's contract: read up to the NUL or `n`.
        let (x, y) = unsafe { (a.add(i).read(), b.add(i).read()) };
        if x != y || x == 0 {
            return x as i32 - y as i32;
        }
    }
    0
}

/// `strcpy(dst, src)`.
///
/// # Safety
///
/// `src` is a C string and `dst` is writable for it and its NUL.
#[unsafe(export_name = "strcpy")]
unsafe extern "C" fn kobold_strcpy(dst: *mut u8, src: *const u8) -> *mut u8 {
    // SAFETY: this function's contract: `src` is a C string.
    let s = unsafe { c_str(src as u32, usize::MAX) };
    // SAFETY: this function's contract: `dst` holds the string and its NUL.
    unsafe {
        core::ptr::copy(s.as_ptr(), dst, s.len());
        dst.add(s.len()).write(0);
    }
    dst
}

/// `strncpy(dst, src, n)`.
///
/// # Safety
///
/// `src` is readable up to its NUL or `n` bytes; `dst` is writable for `n`
/// bytes.
#[unsafe(export_name = "strncpy")]
unsafe extern "C" fn kobold_strncpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: this function's contract: `src` readable up to NUL or `n`.
    let s = unsafe { c_str(src as u32, n) };
    // SAFETY: this function's contract: `dst` holds `n` bytes; the rest is
    // zeroed.
    unsafe {
        core::ptr::copy(s.as_ptr(), dst, s.len());
        core::ptr::write_bytes(dst.add(s.len()), 0, n - s.len());
    }
    dst
}

/// `strchr(s, c)`.
///
/// # Safety
///
/// `s` is a C string.
#[unsafe(export_name = "strchr")]
unsafe extern "C" fn kobold_strchr(s: *const u8, c: i32) -> *const u8 {
    // SAFETY: this function's contract.
    let bytes = unsafe { c_str(s as u32, usize::MAX) };
    match bytes.iter().position(|&b| b == c as u8) {
        // SAFETY: within the string.
        Some(i) => unsafe { s.add(i) },
        // SAFETY: the terminator, which strchr finds for c == 0.
        None if c as u8 == 0 => unsafe { s.add(bytes.len()) },
        None => core::ptr::null(),
    }
}

// ---- The module API for textbook examples (issue 10): locks, lists,
// ---- string duplication, the rest of the snprintf family. The lock and
// ---- list functions are `crate::sync`'s (shared with the 6.1 personality).

// `scnprintf` and `kasprintf` are variadic: their entries are in
// `module::variadic`.
unsafe extern "C" {
    fn scnprintf();
    fn kasprintf();
}

/// `scnprintf(buf, size, fmt, ...)` after the assembly entry: what was
/// written, the NUL not counted.
///
/// # Safety
///
/// As [`kobold_snprintf_slots`].
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_scnprintf_slots(slots: *const u32) -> i32 {
    // SAFETY: this function's contract: slots 0..3 are r0-r2: buf, size,
    // fmt; the buffer holds `size` bytes and `fmt` is a C string.
    unsafe {
        let (buf, size, fmt) = (slots.read(), slots.add(1).read(), slots.add(2).read());
        let n = c_format(buf as *mut u8, size as usize, fmt, Slots::new(slots, 3));
        vsprintf::scnprintf_len(n as usize, size as usize) as i32
    }
}

/// `vsnprintf(buf, size, fmt, args)`: `args` is the `va_list`, a pointer to
/// the next argument word (ARM EABI's `struct __va_list`, passed in a
/// register).
///
/// # Safety
///
/// `buf` is writable for `size` bytes, `fmt` a C string and `ap` a
/// `va_list` for it (C's contract).
unsafe extern "C" fn kobold_vsnprintf(buf: *mut u8, size: usize, fmt: u32, ap: *const u32) -> i32 {
    // SAFETY: this function's contract.
    unsafe { c_format(buf, size, fmt, Slots::new(ap, 0)) }
}

/// `vscnprintf(buf, size, fmt, args)`.
///
/// # Safety
///
/// As [`kobold_vsnprintf`].
unsafe extern "C" fn kobold_vscnprintf(buf: *mut u8, size: usize, fmt: u32, ap: *const u32) -> i32 {
    // SAFETY: this function's contract.
    let n = unsafe { c_format(buf, size, fmt, Slots::new(ap, 0)) };
    vsprintf::scnprintf_len(n as usize, size) as i32
}

/// `vsprintf(buf, fmt, args)`: unbounded, as C's.
///
/// # Safety
///
/// `buf` holds what the format writes; `fmt` and `ap` as for
/// [`kobold_vsnprintf`].
unsafe extern "C" fn kobold_vsprintf(buf: *mut u8, fmt: u32, ap: *const u32) -> i32 {
    // SAFETY: this function's contract.
    unsafe { c_format(buf, usize::MAX, fmt, Slots::new(ap, 0)) }
}

/// Formats into a fresh `kmalloc(len + 1, gfp)` block, measured first
/// (Linux's `kvasprintf`: `vsnprintf(NULL, 0)`, allocate, `vsnprintf`); NULL
/// if the allocation fails. The length is bounded: a format is read up to
/// 4 KB, and each conversion's width, precision and string to 1 KB.
///
/// # Safety
///
/// `fmt` is a C string and `args` its arguments.
unsafe fn kvasprintf_slots(gfp: u32, fmt: u32, args: Slots) -> *mut u8 {
    // SAFETY: this function's contract.
    let f = unsafe { c_str(fmt, 4096) };
    let mut m = Measure::default();
    let _ = vsprintf::format(&mut m, f, &mut args.clone());
    let size = m.0 + 1;
    let p = kobold_kmalloc(size, gfp);
    if !p.is_null() {
        // SAFETY: a fresh block of `size` bytes; the second pass reads the
        // same arguments and writes the same `m.0` bytes and the NUL.
        unsafe { c_format(p, size, fmt, args) };
    }
    p
}

/// `kasprintf(gfp, fmt, ...)` after the assembly entry.
///
/// # Safety
///
/// `slots` is as for [`Slots::new`]; slots 0..2 (r0-r1) are the GFP flags
/// and the format, a C string.
#[unsafe(no_mangle)]
unsafe extern "C" fn kobold_kasprintf_slots(slots: *const u32) -> *mut u8 {
    // SAFETY: this function's contract.
    unsafe { kvasprintf_slots(slots.read(), slots.add(1).read(), Slots::new(slots, 2)) }
}

/// `kvasprintf(gfp, fmt, args)`.
///
/// # Safety
///
/// `fmt` is a C string and `ap` a `va_list` for it.
unsafe extern "C" fn kobold_kvasprintf(gfp: u32, fmt: u32, ap: *const u32) -> *mut u8 {
    // SAFETY: this function's contract.
    unsafe { kvasprintf_slots(gfp, fmt, Slots::new(ap, 0)) }
}

/// `len` bytes from `src` in a fresh `kmalloc(len + nul, gfp)` block,
/// NUL-terminated if `nul`; NULL if the allocation fails.
///
/// # Safety
///
/// `src` is readable for `len` bytes.
unsafe fn dup(src: *const u8, len: usize, nul: bool, gfp: u32) -> *mut u8 {
    let Some(size) = len.checked_add(nul as usize) else {
        return core::ptr::null_mut();
    };
    let p = kobold_kmalloc(size, gfp);
    if !p.is_null() && size > 0 {
        // SAFETY: a fresh block of `size` bytes; `src` readable for `len`.
        unsafe {
            core::ptr::copy_nonoverlapping(src, p, len);
            if nul {
                p.add(len).write(0);
            }
        }
    }
    p
}

/// `kstrdup(s, gfp)`: NULL for a NULL `s`, as Linux's.
///
/// # Safety
///
/// `s` is NULL or a C string.
unsafe extern "C" fn kobold_kstrdup(s: *const u8, gfp: u32) -> *mut u8 {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: this function's contract: a C string.
    let bytes = unsafe { c_str(s as u32, usize::MAX) };
    // SAFETY: the string's bytes, just measured.
    unsafe { dup(s, bytes.len(), true, gfp) }
}

/// `kstrndup(s, max, gfp)`: at most `max` bytes of `s`, NUL-terminated.
///
/// # Safety
///
/// `s` is NULL or readable up to its NUL or `max` bytes.
unsafe extern "C" fn kobold_kstrndup(s: *const u8, max: usize, gfp: u32) -> *mut u8 {
    if s.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: this function's contract.
    let bytes = unsafe { c_str(s as u32, max) };
    // SAFETY: the bytes just measured.
    unsafe { dup(s, bytes.len(), true, gfp) }
}

/// `kmemdup(src, len, gfp)`.
///
/// # Safety
///
/// `src` is readable for `len` bytes.
unsafe extern "C" fn kobold_kmemdup(src: *const u8, len: usize, gfp: u32) -> *mut u8 {
    // SAFETY: this function's contract.
    unsafe { dup(src, len, false, gfp) }
}

// ---- end of the textbook-examples block.

/// GPL-only: `sprint_symbol(buf, addr)` writes `name+0xoff/0xsize [mod]`.
///
/// # Safety
///
/// `buf` is writable for `KSYM_SYMBOL_LEN` (128) bytes, as Linux requires.
unsafe extern "C" fn kobold_sprint_symbol(buf: *mut u8, addr: u32) -> i32 {
    // SAFETY: this function's contract: KSYM_SYMBOL_LEN bytes.
    let mut w = unsafe { CBuf::new(buf, 128) };
    let _ = crate::kallsyms::write_symbol(&mut w, crate::kallsyms::kernel_table().as_ref(), addr);
    w.finish() as i32
}

/// GPL-only: `kallsyms_lookup_name(name)`: a kernel symbol's address or 0.
///
/// # Safety
///
/// `name` is readable up to its NUL or 128 bytes.
unsafe extern "C" fn kobold_kallsyms_lookup_name(name: *const u8) -> u32 {
    // SAFETY: this function's contract.
    let name = core::str::from_utf8(unsafe { c_str(name as u32, 128) }).unwrap_or("");
    crate::kallsyms::kernel_table()
        .and_then(|t| t.find(name))
        .map_or(0, |s| s.addr)
}

/// The EHABI personality routines `.ARM.exidx` entries reference (R_ARM_NONE
/// relocations): Linux exports empty ones (arch/arm/kernel/unwind.c), since
/// the kernel never unwinds C++ exceptions.
pub(crate) extern "C" fn kobold_unwind_cpp_pr() {}

// ---- time: jiffies, sleeping, delays (Linux 3.18 kernel/time/time.c,
// kernel/time/timer.c, kernel/time/jiffies.c, arch/arm/lib/delay.c) ----

/// `msleep(msecs)`: waits `msecs_to_jiffies(msecs) + 1` ticks. Linux
/// schedules another task meanwhile; Kobold has none, so the CPU waits in
/// `wfi` for the ticks (`time::msleep`). The module sees the same thing: at
/// least `msecs` ms pass, rounded up to whole jiffies.
extern "C" fn kobold_msleep(msecs: u32) {
    use crate::time::jiffies::{HZ, JIFFIES_64, msleep_ticks};
    crate::time::msleep(&JIFFIES_64, HZ, msleep_ticks(msecs, HZ));
}

/// `msleep_interruptible(msecs)`: as `msleep`; no signal can end it early
/// (there are no tasks to signal), so the time left is always 0.
extern "C" fn kobold_msleep_interruptible(msecs: u32) -> u32 {
    kobold_msleep(msecs);
    0
}

/// Busy-waits `us` microseconds on the 24 MHz counter, in pieces short
/// enough for its 32-bit difference.
fn delay_us(us: u32) {
    let mut ticks = u64::from(us) * (crate::time::COUNTER_HZ / 1_000_000);
    while ticks > 0 {
        let chunk = ticks.min(1 << 30);
        crate::time::delay_ticks(chunk as u32);
        ticks -= chunk;
    }
}

/// `usleep_range(min, max)`: at least `min` µs. Linux sleeps on an
/// hrtimer; with no other task, Kobold busy-waits `min` (a `wfi` would
/// oversleep to the next 10 ms tick, past `max`).
extern "C" fn kobold_usleep_range(min: u32, _max: u32) {
    delay_us(min);
}

extern "C" fn kobold_msecs_to_jiffies(m: u32) -> u32 {
    crate::time::jiffies::msecs_to_jiffies(m, crate::time::jiffies::HZ)
}

extern "C" fn kobold_jiffies_to_msecs(j: u32) -> u32 {
    crate::time::jiffies::jiffies_to_msecs(j, crate::time::jiffies::HZ)
}

extern "C" fn kobold_jiffies_to_usecs(j: u32) -> u32 {
    crate::time::jiffies::jiffies_to_usecs(j, crate::time::jiffies::HZ)
}

extern "C" fn kobold_usecs_to_jiffies(u: u32) -> u32 {
    crate::time::jiffies::usecs_to_jiffies(u, crate::time::jiffies::HZ)
}

/// `get_jiffies_64()`: the 64-bit count read in one go (a C module reading
/// `jiffies_64` itself could see a torn value across a carry).
extern "C" fn kobold_get_jiffies_64() -> u64 {
    crate::time::jiffies::JIFFIES_64.get_64()
}

/// `arm_delay_ops.delay(ticks)`: `__delay`, in delay-timer ticks.
extern "C" fn kobold_delay(ticks: u32) {
    crate::time::delay_ticks(ticks);
}

/// `arm_delay_ops.const_udelay(xloops)`: what a constant `udelay(n)`
/// calls, with `n * UDELAY_MULT` computed by the compiler.
extern "C" fn kobold_const_udelay(xloops: u32) {
    crate::time::delay_ticks(crate::time::delay::const_udelay_ticks(xloops));
}

/// `arm_delay_ops.udelay(usecs)`: what a variable `udelay(n)` calls.
extern "C" fn kobold_udelay(usecs: u32) {
    crate::time::delay_ticks(crate::time::delay::udelay_ticks(usecs));
}

/// Linux 3.18's `struct arm_delay_ops` (arch/arm/include/asm/delay.h): the
/// one symbol behind `udelay`, `__udelay`, `__const_udelay` and `__delay`,
/// which are macros calling through it.
#[repr(C)]
pub struct ArmDelayOps {
    pub delay: extern "C" fn(u32),
    pub const_udelay: extern "C" fn(u32),
    pub udelay: extern "C" fn(u32),
    pub ticks_per_jiffy: u32,
}

/// `arm_delay_ops`, timer-based on the 24 MHz counter
/// (`register_current_timer_delay`'s `__timer_*` functions).
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals)]
pub static arm_delay_ops: ArmDelayOps = ArmDelayOps {
    delay: kobold_delay,
    const_udelay: kobold_const_udelay,
    udelay: kobold_udelay,
    ticks_per_jiffy: crate::time::delay::TICKS_PER_JIFFY,
};

/// `struct kernel_param_ops` stand-ins: the kernel only compares their
/// addresses (see `kobold_loader::ksymtab::ParamType`).
#[repr(C)]
pub struct ParamOps(u32);

macro_rules! param_ops {
    ($($name:ident = $v:expr),*) => {$(
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static $name: ParamOps = ParamOps($v);
    )*};
}
param_ops!(
    param_ops_byte = 1,
    param_ops_short = 2,
    param_ops_ushort = 3,
    param_ops_int = 4,
    param_ops_uint = 5,
    param_ops_long = 6,
    param_ops_ulong = 7,
    param_ops_bool = 8,
    param_ops_charp = 9
);

/// [`exports`] by name length, built on first use (`kernel_symbol`'s
/// lookups).
fn exports_index() -> &'static ExportIndex<EXPORTS> {
    static INDEX: spin::Once<ExportIndex<EXPORTS>> = spin::Once::new();
    INDEX.call_once(|| {
        let t = exports();
        ExportIndex::new(|i| t.get(i).map_or("", |e| e.name))
    })
}

/// One symbol the kernel exports to modules (an entry of Linux's
/// `__ksymtab`/`__ksymtab_gpl` of vmlinux); a module's own exports are
/// the loader's `ksymtab::Export`.
pub struct KernelExport {
    pub name: &'static str,
    pub addr: u32,
    pub is_func: bool,
    pub gpl_only: bool,
}

macro_rules! table {
    ($($kind:ident $name:literal => $e:expr),* $(,)?) => {
        [$(KernelExport {
            name: $name,
            addr: $e as *const () as u32,
            is_func: table!(@func $kind),
            gpl_only: table!(@gpl $kind),
        }),*]
    };
    (@func fn) => { true };
    (@func gpl) => { true };
    (@func data) => { false };
    (@gpl gpl) => { true };
    (@gpl $k:ident) => { false };
}

/// How many symbols [`exports`] lists.
const EXPORTS: usize = 95;

/// The kernel's export table, built on first use.
pub fn exports() -> &'static [KernelExport] {
    static TABLE: spin::Once<[KernelExport; EXPORTS]> = spin::Once::new();
    TABLE.call_once(|| {
        table![
            fn "printk" => printk,
            fn "_printk" => _printk,
            fn "snprintf" => snprintf,
            fn "sprintf" => sprintf,
            fn "kmalloc" => kobold_kmalloc,
            fn "__kmalloc" => kobold_kmalloc,
            fn "kzalloc" => kobold_kzalloc,
            fn "kfree" => kobold_kfree,
            fn "vmalloc" => kobold_vmalloc,
            fn "vzalloc" => kobold_vzalloc,
            fn "vfree" => kobold_vfree,
            fn "memcpy" => memcpy,
            fn "memmove" => memmove,
            fn "memset" => memset,
            fn "memcmp" => memcmp,
            fn "strlen" => strlen,
            fn "strnlen" => kobold_strnlen,
            fn "strcmp" => kobold_strcmp,
            fn "strncmp" => kobold_strncmp,
            fn "strcpy" => kobold_strcpy,
            fn "strncpy" => kobold_strncpy,
            fn "strchr" => kobold_strchr,
            fn "__aeabi_uidiv" => __aeabi_uidiv,
            fn "__aeabi_uidivmod" => __aeabi_uidivmod,
            fn "__aeabi_idiv" => __aeabi_idiv,
            fn "__aeabi_idivmod" => __aeabi_idivmod,
            fn "__aeabi_uldivmod" => __aeabi_uldivmod,
            fn "__aeabi_ldivmod" => __aeabi_ldivmod,
            fn "__aeabi_memcpy" => __aeabi_memcpy,
            fn "__aeabi_memcpy4" => __aeabi_memcpy4,
            fn "__aeabi_memcpy8" => __aeabi_memcpy8,
            fn "__aeabi_memmove" => __aeabi_memmove,
            fn "__aeabi_memmove4" => __aeabi_memmove4,
            fn "__aeabi_memmove8" => __aeabi_memmove8,
            fn "__aeabi_memset" => __aeabi_memset,
            fn "__aeabi_memset4" => __aeabi_memset4,
            fn "__aeabi_memset8" => __aeabi_memset8,
            fn "__aeabi_memclr" => __aeabi_memclr,
            fn "__aeabi_memclr4" => __aeabi_memclr4,
            fn "__aeabi_memclr8" => __aeabi_memclr8,
            fn "__aeabi_llsl" => __aeabi_llsl,
            fn "__aeabi_llsr" => __aeabi_llsr,
            fn "__aeabi_lasr" => __aeabi_lasr,
            fn "__aeabi_unwind_cpp_pr0" => kobold_unwind_cpp_pr,
            fn "__aeabi_unwind_cpp_pr1" => kobold_unwind_cpp_pr,
            fn "__aeabi_unwind_cpp_pr2" => kobold_unwind_cpp_pr,
            data "param_ops_byte" => &raw const param_ops_byte,
            data "param_ops_short" => &raw const param_ops_short,
            data "param_ops_ushort" => &raw const param_ops_ushort,
            data "param_ops_int" => &raw const param_ops_int,
            data "param_ops_uint" => &raw const param_ops_uint,
            data "param_ops_long" => &raw const param_ops_long,
            data "param_ops_ulong" => &raw const param_ops_ulong,
            data "param_ops_bool" => &raw const param_ops_bool,
            data "param_ops_charp" => &raw const param_ops_charp,
            gpl "sprint_symbol" => kobold_sprint_symbol,
            gpl "kallsyms_lookup_name" => kobold_kallsyms_lookup_name,
            // time: jiffies, sleeping, delays (HZ = 100; docs/module-api.md)
            data "jiffies" => crate::time::jiffies::JIFFIES_64.as_ptr(),
            data "jiffies_64" => crate::time::jiffies::JIFFIES_64.as_ptr(),
            fn "get_jiffies_64" => kobold_get_jiffies_64,
            fn "msecs_to_jiffies" => kobold_msecs_to_jiffies,
            fn "jiffies_to_msecs" => kobold_jiffies_to_msecs,
            fn "jiffies_to_usecs" => kobold_jiffies_to_usecs,
            fn "usecs_to_jiffies" => kobold_usecs_to_jiffies,
            fn "msleep" => kobold_msleep,
            fn "msleep_interruptible" => kobold_msleep_interruptible,
            fn "usleep_range" => kobold_usleep_range,
            data "arm_delay_ops" => &raw const arm_delay_ops,
            // The module API for textbook examples (issue 10): locks, lists,
            // strings, the snprintf family. Mutexes and lists are laid out
            // as Linux 6.1's, so the 6.1 table reuses these functions.
            fn "__mutex_init" => sync::mutex::mutex_init,
            fn "mutex_lock" => sync::mutex::mutex_lock,
            fn "mutex_lock_interruptible" => sync::mutex::mutex_lock_interruptible,
            fn "mutex_trylock" => sync::mutex::mutex_trylock,
            fn "mutex_unlock" => sync::mutex::mutex_unlock,
            fn "mutex_is_locked" => sync::mutex::mutex_is_locked,
            fn "_raw_spin_lock" => sync::spinlock::raw_spin_lock,
            fn "_raw_spin_unlock" => sync::spinlock::raw_spin_unlock,
            fn "_raw_spin_trylock" => sync::spinlock::raw_spin_trylock,
            fn "_raw_spin_lock_irqsave" => sync::spinlock::raw_spin_lock_irqsave,
            fn "_raw_spin_unlock_irqrestore" => sync::spinlock::raw_spin_unlock_irqrestore,
            fn "_raw_spin_lock_irq" => sync::spinlock::raw_spin_lock_irq,
            fn "_raw_spin_unlock_irq" => sync::spinlock::raw_spin_unlock_irq,
            fn "_raw_spin_lock_bh" => sync::spinlock::raw_spin_lock_bh,
            fn "_raw_spin_unlock_bh" => sync::spinlock::raw_spin_unlock_bh,
            fn "_raw_spin_trylock_bh" => sync::spinlock::raw_spin_trylock_bh,
            fn "__list_add_valid" => sync::list_debug::list_add_valid,
            fn "__list_del_entry_valid" => sync::list_debug::list_del_entry_valid,
            fn "kstrdup" => kobold_kstrdup,
            fn "kstrndup" => kobold_kstrndup,
            fn "kmemdup" => kobold_kmemdup,
            fn "kasprintf" => kasprintf,
            fn "kvasprintf" => kobold_kvasprintf,
            fn "scnprintf" => scnprintf,
            fn "vsnprintf" => kobold_vsnprintf,
            fn "vscnprintf" => kobold_vscnprintf,
            fn "vsprintf" => kobold_vsprintf,
        ]
    })
}

/// `module_alloc`, Linux 3.18's arch/arm/kernel/module.c.
pub fn module_alloc(size: u32) -> Result<u32, Errno> {
    vmalloc::vmalloc_node_range(
        size,
        1,
        vmalloc::Window::Modules,
        Gfp::KERNEL,
        Prot::KERNEL_RWX,
        module_alloc as *const () as u32,
    )
}

/// Clears fresh module memory (Linux's `move_module` memsets the region
/// the same way, once): 32 bytes per store with `stmia` of eight registers,
/// four per loop (6 instructions per 128 bytes; 768 for a 16 KB region),
/// where the `memset` of compiler_builtins stores one word per 3
/// instructions. The module window's areas are page-aligned; a tail that
/// is not a multiple of 128 bytes, or a misaligned start, is left to
/// `fill`.
fn zero(bytes: &mut [u8]) {
    let (head, body, tail) = {
        let start = bytes.as_ptr().align_offset(4).min(bytes.len());
        let body = (bytes.len() - start) & !127;
        let (head, rest) = bytes.split_at_mut(start);
        let (body, tail) = rest.split_at_mut(body);
        (head, body, tail)
    };
    head.fill(0);
    tail.fill(0);
    #[cfg(target_arch = "arm")]
    if !body.is_empty() {
        // SAFETY: `body` is 4-byte aligned, writable and a non-zero
        // multiple of 128 bytes long; the loop stores exactly its bytes
        // (128 a turn, counting down to zero) and touches no stack; the
        // flags are clobbered (no `preserves_flags`).
        unsafe {
            core::arch::asm!(
                "2:",
                "stmia {p}!, {{r0, r1, r2, r3, r4, r5, r8, r12}}",
                "stmia {p}!, {{r0, r1, r2, r3, r4, r5, r8, r12}}",
                "stmia {p}!, {{r0, r1, r2, r3, r4, r5, r8, r12}}",
                "stmia {p}!, {{r0, r1, r2, r3, r4, r5, r8, r12}}",
                "subs {n}, {n}, #128",
                "bne 2b",
                p = inout(reg) body.as_mut_ptr() => _,
                n = inout(reg) body.len() => _,
                in("r0") 0u32,
                in("r1") 0u32,
                in("r2") 0u32,
                in("r3") 0u32,
                in("r4") 0u32,
                in("r5") 0u32,
                in("r8") 0u32,
                in("r12") 0u32,
                options(nostack),
            );
        }
    }
    #[cfg(not(target_arch = "arm"))]
    body.fill(0);
}

/// The running kernel as the module loader's [`Backend`].
pub struct KernelBackend;

impl Backend for KernelBackend {
    fn module_alloc(&mut self, size: u32) -> Result<ModuleMem, Errno> {
        let addr = module_alloc(size)?;
        // SAFETY: `addr` is a fresh area of the module window, `size` bytes
        // mapped read-write, that nothing else refers to; the slice is the
        // loader's until it protects the module's groups, and the area is
        // only freed by `module_memfree(addr)`, after the module (which owns
        // the slice's only user) is gone.
        let bytes = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, size as usize) };
        zero(bytes);
        Ok(ModuleMem {
            addr,
            bytes,
            zeroed: true,
        })
    }
    fn module_memfree(&mut self, addr: u32) {
        if let Err(e) = vmalloc::vfree(addr) {
            crate::pr_err!("module_memfree: {addr:#010x}: {}", e.name());
        }
    }
    unsafe fn module_bytes(&self, addr: u32, len: u32) -> &[u8] {
        // SAFETY: the trait's contract: a loaded module's core region,
        // mapped (and at least readable) until the module is freed; the
        // names read through it lie in rodata, which nothing writes.
        unsafe { core::slice::from_raw_parts(addr as *const u8, len as usize) }
    }
    fn protect(&mut self, addr: u32, len: u32, perm: Perm) {
        let prot = match perm {
            Perm::ReadExec => Prot::KERNEL_RX,
            Perm::ReadOnly => Prot::KERNEL_RO,
            Perm::ReadWrite => Prot::KERNEL_RW,
        };
        // SAFETY: the range is one module's group, not yet in use.
        if let Err(e) = unsafe { mm::protect_range(addr, len, prot) } {
            crate::pr_err!("module: cannot protect {addr:#010x}+{len:#x}: {e}");
        }
    }
    fn flush_icache(&mut self, start: u32, end: u32) {
        mm::flush_icache_range(start, end);
    }
    unsafe fn call_init(&mut self, addr: u32) -> i32 {
        // SAFETY: the trait's contract: `addr` is the module's relocated,
        // executable `init_module`, with the Thumb bit if it is Thumb code;
        // `blx` through a function pointer interworks.
        let f: extern "C" fn() -> i32 = unsafe { core::mem::transmute(addr as usize) };
        f()
    }
    unsafe fn call_exit(&mut self, addr: u32) {
        // SAFETY: the trait's contract, as for `call_init`, with
        // `cleanup_module`.
        let f: extern "C" fn() = unsafe { core::mem::transmute(addr as usize) };
        f()
    }
    unsafe fn write_module_word(&mut self, addr: u32, value: u32) {
        // SAFETY: the trait's contract: an aligned word of a listed
        // module's read-write core data.
        unsafe { (addr as usize as *mut u32).write_volatile(value) };
    }
    fn kernel_symbol(&self, abi: Abi, name: &str) -> Option<KernelSymbol> {
        let name_of = |e: &KernelExport| e.name;
        let (table, at) = match abi {
            Abi::Kobold => {
                let t = exports();
                (t, exports_index().find(t, name_of, name))
            }
            Abi::Linux61 => {
                let t = super::linux61::exports();
                (t, super::linux61::exports_index().find(t, name_of, name))
            }
        };
        at.and_then(|i| table.get(i)).map(|e| KernelSymbol {
            value: e.addr,
            is_func: e.is_func,
            gpl_only: e.gpl_only,
        })
    }
    fn alloc_string(&mut self, s: &str) -> Result<u32, Errno> {
        let p = kobold_kmalloc(s.len() + 1, Gfp::KERNEL.0);
        if p.is_null() {
            return Err(Errno::ENOMEM);
        }
        // SAFETY: a fresh block of len + 1 bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            p.add(s.len()).write(0);
        }
        Ok(p as u32)
    }
    unsafe fn free_string(&mut self, addr: u32) {
        // SAFETY: the trait's contract: `addr` is what `alloc_string`
        // returned (a kmalloc block), not yet freed.
        unsafe { kobold_kfree(addr as *mut u8) };
    }
    fn log(&mut self, level: Level, msg: fmt::Arguments<'_>) {
        vprintk(level, msg);
    }
}
