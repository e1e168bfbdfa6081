//! Editing the live translation tables (target only).
//!
//! The first-level table is Linux's `swapper_pg_dir` at 0xc0004000, built by
//! boot.S. Second-level tables come, for now, from a small static pool in
//! .bss (1 KB each, 1 KB aligned, so their physical address is their linear
//! address minus PAGE_OFFSET - PHYS_OFFSET). Every edit is followed by the
//! barrier + TLB maintenance sequence in `cp15`, and happens under one lock.

use super::fixmap::FixedAddress;
use super::pgtable::{self, L1Entry, Prot};
use crate::arch::armv7::cp15;
use crate::sync::Mutex;
use core::cell::UnsafeCell;
use core::fmt;
use kobold_layout::{
    PAGE_SIZE, SECTION_SHIFT, SECTION_SIZE, SWAPPER_PG_DIR, phys_to_virt, virt_to_phys,
};

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The megabyte is already mapped by a section.
    SectionInTheWay { virt: u32 },
    /// The second-level table pool is exhausted.
    OutOfL2Tables,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::SectionInTheWay { virt } => {
                write!(f, "{virt:#010x} is inside a section mapping")
            }
            MapError::OutOfL2Tables => write!(f, "no free second-level page table"),
        }
    }
}

const L2_POOL_TABLES: usize = 8;

#[repr(C, align(1024))]
struct L2Table([u32; 256]);

struct L2Pool(UnsafeCell<[L2Table; L2_POOL_TABLES]>);
// SAFETY: the pool is only touched under PGTABLE_LOCK.
unsafe impl Sync for L2Pool {}

static L2_POOL: L2Pool = L2Pool(UnsafeCell::new(
    [const { L2Table([0; 256]) }; L2_POOL_TABLES],
));

/// Serialises table edits; holds the state of the L2 table supply.
static PGTABLE_LOCK: Mutex<L2Supply> = Mutex::new(L2Supply {
    pool_used: 0,
    page: 0,
    page_used: 4,
});

/// Where second-level tables come from: the static pool (before the page
/// allocator exists: vector page, fixmap), then 1 KB quarters of lowmem
/// pages from the buddy allocator (Linux also packs its hardware tables
/// into pages).
struct L2Supply {
    pool_used: usize,
    /// Virtual address of the page being carved, and quarters used.
    page: u32,
    page_used: u32,
}

impl L2Supply {
    fn alloc(&mut self) -> Option<*mut u32> {
        if self.pool_used < L2_POOL_TABLES {
            // SAFETY: tables below `pool_used` are in use, the others are
            // free and zero; the caller holds the lock.
            let table = unsafe { (*L2_POOL.0.get())[self.pool_used].0.as_mut_ptr() };
            self.pool_used += 1;
            return Some(table);
        }
        if self.page_used == 4 {
            let pfn = super::page_alloc::alloc_pages(super::buddy::Gfp::KERNEL, 0)?;
            self.page = phys_to_virt(pfn << kobold_layout::PAGE_SHIFT);
            self.page_used = 0;
        }
        let table = (self.page + 1024 * self.page_used) as *mut u32;
        self.page_used += 1;
        // SAFETY: a fresh quarter of a lowmem page owned by this supply.
        unsafe { core::ptr::write_bytes(table, 0, 256) };
        Some(table)
    }
}

fn l1_entry(virt: u32) -> *mut u32 {
    (SWAPPER_PG_DIR as *mut u32).wrapping_add(pgtable::l1_index(virt))
}

/// The first-level descriptor translating `virt`.
pub fn read_l1(virt: u32) -> u32 {
    // SAFETY: swapper_pg_dir is 4096 mapped words from boot.S on, and the
    // index is < 4096.
    unsafe { core::ptr::read_volatile(l1_entry(virt)) }
}

