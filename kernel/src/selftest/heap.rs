//! `selftest heap`: the kernel heap behaves as Linux's SLUB + kmalloc_large
//! do (mm/slub.c, lib/test_kmalloc-style checks):
//!
//! 1. `kmalloc(4 MB)` — the largest buddy block — takes exactly 1024 pages
//!    straight from the page allocator and `kfree` gives exactly those back;
//!    `kmalloc(8193)` takes 4 pages (three rounded up to a power of two);
//! 2. `kmalloc(0)` is `ZERO_SIZE_PTR` (0x10), and `kfree` of it, of an
//!    interior pointer and a second `kfree` of a block are harmless; 64 MB,
//!    2 GB and `usize::MAX` requests return NULL (kmalloc and the global
//!    allocator), taking nothing;
//! 3. 256 blocks of 1000 bytes grow the heap by several 64 KB regions;
//!    freeing them returns every emptied region but one spare, and
//!    `shrink` the spare;
//! 4. an allocation storm (collections, a 300 KB vector, kmalloc of mixed
//!    sizes);
//! 5. the per-size freelists (SLUB's fast path, `mm::kmalloc_caches`): a
//!    freed block is handed out again to the next request of its size
//!    class (last freed, first reused), is counted neither as used nor as
//!    free while it waits, and `shrink` gives every waiting block back;
//!
//! and at the end the heap's bytes in use and the free page count are
//! exactly where they started. Every kmalloc block is held in a
//! [`Kmalloc`] guard, so a failed step frees what the test took.

use super::guard::Kmalloc;
use super::{SelftestError, Verdict};
use crate::errno::Errno;
use crate::mm::{
    self,
    buddy::Gfp,
    heap::{self, kmalloc, try_kfree},
};
use alloc::{boxed::Box, vec::Vec};
use core::fmt::Write;
use core::ptr::NonNull;

