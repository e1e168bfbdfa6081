//! Highmem: giving pages that have no permanent kernel mapping a temporary
//! one (Linux mm/highmem.c and arch/arm/mm/highmem.c).
//!
//! - `kmap(page)` maps a highmem page into the pkmap window, the 2 MB just
//!   below PAGE_OFFSET (0xbfe00000, `LAST_PKMAP` = 512 slots), with a
//!   reference count, and may be nested and held across calls. Lowmem pages
//!   need no mapping: kmap returns their linear address.
//! - `kmap_atomic(page)` uses one of the per-CPU fixmap slots at
//!   0xffc00000, strictly stacked (unmap in reverse order), for short
//!   critical sections.
//!
//! Linux unmaps pkmap slots lazily and flushes the TLB once per wrap of the
//! slot ring; Kobold unmaps a slot as soon as its count drops to zero,
//! which costs one TLB invalidate per kunmap and keeps the window easy to
//! inspect with `pt`.

use kobold_layout::{LAST_PKMAP, PAGE_SHIFT, PKMAP_BASE};

/// Slots kmap_atomic may stack (Linux's KM_TYPE_NR on ARM).
pub const KM_TYPE_NR: usize = 16;

/// pkmap bookkeeping: which page each slot holds and how many users it has.
pub struct PkmapTable {
    slots: [(u32, u32); LAST_PKMAP],
    /// Where the next free-slot search starts (Linux's `last_pkmap_nr`).
    next: usize,
}

impl Default for PkmapTable {
    fn default() -> Self {
        Self::new()
    }
}

/// What `PkmapTable::get` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The page is already mapped at this slot (count raised).
    Existing(usize),
    /// A new slot to map the page at (count is 1).
    New(usize),
}

impl PkmapTable {
    pub const fn new() -> Self {
        PkmapTable {
            slots: [(0, 0); LAST_PKMAP],
            next: 0,
        }
    }

    /// Finds or claims a slot for page frame `pfn`; `None` when all 512
    /// slots are in use (Linux would sleep; Kobold reports -ENOMEM).
    pub fn get(&mut self, pfn: u32) -> Option<Slot> {
        if let Some(i) = self.slots.iter().position(|&(p, c)| c > 0 && p == pfn) {
            self.slots[i].1 += 1;
            return Some(Slot::Existing(i));
        }
        let i = (0..LAST_PKMAP)
            .map(|k| (self.next + k) % LAST_PKMAP)
            .find(|&i| self.slots[i].1 == 0)?;
        self.slots[i] = (pfn, 1);
        self.next = (i + 1) % LAST_PKMAP;
        Some(Slot::New(i))
    }

    /// Drops one reference to the slot holding `pfn`; returns the slot when
    /// it became free (the caller unmaps it), or an error for a page that
    /// is not mapped.
    pub fn put(&mut self, pfn: u32) -> Result<Option<usize>, NotMapped> {
        let i = self
            .slots
            .iter()
            .position(|&(p, c)| c > 0 && p == pfn)
            .ok_or(NotMapped { pfn })?;
        self.slots[i].1 -= 1;
        Ok((self.slots[i].1 == 0).then_some(i))
    }

    /// Slots in use.
    pub fn in_use(&self) -> usize {
        self.slots.iter().filter(|s| s.1 > 0).count()
    }
}

/// `kunmap` of a page that is not in the pkmap window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotMapped {
    pub pfn: u32,
}

/// The virtual address of pkmap slot `i` (`PKMAP_ADDR`).
pub const fn pkmap_addr(i: usize) -> u32 {
    PKMAP_BASE + ((i as u32) << PAGE_SHIFT)
}

#[cfg(target_arch = "arm")]
mod live;
#[cfg(target_arch = "arm")]
pub use live::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_shared_counted_and_reused() {
        let mut t = PkmapTable::new();
        assert_eq!(t.get(0x9_0000), Some(Slot::New(0)));
        assert_eq!(t.get(0x9_0001), Some(Slot::New(1)));
        assert_eq!(t.get(0x9_0000), Some(Slot::Existing(0)));
        assert_eq!(t.put(0x9_0000), Ok(None));
        assert_eq!(t.put(0x9_0000), Ok(Some(0)));
        assert_eq!(
            t.put(0x9_0000),
            Err(NotMapped { pfn: 0x9_0000 }),
            "not mapped any more"
        );
        // The search continues after the last slot handed out.
        assert_eq!(t.get(0x9_0002), Some(Slot::New(2)));
        assert_eq!(t.in_use(), 2);
        assert_eq!(pkmap_addr(0), 0xbfe0_0000);
        assert_eq!(pkmap_addr(511), 0xbfff_f000);
    }

    #[test]
    fn a_full_window_is_an_error() {
        let mut t = PkmapTable::new();
        for i in 0..LAST_PKMAP as u32 {
            assert!(matches!(t.get(0x10_0000 + i), Some(Slot::New(_))));
        }
        assert_eq!(t.get(0x20_0000), None);
        assert_eq!(t.put(0x10_0007), Ok(Some(7)));
        assert_eq!(t.get(0x20_0000), Some(Slot::New(7)));
    }
}