/// The second-level descriptor translating `virt`, when its first-level
/// entry is a table in lowmem.
pub fn read_l2(virt: u32) -> Option<u32> {
    match pgtable::decode_l1(read_l1(virt)) {
        L1Entry::Table { l2_phys, .. } => {
            let table = phys_to_virt(l2_phys) as *const u32;
            // SAFETY: every table Kobold installs lives in lowmem, which is
            // linearly mapped; the index is < 256.
            Some(unsafe { core::ptr::read_volatile(table.add(pgtable::l2_index(virt))) })
        }
        _ => None,
    }
}

/// Writes a first-level entry and makes it visible.
///
/// # Safety
/// The new entry must not unmap anything in use (the kernel, its stack, a
/// table) nor alias memory with conflicting attributes.
pub unsafe fn set_l1(virt: u32, desc: u32) {
    let _guard = PGTABLE_LOCK.lock();
    // SAFETY: in bounds as in `read_l1`; the caller vouches for the value.
    unsafe { core::ptr::write_volatile(l1_entry(virt), desc) };
    cp15::flush_tlb_kernel_page(virt);
}

/// Maps whole megabytes of lowmem `[phys_start, phys_end)` with sections at
/// their linear addresses: RWX where the kernel image is (Linux's
/// `map_lowmem`: `kernel_x_start..kernel_x_end`), RW + XN elsewhere.
///
/// # Safety
/// The range must be RAM, and the kernel image must stay covered RWX.
pub unsafe fn map_lowmem(phys_start: u32, phys_end: u32, kernel_x: (u32, u32)) {
    let _guard = PGTABLE_LOCK.lock();
    // The whole sections inside the range, by section number (32-bit
    // arithmetic: lowmem ends below 4 GiB, and this cannot overflow).
    for section in phys_start.div_ceil(SECTION_SIZE)..phys_end / SECTION_SIZE {
        let phys = section << SECTION_SHIFT;
        let in_kernel = phys >= kernel_x.0 && phys < kernel_x.1;
        let prot = if in_kernel {
            Prot::KERNEL_RWX
        } else {
            Prot::KERNEL_RW
        };
        let virt = phys_to_virt(phys);
        // SAFETY: in bounds as in `read_l1`; RAM mapped at its linear address
        // with the attributes Linux uses.
        unsafe { core::ptr::write_volatile(l1_entry(virt), pgtable::section(phys, prot)) };
    }
    cp15::flush_tlb_all();
}

/// Removes the first-level entries for `[virt_start, virt_end)`.
///
/// # Safety
/// Nothing may be using the range.
// Never inlined: boot calls it from three places, and each inlined copy
// was code QEMU translated again (docs/BENCHMARKS.md, "Fifth pass").
#[inline(never)]
pub unsafe fn clear_l1_range(virt_start: u32, virt_end: u32) {
    let _guard = PGTABLE_LOCK.lock();
    let mut v = virt_start & !(SECTION_SIZE - 1);
    while v < virt_end {
        // SAFETY: in bounds as in `read_l1`; the caller guarantees disuse.
        unsafe { core::ptr::write_volatile(l1_entry(v), 0) };
        match v.checked_add(SECTION_SIZE) {
            Some(n) => v = n,
            None => break,
        }
    }
    cp15::flush_tlb_all();
}

/// Maps one 4 KB page, installing a second-level table when needed.
///
/// # Safety
/// As for [`set_l1`]: the mapping must not break what is in use.
pub unsafe fn map_page(virt: u32, phys: u32, prot: Prot) -> Result<(), MapError> {
    let mut used = PGTABLE_LOCK.lock();
    let l1 = l1_entry(virt);
    // SAFETY: in bounds as in `read_l1`.
    let desc = unsafe { core::ptr::read_volatile(l1) };
    let table = match pgtable::decode_l1(desc) {
        L1Entry::Table { l2_phys, .. } => phys_to_virt(l2_phys) as *mut u32,
        L1Entry::Fault => {
            let table = used.alloc().ok_or(MapError::OutOfL2Tables)?;
            let table_phys = virt_to_phys(table as u32);
            // SAFETY: as above; the new table is all faults until written.
            unsafe {
                core::ptr::write_volatile(
                    l1,
                    pgtable::coarse_table(table_phys, pgtable::DOMAIN_KERNEL),
                )
            };
            table
        }
        _ => return Err(MapError::SectionInTheWay { virt }),
    };
    // SAFETY: `table` is a live 256-entry table; index < 256.
    unsafe {
        core::ptr::write_volatile(
            table.add(pgtable::l2_index(virt)),
            pgtable::small_page(phys, prot),
        )
    };
    cp15::flush_tlb_kernel_page(virt);
    Ok(())
}

