//! Boot-time memory bookkeeping, after Linux's memblock (mm/memblock.c).
//!
//! Before any allocator exists the kernel needs two lists: the RAM it has
//! (`memory`, from the ATAGs or the DTB, minus what the lowmem/highmem rule
//! removes) and the parts of it that must never be handed out (`reserved`:
//! the kernel image, swapper_pg_dir, the ATAG page, the DTB, the initrd).
//! Both are sorted, non-overlapping, merged lists of physical ranges held in
//! fixed arrays — no allocation, so it works from the first instruction of
//! Rust. Everything the page allocator will later manage is `memory` minus
//! `reserved`.

use core::fmt;

/// A physical range `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Region {
    pub base: u64,
    pub size: u64,
}

impl Region {
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }
}

/// Why a memblock operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemblockError {
    /// More disjoint ranges than the fixed table holds.
    TableFull { capacity: usize },
}

impl fmt::Display for MemblockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemblockError::TableFull { capacity } => {
                write!(f, "memblock: more than {capacity} regions")
            }
        }
    }
}

/// A sorted, merged set of ranges with a fixed capacity.
#[derive(Clone, Copy, Debug)]
pub struct RegionSet<const N: usize> {
    regions: [Region; N],
    len: usize,
}

impl<const N: usize> Default for RegionSet<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RegionSet<N> {
    pub const fn new() -> Self {
        RegionSet {
            regions: [Region { base: 0, size: 0 }; N],
            len: 0,
        }
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.len]
    }

    /// Total bytes covered.
    pub fn total(&self) -> u64 {
        self.regions().iter().map(|r| r.size).sum()
    }

    /// Adds `[base, base+size)`, merging with neighbours it touches.
    ///
    /// Never inlined: boot adds the RAM in a loop and each reservation
    /// apart, and a copy inlined into the loop was code QEMU translated a
    /// second time (docs/BENCHMARKS.md).
    #[inline(never)]
    pub fn add(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        if size == 0 {
            return Ok(());
        }
        let mut new = Region { base, size };
        // Absorb every region that overlaps or touches the new one.
        let mut i = 0;
        while i < self.len {
            let r = self.regions[i];
            if r.end() >= new.base && r.base <= new.end() {
                let lo = r.base.min(new.base);
                let hi = r.end().max(new.end());
                new = Region {
                    base: lo,
                    size: hi - lo,
                };
                self.remove_index(i);
            } else {
                i += 1;
            }
        }
        if self.len == N {
            return Err(MemblockError::TableFull { capacity: N });
        }
        // Insert it in order, shifting the regions above it up.
        let mut at = self.len;
        while at > 0 && self.regions[at - 1].base > new.base {
            self.regions[at] = self.regions[at - 1];
            at -= 1;
        }
        self.regions[at] = new;
        self.len += 1;
        Ok(())
    }

    /// Removes `[base, base+size)`; a region it splits in two needs one slot.
    pub fn remove(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        let end = base + size;
        let mut i = 0;
        while i < self.len {
            let r = self.regions[i];
            if r.end() <= base || r.base >= end {
                i += 1;
                continue;
            }
            let left = Region {
                base: r.base,
                size: base.saturating_sub(r.base),
            };
            let right_base = end.max(r.base);
            let right = Region {
                base: right_base,
                size: r.end().saturating_sub(right_base),
            };
            self.remove_index(i);
            for part in [right, left] {
                if part.size > 0 {
                    if self.len == N {
                        return Err(MemblockError::TableFull { capacity: N });
                    }
                    self.regions.copy_within(i..self.len, i + 1);
                    self.regions[i] = part;
                    self.len += 1;
                }
            }
            // Skip the parts just inserted: both lie outside the hole.
            i += usize::from(left.size > 0) + usize::from(right.size > 0);
        }
        Ok(())
    }

    /// Whether `addr` lies in the set.
    pub fn contains(&self, addr: u64) -> bool {
        self.regions()
            .iter()
            .any(|r| r.base <= addr && addr < r.end())
    }

    /// Bytes of `[base, base+size)` the set covers.
    pub fn overlap(&self, base: u64, size: u64) -> u64 {
        let end = base + size;
        self.regions()
            .iter()
            .map(|r| r.end().min(end).saturating_sub(r.base.max(base)))
            .sum()
    }

    fn remove_index(&mut self, i: usize) {
        self.regions.copy_within(i + 1..self.len, i);
        self.len -= 1;
    }
}

