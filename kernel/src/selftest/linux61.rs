//! `selftest linux61`: the Linux 6.1 personality's runtime, called the way
//! a 6.1 module calls it (through the addresses of its export table, and
//! from assembly where the ABI is not C's), before any loader uses it:
//!
//! 1. `current`: TPIDRURO holds `init_task`'s address, and the canary a
//!    module reads (`mrc p15, 0, rX, c13, c0, 3; ldr rX, [rX, #1592]`) is
//!    the stand-in's, not zero; `preempt_count`, `cpu` and `pid` are 0;
//! 2. the table: one export per name of `symbols::SYMBOLS`, each with an
//!    address;
//! 3. kmalloc as an inline 6.1 `kzalloc(64)` does it: `kmalloc_caches[0][6]`
//!    (the word at +24) is a cache, `kmalloc_trace(cache, GFP_KERNEL |
//!    __GFP_ZERO, 64)` returns zeroed memory, 64-byte aligned, even where
//!    blocks were just freed dirty; `__kmalloc` zeroes and aligns (64, or
//!    the size for a power of two), `kmalloc_large` and `kvmalloc_node`
//!    (vmalloc fallback) zero whole pages, `kvfree` frees both; a pointer
//!    that is not a cache gets NULL; nothing leaks;
//! 4. `__gnu_mcount_nc` called as GCC's `-pg` site does (`push {lr}; bl`):
//!    back at the next instruction with lr restored, sp rebalanced and ip
//!    untouched;
//! 5. `__do_div64` with its register ABI (r0:r1 / r4 in, r2:r3 and r1 out,
//!    r0, r4 and the other callee-saved registers preserved);
//! 6. `kernel_neon_begin` / `kernel_neon_end` around NEON instructions:
//!    FPEXC.EN on between them, off after, `preempt_count` untouched (6.1's
//!    `get_cpu()` without `CONFIG_PREEMPT_COUNT`);
//! 7. `strscpy`'s return values and truncation, `div_s64_rem`'s signs,
//!    `kfree_sensitive` zeroing what it frees, `fips_enabled` 0;
//! 8. the atomic bit operations on a three-word bitmap: the bit and word
//!    each touches, and what the `_test_and_` forms return.
//!
//! `selftest linux61 stackprot` and `selftest linux61 fortify` call
//! `__stack_chk_fail` and `fortify_panic` from a named function: the kernel
//! panics as 6.1's does, naming it (the QEMU cases read the lines).

use super::{Counters, SelftestError, Verdict};
use crate::mm::heap;
use crate::module::linux61::{gfp, kernel as rt, symbols, task};
use core::fmt::Write;

