//! The page allocator: Linux's binary buddy system (mm/page_alloc.c), with
//! the two zones a 32-bit ARM board has.
//!
//! Physical memory is handed out in blocks of 2^order pages, order 0..=10
//! (Linux's `MAX_ORDER` 11: at most 4 MB at once). Each zone keeps one free
//! list per order. Allocating order n takes a block from the smallest
//! non-empty list of order ≥ n and splits it, putting the unused halves on
//! the lower lists. Freeing a block looks at its *buddy* — the block of the
//! same order whose page number differs only in bit `order` — and, if the
//! buddy is free too, merges them and repeats one order up. So free memory
//! always coalesces back into the largest aligned blocks.
//!
//! Zones (include/linux/mmzone.h): **Normal** is lowmem, permanently mapped
//! at PAGE_OFFSET; **HighMem** is RAM above the lowmem limit, which the
//! kernel maps only on demand. `__GFP_HIGHMEM` means "the caller does not
//! need a kernel virtual address", so such requests are served from HighMem
//! first and fall back to Normal; plain `GFP_KERNEL` requests only ever get
//! Normal pages.
//!
//! The per-page metadata is Linux's `mem_map` (one `struct page` per page
//! frame), here a 12-byte [`PageInfo`]; the free lists are intrusive
//! doubly-linked lists threaded through it, so removing a buddy from its list
//! while merging is O(1). The allocator never touches the pages themselves —
//! only their metadata — so it works for highmem pages, which have no kernel
//! mapping.
//!
//! # Deferred `mem_map` initialisation
//!
//! Linux's `CONFIG_DEFERRED_STRUCT_PAGE_INIT` initialises only part of
//! `mem_map` at boot and the rest later (`deferred_init_memmap`, and
//! `deferred_grow_zone` on demand). Kobold defers the same way, on demand:
//! the boot path ([`Buddy::from_reserved_deferred`]) may leave unwritten the
//! *tail* entries (all but the first page's) of max-order blocks that are
//! free as a whole, recording them in a [`DeferredTails`] bitmap. Such a
//! block only ever sits whole on the max-order list, or is handed out whole,
//! so nothing writes its tails; before anything could — when the block is
//! first split by [`Buddy::alloc_from`], or freed into in pieces — its tails
//! are written as reserved (`Buddy::init_tails`), and every reader of a
//! page's entry ([`Buddy::page`], [`Buddy::free_pages`],
//! [`Buddy::set_flags`]) sees a pending tail as the reserved entry the
//! eager fill would have written. The free lists, the counts, `/proc/meminfo`
//! and `/proc/buddyinfo` are the same either way, and so is every block
//! handed out (host test `deferred_tails_behave_as_the_eager_fill`). At
//! -m 256 this skips 64 of the boot's 65,536 entry writes in every 1,024
//! (docs/BENCHMARKS.md, "The physical floor").

use core::fmt;

/// Orders 0..=10, as Linux's `MAX_ORDER` 11.
pub const MAX_ORDER: usize = 11;
const NIL: u32 = u32::MAX;

/// A page frame number: physical address >> 12.
pub type Pfn = u32;

/// What a page frame currently is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PageState {
    /// Not managed (boot reservation, kernel image, hole).
    Reserved = 0,
    /// The first page of a free block on a free list.
    Free = 1,
    /// The first page of an allocated block.
    Allocated = 2,
    /// Any other page inside a free or allocated block.
    Tail = 3,
}

impl PageState {
    /// The state stored as `v` (anything unknown reads as reserved).
    const fn from_u8(v: u8) -> PageState {
        match v {
            1 => PageState::Free,
            2 => PageState::Allocated,
            3 => PageState::Tail,
            _ => PageState::Reserved,
        }
    }
}

/// Linux's `struct page`, reduced to what the buddy system needs.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct PageInfo {
    next: u32,
    prev: u32,
    /// A [`PageState`] as its `u8` value: entries are read from RAM that
    /// may not have been written yet (see the module docs), so every bit
    /// pattern must be a valid `PageInfo`.
    state: u8,
    order: u8,
    /// Linux's page flags, the one Kobold needs: [`PG_SLAB`].
    flags: u8,
    _pad: u8,
}

/// Linux's `PG_slab`: the block is a heap region (set by its owner on the
/// first page of an allocated block, cleared when the block is freed).
pub const PG_SLAB: u8 = 1;
/// Linux's `PG_head` of a compound page: the block is a large kmalloc
/// (`kmalloc_large` allocates with `__GFP_COMP`), so `kfree` may free it.
pub const PG_HEAD: u8 = 2;

