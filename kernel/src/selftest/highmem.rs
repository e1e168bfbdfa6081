//! `selftest highmem`: highmem pages through `kmap` (the pkmap window) and
//! `kmap_atomic` (fixmap slots), as Linux's mm/highmem.c and
//! arch/arm/mm/highmem.c provide them.
//!
//! Allocate 600 pages with `__GFP_HIGHMEM` (more than the 512 pkmap slots,
//! so slots are reused), write each through `kmap`, read each back through
//! two nested `kmap_atomic`s, free everything; the pkmap window and the free
//! page count must end where they started. The pages are held in a
//! [`Pages`] guard and every mapping in a [`Kmap`] / [`KmapAtomic`] guard,
//! so a failing kmap leaks neither pages nor slots.

use super::guard::{Kmap, KmapAtomic, Pages};
use super::{SelftestError, Verdict};
use crate::errno::Errno;
use crate::mm::{self, buddy::Gfp, highmem::pkmap_in_use};
use core::fmt::Write;
use kobold_layout::PAGE_SHIFT;

const PAGES: usize = 600;

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    // The guard's room first: growing the heap for it takes pages too.
    let mut pages = Pages::with_capacity(PAGES)?;
    let free_before = mm::page_alloc::counters().free;
    let mut allocated = true;
    let mut high = 0;
    for _ in 0..PAGES {
        let Some(pfn) = pages.alloc(Gfp::KERNEL.union(Gfp::HIGHMEM), 0) else {
            allocated = false;
            break;
        };
        if (pfn as u64) << PAGE_SHIFT >= mm::init::lowmem_limit() {
            high += 1;
        }
    }
    for pfn in pages.pfns() {
        let k = Kmap::new(pfn)?;
        // SAFETY: `k` maps the whole page until it drops.
        unsafe { core::ptr::write_bytes(k.addr() as *mut u32, 0, 1024) };
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(k.addr() as *mut u32, pfn ^ 0x5a5a_5a5a) };
    }
    let mut bad = 0;
    for pfn in pages.pfns() {
        let outer = KmapAtomic::new(pfn)?;
        let inner = KmapAtomic::new(pfn)?; // nested: a second slot, same page
        // SAFETY: both map the page until they drop (inner first).
        let (a, b) = unsafe {
            (
                core::ptr::read_volatile(outer.addr() as *const u32),
                core::ptr::read_volatile(inner.addr() as *const u32),
            )
        };
        if a != pfn ^ 0x5a5a_5a5a || b != a {
            bad += 1;
        }
    }
    let count = pages.len();
    pages.free_all();
    let free_after = mm::page_alloc::counters().free;
    let _ = writeln!(
        out,
        "highmem: {count} pages ({high} highmem) written via kmap, read via kmap_atomic, {bad} bad; pkmap slots in use {}, free pages {free_before} -> {free_after}",
        pkmap_in_use(),
    );
    if !allocated {
        return Err(Errno::ENOMEM.into());
    }
    let mut verdict = Verdict::default();
    verdict.check(bad == 0, "a page read back wrong through kmap_atomic");
    verdict.check(pkmap_in_use() == 0, "pkmap slots left in use");
    verdict.check(free_after == free_before, "free pages did not come back");
    verdict.result()
}
