//! The vm-area list behind `/proc/vmallocinfo`, `vfree` and `vunmap`:
//! every area of both vmap windows, looked up by start address and listed
//! in address order (Linux 3.18 keeps `vmlist`/`vmap_area_list` sorted by
//! address; `s_show` walks it).
//!
//! Kept as one address-sorted vector per window, not one for both: the
//! module window (`MODULES_VADDR`, below `PAGE_OFFSET`) lies below the
//! whole vmalloc window, so in a single sorted vector every module's areas
//! went in front of the boot's `ioremap`s and every other vmalloc area,
//! and each `module_alloc` and its `vfree` moved all of them (~225 guest
//! instructions a move, ~675 per insmod of Debian's libarc4:
//! docs/BENCHMARKS.md, the loader's seventh and eighth passes). A window's
//! own areas are mostly placed after the ones it already has (its
//! allocator fills it from the bottom), so an insert seldom moves anything.
//! Listing merges the two in address order, which holds for any two
//! windows, wherever they are.
//!
//! Growth is fallible and separate from the insert ([`AreaList::try_reserve`]
//! before the vmap area is taken, [`AreaList::insert`] after), so a failed
//! allocation leaves nothing behind. Plain memory logic, host-tested.

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

/// What the list needs of a record: where it starts.
pub trait AreaStart {
    fn start(&self) -> u32;
}

/// Which of the two vectors holds an area, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaIndex {
    modules: bool,
    i: usize,
}

/// The areas of both windows (see the module docs).
#[derive(Debug)]
pub struct AreaList<T> {
    /// The module window, `[start, end)`: areas inside it go to `modules`.
    window: (u32, u32),
    modules: Vec<T>,
    others: Vec<T>,
}

impl<T: AreaStart> AreaList<T> {
    /// An empty list; areas starting in `modules_window` are the module
    /// window's.
    pub const fn new(modules_window: (u32, u32)) -> Self {
        AreaList {
            window: modules_window,
            modules: Vec::new(),
            others: Vec::new(),
        }
    }

    /// Gives an empty list its module window and room for `others` areas
    /// outside it (reserved exactly, so that the first ones are recorded
    /// without regrowing that vector), in place: for a static, which a new
    /// list would have to be copied into. A list that holds areas is left
    /// as it is (they were sorted into the windows by the old bounds).
    pub fn set_up(
        &mut self,
        modules_window: (u32, u32),
        others: usize,
    ) -> Result<(), TryReserveError> {
        if self.is_empty() {
            // A fresh vector (allocated outright, as the compiler sees it
            // empty): no regrowth path at boot.
            let mut v = Vec::new();
            v.try_reserve_exact(others)?;
            (self.window, self.others) = (modules_window, v);
        }
        Ok(())
    }

    fn in_modules(&self, addr: u32) -> bool {
        addr >= self.window.0 && addr < self.window.1
    }

    fn side(&mut self, modules: bool) -> &mut Vec<T> {
        if modules {
            &mut self.modules
        } else {
            &mut self.others
        }
    }

    /// Room for one more area of the module window (`modules`) or of the
    /// other one, so that the [`insert`](Self::insert) that follows cannot
    /// fail.
    pub fn try_reserve(&mut self, modules: bool) -> Result<(), TryReserveError> {
        self.side(modules).try_reserve(1)
    }

    /// Records `area` in address order. Without room (no
    /// [`try_reserve`](Self::try_reserve) before, and growing fails) the
    /// area is handed back.
    pub fn insert(&mut self, area: T) -> Result<(), T> {
        let modules = self.in_modules(area.start());
        let v = self.side(modules);
        if v.try_reserve(1).is_err() {
            return Err(area);
        }
        super::vmap::insert_by_start(v, area, |a| a.start());
        Ok(())
    }

    /// The area that starts at `addr`.
    pub fn find(&self, addr: u32) -> Option<AreaIndex> {
        let modules = self.in_modules(addr);
        let v = if modules { &self.modules } else { &self.others };
        v.binary_search_by_key(&addr, |a| a.start())
            .ok()
            .map(|i| AreaIndex { modules, i })
    }

    pub fn get(&self, at: AreaIndex) -> Option<&T> {
        if at.modules {
            self.modules.get(at.i)
        } else {
            self.others.get(at.i)
        }
    }

    /// Takes the area out of the list (`at` from [`find`](Self::find)).
    pub fn remove(&mut self, at: AreaIndex) -> Option<T> {
        let v = self.side(at.modules);
        (at.i < v.len()).then(|| v.remove(at.i))
    }