impl PageInfo {
    /// A reserved page, the state of every page before bootmem is freed.
    pub const RESERVED: PageInfo = PageInfo {
        next: NIL,
        prev: NIL,
        state: PageState::Reserved as u8,
        order: 0,
        flags: 0,
        _pad: 0,
    };

    pub fn state(&self) -> PageState {
        PageState::from_u8(self.state)
    }

    /// The block's order (meaningful on the first page of a block).
    pub fn order(&self) -> usize {
        self.order as usize
    }

    pub fn flags(&self) -> u8 {
        self.flags
    }
}

/// The zones, in Linux's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneType {
    Normal = 0,
    HighMem = 1,
}

impl ZoneType {
    pub const ALL: [ZoneType; 2] = [ZoneType::Normal, ZoneType::HighMem];

    pub fn name(self) -> &'static str {
        match self {
            ZoneType::Normal => "Normal",
            ZoneType::HighMem => "HighMem",
        }
    }
}

/// Allocation flags (the subset of gfp_t Kobold uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gfp(pub u32);

impl Gfp {
    /// Linux's `__GFP_HIGHMEM`.
    pub const HIGHMEM: Gfp = Gfp(0x02);
    /// Linux's `__GFP_ZERO` (zeroing is done by the caller that maps the page).
    pub const ZERO: Gfp = Gfp(0x8000);
    /// `GFP_KERNEL`: may use Normal pages only.
    pub const KERNEL: Gfp = Gfp(0x00d0);

    pub const fn union(self, other: Gfp) -> Gfp {
        Gfp(self.0 | other.0)
    }

    pub const fn contains(self, other: Gfp) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Why a free was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuddyError {
    /// The page is outside every zone.
    OutOfRange { pfn: Pfn },
    /// The page is not the start of an allocated block of that order
    /// (double free, wrong order, or a reserved page).
    NotAllocated { pfn: Pfn, order: usize },
    /// Order above MAX_ORDER - 1.
    BadOrder { order: usize },
}

impl fmt::Display for BuddyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuddyError::OutOfRange { pfn } => {
                write!(f, "page frame {pfn:#x} is outside every zone")
            }
            BuddyError::NotAllocated { pfn, order } => {
                write!(
                    f,
                    "page frame {pfn:#x} is not an allocated order-{order} block"
                )
            }
            BuddyError::BadOrder { order } => write!(f, "order {order} is above {}", MAX_ORDER - 1),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Zone {
    start: Pfn,
    end: Pfn,
    heads: [u32; MAX_ORDER],
    nr_free: [u32; MAX_ORDER],
    /// Page counts are 32-bit, Linux's `unsigned long` on ARM (a zone
    /// holds at most 2^32 page frames, `Pfn`'s range). 64-bit counts cost
    /// a 64-bit shift of `1 << order` at each update, code QEMU
    /// translated at boot for nothing (docs/BENCHMARKS.md).
    free_pages: u32,
    managed_pages: u32,
}

impl Zone {
    const fn new(start: Pfn, end: Pfn) -> Zone {
        Zone {
            start,
            end,
            heads: [NIL; MAX_ORDER],
            nr_free: [0; MAX_ORDER],
            free_pages: 0,
            managed_pages: 0,
        }
    }

    fn contains(&self, pfn: Pfn) -> bool {
        self.start <= pfn && pfn < self.end
    }
}

/// Free-list counts of one zone: Linux's /proc/buddyinfo line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuddyInfo {
    pub zone: ZoneType,
    pub nr_free: [u32; MAX_ORDER],
}

impl fmt::Display for BuddyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // mm/vmstat.c frag_show_print: "Node %d, zone %8s " + "%6lu " per order.
        write!(f, "Node 0, zone {:>8} ", self.zone.name())?;
        for n in self.nr_free {
            write!(f, "{n:6} ")?;
        }
        Ok(())
    }
}

/// Pages in a max-order block.
pub const BLOCK_PAGES: Pfn = 1 << (MAX_ORDER - 1);
/// Max-order blocks [`DeferredTails`] can record: 4 GB of RAM (blocks past
/// it are always initialised at boot).
const DEFERRED_BLOCKS: usize = 1024;

