//! `selftest vmalloc`: vmalloc, vmap and the module window end to end
//! (Linux's mm/vmalloc.c, checked as lib/test_vmalloc.c does).
//!
//! The scenario runs once unmeasured (the window's second-level tables, the
//! pkmap tables and the vmap node arena are high-water structures that stay
//! for reuse, as Linux's do), then again, measured:
//!
//! 1. fragment the page allocator (allocate 2048 pages, free every other
//!    one), vmalloc 4 MB — built from the scattered holes, from HighMem
//!    whenever the board has any — write each page through the vmalloc
//!    address and read it back through kmap of its physical page and the
//!    other way round; make the range read-only and back (set_memory_ro/rw);
//! 2. module_alloc-style code in the module window, made W^X and called;
//! 3. vmap of 16 of the scattered pages the test owns, read back through
//!    kmap; a second vunmap is refused;
//! 4. failures leave nothing behind: no address space, no pages half way,
//!    and every allocation of a 64 KB vmalloc failed in turn (fail-nth);
//! 5. a storm of 300 vmalloc/vzalloc/vfree of random sizes.
//!
//! Free pages, VmallocUsed, heap bytes in use and the number of areas must
//! be back where they started; a bad vfree is refused. Pages, areas and
//! kmaps are held in guards ([`Pages`], [`VmArea`], [`Kmap`]), so an early
//! error leaks nothing either.

use super::guard::{Kmap, Pages, VmArea};
use super::{Counters, SelftestError, Verdict};
use crate::errno::Errno;
use crate::mm::{
    self,
    buddy::{Gfp, MAX_ORDER},
    pgtable::{Prot, pte},
};
use alloc::vec::Vec;
use core::fmt::Write;
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE};

/// Discards what it is given (the warm-up pass prints nothing).
struct Sink;

impl Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// What one pass of the scenario saw.
struct Pass {
    /// Checks that failed in this pass.
    verdict: Verdict,
    /// Pages of the 4 MB area, how many from highmem, physical
    /// discontinuities between them.
    npages: usize,
    high: usize,
    scattered: usize,
}

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    let caller = run as *const () as u32;
    scenario(&mut Sink, caller)?;
    let before = Counters::now();
    let pass = scenario(out, caller)?;
    let refused = mm::vmalloc::vfree(0xdead_0000) == Err(Errno::EINVAL);
    let after = Counters::now();
    let bad = u32::from(pass.verdict != Verdict::default());
    let _ = writeln!(
        out,
        "vmalloc storm: 300 areas, {bad} bad; {}",
        before.delta(&after)
    );
    let want_high = if mm::page_alloc::counters().totalhigh > 0 {
        pass.npages
    } else {
        0
    };
    let mut verdict = pass.verdict;
    verdict.check(pass.high == want_high, "the area did not come from highmem");
    verdict.check(pass.scattered > 0, "the area was not physically scattered");
    verdict.check(refused, "vfree of a bad address was not refused");
    verdict.check(before == after, "counters moved");
    verdict.result()
}