core::arch::global_asm!(
    crate::arch::armv7::arm_function_macro!("kobold_selftest_fn"),
    r#"

    @ (mcount) -> 0, or bit 0: sp moved, bit 1: lr lost, bit 2: ip changed.
    kobold_selftest_fn kobold_linux61_mcount_probe
    push {{r4, r5, r6, r7, r8, lr}}
    mov r8, r0
    mov r4, sp
    ldr r5, =0x6b6f626c
    ldr r6, =0x1cecafe0
    mov ip, r6
    mov lr, r5
    push {{lr}}
    blx r8
    mov r0, #0
    cmp sp, r4
    orrne r0, r0, #1
    cmp lr, r5
    orrne r0, r0, #2
    cmp ip, r6
    orrne r0, r0, #4
    mov sp, r4
    pop {{r4, r5, r6, r7, r8, pc}}
    .ltorg
    .size kobold_linux61_mcount_probe, . - kobold_linux61_mcount_probe

    @ () -> the canary as a 6.1 module's prologue reads it.
    kobold_selftest_fn kobold_linux61_canary_probe
    mrc p15, 0, r0, c13, c0, 3
    ldr r0, [r0, #1592]
    bx lr
    .size kobold_linux61_canary_probe, . - kobold_linux61_canary_probe

    @ (n: u64 in r0:r1, base r2, out r3): out = quotient lo, hi,
    @ remainder, r4 and r6 after the call, r0 after the call.
    kobold_selftest_fn kobold_linux61_div64_probe
    push {{r4, r5, r6, r7, r8, lr}}
    mov r4, r2
    mov r5, r3
    mov r7, r0
    ldr r6, =0x600dcafe
    bl __do_div64
    str r2, [r5]
    str r3, [r5, #4]
    str r1, [r5, #8]
    str r4, [r5, #12]
    str r6, [r5, #16]
    sub r0, r0, r7
    str r0, [r5, #20]
    pop {{r4, r5, r6, r7, r8, pc}}
    .ltorg
    .size kobold_linux61_div64_probe, . - kobold_linux61_div64_probe

    @ (x) -> x + x, computed in a NEON register.
    .fpu neon
    kobold_selftest_fn kobold_linux61_neon_probe
    vdup.32 q0, r0
    veor q1, q1, q1
    vadd.i32 q0, q0, q1
    vadd.i32 q0, q0, q0
    vmov.32 r0, d1[1]
    bx lr
    .size kobold_linux61_neon_probe, . - kobold_linux61_neon_probe
    .fpu softvfp

    @ A protected function whose canary "changed": calls
    @ __stack_chk_fail (through the address in r0) as GCC's epilogue does.
    kobold_selftest_fn kobold_linux61_smashed
    push {{r4, lr}}
    blx r0
    pop {{r4, pc}}
    .size kobold_linux61_smashed, . - kobold_linux61_smashed
"#
);

unsafe extern "C" {
    fn kobold_linux61_mcount_probe(mcount: u32) -> u32;
    fn kobold_linux61_canary_probe() -> u32;
    fn kobold_linux61_div64_probe(n: u64, base: u32, out: *mut [u32; 6]);
    fn kobold_linux61_neon_probe(x: u32) -> u32;
    fn kobold_linux61_smashed(stack_chk_fail: u32);
}

/// The address of export `name` of the 6.1 table (0 if absent).
fn export(name: &str) -> u32 {
    crate::module::linux61::exports()
        .iter()
        .find(|e| e.name == name)
        .map_or(0, |e| e.addr)
}

pub fn run(args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    match args {
        [] => {}
        ["stackprot"] => {
            let f = export("__stack_chk_fail");
            // SAFETY: calls `__stack_chk_fail`, which panics.
            unsafe { kobold_linux61_smashed(f) };
            return Err(SelftestError::Failed("__stack_chk_fail returned"));
        }
        ["fortify"] => {
            let f = export("fortify_panic");
            // SAFETY: `fortify_panic(const char *)`, given a C string; it
            // BUG()s.
            let f: unsafe extern "C" fn(*const u8) = unsafe { core::mem::transmute(f as usize) };
            // SAFETY: as above.
            unsafe { f(c"memcpy".as_ptr().cast()) };
            return Err(SelftestError::Failed("fortify_panic returned"));
        }
        _ => return Err(SelftestError::Usage),
    }
    let mut v = Verdict::default();
    current(out, &mut v);
    table(out, &mut v);
    kmalloc(out, &mut v)?;
    asm_entries(out, &mut v);
    neon(out, &mut v);
    strings(out, &mut v);
    bitops(out, &mut v);
    v.result()
}

fn current(out: &mut dyn Write, v: &mut Verdict) {
    let t = &rt::INIT_TASK;
    // SAFETY: reads TPIDRURO and a word of what it points at (the stand-in).
    let canary = unsafe { kobold_linux61_canary_probe() };
    let ok_tp = rt::tpidruro() == t.addr();
    v.check(ok_tp, "TPIDRURO is init_task");
    v.check(
        canary != 0 && canary == t.read(task::STACK_CANARY),
        "the canary modules read",
    );
    v.check(
        t.read(task::TI_PREEMPT_COUNT) == 0 && t.read(task::TI_CPU) == 0 && t.read(task::PID) == 0,
        "preempt_count, cpu, pid",
    );
    let _ = writeln!(
        out,
        "linux61: current = init_task at {:#010x} (TPIDRURO {}), canary at +{} {}",
        t.addr(),
        if ok_tp { "ok" } else { "WRONG" },
        task::STACK_CANARY,
        if canary != 0 { "set" } else { "ZERO" }
    );
}

fn table(out: &mut dyn Write, v: &mut Verdict) {
    let t = crate::module::linux61::exports();
    let missing = t.iter().filter(|e| e.addr == 0).count();
    let same = t.len() == symbols::SYMBOLS.len()
        && t.iter()
            .zip(symbols::SYMBOLS)
            .all(|(e, s)| e.name == s.name);
    for e in t.iter().filter(|e| e.addr == 0) {
        let _ = writeln!(out, "linux61: {} has no address", e.name);
    }
    v.check(missing == 0 && same, "every export has an address");
    let _ = writeln!(
        out,
        "linux61: {} exports, {missing} without an address",
        t.len()
    );
}

/// kvmalloc_node's test size: above the largest buddy block (4 MB).
const BIG: usize = 6 << 20;

type Kmalloc = unsafe extern "C" fn(usize, u32) -> *mut u8;
type KmallocTrace = unsafe extern "C" fn(*const u8, u32, usize) -> *mut u8;
type KvmallocNode = unsafe extern "C" fn(usize, u32, i32) -> *mut u8;
type Kfree = unsafe extern "C" fn(*mut u8);

/// Whether `n` bytes at `p` are all zero.
///
/// # Safety
///
/// `p` is readable for `n` bytes.
unsafe fn zeroed(p: *const u8, n: usize) -> bool {
    // SAFETY: this function's contract.
    (0..n).all(|i| unsafe { p.add(i).read_volatile() } == 0)
}

fn kmalloc(out: &mut dyn Write, v: &mut Verdict) -> Result<(), SelftestError> {
    let caches = export("kmalloc_caches");
    // SAFETY: the table's addresses of these functions, with their 6.1
    // prototypes.
    let (kmalloc_trace, kmalloc, kmalloc_large, kvmalloc, kfree, kvfree) = unsafe {
        (
            core::mem::transmute::<usize, KmallocTrace>(export("kmalloc_trace") as usize),
            core::mem::transmute::<usize, Kmalloc>(export("__kmalloc") as usize),
            core::mem::transmute::<usize, Kmalloc>(export("kmalloc_large") as usize),
            core::mem::transmute::<usize, KvmallocNode>(export("kvmalloc_node") as usize),
            core::mem::transmute::<usize, Kfree>(export("kfree") as usize),
            core::mem::transmute::<usize, Kfree>(export("kvfree") as usize),
        )
    };
    let zero = gfp::GFP_KERNEL | gfp::ZERO;
    // Warm-up: the first vmalloc of the window may take a second-level
    // page table, which stays (as Linux's do); not a leak.
    // SAFETY: kvmalloc_node then kvfree of its block.
    unsafe { kvfree(kvmalloc(BIG, zero, -1)) };
    let before = Counters::now();
    // Dirty blocks, freed: the zeroed ones below may reuse them.
    let mut dirty = [core::ptr::null_mut::<u8>(); 32];
    for p in dirty.iter_mut() {
        // SAFETY: __kmalloc(64, GFP_KERNEL); a non-NULL block holds 64 bytes.
        unsafe {
            *p = kmalloc(64, gfp::GFP_KERNEL);
            if !p.is_null() {
                core::ptr::write_bytes(*p, 0xa5, 64);
            }
        }
    }
    for p in dirty {
        // SAFETY: blocks from __kmalloc (or NULL).
        unsafe { kfree(p) };
    }
    // kzalloc(64, GFP_KERNEL) as a 6.1 module inlines it.
    // SAFETY: kmalloc_caches is 4 x 14 pointers; +24 is [0][6].
    let cache = unsafe { ((caches + 24) as *const *const u8).read() };
    v.check(!cache.is_null(), "kmalloc_caches[0][6]");
    // SAFETY: kmalloc_trace with a cache of the array.
    let p = unsafe { kmalloc_trace(cache, zero, 64) };
    // SAFETY: 64 bytes at a non-NULL p.
    let ok = !p.is_null() && (p as usize).is_multiple_of(64) && unsafe { zeroed(p, 64) };
    v.check(
        ok,
        "kmalloc_trace(kmalloc_caches[0][6], GFP_KERNEL|__GFP_ZERO, 64)",
    );
    let _ = writeln!(
        out,
        "linux61: kzalloc(64) via kmalloc_caches[0][6] = {:#010x}: {}",
        p as usize,
        if ok {
            "zeroed, 64-byte aligned"
        } else {
            "WRONG"
        }
    );
    // Kobold's kfree knows the aligned block: an interior pointer is
    // refused, the block itself freed once, a second free refused.
    let refused = |q: *mut u8| {
        // SAFETY: try_kfree checks the header before it frees anything.
        core::ptr::NonNull::new(q).is_none_or(|q| unsafe { heap::try_kfree(q) }.is_err())
    };
    let interior = refused(p.wrapping_add(32));
    // SAFETY: from kmalloc_trace, freed once here.
    let freed = core::ptr::NonNull::new(p).is_some_and(|q| unsafe { heap::try_kfree(q) }.is_ok());
    v.check(
        interior && freed && refused(p),
        "kfree of a 64-aligned block",
    );
    // SAFETY: not a cache: refused with NULL.
    let bogus = unsafe { kmalloc_trace(p, zero, 64) };
    v.check(bogus.is_null(), "kmalloc_trace of a non-cache");

    let mut all = true;
    for (size, align) in [
        (100usize, 64usize),
        (128, 128),
        (192, 64),
        (4096, 4096),
        (8000, 64),
    ] {
        // SAFETY: __kmalloc; `size` bytes at a non-NULL p.
        let p = unsafe { kmalloc(size, zero) };
        // SAFETY: `size` bytes at a non-NULL p.
        let ok = !p.is_null() && (p as usize).is_multiple_of(align) && unsafe { zeroed(p, size) };
        all &= ok;
        // SAFETY: from __kmalloc.
        unsafe { kfree(p) };
    }
    v.check(all, "__kmalloc zeroed and aligned");
    // SAFETY: kmalloc_large; 20000 bytes at a non-NULL p.
    let p = unsafe { kmalloc_large(20000, zero) };
    // SAFETY: 20000 bytes at a non-NULL p.
    let ok_large = !p.is_null() && (p as usize).is_multiple_of(4096) && unsafe { zeroed(p, 20000) };
    // SAFETY: from kmalloc_large.
    unsafe { kfree(p) };
    // 6 MB: larger than any buddy block (4 MB), so kmalloc fails (quietly:
    // kvmalloc adds __GFP_NOWARN) and vmalloc serves it. Every 61st byte
    // is checked (all would take long under QEMU).
    // SAFETY: kvmalloc_node; `BIG` bytes at a non-NULL p.
    let p = unsafe { kvmalloc(BIG, zero, -1) };
    let ok_kv = !p.is_null()
        && (0..BIG)
            .step_by(61)
            // SAFETY: within the `BIG` bytes.
            .all(|i| unsafe { p.add(i).read_volatile() } == 0);
    // SAFETY: from kvmalloc_node.
    unsafe { kvfree(p) };
    v.check(ok_large && ok_kv, "kmalloc_large and kvmalloc_node zeroed");
    let _ = writeln!(
        out,
        "linux61: __kmalloc zeroed and aligned: {}; kmalloc_large(20000) {}; kvmalloc_node(6 MB) {}",
        if all { "ok" } else { "WRONG" },
        if ok_large { "ok" } else { "WRONG" },
        if ok_kv { "ok (vmalloc)" } else { "WRONG" }
    );
    // kfree_sensitive zeroes what it frees (read back from the freed
    // block, past where the allocator keeps its free-list node).
    // SAFETY: the table's kfree_sensitive, `void (const void *)`.
    let kfree_sensitive =
        unsafe { core::mem::transmute::<usize, Kfree>(export("kfree_sensitive") as usize) };
    // SAFETY: __kmalloc; 256 bytes at a non-NULL p, freed once.
    let wiped = unsafe {
        let p = kmalloc(256, gfp::GFP_KERNEL);
        if p.is_null() {
            false
        } else {
            core::ptr::write_bytes(p, 0xa5, 256);
            kfree_sensitive(p);
            zeroed(p.add(16), 240)
        }
    };
    v.check(wiped, "kfree_sensitive zeroes");
    let _ = writeln!(
        out,
        "linux61: kfree_sensitive: {}",
        if wiped { "freed block zeroed" } else { "WRONG" }
    );
    let after = Counters::now();
    v.check(before == after, "nothing leaked");
    let _ = writeln!(out, "linux61: kmalloc leak check: {}", before.delta(&after));
    Ok(())
}

fn asm_entries(out: &mut dyn Write, v: &mut Verdict) {
    // SAFETY: calls __gnu_mcount_nc as GCC's -pg call site does.
    let bad = unsafe { kobold_linux61_mcount_probe(export("__gnu_mcount_nc")) };
    v.check(
        bad == 0,
        "__gnu_mcount_nc returns with lr, sp and ip intact",
    );
    let _ = writeln!(
        out,
        "linux61: __gnu_mcount_nc: {}",
        match bad {
            0 => "returned with lr restored, sp rebalanced, ip untouched",
            _ => "WRONG",
        }
    );
    let mut all = true;
    for (n, base) in [
        (10u64, 3u32),
        (0x1234_5678_9abc_def0, 0x1_0000),
        (u64::MAX, 7),
    ] {
        let mut r = [0u32; 6];
        // SAFETY: the probe calls __do_div64 with its ABI and writes `r`.
        unsafe { kobold_linux61_div64_probe(n, base, &mut r) };
        let q = u64::from(r[0]) | u64::from(r[1]) << 32;
        all &= q == n / u64::from(base)
            && u64::from(r[2]) == n % u64::from(base)
            && r[3] == base
            && r[4] == 0x600d_cafe
            && r[5] == 0;
    }
    v.check(all, "__do_div64");
    let _ = writeln!(
        out,
        "linux61: __do_div64: {}",
        if all {
            "quotient r2:r3, remainder r1, r4 kept"
        } else {
            "WRONG"
        }
    );
}

fn neon(out: &mut dyn Write, v: &mut Verdict) {
    // SAFETY: the table's kernel_neon_begin/end, `void (void)`.
    let (begin, end) = unsafe {
        (
            core::mem::transmute::<usize, extern "C" fn()>(export("kernel_neon_begin") as usize),
            core::mem::transmute::<usize, extern "C" fn()>(export("kernel_neon_end") as usize),
        )
    };
    let t = &rt::INIT_TASK;
    begin();
    let on = rt::fpexc() & rt::FPEXC_EN != 0;
    let count = t.read(task::TI_PREEMPT_COUNT);
    let r = if on {
        // SAFETY: NEON is enabled (checked: a disabled unit would oops).
        unsafe { kobold_linux61_neon_probe(21) }
    } else {
        0
    };
    end();
    let off = rt::fpexc() & rt::FPEXC_EN == 0 && t.read(task::TI_PREEMPT_COUNT) == 0;
    let ok = on && count == 0 && r == 42 && off;
    v.check(ok, "kernel_neon_begin/end");
    let _ = writeln!(
        out,
        "linux61: kernel_neon_begin: FPEXC.EN {}, preempt_count {:#x}; NEON 21+21 = {r}; kernel_neon_end: FPEXC.EN {}",
        on as u8,
        count,
        (!off) as u8
    );
}

fn strings(out: &mut dyn Write, v: &mut Verdict) {
    // SAFETY: the table's strscpy.
    let strscpy = unsafe {
        core::mem::transmute::<usize, unsafe extern "C" fn(*mut u8, *const u8, usize) -> isize>(
            export("strscpy") as usize,
        )
    };
    let mut buf = [0xffu8; 4];
    // SAFETY: a 4-byte buffer and C strings.
    let (a, b) = unsafe {
        let a = strscpy(buf.as_mut_ptr(), c"abcdef".as_ptr().cast(), 4);
        let truncated = buf;
        let b = strscpy(buf.as_mut_ptr(), c"ab".as_ptr().cast(), 4);
        ((a, truncated), (b, buf))
    };
    let ok = a == (-7, *b"abc\0") && b.0 == 2 && b.1[..3] == *b"ab\0";
    v.check(ok, "strscpy");
    // SAFETY: the table's div_s64_rem and fips_enabled (an int).
    let (q, r, fips) = unsafe {
        let f = core::mem::transmute::<usize, unsafe extern "C" fn(i64, i32, *mut i32) -> i64>(
            export("div_s64_rem") as usize,
        );
        let mut r = 0;
        let q = f(-7_000_000_000_007, 1000, &mut r);
        (q, r, (export("fips_enabled") as *const i32).read())
    };
    v.check(
        q == -7_000_000_000 && r == -7 && fips == 0,
        "div_s64_rem, fips_enabled",
    );
    let _ = writeln!(
        out,
        "linux61: div_s64_rem(-7000000000007, 1000) = {q} rem {r}; fips_enabled = {fips}"
    );
    let _ = writeln!(out, "linux61: strscpy: {} and {}", a.0, b.0);
}

fn bitops(out: &mut dyn Write, v: &mut Verdict) {
    type Op = unsafe extern "C" fn(u32, *mut u32) -> u32;
    // SAFETY: the table's bit operations, all `(int nr, unsigned long *p)`.
    let op = |name| unsafe { core::mem::transmute::<usize, Op>(export(name) as usize) };
    let mut map = [0u32; 3];
    let p = map.as_mut_ptr();
    // SAFETY: a three-word bitmap; every nr below is < 96.
    let r = unsafe {
        op("_set_bit")(70, p);
        let first = op("_test_and_set_bit")(5, p);
        let again = op("_test_and_set_bit")(5, p);
        op("_change_bit")(31, p);
        op("_clear_bit")(70, p);
        op("_set_bit")(64, p);
        let cleared = op("_test_and_clear_bit")(5, p);
        let changed = op("_test_and_change_bit")(31, p);
        [first, again, cleared, changed]
    };
    let ok = r == [0, 1, 1, 1] && map == [0, 0, 1];
    v.check(ok, "bit operations");
    let _ = writeln!(
        out,
        "linux61: bitops: test_and_set 5 -> {} then {}, test_and_clear -> {}, test_and_change 31 -> {}; map {:08x} {:08x} {:08x}",
        r[0], r[1], r[2], r[3], map[0], map[1], map[2]
    );
}