/// Unmaps one 4 KB page (the second-level table stays).
///
/// # Safety
/// Nothing may be using the page.
pub unsafe fn unmap_page(virt: u32) {
    let _guard = PGTABLE_LOCK.lock();
    if let L1Entry::Table { l2_phys, .. } = pgtable::decode_l1(read_l1(virt)) {
        let table = phys_to_virt(l2_phys) as *mut u32;
        // SAFETY: a live table; index < 256.
        unsafe { core::ptr::write_volatile(table.add(pgtable::l2_index(virt)), 0) };
        cp15::flush_tlb_kernel_page(virt);
    }
}

/// Runs `f` with the physical page holding `phys` mapped at the devmem
/// fixmap slot; `f` gets the virtual address of `phys`.
pub fn with_phys_mapped<R>(phys: u32, prot: Prot, f: impl FnOnce(u32) -> R) -> Result<R, MapError> {
    let slot = FixedAddress::Devmem.virt();
    // SAFETY: the devmem slot is reserved for this function, which is not
    // re-entered (the shell runs one command at a time).
    unsafe { map_page(slot, phys & !0xfff, prot)? };
    let r = f(slot | (phys & 0xfff));
    // SAFETY: as above; `f` has returned.
    unsafe { unmap_page(slot) };
    Ok(r)
}

/// Page permissions of the kernel image after boot (Linux's
/// `mark_rodata_ro` with CONFIG_DEBUG_RODATA): text read-only and
/// executable, rodata read-only and never executable, everything else in
/// the kernel's megabytes (data, bss, freed init, the page tables, the ATAG
/// page) read/write and never executable.
pub fn kernel_page_prot(virt: u32, img: &super::sections::KernelImage) -> Prot {
    if (img.text..img.start_rodata).contains(&virt) {
        Prot::KERNEL_RX
    } else if (img.start_rodata..img.end_rodata).contains(&virt) {
        Prot::KERNEL_RO
    } else {
        Prot::KERNEL_RW
    }
}

/// Remaps the megabytes holding the kernel image with 4 KB pages carrying
/// [`kernel_page_prot`]. Each new table maps exactly what the section
/// mapped, so swapping the first-level entry is safe even for the code
/// doing it; only the permissions change.
///
/// # Safety
/// Call once, after boot no longer needs to write text or run `.init`.
pub unsafe fn protect_kernel_image(img: &super::sections::KernelImage) -> Result<(), MapError> {
    let mut supply = PGTABLE_LOCK.lock();
    let first = img.text & !(SECTION_SIZE - 1);
    let mut mb = first;
    while mb < img.end {
        let table = supply.alloc().ok_or(MapError::OutOfL2Tables)?;
        for i in 0..256u32 {
            let virt = mb + (i << 12);
            let desc = pgtable::small_page(virt_to_phys(virt), kernel_page_prot(virt, img));
            // SAFETY: `table` is a fresh 256-entry table not yet in use.
            unsafe { core::ptr::write_volatile(table.add(i as usize), desc) };
        }
        let l1 = pgtable::coarse_table(virt_to_phys(table as u32), pgtable::DOMAIN_KERNEL);
        // SAFETY: the table maps the same physical pages the section did.
        unsafe { core::ptr::write_volatile(l1_entry(mb), l1) };
        mb += SECTION_SIZE;
    }
    cp15::flush_tlb_all();
    Ok(())
}