/// The max-order blocks whose tail entries have not been written yet (see
/// the module docs), by block number counted from the block holding the
/// mem_map's first page frame.
#[derive(Clone, Copy, Debug)]
pub struct DeferredTails {
    bits: [u32; DEFERRED_BLOCKS / 32],
}

impl DeferredTails {
    /// No block deferred.
    pub const NONE: DeferredTails = DeferredTails {
        bits: [0; DEFERRED_BLOCKS / 32],
    };

    /// The block number of `pfn` in a mem_map starting at `base`.
    fn block(base: Pfn, pfn: Pfn) -> usize {
        ((pfn / BLOCK_PAGES) - (base / BLOCK_PAGES)) as usize
    }

    fn get(&self, n: usize) -> bool {
        self.bits
            .get(n / 32)
            .is_some_and(|w| w & (1 << (n % 32)) != 0)
    }

    fn clear(&mut self, n: usize) {
        if let Some(w) = self.bits.get_mut(n / 32) {
            *w &= !(1 << (n % 32));
        }
    }

    /// The max-order blocks that lie wholly inside `[start, end)` and
    /// inside one of `zones` (those `Buddy::free_range` frees whole), for a
    /// mem_map starting at `base`. Returns how many were added.
    pub fn add_free_range(
        &mut self,
        base: Pfn,
        zones: [(Pfn, Pfn); 2],
        start: Pfn,
        end: Pfn,
    ) -> usize {
        let mut added = 0;
        let mut blk = start.max(base).next_multiple_of(BLOCK_PAGES);
        while blk.checked_add(BLOCK_PAGES).is_some_and(|e| e <= end) {
            let inside = zones
                .iter()
                .any(|&(s, e)| s <= blk && blk + BLOCK_PAGES <= e);
            let n = Self::block(base, blk);
            if inside && n < DEFERRED_BLOCKS {
                self.bits[n / 32] |= 1 << (n % 32);
                added += 1;
            }
            blk += BLOCK_PAGES;
        }
        added
    }

    /// Whether the entry of `pfn` (in a mem_map starting at `base`) is a
    /// tail the boot path left unwritten.
    pub fn is_pending(&self, base: Pfn, pfn: Pfn) -> bool {
        pfn >= base && self.get(Self::block(base, pfn))
    }
}

/// The buddy allocator over `pages` (the mem_map), whose first entry
/// describes page frame `base`.
pub struct Buddy<'a> {
    pages: &'a mut [PageInfo],
    base: Pfn,
    zones: [Zone; 2],
    deferred: DeferredTails,
}

impl<'a> Buddy<'a> {
    /// A buddy system with every page reserved. `normal` and `highmem` are
    /// the zones' page-frame ranges `[start, end)`; both must lie inside
    /// `[base, base + pages.len())` (an empty range means no such zone).
    pub fn new(
        pages: &'a mut [PageInfo],
        base: Pfn,
        normal: (Pfn, Pfn),
        highmem: (Pfn, Pfn),
    ) -> Self {
        for p in pages.iter_mut() {
            *p = PageInfo::RESERVED;
        }
        Self::from_reserved(pages, base, normal, highmem)
    }

    /// [`Buddy::new`] over a mem_map whose every entry the caller has
    /// already set to [`PageInfo::RESERVED`] (the boot path fills it once
    /// as it creates it; clearing it again here would walk every page
    /// frame a second time, a third of the kernel's boot instructions).
    /// Entries that are not reserved are not wrong, only unexpected:
    /// [`Buddy::check_invariants`] would report them.
    pub fn from_reserved(
        pages: &'a mut [PageInfo],
        base: Pfn,
        normal: (Pfn, Pfn),
        highmem: (Pfn, Pfn),
    ) -> Self {
        Self::from_reserved_deferred(pages, base, normal, highmem, DeferredTails::NONE)
    }

    /// [`Buddy::from_reserved`] over a mem_map whose entries are reserved
    /// except the tails of the max-order blocks in `deferred`, which may
    /// hold anything; the caller frees each of those blocks whole with
    /// [`Buddy::free_range`] before allocating (module docs, "Deferred
    /// `mem_map` initialisation"). The head entry of each deferred block
    /// must be reserved, as every other entry.
    pub fn from_reserved_deferred(
        pages: &'a mut [PageInfo],
        base: Pfn,
        normal: (Pfn, Pfn),
        highmem: (Pfn, Pfn),
        deferred: DeferredTails,
    ) -> Self {
        let last = base + pages.len() as u32;
        for (s, e) in [normal, highmem] {
            assert!(s >= base && e <= last && s <= e, "zone outside the mem_map");
        }
        Buddy {
            pages,
            base,
            zones: [
                Zone::new(normal.0, normal.1),
                Zone::new(highmem.0, highmem.1),
            ],
            deferred,
        }
    }