pub fn run(_args: &[&str], out: &mut dyn Write) -> Result<(), SelftestError> {
    let free = || mm::page_alloc::counters().free;
    let mut verdict = Verdict::default();
    heap::shrink();
    let before = heap::stats();
    let pages_before = free();

    // 1. Large blocks are whole pages, and come back.
    for (size, want) in [(4usize << 20, 1024u64), (8193, 4)] {
        let Some(block) = Kmalloc::new(size) else {
            let _ = writeln!(out, "heap: kmalloc({size}) -> NULL");
            return Err(Errno::ENOMEM.into());
        };
        let p = block.as_ptr();
        let taken = pages_before - free();
        let slab = heap::stats().used - before.used;
        // SAFETY: kmalloc returned at least `size` writable bytes.
        unsafe {
            p.write_volatile(0xa5);
            p.add(size - 1).write_volatile(0x5a);
        }
        drop(block);
        let back = free() + taken - pages_before;
        let _ = writeln!(
            out,
            "heap: kmalloc({size}) at {:#010x}: {taken} pages taken (Slab +{} kB), kfree gave {back} back",
            p as usize,
            slab >> 10
        );
        verdict.check(
            taken == want && back == want && (p as usize).is_multiple_of(4096),
            "a large kmalloc took or gave back the wrong pages",
        );
    }

    // 2. Zero, impossible and bogus requests.
    let zero = kmalloc(0, Gfp::KERNEL).map_or(0, |p| p.as_ptr() as usize);
    let mut refused = 0;
    if let Some(p) = NonNull::new(zero as *mut u8) {
        // SAFETY: ZERO_SIZE_PTR, which kfree ignores.
        refused += unsafe { try_kfree(p) }.is_ok() as u32;
    }
    let huge: [usize; 3] = [64 << 20, 2 << 30, usize::MAX];
    let nulls = huge
        .iter()
        .filter(|&&n| kmalloc(n, Gfp::KERNEL).is_none())
        .count();
    let mut v: Vec<u8> = Vec::new();
    let global_null = v.try_reserve_exact(64 << 20).is_err();
    // The interior and double kfree are what is tested, so this block is
    // freed by hand, not by a guard (no early return in between).
    if let Some(p) = kmalloc(100, Gfp::KERNEL) {
        // SAFETY: 100 bytes, now filled so the interior holds no header.
        unsafe { core::ptr::write_bytes(p.as_ptr(), 0xa5, 100) };
        // SAFETY: an interior pointer of a live block: refused.
        refused += unsafe { try_kfree(p.add(8)) }.is_err() as u32;
        // SAFETY: the block itself, once.
        refused += unsafe { try_kfree(p) }.is_ok() as u32;
        // SAFETY: the same block again (double free): refused.
        refused += unsafe { try_kfree(p) }.is_err() as u32;
    }
    let _ = writeln!(
        out,
        "heap: kmalloc(0) = {zero:#x}; 64 MB, 2 GB, usize::MAX -> {nulls} NULL; global 64 MB -> {}; kfree checks {refused}/4; free pages {} -> {}",
        if global_null { "null" } else { "succeeded?!" },
        pages_before,
        free()
    );
    verdict.check(
        zero == heap::ZERO_SIZE_PTR && nulls == 3 && global_null && refused == 4,
        "kmalloc(0), an impossible size or a bad kfree misbehaved",
    );

    // 3. Emptied regions go back to the page allocator.
    let blocks: [Option<Kmalloc>; 256] = core::array::from_fn(|_| Kmalloc::new(1000));
    let all_allocated = blocks.iter().all(Option::is_some);
    let grown = heap::stats();
    let pages_grown = free();
    drop(blocks);
    let emptied = heap::stats();
    let pages_emptied = free();
    let spare = heap::shrink();
    let _ = writeln!(
        out,
        "heap: 256 x kmalloc(1000): regions {} -> {}, free pages {} -> {}; kfree all: regions {}, {} pages back; shrink: {spare} pages back",
        before.regions,
        grown.regions,
        pages_before,
        pages_grown,
        emptied.regions,
        pages_emptied - pages_grown
    );
    let new_regions = grown.regions.saturating_sub(before.regions);
    verdict.check(
        all_allocated
            && new_regions >= 2
            && emptied.regions <= before.regions + heap::SPARE_REGIONS
            && free() == pages_before,
        "emptied heap regions did not go back to the page allocator",
    );

    // 4. The storm.
    {
        let mut v: Vec<Box<[u8]>> = Vec::new();
        for i in 0..2000usize {
            v.push(alloc::vec![i as u8; 1 + (i * 37) % 700].into_boxed_slice());
            if i % 3 == 0 {
                v.swap_remove(i / 7 % v.len());
            }
        }
        let big = alloc::vec![0u8; 300 * 1024];
        let mut k = Vec::new();
        for n in [1usize, 8, 100, 4000, 8192, 70_000] {
            let block = Kmalloc::new(n).ok_or(Errno::ENOMEM)?;
            // SAFETY: kmalloc returned at least n writable bytes.
            unsafe { core::ptr::write_bytes(block.as_ptr(), 0xa5, n) };
            k.push(block);
        }
        drop(k);
        let during = heap::stats();
        let _ = writeln!(
            out,
            "heap: {} live boxes, {} regions, {} bytes used, {} KB block",
            v.len(),
            during.regions,
            during.used,
            big.len() / 1024
        );
    }
    // 5. The freelists: kmalloc(100) and kmalloc(120) are both kmalloc-128
    // (with the 8-byte header); a freed block comes back first.
    heap::shrink();
    let flushed = heap::stats();
    let first = Kmalloc::new(100).ok_or(Errno::ENOMEM)?;
    let first_at = first.as_ptr() as usize;
    drop(first);
    let waiting = heap::stats();
    let again = Kmalloc::new(120).ok_or(Errno::ENOMEM)?;
    let again_at = again.as_ptr() as usize;
    drop(again);
    let back = heap::shrink();
    let emptied = heap::stats();
    let _ = writeln!(
        out,
        "heap: freelists: kmalloc(100) at {first_at:#010x}, freed (cached {} -> {} bytes), kmalloc(120) at {again_at:#010x}; shrink: cached {} bytes, {back} pages back",
        flushed.cached, waiting.cached, emptied.cached
    );
    verdict.check(
        flushed.cached == 0
            && waiting.cached == 128
            && waiting.used == flushed.used
            && again_at == first_at
            && emptied.cached == 0,
        "a freed block was not reused from its size class, or shrink kept it",
    );
    heap::shrink();
    let after = heap::stats();
    let _ = writeln!(
        out,
        "heap: used {} -> {} bytes, regions {} -> {}, free pages {} -> {}",
        before.used,
        after.used,
        before.regions,
        after.regions,
        pages_before,
        free()
    );
    verdict.check(
        after.used == before.used && free() == pages_before,
        "heap bytes or free pages did not come back",
    );
    verdict.result()
}