/// How many disjoint ranges each list holds, the same for both as Linux's
/// `INIT_MEMBLOCK_REGIONS` (128 in 3.18). RAM takes at most nine (eight
/// banks, one split at the lowmem limit); boot reserves at most five
/// (swapper_pg_dir and the kernel, the ATAG page or the DTB, the initrd,
/// `mem_map`).
///
/// One capacity, so `RegionSet`'s methods exist once in the kernel: with
/// two, `add` was compiled, and translated by QEMU at boot, twice
/// (docs/BENCHMARKS.md).
pub const MEMBLOCK_REGIONS: usize = 16;

/// The two lists, as Linux's `struct memblock`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memblock {
    pub memory: RegionSet<MEMBLOCK_REGIONS>,
    pub reserved: RegionSet<MEMBLOCK_REGIONS>,
}

impl Memblock {
    pub const fn new() -> Self {
        Memblock {
            memory: RegionSet::new(),
            reserved: RegionSet::new(),
        }
    }

    /// Reserved bytes that are also RAM (a reservation outside RAM, such as a
    /// DTB in flash, costs no memory).
    pub fn reserved_ram(&self) -> u64 {
        self.reserved
            .regions()
            .iter()
            .map(|r| self.memory.overlap(r.base, r.size))
            .sum()
    }

    /// RAM bytes not reserved in `[base, base+size)`.
    pub fn free_in(&self, base: u64, size: u64) -> u64 {
        let ram = self.memory.overlap(base, size);
        let reserved: u64 = self
            .reserved
            .regions()
            .iter()
            .map(|r| {
                let lo = r.base.max(base);
                let hi = r.end().min(base + size);
                if hi > lo {
                    self.memory.overlap(lo, hi - lo)
                } else {
                    0
                }
            })
            .sum();
        ram - reserved
    }
}

impl Memblock {
    /// Calls `f(base, end)` for every stretch of RAM that is not reserved, in
    /// address order (Linux's `for_each_free_mem_range`).
    ///
    /// Never inlined: `bootmem_init` runs it three times (the `mem_map`
    /// allocation, the deferred tails, the free lists), and each inlined copy
    /// was code QEMU translated again (docs/BENCHMARKS.md, "Fifth pass").
    #[inline(never)]
    pub fn for_each_free_range(&self, f: &mut dyn FnMut(u64, u64)) {
        for m in self.memory.regions() {
            let mut cursor = m.base;
            for r in self.reserved.regions() {
                if r.end() <= cursor || r.base >= m.end() {
                    continue;
                }
                if r.base > cursor {
                    f(cursor, r.base);
                }
                cursor = cursor.max(r.end());
            }
            if cursor < m.end() {
                f(cursor, m.end());
            }
        }
    }