    /// Whether `pfn`'s entry is a tail the boot path has not written yet.
    fn pending_tail(&self, pfn: Pfn) -> bool {
        !pfn.is_multiple_of(BLOCK_PAGES) && self.deferred.is_pending(self.base, pfn)
    }

    /// Writes the tail entries of `pfn`'s max-order block as reserved if
    /// the boot path deferred them (Linux's `deferred_grow_zone`, one block
    /// at a time); nothing otherwise.
    fn init_tails(&mut self, pfn: Pfn) {
        if pfn < self.base {
            return;
        }
        let n = DeferredTails::block(self.base, pfn);
        if !self.deferred.get(n) {
            return;
        }
        let head = pfn - pfn % BLOCK_PAGES;
        let from = self.idx(head) + 1;
        let to = (self.idx(head) + BLOCK_PAGES as usize).min(self.pages.len());
        if let Some(tails) = self.pages.get_mut(from..to) {
            tails.fill(PageInfo::RESERVED);
        }
        self.deferred.clear(n);
    }

    fn idx(&self, pfn: Pfn) -> usize {
        (pfn - self.base) as usize
    }

    fn zone_of(&self, pfn: Pfn) -> Option<usize> {
        self.zones.iter().position(|z| z.contains(pfn))
    }

    // Never inlined: `free_block` and `alloc_from` both push, and a copy
    // in each was code QEMU translated twice at boot (docs/BENCHMARKS.md).
    #[inline(never)]
    fn push(&mut self, z: usize, pfn: Pfn, order: usize) {
        let head = self.zones[z].heads[order];
        let i = self.idx(pfn);
        self.pages[i] = PageInfo {
            next: head,
            prev: NIL,
            state: PageState::Free as u8,
            order: order as u8,
            flags: 0,
            _pad: 0,
        };
        if head != NIL {
            let h = self.idx(head);
            self.pages[h].prev = pfn;
        }
        self.zones[z].heads[order] = pfn;
        self.zones[z].nr_free[order] += 1;
        self.zones[z].free_pages += 1 << order;
    }

    fn unlink(&mut self, z: usize, pfn: Pfn, order: usize) {
        let i = self.idx(pfn);
        let PageInfo { next, prev, .. } = self.pages[i];
        if prev == NIL {
            self.zones[z].heads[order] = next;
        } else {
            let p = self.idx(prev);
            self.pages[p].next = next;
        }
        if next != NIL {
            let n = self.idx(next);
            self.pages[n].prev = prev;
        }
        self.pages[i].state = PageState::Tail as u8;
        self.zones[z].nr_free[order] -= 1;
        self.zones[z].free_pages -= 1 << order;
    }

    /// Puts `[pfn, pfn + 2^order)` on the free lists, merging with free
    /// buddies (`__free_one_page`).
    fn free_block(&mut self, z: usize, mut pfn: Pfn, mut order: usize) {
        while order < MAX_ORDER - 1 {
            let buddy = pfn ^ (1 << order);
            let zone = &self.zones[z];
            if !zone.contains(buddy) || buddy + (1 << order) > zone.end {
                break;
            }
            let b = self.pages[self.idx(buddy)];
            if b.state() != PageState::Free || b.order as usize != order {
                break;
            }
            self.unlink(z, buddy, order);
            pfn = pfn.min(buddy);
            order += 1;
        }
        self.push(z, pfn, order);
    }

    /// Frees every page of `[start, end)` that lies in a zone, in the largest
    /// aligned blocks that fit (`__free_pages_bootmem`). Used once to hand
    /// memblock's free memory over, and for `.init` memory.
    pub fn free_range(&mut self, start: Pfn, end: Pfn) -> u64 {
        let mut freed: u32 = 0;
        let mut pfn = start;
        while pfn < end {
            let Some(z) = self.zone_of(pfn) else {
                pfn += 1;
                continue;
            };
            let limit = end.min(self.zones[z].end);
            let mut order = (pfn.trailing_zeros() as usize).min(MAX_ORDER - 1);
            while pfn + (1 << order) > limit {
                order -= 1;
            }
            self.zones[z].managed_pages += 1 << order;
            if order < MAX_ORDER - 1 {
                // A piece of a deferred block: its buddies' entries are read.
                self.init_tails(pfn);
            }
            self.free_block(z, pfn, order);
            freed += 1 << order;
            pfn += 1 << order;
        }
        u64::from(freed)
    }