/// One pass of the scenario (module docs, steps 1 to 5).
fn scenario(out: &mut dyn Write, caller: u32) -> Result<Pass, SelftestError> {
    let mut verdict = Verdict::default();
    // Fragment: keep every other page of 2048.
    let mut kept = Pages::with_capacity(1024)?;
    {
        let mut held = Pages::with_capacity(2048)?;
        while held.alloc(Gfp::KERNEL.union(Gfp::HIGHMEM), 0).is_some() {}
        for (i, (pfn, order)) in held.take().into_iter().enumerate() {
            if i % 2 == 0 {
                kept.adopt(pfn, order);
            } else {
                let _ = mm::page_alloc::free_pages(pfn, order);
            }
        }
    }
    const SIZE: u32 = 4 << 20;
    let area = VmArea::vmalloced(mm::vmalloc::vmalloc(SIZE, caller)?);
    let addr = area.addr();
    let (npages, high, scattered, bad) = {
        let pages = mm::vmalloc::area_pages(addr).ok_or(Errno::EFAULT)?;
        let high = pages
            .iter()
            .filter(|&&p| ((p as u64) << PAGE_SHIFT) >= mm::init::lowmem_limit())
            .count();
        let scattered = pages.windows(2).filter(|w| w[1] != w[0] + 1).count();
        let mut bad = 0;
        for (i, &pfn) in pages.iter().enumerate() {
            let v = addr + i as u32 * PAGE_SIZE;
            // SAFETY: the area maps these pages read/write until vfree.
            unsafe { core::ptr::write_volatile(v as *mut u32, 0xc0de_0000 | i as u32) };
            let k = Kmap::new(pfn)?;
            // SAFETY: kmap maps the page until `k` drops.
            let seen = unsafe { core::ptr::read_volatile(k.addr() as *const u32) };
            // SAFETY: as above; the second word is written through kmap.
            unsafe { core::ptr::write_volatile((k.addr() + 4) as *mut u32, pfn) };
            drop(k);
            // SAFETY: read back through the vmalloc address.
            let back = unsafe { core::ptr::read_volatile((v + 4) as *const u32) };
            if seen != 0xc0de_0000 | i as u32 || back != pfn {
                bad += 1;
            }
        }
        (pages.len(), high, scattered, bad)
    };
    verdict.check(bad == 0, "a page read back wrong through vmalloc or kmap");
    let _ = writeln!(
        out,
        "vmalloc: {} KB at {addr:#010x}: {npages} pages, {high} from highmem, {scattered} physical discontinuities, {bad} bad",
        SIZE >> 10
    );
    // Change permissions of a range: read-only, then back (set_memory_ro/rw).
    // SAFETY: the area is ours and nothing writes it meanwhile.
    unsafe { mm::protect_range(addr, SIZE, Prot::KERNEL_RO) }.map_err(|_| Errno::EFAULT)?;
    let ro = mm::read_l2(addr).is_some_and(|d| d & pte::APX != 0);
    // SAFETY: as above.
    unsafe { mm::protect_range(addr, SIZE, Prot::KERNEL_RW) }.map_err(|_| Errno::EFAULT)?;
    let rw = mm::read_l2(addr).is_some_and(|d| d & pte::APX == 0);
    verdict.check(ro && rw, "set_memory_ro/rw did not change the PTEs");
    area.free()?;
    verdict.check(
        module_window_code(out, caller)?,
        "module window code did not return 42",
    );
    vmap_owned_pages(out, &kept, caller, &mut verdict)?;
    kept.free_all();
    verdict.check(
        failures(out, caller),
        "a failed vmalloc left something behind",
    );
    verdict.check(
        fail_nth(out, caller),
        "fail-nth of a 64 KB vmalloc leaked or lied",
    );
    verdict.check(storm(caller)?, "a vzalloc area was not zeroed");
    Ok(Pass {
        verdict,
        npages,
        high,
        scattered,
    })
}

/// vmap of pages we own: 16 of the scattered pages the fragmenting kept.
fn vmap_owned_pages(
    out: &mut dyn Write,
    kept: &Pages,
    caller: u32,
    verdict: &mut Verdict,
) -> Result<(), SelftestError> {
    let mut mine = [0u32; 16];
    let mut n = 0;
    for (slot, pfn) in mine.iter_mut().zip(kept.pfns()) {
        *slot = pfn;
        n += 1;
    }
    let mine = &mine[..n];
    let second = *mine.get(1).ok_or(Errno::ENOMEM)?;
    let area = VmArea::vmapped(mm::vmalloc::vmap(mine, Prot::KERNEL_RW, caller)?);
    let v = area.addr();
    // SAFETY: the vmap area maps `mine` read/write until vunmap.
    unsafe { core::ptr::write_volatile((v + PAGE_SIZE) as *mut u32, 0x7a7a_7a7a) };
    let k = Kmap::new(second)?;
    // SAFETY: kmap maps the page until `k` drops.
    let via_kmap = unsafe { core::ptr::read_volatile(k.addr() as *const u32) };
    drop(k);
    area.free()?;
    let vunmap_twice = mm::vmalloc::vunmap(v) == Err(Errno::EINVAL);
    verdict.check(via_kmap == 0x7a7a_7a7a, "a vmap did not reach its pages");
    verdict.check(vunmap_twice, "a second vunmap was not refused");
    let _ = writeln!(
        out,
        "vmap: {} owned pages at {v:#010x}, read back through kmap: {via_kmap:#x}",
        mine.len()
    );
    Ok(())
}

/// module_alloc-style: an executable area in the module window, two ARM
/// instructions written into it (`mov r0, #42; bx lr`), the I-cache made
/// coherent, the page made read-only + executable (W^X), and a call.
/// Returns whether the call returned 42.
fn module_window_code(out: &mut dyn Write, caller: u32) -> Result<bool, SelftestError> {
    let area = VmArea::vmalloced(mm::vmalloc::vmalloc_node_range(
        PAGE_SIZE,
        1,
        mm::vmalloc::Window::Modules,
        Gfp::KERNEL,
        Prot::KERNEL_RWX,
        caller,
    )?);
    let code = area.addr();
    // SAFETY: the fresh area is mapped read/write/execute.
    unsafe {
        core::ptr::write_volatile(code as *mut u32, 0xe3a0_002a); // mov r0, #42
        core::ptr::write_volatile((code + 4) as *mut u32, 0xe12f_ff1e); // bx lr
    }
    mm::flush_icache_range(code, code + 8);
    // SAFETY: nothing writes the area any more.
    unsafe { mm::protect_range(code, PAGE_SIZE, Prot::KERNEL_RX) }.map_err(|_| Errno::EFAULT)?;
    // SAFETY: the page holds a complete AAPCS function returning a u32.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(code as usize) };
    let r = f();
    let _ = writeln!(out, "module window: code at {code:#010x} (RX) returned {r}");
    area.free()?;
    Ok(r == 42)
}