    /// Reserves and returns `size` bytes aligned to `align` from the highest
    /// free RAM below `limit` (Linux's top-down `memblock_alloc_base`), or
    /// `None` when nothing fits.
    pub fn alloc(&mut self, size: u64, align: u64, limit: u64) -> Option<u64> {
        let mut best = None;
        self.for_each_free_range(&mut |base, end| {
            let end = end.min(limit);
            if end < size {
                return;
            }
            let start = (end - size) & !(align - 1);
            if start >= base {
                best = Some(best.map_or(start, |b: u64| b.max(start)));
            }
        });
        let start = best?;
        self.reserved.add(start, size).ok()?;
        Some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_merges_and_sorts() {
        let mut s = RegionSet::<4>::new();
        s.add(0x2000, 0x1000).unwrap();
        s.add(0x0, 0x1000).unwrap();
        s.add(0x1000, 0x1000).unwrap(); // bridges both
        assert_eq!(
            s.regions(),
            &[Region {
                base: 0,
                size: 0x3000
            }]
        );
        s.add(0x8000, 0x1000).unwrap();
        s.add(0x2800, 0x100).unwrap(); // inside
        assert_eq!(s.regions().len(), 2);
        assert_eq!(s.total(), 0x4000);
    }

    #[test]
    fn remove_splits_and_trims() {
        let mut s = RegionSet::<4>::new();
        s.add(0x6000_0000, 0x4000_0000).unwrap();
        s.remove(0x8f80_0000, 0x1080_0000).unwrap(); // truncate the top
        assert_eq!(
            s.regions(),
            &[Region {
                base: 0x6000_0000,
                size: 0x2f80_0000
            }]
        );
        s.remove(0x6100_0000, 0x1000).unwrap(); // a hole
        assert_eq!(s.regions().len(), 2);
        assert!(!s.contains(0x6100_0000));
        assert!(s.contains(0x6100_1000));
        assert!(s.contains(0x6000_0000));
        s.remove(0, u64::MAX / 2).unwrap();
        assert!(s.regions().is_empty());
    }

    #[test]
    fn capacity_is_an_error_not_a_panic() {
        let mut s = RegionSet::<2>::new();
        s.add(0, 1).unwrap();
        s.add(10, 1).unwrap();
        assert_eq!(s.add(20, 1), Err(MemblockError::TableFull { capacity: 2 }));
        let mut t = RegionSet::<1>::new();
        t.add(0, 100).unwrap();
        assert_eq!(
            t.remove(10, 10),
            Err(MemblockError::TableFull { capacity: 1 })
        );
    }

    #[test]
    fn free_and_reserved_accounting() {
        let mut m = Memblock::new();
        m.memory.add(0x6000_0000, 64 << 20).unwrap();
        m.reserved.add(0x6000_4000, 0x4000).unwrap();
        m.reserved.add(0x6000_8000, 0x10_0000).unwrap(); // merges with the table
        m.reserved.add(0x1000_0000, 0x1000).unwrap(); // not RAM
        assert_eq!(m.reserved_ram(), 0x10_4000);
        assert_eq!(m.free_in(0, u64::MAX / 2), (64 << 20) - 0x10_4000);
        assert_eq!(m.free_in(0x6000_0000, 0x8000), 0x4000);
    }

    #[test]
    fn free_ranges_and_top_down_alloc() {
        let mut m = Memblock::new();
        m.memory.add(0x6000_0000, 0x100_0000).unwrap();
        m.reserved.add(0x6000_4000, 0x4000).unwrap();
        m.reserved.add(0x6000_8000, 0x10_0000).unwrap();
        let mut ranges = Vec::new();
        m.for_each_free_range(&mut |b, e| ranges.push((b, e)));
        assert_eq!(
            ranges,
            vec![(0x6000_0000, 0x6000_4000), (0x6010_8000, 0x6100_0000)]
        );
        // Highest fit below the limit, aligned, then reserved.
        assert_eq!(m.alloc(0x3000, 0x1000, 0x6080_0000), Some(0x607f_d000));
        assert_eq!(m.alloc(0x3000, 0x1000, 0x6080_0000), Some(0x607f_a000));
        // Below 0x60005000 only [0x60000000, 0x60004000) is free.
        assert_eq!(m.alloc(0x2000, 0x1000, 0x6000_5000), Some(0x6000_2000));
        assert_eq!(
            m.alloc(0x4000, 0x1000, 0x6000_5000),
            None,
            "2 KB hole left, 16 KB asked"
        );
        assert_eq!(m.alloc(0x2000, 0x1000, 0x6000_5000), Some(0x6000_0000));
        assert_eq!(m.alloc(0x1_0000_0000, 0x1000, u64::MAX), None);
    }
}