    /// Areas in both windows.
    pub fn len(&self) -> usize {
        self.modules.len() + self.others.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every area, in address order.
    pub fn iter(&self) -> Merged<'_, T> {
        Merged {
            a: &self.modules,
            b: &self.others,
        }
    }
}

/// Two address-sorted slices, walked in address order.
pub struct Merged<'a, T> {
    a: &'a [T],
    b: &'a [T],
}

impl<'a, T: AreaStart> Iterator for Merged<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        let take_a = match (self.a.first(), self.b.first()) {
            (Some(x), Some(y)) => x.start() <= y.start(),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let side = if take_a { &mut self.a } else { &mut self.b };
        let (first, rest) = side.split_first()?;
        *side = rest;
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;

    #[derive(Debug, PartialEq, Eq)]
    struct A(u32, u32);
    impl AreaStart for A {
        fn start(&self) -> u32 {
            self.0
        }
    }

    /// Random inserts and removals in both windows (and, for the merge,
    /// with the module window placed above the other areas as well as
    /// below) behave as one map sorted by address: same finds, same
    /// listing, same length.
    #[test]
    fn behaves_as_one_sorted_list() {
        for window in [(0xbf00_0000, 0xbfe0_0000), (0xf000_0000, 0xf100_0000)] {
            let mut l = AreaList::new(window);
            let mut model = BTreeMap::new();
            let mut x = 0x9e37_79b9u32;
            for step in 0..4000u32 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let page = x % 512;
                let addr = if x & 0x8000_0000 != 0 {
                    window.0 + page * 0x1000
                } else {
                    0xd080_0000 + page * 0x1000
                };
                if let Some(old) = model.remove(&addr) {
                    let at = l.find(addr).expect("listed");
                    assert_eq!(l.get(at), Some(&A(addr, old)));
                    assert_eq!(l.remove(at), Some(A(addr, old)));
                } else {
                    assert!(l.find(addr).is_none());
                    l.try_reserve(addr >= window.0 && addr < window.1).unwrap();
                    assert!(l.insert(A(addr, step)).is_ok());
                    model.insert(addr, step);
                }
                assert_eq!(l.len(), model.len());
                if step % 97 == 0 {
                    let listed: Vec<_> = l.iter().map(|a| (a.0, a.1)).collect();
                    let want: Vec<_> = model.iter().map(|(&a, &s)| (a, s)).collect();
                    assert_eq!(listed, want);
                }
            }
        }
    }

    /// `set_up` gives an empty list its window and reserves exactly; the
    /// areas within that room are recorded in place.
    #[test]
    fn room_for_the_first_areas() {
        let mut l = AreaList::new((0, 0));
        l.set_up((0xbf00_0000, 0xbfe0_0000), 8).unwrap();
        assert_eq!(l.others.capacity(), 8);
        let before = l.others.as_ptr();
        for k in 0..8 {
            l.try_reserve(false).unwrap();
            l.insert(A(0xd080_0000 + k * 0x2000, k)).unwrap();
        }
        assert_eq!(l.others.as_ptr(), before);
        assert_eq!(l.len(), 8);
        assert!(l.modules.capacity() == 0);
        l.try_reserve(true).unwrap();
        l.insert(A(0xbf00_0000, 9)).unwrap();
        assert!(l.find(0xbf00_0000).unwrap().modules, "in the window set up");
        // Not again on a list that holds areas.
        l.set_up((0xc000_0000, 0xc100_0000), 16).unwrap();
        assert_eq!(
            (l.window, l.others.capacity()),
            ((0xbf00_0000, 0xbfe0_0000), 8)
        );
    }

    /// A module area goes into the module window's own vector: the other
    /// window's areas do not move.
    #[test]
    fn a_module_area_moves_no_other_area() {
        let mut l = AreaList::new((0xbf00_0000, 0xbfe0_0000));
        for k in 0..5 {
            l.insert(A(0xd080_0000 + k * 0x2000, k)).unwrap();
        }
        let before = l.others.as_ptr();
        l.insert(A(0xbf00_0000, 9)).unwrap();
        assert_eq!(l.others.as_ptr(), before);
        assert_eq!(l.others.len(), 5);
        assert_eq!(l.iter().next(), Some(&A(0xbf00_0000, 9)));
        let at = l.find(0xbf00_0000).unwrap();
        assert!(at.modules);
        assert_eq!(l.remove(at), Some(A(0xbf00_0000, 9)));
        assert!(l.find(0xbf00_0000).is_none());
        assert!(!l.is_empty());
        // A stale index takes nothing.
        assert_eq!(l.remove(at), None);
    }
}