/// Failed vmallocs leave nothing behind: one asks for more address space
/// than the window has, one runs out of pages half way (the page allocator
/// is first drained to about 50 free pages). Free pages and areas must be
/// the same before and after each failure. Returns whether they were.
fn failures(out: &mut dyn Write, caller: u32) -> bool {
    let mut ok = true;
    let snapshot = || {
        mm::heap::shrink();
        (mm::page_alloc::counters().free, mm::vmalloc::area_count())
    };
    let s0 = snapshot();
    if mm::vmalloc::vmalloc(0xf000_0000, caller) != Err(Errno::ENOMEM) || snapshot() != s0 {
        ok = false;
    }
    let Ok(mut hog) = Pages::with_capacity(8192) else {
        return false;
    };
    for order in (0..MAX_ORDER).rev() {
        while mm::page_alloc::counters().free >= (1u64 << order) + 50 {
            if hog.alloc(Gfp::KERNEL.union(Gfp::HIGHMEM), order).is_none() {
                break;
            }
        }
    }
    let s1 = snapshot();
    let failed = mm::vmalloc::vmalloc(200 * PAGE_SIZE, caller) == Err(Errno::ENOMEM);
    let s2 = snapshot();
    drop(hog);
    if !failed || s1 != s2 {
        ok = false;
    }
    let _ = writeln!(
        out,
        "vmalloc failures: no address space -> ENOMEM; {} free pages, 200 asked -> {}; free pages {} -> {} across the failure",
        s1.0,
        if failed { "ENOMEM" } else { "succeeded?!" },
        s1.0,
        s2.0
    );
    ok
}

/// Every allocation a 64 KB vmalloc makes (heap, vmap area, pages, page
/// tables) fails once, in turn (fault injection's fail-nth): each attempt
/// must return -ENOMEM and leave free pages, VmallocUsed, heap bytes and
/// the areas as they were; the sweep ends when an attempt completes
/// without reaching its n-th allocation. Returns whether all that held.
fn fail_nth(out: &mut dyn Write, caller: u32) -> bool {
    use mm::fault_inject::{disarm, fail_nth};
    let mut ok = true;
    let before = Counters::now();
    for n in 1..=1000 {
        fail_nth(n);
        let r = mm::vmalloc::vmalloc(64 * 1024, caller);
        let (seen, fired) = disarm();
        match r {
            Ok(a) => {
                let _ = mm::vmalloc::vfree(a);
                // A failure that fired must have been reported.
                ok &= !fired;
                let _ = writeln!(
                    out,
                    "vmalloc fail-nth: {seen} allocations in a 64 KB vmalloc, each failed once -> ENOMEM, nothing leaked"
                );
                return ok && Counters::now() == before;
            }
            Err(e) => ok &= e == Errno::ENOMEM && fired && Counters::now() == before,
        }
    }
    false // more than 1000 allocations: the sweep never ended
}

/// A storm of vmalloc/vzalloc/vfree of random sizes, freed in a shuffled
/// order. Returns whether every vzalloc area was zeroed.
fn storm(caller: u32) -> Result<bool, SelftestError> {
    let mut live: Vec<VmArea> = Vec::new();
    live.try_reserve_exact(300).map_err(|_| Errno::ENOMEM)?;
    let mut seed = 0x1234_5678u32;
    let mut zeroed_ok = true;
    for i in 0..300u32 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let size = 1 + seed % (64 * 1024);
        let zeroed = i % 3 == 0;
        let a = VmArea::vmalloced(if zeroed {
            mm::vmalloc::vzalloc(size, caller)?
        } else {
            mm::vmalloc::vmalloc(size, caller)?
        });
        let last = (a.addr() + size - 1) as *mut u8;
        // SAFETY: the area holds at least `size` bytes.
        if zeroed && unsafe { core::ptr::read_volatile(last) } != 0 {
            zeroed_ok = false;
        }
        // SAFETY: as above: dirty the area for the next vzalloc to clear.
        unsafe { core::ptr::write_volatile(last, 0xff) };
        live.push(a);
        if i % 4 == 3 {
            live.swap_remove((seed as usize) % live.len()).free()?;
        }
    }
    for a in live {
        a.free()?;
    }
    Ok(zeroed_ok)
}