    /// Takes a block of 2^order pages from `zone`.
    pub fn alloc_from(&mut self, zone: ZoneType, order: usize) -> Option<Pfn> {
        if order >= MAX_ORDER {
            return None;
        }
        let z = zone as usize;
        let found = (order..MAX_ORDER).find(|&o| self.zones[z].heads[o] != NIL)?;
        let pfn = self.zones[z].heads[found];
        self.unlink(z, pfn, found);
        if found > order {
            // The split writes entries inside the block.
            self.init_tails(pfn);
        }
        // Split down: the upper half of each split goes back on a list.
        let mut o = found;
        while o > order {
            o -= 1;
            self.push(z, pfn + (1 << o), o);
        }
        let i = self.idx(pfn);
        self.pages[i].state = PageState::Allocated as u8;
        self.pages[i].order = order as u8;
        self.pages[i].flags = 0;
        Some(pfn)
    }

    /// Linux's `alloc_pages(gfp, order)`: HighMem first when `__GFP_HIGHMEM`
    /// allows it, else (or when HighMem is empty) Normal.
    pub fn alloc_pages(&mut self, gfp: Gfp, order: usize) -> Option<Pfn> {
        if gfp.contains(Gfp::HIGHMEM)
            && let Some(pfn) = self.alloc_from(ZoneType::HighMem, order)
        {
            return Some(pfn);
        }
        self.alloc_from(ZoneType::Normal, order)
    }

    /// Linux's `__free_pages(page, order)`, refusing what was not allocated.
    pub fn free_pages(&mut self, pfn: Pfn, order: usize) -> Result<(), BuddyError> {
        if order >= MAX_ORDER {
            return Err(BuddyError::BadOrder { order });
        }
        let z = self.zone_of(pfn).ok_or(BuddyError::OutOfRange { pfn })?;
        if self.pending_tail(pfn) {
            return Err(BuddyError::NotAllocated { pfn, order });
        }
        let p = self.pages[self.idx(pfn)];
        if p.state() != PageState::Allocated || p.order as usize != order {
            return Err(BuddyError::NotAllocated { pfn, order });
        }
        self.pages[self.idx(pfn)].flags = 0;
        self.free_block(z, pfn, order);
        Ok(())
    }

    /// The mem_map entry of `pfn` (Linux's `pfn_to_page`), if managed.
    pub fn page(&self, pfn: Pfn) -> Option<PageInfo> {
        self.zone_of(pfn)?;
        if self.pending_tail(pfn) {
            return Some(PageInfo::RESERVED);
        }
        self.pages
            .get(pfn.checked_sub(self.base)? as usize)
            .copied()
    }

    /// Sets the flags of the allocated block starting at `pfn`
    /// (`__SetPageSlab`); refused for anything else.
    pub fn set_flags(&mut self, pfn: Pfn, flags: u8) -> Result<(), BuddyError> {
        self.zone_of(pfn).ok_or(BuddyError::OutOfRange { pfn })?;
        let i = self.idx(pfn);
        if self.pending_tail(pfn) || self.pages[i].state() != PageState::Allocated {
            return Err(BuddyError::NotAllocated { pfn, order: 0 });
        }
        self.pages[i].flags = flags;
        Ok(())
    }

    /// Free pages in one zone.
    pub fn free_pages_in(&self, zone: ZoneType) -> u64 {
        u64::from(self.zones[zone as usize].free_pages)
    }

    /// Pages the zone manages (freed to it at some point).
    pub fn managed_pages_in(&self, zone: ZoneType) -> u64 {
        u64::from(self.zones[zone as usize].managed_pages)
    }

    /// Linux's `nr_free_pages()`.
    pub fn nr_free_pages(&self) -> u64 {
        self.zones.iter().map(|z| u64::from(z.free_pages)).sum()
    }

    /// Linux's `totalram_pages`.
    pub fn totalram_pages(&self) -> u64 {
        self.zones.iter().map(|z| u64::from(z.managed_pages)).sum()
    }

    /// Which zone a page frame belongs to.
    pub fn zone_type_of(&self, pfn: Pfn) -> Option<ZoneType> {
        self.zone_of(pfn).map(|z| ZoneType::ALL[z])
    }

