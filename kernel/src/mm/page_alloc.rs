//! The running kernel's page allocator: builds `mem_map` and the buddy
//! system from memblock at boot (Linux's `free_area_init` +
//! `free_all_bootmem`), and frees `.init` memory before the shell starts
//! (`free_initmem`).
//!
//! `mem_map` (one [`PageInfo`] per page frame from the first to the last
//! page of RAM) is itself allocated from memblock, top-down in lowmem, so it
//! shows in the `Memory:` line's "reserved" figure as Linux's does.
//!
//! Its entries are written at boot except the tails of the max-order blocks
//! that memblock leaves free as a whole, which the buddy allocator writes
//! when it first splits such a block (Linux's
//! `CONFIG_DEFERRED_STRUCT_PAGE_INIT`; `buddy`'s module docs, "Deferred
//! `mem_map` initialisation").

use super::buddy::{BLOCK_PAGES, Buddy, BuddyInfo, DeferredTails, Gfp, PageInfo, Pfn, ZoneType};
use super::memblock::Memblock;
use crate::sync::Mutex;
use core::mem::{align_of, size_of};
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE, phys_to_virt};

/// [`PageInfo::RESERVED`] as the three words of its `repr(C)` layout,
/// for the boot-time fill of `mem_map`.
const RESERVED_WORDS: [u32; 3] = {
    const _: () = assert!(size_of::<PageInfo>() == 12 && align_of::<PageInfo>() == 4);
    // SAFETY: `PageInfo` is `repr(C)`, 12 bytes with no padding (two u32,
    // four u8), so every byte of it is initialised and it is three words.
    unsafe { core::mem::transmute::<PageInfo, [u32; 3]>(PageInfo::RESERVED) }
};

/// Writes [`PageInfo::RESERVED`] into `quads * 4` entries from `ptr`, two
/// `stm` of six registers per four entries (one instruction a page frame;
/// the compiler's own loop takes 3.5, and this fill is most of the boot's
/// instructions: 65,536 frames at -m 256).
///
/// # Safety
/// `ptr` must be 4-byte aligned and valid for writes of `quads * 4`
/// entries.
#[cfg(target_arch = "arm")]
unsafe fn fill_reserved_quads(ptr: *mut PageInfo, quads: usize) {
    if quads == 0 {
        return;
    }
    let [a, b, c] = RESERVED_WORDS;
    // SAFETY: the caller gives `quads * 48` writable, aligned bytes; the
    // loop stores exactly that (r0-r5 hold two entries' words in address
    // order, as `stm` stores ascending registers at ascending addresses),
    // touches no other memory and no stack, and leaves the flags clobbered
    // (no `preserves_flags`).
    unsafe {
        core::arch::asm!(
            "2:",
            "stmia {p}!, {{r0, r1, r2, r3, r4, r5}}",
            "stmia {p}!, {{r0, r1, r2, r3, r4, r5}}",
            "subs {n}, {n}, #1",
            "bne 2b",
            p = inout(reg) ptr => _,
            n = inout(reg) quads => _,
            in("r0") a,
            in("r1") b,
            in("r2") c,
            in("r3") a,
            in("r4") b,
            in("r5") c,
            options(nostack),
        );
    }
}

/// The host build (unit tests): the same fill, entry by entry.
///
/// # Safety
/// As the ARM version.
#[cfg(not(target_arch = "arm"))]
unsafe fn fill_reserved_quads(ptr: *mut PageInfo, quads: usize) {
    for i in 0..quads * 4 {
        // SAFETY: within the caller's `quads * 4` writable entries.
        unsafe { ptr.add(i).write(PageInfo::RESERVED) };
    }
}

static PAGE_ALLOC: Mutex<Option<Buddy<'static>>> = Mutex::new(None);

/// Why the page allocator could not be set up.
#[derive(Clone, Copy, Debug)]
pub enum InitError {
    NoRam,
    /// memblock had no room for `mem_map` (bytes).
    NoRoomForMemMap(u64),
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InitError::NoRam => write!(f, "no RAM for the page allocator"),
            InitError::NoRoomForMemMap(n) => write!(f, "no room for a {n}-byte mem_map"),
        }
    }
}