/// Maps `[virt, virt + len)` to `[phys, phys + len)` with 4 KB pages
/// (Linux's `ioremap_page_range` / `map_kernel_range_noflush`). On failure
/// the pages mapped so far are unmapped again.
///
/// # Safety
/// As for [`map_page`], for every page of the range.
pub unsafe fn map_range(virt: u32, phys: u32, len: u32, prot: Prot) -> Result<(), MapError> {
    let pages = len.div_ceil(PAGE_SIZE);
    for i in 0..pages {
        // SAFETY: the caller vouches for the whole range.
        if let Err(e) = unsafe { map_page(virt + i * PAGE_SIZE, phys + i * PAGE_SIZE, prot) } {
            // SAFETY: undoing exactly what this call mapped.
            unsafe { unmap_range(virt, i * PAGE_SIZE) };
            return Err(e);
        }
    }
    Ok(())
}

/// Unmaps the 4 KB pages of `[virt, virt + len)` (Linux's
/// `unmap_kernel_range`).
///
/// # Safety
/// Nothing may be using the range.
pub unsafe fn unmap_range(virt: u32, len: u32) {
    for i in 0..len.div_ceil(PAGE_SIZE) {
        // SAFETY: per the contract.
        unsafe { unmap_page(virt + i * PAGE_SIZE) };
    }
}

/// Changes the permissions of the mapped 4 KB pages of `[virt, virt + len)`
/// to `prot`, keeping their physical pages (Linux's `set_memory_ro/rw/x/nx`
/// family). Fails, changing nothing, if any page is not page-mapped.
///
/// # Safety
/// The new permissions must not break a current user of the range.
pub unsafe fn protect_range(virt: u32, len: u32, prot: Prot) -> Result<(), MapError> {
    let _guard = PGTABLE_LOCK.lock();
    let pages = len.div_ceil(PAGE_SIZE);
    // First check every page, then rewrite: all or nothing.
    for i in 0..pages {
        let v = virt + i * PAGE_SIZE;
        match pgtable::decode_l1(read_l1(v)) {
            L1Entry::Table { .. } => {}
            _ => return Err(MapError::SectionInTheWay { virt: v }),
        }
    }
    for i in 0..pages {
        let v = virt + i * PAGE_SIZE;
        if let L1Entry::Table { l2_phys, .. } = pgtable::decode_l1(read_l1(v)) {
            let entry = (phys_to_virt(l2_phys) as *mut u32).wrapping_add(pgtable::l2_index(v));
            // SAFETY: a live second-level table in lowmem; index < 256.
            let old = unsafe { core::ptr::read_volatile(entry) };
            if old & 2 != 0 {
                // SAFETY: same physical page, new permissions.
                unsafe {
                    core::ptr::write_volatile(entry, pgtable::small_page(old & !0xfff, prot))
                };
            }
        }
    }
    cp15::flush_tlb_all();
    Ok(())
}

/// Makes code written to `[start, end)` executable: clean the data cache to
/// the point of unification and invalidate the instruction cache and branch
/// predictors (ARM ARM B2.2.9; Linux's `flush_icache_range`). QEMU keeps no
/// caches, but real hardware needs this after copying module text.
pub fn flush_icache_range(start: u32, end: u32) {
    use aarch32_cpu::register::{Dccmvau, SysRegWrite};
    let mut line = start & !31; // Cortex-A9: 32-byte lines
    while line < end {
        // SAFETY: cleaning a cache line by address has no effect on memory
        // contents; `line` lies in a mapped range by the caller's contract.
        unsafe { <Dccmvau as SysRegWrite>::write_raw(line) };
        line = line.wrapping_add(32);
        if line == 0 {
            break;
        }
    }
    cp15::flush_icache_all();
}