    /// The free-list counts of every non-empty zone.
    pub fn buddyinfo(&self) -> impl Iterator<Item = BuddyInfo> + '_ {
        ZoneType::ALL
            .into_iter()
            .zip(self.zones.iter())
            .filter(|(_, z)| z.end > z.start)
            .map(|(zone, z)| BuddyInfo {
                zone,
                nr_free: z.nr_free,
            })
    }

    /// Checks that the lists, counts and page states agree (tests).
    pub fn check_invariants(&self) {
        for (zi, z) in self.zones.iter().enumerate() {
            let mut total = 0u64;
            for order in 0..MAX_ORDER {
                let mut n = 0;
                let mut prev = NIL;
                let mut cur = z.heads[order];
                while cur != NIL {
                    let p = self.pages[self.idx(cur)];
                    assert_eq!(
                        p.state(),
                        PageState::Free,
                        "zone {zi} order {order} pfn {cur:#x}"
                    );
                    assert_eq!(p.order as usize, order);
                    assert_eq!(p.prev, prev);
                    assert_eq!(cur % (1 << order), 0, "misaligned free block");
                    assert!(cur >= z.start && cur + (1 << order) <= z.end);
                    n += 1;
                    prev = cur;
                    cur = p.next;
                }
                assert_eq!(n, z.nr_free[order]);
                total += (n as u64) << order;
            }
            assert_eq!(total, u64::from(z.free_pages));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn splits_and_merges() {
        let mut map = vec![PageInfo::RESERVED; 2048];
        let mut b = Buddy::new(&mut map, 0x60000, (0x60000, 0x60800), (0x60800, 0x60800));
        assert_eq!(b.free_range(0x60000, 0x60800), 2048);
        assert_eq!(
            b.buddyinfo().next().unwrap().nr_free,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
        );
        // Lists are LIFO, as Linux's: the last block freed (0x60400) goes first.
        let p = b.alloc_pages(Gfp::KERNEL, 0).unwrap();
        assert_eq!(p, 0x60400);
        assert_eq!(
            b.buddyinfo().next().unwrap().nr_free,
            [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        );
        assert_eq!(b.nr_free_pages(), 2047);
        b.free_pages(p, 0).unwrap();
        assert_eq!(b.buddyinfo().next().unwrap().nr_free[10], 2);
        b.check_invariants();
    }

    #[test]
    fn from_reserved_is_new_without_the_reset() {
        let mut a = vec![PageInfo::RESERVED; 300];
        let mut b = vec![PageInfo::RESERVED; 300];
        let mut x = Buddy::new(&mut a, 100, (100, 350), (350, 400));
        let mut y = Buddy::from_reserved(&mut b, 100, (100, 350), (350, 400));
        assert_eq!(x.free_range(101, 400), y.free_range(101, 400));
        assert_eq!(x.nr_free_pages(), y.nr_free_pages());
        assert_eq!(x.alloc_pages(Gfp::KERNEL, 3), y.alloc_pages(Gfp::KERNEL, 3));
        y.check_invariants();
    }

    #[test]
    fn refuses_bad_frees() {
        let mut map = vec![PageInfo::RESERVED; 64];
        let mut b = Buddy::new(&mut map, 100, (100, 164), (164, 164));
        b.free_range(104, 164); // 100..104 stay reserved
        let p = b.alloc_pages(Gfp::KERNEL, 2).unwrap();
        assert_eq!(
            b.free_pages(p, 1),
            Err(BuddyError::NotAllocated { pfn: p, order: 1 })
        );
        b.free_pages(p, 2).unwrap();
        assert_eq!(
            b.free_pages(p, 2),
            Err(BuddyError::NotAllocated { pfn: p, order: 2 })
        );
        assert_eq!(
            b.free_pages(100, 0),
            Err(BuddyError::NotAllocated { pfn: 100, order: 0 })
        );
        assert_eq!(
            b.free_pages(5000, 0),
            Err(BuddyError::OutOfRange { pfn: 5000 })
        );
        assert_eq!(b.free_pages(p, 11), Err(BuddyError::BadOrder { order: 11 }));
        assert_eq!(b.alloc_pages(Gfp::KERNEL, 11), None);
        b.check_invariants();
    }

    #[test]
    fn page_flags_live_with_the_block() {
        let mut map = vec![PageInfo::RESERVED; 64];
        let mut b = Buddy::new(&mut map, 0, (0, 64), (64, 64));
        b.free_range(0, 64);
        let p = b.alloc_pages(Gfp::KERNEL, 4).unwrap();
        assert_eq!(b.page(p).unwrap().flags(), 0);
        assert_eq!(b.page(p).unwrap().order(), 4);
        b.set_flags(p, PG_SLAB).unwrap();
        assert_eq!(b.page(p).unwrap().flags(), PG_SLAB);
        assert_ne!(b.page(p + 1).unwrap().state(), PageState::Allocated);
        // Only the first page of an allocated block takes flags.
        assert!(b.set_flags(p + 1, PG_HEAD).is_err());
        assert!(b.set_flags(200, PG_HEAD).is_err());
        assert!(b.page(200).is_none());
        b.free_pages(p, 4).unwrap();
        let q = b.alloc_pages(Gfp::KERNEL, 4).unwrap();
        assert_eq!(q, p);
        assert_eq!(b.page(q).unwrap().flags(), 0, "freeing clears the flags");
        b.check_invariants();
    }

    #[test]
    fn highmem_first_then_normal() {
        let mut map = vec![PageInfo::RESERVED; 32];
        let mut b = Buddy::new(&mut map, 0, (0, 16), (16, 32));
        b.free_range(0, 32);
        assert_eq!(b.managed_pages_in(ZoneType::HighMem), 16);
        let p = b.alloc_pages(Gfp::KERNEL, 0).unwrap();
        assert_eq!(b.zone_type_of(p), Some(ZoneType::Normal));
        let hm = Gfp::KERNEL.union(Gfp::HIGHMEM);
        for _ in 0..16 {
            let p = b.alloc_pages(hm, 0).unwrap();
            assert_eq!(b.zone_type_of(p), Some(ZoneType::HighMem));
        }
        // HighMem is empty now: fall back to Normal.
        let p = b.alloc_pages(hm, 0).unwrap();
        assert_eq!(b.zone_type_of(p), Some(ZoneType::Normal));
        // GFP_KERNEL never gets HighMem.
        while let Some(p) = b.alloc_pages(Gfp::KERNEL, 0) {
            assert_eq!(b.zone_type_of(p), Some(ZoneType::Normal));
        }
        assert_eq!(b.nr_free_pages(), 0);
    }

    #[test]
    fn buddyinfo_format() {
        let info = BuddyInfo {
            zone: ZoneType::Normal,
            nr_free: [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 190],
        };
        assert_eq!(
            info.to_string(),
            "Node 0, zone   Normal      3      2      1      0      0      0      0      0      0      0    190 "
        );
    }

    /// Both buddies give the same answers for every page and count.
    fn same(x: &Buddy<'_>, y: &Buddy<'_>, base: Pfn, end: Pfn) {
        for pfn in base - 1..end + 1 {
            let (a, b) = (x.page(pfn), y.page(pfn));
            let key = |p: PageInfo| (p.state(), p.order(), p.flags());
            assert_eq!(a.map(key), b.map(key), "pfn {pfn:#x}");
        }
        assert_eq!(x.nr_free_pages(), y.nr_free_pages());
        assert_eq!(
            x.buddyinfo().collect::<Vec<_>>(),
            y.buddyinfo().collect::<Vec<_>>()
        );
    }

    /// A mem_map whose deferred tails hold garbage behaves exactly as the
    /// eagerly filled one: the same blocks handed out, the same entries
    /// read, the same refusals, the same counts.
    #[test]
    fn deferred_tails_behave_as_the_eager_fill() {
        let garbage = PageInfo {
            next: 0x1234,
            prev: 0x60001,
            state: PageState::Allocated as u8,
            order: 0,
            flags: 0xff,
            _pad: 0x5a,
        };
        for seed in 1..=10u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            // Three max-order blocks and a partial one, a reserved hole in
            // the first, over two zones split inside the last full block.
            let (base, lo_end, hi_end) = (0x60000, 0x60b00, 0x60d00);
            let zones = [(base, lo_end), (lo_end, hi_end)];
            let free = [(base + 3, 0x60010), (0x60020, hi_end)];
            let mut eager_map = vec![PageInfo::RESERVED; (hi_end - base) as usize];
            let mut lazy_map = vec![garbage; (hi_end - base) as usize];
            let mut deferred = DeferredTails::NONE;
            let mut n = 0;
            for (s, e) in free {
                n += deferred.add_free_range(base, zones, s, e);
            }
            assert_eq!(n, 1, "only 0x60400..0x60800 is free whole in one zone");
            for (i, e) in lazy_map.iter_mut().enumerate() {
                let pfn = base + i as Pfn;
                if pfn.is_multiple_of(BLOCK_PAGES) || !deferred.is_pending(base, pfn) {
                    *e = PageInfo::RESERVED;
                }
            }
            let mut x = Buddy::new(&mut eager_map, base, zones[0], zones[1]);
            let mut y =
                Buddy::from_reserved_deferred(&mut lazy_map, base, zones[0], zones[1], deferred);
            for (s, e) in free {
                assert_eq!(x.free_range(s, e), y.free_range(s, e));
            }
            same(&x, &y, base, hi_end);
            let mut live: Vec<(Pfn, usize)> = Vec::new();
            for _ in 0..400 {
                let r = rng.next();
                if live.is_empty() || !r.is_multiple_of(3) {
                    let order = (rng.next() % 11) as usize;
                    let gfp = if r.is_multiple_of(2) {
                        Gfp::KERNEL
                    } else {
                        Gfp::KERNEL.union(Gfp::HIGHMEM)
                    };
                    let p = x.alloc_pages(gfp, order);
                    assert_eq!(p, y.alloc_pages(gfp, order));
                    if let Some(p) = p {
                        assert_eq!(x.set_flags(p, PG_SLAB), y.set_flags(p, PG_SLAB));
                        live.push((p, order));
                    }
                } else {
                    let i = (rng.next() as usize) % live.len();
                    let (p, order) = live.swap_remove(i);
                    // A wrong free first: refused the same way by both.
                    let q = p + (rng.next() % (1 << order)) as Pfn + 1;
                    assert_eq!(x.free_pages(q, 0), y.free_pages(q, 0));
                    assert_eq!(x.set_flags(q, PG_HEAD), y.set_flags(q, PG_HEAD));
                    assert_eq!(x.free_pages(p, order), y.free_pages(p, order));
                }
                same(&x, &y, base, hi_end);
            }
            y.check_invariants();
        }
    }

    /// Random alloc/free against a model of allocated blocks: no overlap,
    /// blocks aligned to their order, the right zone, and everything
    /// coalesces back to the starting free lists.
    #[test]
    fn random_sequences_against_a_model() {
        for seed in 1..=20u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            // An unaligned range with a hole, over two zones.
            let (base, lo_end, hi_end) = (0x60003, 0x60900, 0x60c00);
            let mut map = vec![PageInfo::RESERVED; (hi_end - base) as usize];
            let mut b = Buddy::new(&mut map, base, (base, lo_end), (lo_end, hi_end));
            b.free_range(base, 0x60400);
            b.free_range(0x60410, hi_end);
            let start_info: Vec<_> = b.buddyinfo().collect();
            let start_free = b.nr_free_pages();
            let mut live: Vec<(Pfn, usize)> = Vec::new();
            let mut owned = std::collections::HashSet::new();
            for _ in 0..3000 {
                if live.is_empty() || !rng.next().is_multiple_of(3) {
                    let order = (rng.next() % 6) as usize;
                    let gfp = if rng.next().is_multiple_of(2) {
                        Gfp::KERNEL
                    } else {
                        Gfp::KERNEL.union(Gfp::HIGHMEM)
                    };
                    if let Some(p) = b.alloc_pages(gfp, order) {
                        assert_eq!(p % (1 << order), 0);
                        if gfp == Gfp::KERNEL {
                            assert_eq!(b.zone_type_of(p), Some(ZoneType::Normal));
                        }
                        for q in p..p + (1 << order) {
                            assert!(owned.insert(q), "page {q:#x} handed out twice");
                            assert!(
                                !(0x60400..0x60410).contains(&q),
                                "reserved page {q:#x} handed out"
                            );
                        }
                        live.push((p, order));
                    }
                } else {
                    let i = (rng.next() as usize) % live.len();
                    let (p, order) = live.swap_remove(i);
                    b.free_pages(p, order).unwrap();
                    for q in p..p + (1 << order) {
                        owned.remove(&q);
                    }
                }
                assert_eq!(b.nr_free_pages() + owned.len() as u64, start_free);
            }
            b.check_invariants();
            for (p, order) in live.drain(..) {
                b.free_pages(p, order).unwrap();
            }
            b.check_invariants();
            assert_eq!(b.buddyinfo().collect::<Vec<_>>(), start_info);
        }
    }
}