/// Builds the buddy system: lowmem is ZONE_NORMAL, the rest ZONE_HIGHMEM.
///
/// # Safety
/// Call once, after lowmem is mapped, with the memblock describing RAM.
pub unsafe fn init(mb: &mut Memblock, lowmem_limit: u64) -> Result<(), InitError> {
    let regions = mb.memory.regions();
    let (first, last) = match (regions.first(), regions.last()) {
        (Some(f), Some(l)) => (f.base, l.end()),
        _ => return Err(InitError::NoRam),
    };
    let base = first.div_ceil(PAGE_SIZE as u64) as Pfn;
    let end = (last >> PAGE_SHIFT) as Pfn;
    let split = ((lowmem_limit >> PAGE_SHIFT) as Pfn).clamp(base, end);
    let n = (end - base) as usize;
    let bytes = (n * size_of::<PageInfo>()) as u64;
    let phys = mb
        .alloc(
            bytes.next_multiple_of(PAGE_SIZE as u64),
            PAGE_SIZE as u64,
            lowmem_limit,
        )
        .ok_or(InitError::NoRoomForMemMap(bytes))?;
    // The max-order blocks free as a whole: their tails stay unwritten.
    let zones = [(base, split), (split, end)];
    let mut deferred = DeferredTails::NONE;
    mb.for_each_free_range(&mut |b, e| {
        let s = b.div_ceil(PAGE_SIZE as u64) as Pfn;
        let e = (e >> PAGE_SHIFT) as Pfn;
        if s < e {
            deferred.add_free_range(base, zones, s, e);
        }
    });
    // SAFETY: memblock just reserved these bytes in lowmem, which is mapped
    // at its linear address and aligned to a page; nothing else will ever
    // use them. Every entry but the deferred tails is written (reserved)
    // here, once, before the slice is made: runs of entries by
    // `fill_reserved_quads` (its contract: `len / 4` groups of four entries,
    // valid for writes, 4-byte aligned: every entry is) and the rest of each
    // run entry by entry. The deferred tails keep whatever the RAM holds:
    // `PageInfo` is plain integers, so any bytes are a valid entry, and the
    // buddy allocator never reads them before writing them (`buddy`'s
    // module docs).
    let pages: &'static mut [PageInfo] = unsafe {
        let ptr = phys_to_virt(phys as u32) as *mut PageInfo;
        let block = BLOCK_PAGES as usize;
        let mut i = 0;
        while i < n {
            let pfn = base + i as Pfn;
            if pfn.is_multiple_of(BLOCK_PAGES) && deferred.is_pending(base, pfn) && i + block <= n {
                ptr.add(i).write(PageInfo::RESERVED);
                i += block;
                continue;
            }
            let stop = (i + block - (pfn % BLOCK_PAGES) as usize).min(n);
            let quads = (stop - i) / 4;
            fill_reserved_quads(ptr.add(i), quads);
            for j in i + quads * 4..stop {
                ptr.add(j).write(PageInfo::RESERVED);
            }
            i = stop;
        }
        core::slice::from_raw_parts_mut(ptr, n)
    };
    let mut buddy =
        Buddy::from_reserved_deferred(pages, base, (base, split), (split, end), deferred);
    mb.for_each_free_range(&mut |b, e| {
        let s = b.div_ceil(PAGE_SIZE as u64) as Pfn;
        let e = (e >> PAGE_SHIFT) as Pfn;
        if s < e {
            buddy.free_range(s, e);
        }
    });
    *PAGE_ALLOC.lock() = Some(buddy);
    Ok(())
}

fn with<R>(f: impl FnOnce(&mut Buddy<'static>) -> R) -> Option<R> {
    PAGE_ALLOC.lock().as_mut().map(f)
}

/// Linux's `alloc_pages`: the first page frame of 2^order pages, `None`
/// when no block is free, for an order above `MAX_ORDER - 1`, or when
/// `fail_page_alloc` injects a failure (size `1 << order` pages, as Linux's
/// `should_fail_alloc_page`).
pub fn alloc_pages(gfp: Gfp, order: usize) -> Option<Pfn> {
    if order >= super::buddy::MAX_ORDER {
        return None;
    }
    if super::fault_inject::should_fail(super::fault_inject::Site::PageAlloc, 1 << order) {
        return None;
    }
    with(|b| b.alloc_pages(gfp, order)).flatten()
}

/// The mem_map entry of `pfn`, if the allocator manages it.
pub fn page_info(pfn: Pfn) -> Option<PageInfo> {
    with(|b| b.page(pfn)).flatten()
}

/// Sets the page flags of the allocated block at `pfn` (`PG_slab`).
pub fn set_page_flags(pfn: Pfn, flags: u8) -> Result<(), super::buddy::BuddyError> {
    with(|b| b.set_flags(pfn, flags)).unwrap_or(Err(super::buddy::BuddyError::OutOfRange { pfn }))
}

/// Linux's `__free_pages`.
pub fn free_pages(pfn: Pfn, order: usize) -> Result<(), super::buddy::BuddyError> {
    with(|b| b.free_pages(pfn, order)).unwrap_or(Err(super::buddy::BuddyError::OutOfRange { pfn }))
}

/// Returns the pages of `[start, end)` (physical, page aligned inward) to
/// the allocator: `.init` memory after boot.
pub fn free_reserved_area(start: u64, end: u64) -> u64 {
    let s = start.div_ceil(PAGE_SIZE as u64) as Pfn;
    let e = (end >> PAGE_SHIFT) as Pfn;
    if s >= e {
        return 0;
    }
    with(|b| b.free_range(s, e)).unwrap_or(0)
}

/// Counters for /proc/meminfo and the `Memory:` line, in pages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub totalram: u64,
    pub free: u64,
    pub totalhigh: u64,
    pub freehigh: u64,
}

pub fn counters() -> Counters {
    with(|b| Counters {
        totalram: b.totalram_pages(),
        free: b.nr_free_pages(),
        totalhigh: b.managed_pages_in(ZoneType::HighMem),
        freehigh: b.free_pages_in(ZoneType::HighMem),
    })
    .unwrap_or_default()
}

/// Calls `f` with each zone's free-list counts (/proc/buddyinfo).
pub fn for_each_buddyinfo(f: &mut dyn FnMut(BuddyInfo)) {
    with(|b| b.buddyinfo().for_each(&mut *f));
}
