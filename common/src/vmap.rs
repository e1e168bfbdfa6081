//! The vmap-area allocator: which virtual ranges of a window (vmalloc,
//! modules) are in use, and where the next one goes.
//!
//! Every vmalloc, vmap, ioremap and module allocation gets a *vmap area*: a
//! page-aligned virtual range, followed by one unmapped **guard page** so
//! that running off the end faults instead of silently corrupting the next
//! area (Linux's `__get_vm_area_node` adds `PAGE_SIZE` to every request;
//! [`with_guard`] does the same here).
//!
//! Until 5.2, Linux found free space by walking the list of busy areas from
//! a cached position (first fit, O(n) in the number of areas). Commit
//! 68ad4a330433 ("mm/vmalloc.c: keep track of free blocks for vmap
//! allocation", Uladzislau Rezki) instead keeps the *free* blocks in a tree
//! sorted by address, each node augmented with `subtree_max_size`, the
//! largest free block below it. `find_vmap_lowest_match` then descends from
//! the root: go left while the left subtree has a block that is big enough,
//! else take this node if it is, else go right — the lowest-addressed fit in
//! O(height). Kobold does the same with a treap (a binary search tree whose
//! shape is fixed by pseudo-random node priorities, so its height is
//! O(log n) with overwhelming probability, with simple split/merge code).
//!
//! Alignment: a block "fits" when it holds `size` bytes (for alignments up
//! to a page, every block is page aligned) or `size + align - 1` bytes (for
//! larger alignments, so any block that big fits wherever it starts) — the
//! rule of Linux's `find_vmap_lowest_match`. The busy areas are kept in a
//! vector sorted by start address, for `free` and for /proc/vmallocinfo.
//!
//! Every allocation this allocator makes is fallible, and made *before*
//! anything changes: [`VmapAllocator::alloc`] and [`VmapAllocator::reserve`]
//! first grow the node arena, the free-slot stack and the busy vector
//! (`try_reserve`) for the worst case of the operation — two new free
//! blocks, one busy entry — and fail with [`VmapError::NoMemory`] if the
//! heap cannot; the free-slot stack always has room for every node, so
//! [`VmapAllocator::free`] never allocates at all.

use alloc::vec::Vec;
use core::fmt;

use kobold_layout::PAGE_SIZE;
const NIL: u32 = u32::MAX;
/// The treap's first xorshift32 state (priorities are deterministic).
const SEED: u32 = 0x2545_f491;

/// Why a vmap operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmapError {
    /// No free block fits (Linux: "vmap allocation for size N failed").
    NoSpace {
        size: u32,
        align: u32,
    },
    /// The alignment is not a power of two.
    BadAlign(u32),
    ZeroSize,
    /// `free` of an address that starts no busy area.
    NotAllocated(u32),
    /// A range outside the window, or overlapping a busy area.
    OutOfRange,
    /// The heap could not grow the allocator's own bookkeeping.
    NoMemory,
}

impl fmt::Display for VmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmapError::NoSpace { size, align } => {
                write!(
                    f,
                    "vmap allocation for size {size} (align {align:#x}) failed"
                )
            }
            VmapError::BadAlign(a) => write!(f, "alignment {a:#x} is not a power of two"),
            VmapError::ZeroSize => write!(f, "zero-sized vmap area"),
            VmapError::NotAllocated(a) => write!(f, "{a:#010x} starts no vmap area"),
            VmapError::OutOfRange => write!(f, "range outside the window or already in use"),
            VmapError::NoMemory => write!(f, "no memory for vmap bookkeeping"),
        }
    }
}

/// `size` plus Linux's guard page.
pub const fn with_guard(size: u32) -> Option<u32> {
    size.checked_add(PAGE_SIZE)
}

#[derive(Clone, Copy, Debug)]
struct Node {
    start: u64,
    size: u64,
    prio: u32,
    left: u32,
    right: u32,
    /// Largest `size` in this subtree.
    max: u64,
}

/// The capacity a new allocator's vectors start with: what `make_room`
/// grows an empty vector to for the first operation (`Vec`'s smallest
/// non-zero capacity, 4), reserved at once.
const FIRST_ROOM: usize = 4;

/// An empty vector with room for exactly `n` elements.
fn reserved<T>(n: usize) -> Result<Vec<T>, VmapError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| VmapError::NoMemory)?;
    Ok(v)
}

/// Free blocks and busy areas of one window `[start, end)`.
pub struct VmapAllocator {
    start: u64,
    end: u64,
    nodes: Vec<Node>,
    free_slots: Vec<u32>,
    root: u32,
    /// Busy areas `(start, size)`, sorted by start.
    busy: Vec<(u32, u32)>,
    seed: u32,
    visits: u32,
}

/// Inserts `item` into `v`, kept sorted by `start` (distinct starts), as
/// the busy list here and the kernel's vm-area list keep their areas. Mostly
/// the new area lies above every other (the lowest fit fills a window from
/// the bottom), so that case is a push, without the binary search. Within
/// `v`'s capacity it allocates nothing.
pub fn insert_by_start<T>(v: &mut Vec<T>, item: T, start: impl Fn(&T) -> u32) {
    let at = start(&item);
    match v.last() {
        Some(last) if start(last) > at => {
            let i = v.partition_point(|a| start(a) < at);
            v.insert(i, item);
        }
        _ => v.push(item),
    }
}

impl VmapAllocator {
    /// An allocator without a window: nothing free, nothing busy, no
    /// memory of its own (every `alloc` fails with `NoSpace`). What a
    /// static holds until the window is known and
    /// [`set_window`](Self::set_window) sets it up.
    pub const fn unset() -> Self {
        VmapAllocator {
            start: 0,
            end: 0,
            nodes: Vec::new(),
            free_slots: Vec::new(),
            root: NIL,
            busy: Vec::new(),
            seed: SEED,
            visits: 0,
        }
    }

    /// Manages `[start, end)`; `end == 0` means the top of the 32-bit space.
    pub fn new(start: u32, end: u32) -> Result<Self, VmapError> {
        let mut a = Self::unset();
        a.set_window(start, end, FIRST_ROOM)?;
        Ok(a)
    }

    /// Gives an [`unset`](Self::unset) allocator the window `[start, end)`
    /// in place, as [`new`](Self::new) (which calls it) makes one, with
    /// room for `areas` busy areas (at least four) so that the first
    /// `areas` allocations do not regrow the busy vector. For a static,
    /// which a new allocator would have to be copied into. Fails with
    /// `OutOfRange` if the allocator has a window already; after any
    /// failure it is still unset (nothing free, nothing busy).
    pub fn set_window(&mut self, start: u32, end: u32, areas: usize) -> Result<(), VmapError> {
        let end64 = if end == 0 { 1u64 << 32 } else { end as u64 };
        if self.end != 0
            || !start.is_multiple_of(PAGE_SIZE)
            || !end64.is_multiple_of(PAGE_SIZE as u64)
            || end64 <= start as u64
        {
            return Err(VmapError::OutOfRange);
        }
        let (nodes, free_slots, busy) = (
            reserved(FIRST_ROOM)?,
            reserved(FIRST_ROOM)?,
            reserved(areas.max(FIRST_ROOM))?,
        );
        (self.nodes, self.free_slots, self.busy) = (nodes, free_slots, busy);
        // The whole window is the one free block: the tree's root, as
        // `insert_free` into the empty tree leaves it (same priority drawn),
        // without its split and merges. The vectors have the capacity
        // `make_room` grew them to from empty (`first_window_as_before`).
        let size = end64 - start as u64;
        let prio = self.next_prio();
        // Within the capacity reserved above: no allocation.
        self.nodes.push(Node {
            start: start as u64,
            size,
            prio,
            left: NIL,
            right: NIL,
            max: size,
        });
        self.root = 0;
        (self.start, self.end) = (start as u64, end64);
        Ok(())
    }

    /// Grows every vector for the worst case of one operation (two new
    /// free blocks, one busy entry), so that the operation itself never
    /// allocates; the free-slot stack is kept able to hold every node.
    fn make_room(&mut self) -> Result<(), VmapError> {
        self.nodes.try_reserve(2).map_err(|_| VmapError::NoMemory)?;
        let slots = (self.nodes.len() + 2).saturating_sub(self.free_slots.len());
        self.free_slots
            .try_reserve(slots)
            .map_err(|_| VmapError::NoMemory)?;
        self.busy.try_reserve(1).map_err(|_| VmapError::NoMemory)
    }

    fn max_of(&self, n: u32) -> u64 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].max
        }
    }

    fn pull(&mut self, n: u32) {
        let node = self.nodes[n as usize];
        let m = node
            .size
            .max(self.max_of(node.left))
            .max(self.max_of(node.right));
        self.nodes[n as usize].max = m;
    }

    /// Splits `t` into (keys < key, keys >= key).
    fn split(&mut self, t: u32, key: u64) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.nodes[t as usize].start < key {
            let (l, r) = self.split(self.nodes[t as usize].right, key);
            self.nodes[t as usize].right = l;
            self.pull(t);
            (t, r)
        } else {
            let (l, r) = self.split(self.nodes[t as usize].left, key);
            self.nodes[t as usize].left = r;
            self.pull(t);
            (l, t)
        }
    }

    /// Joins `a` and `b`, every key of `a` below every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.pull(b);
            b
        }
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift32: deterministic, so runs are reproducible.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        self.seed
    }

    fn insert_free(&mut self, start: u64, size: u64) {
        let node = Node {
            start,
            size,
            prio: self.next_prio(),
            left: NIL,
            right: NIL,
            max: size,
        };
        let n = match self.free_slots.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                // Within the capacity make_room reserved: no allocation.
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let (l, r) = self.split(self.root, start);
        let left = self.merge(l, n);
        self.root = self.merge(left, r);
    }

    /// Removes the free block starting exactly at `start`.
    fn remove_free(&mut self, start: u64) -> Option<Node> {
        let (l, r) = self.split(self.root, start);
        let (m, r2) = self.split(r, start + 1);
        self.root = self.merge(l, r2);
        if m == NIL {
            return None;
        }
        // free_slots has room for every node (make_room): no allocation.
        self.free_slots.push(m);
        Some(self.nodes[m as usize])
    }

    /// The lowest-addressed free block of at least `length` bytes:
    /// `find_vmap_lowest_match`.
    fn lowest_match(&mut self, length: u64) -> Option<Node> {
        let mut n = self.root;
        self.visits = 0;
        if self.max_of(n) < length {
            return None;
        }
        while n != NIL {
            self.visits += 1;
            let node = self.nodes[n as usize];
            if self.max_of(node.left) >= length {
                n = node.left;
            } else if node.size >= length {
                return Some(node);
            } else {
                n = node.right;
            }
        }
        None
    }

    /// The free block containing `addr`, if any (ordered descent).
    fn block_containing(&self, addr: u64) -> Option<Node> {
        let mut n = self.root;
        while n != NIL {
            let node = self.nodes[n as usize];
            if addr < node.start {
                n = node.left;
            } else if addr >= node.start + node.size {
                n = node.right;
            } else {
                return Some(node);
            }
        }
        None
    }

    /// The free block ending exactly at `start` and the one starting
    /// exactly at `end`.
    fn neighbours(&self, start: u64, end: u64) -> (Option<Node>, Option<Node>) {
        let before = if start > 0 {
            self.block_containing(start - 1)
        } else {
            None
        };
        let after = self.block_containing(end);
        (
            before.filter(|b| b.start + b.size == start),
            after.filter(|a| a.start == end),
        )
    }

    /// Carves `[at, at + size)` out of the free block `b`.
    fn take(&mut self, b: Node, at: u64, size: u64) {
        let end = at + size;
        let root = self.root;
        let lone = root != NIL && {
            let r = self.nodes[root as usize];
            r.left == NIL && r.right == NIL && r.start == b.start
        };
        if lone && at == b.start && end < b.start + b.size {
            // `b` is the only free block (a fresh window: the boot's
            // `ioremap`s, a first module) and the area starts it: the rest
            // stays in the same node, as removing `b` and inserting the
            // rest would leave it, but without drawing a new priority (the
            // tree's shape is all that depends on it). At boot this skipped
            // the treap's split/merge/insert paths, ~150 guest instructions
            // QEMU translated for them (docs/BENCHMARKS.md, "Fifth pass").
            let n = &mut self.nodes[root as usize];
            n.start = end;
            n.size -= size;
            n.max = n.size;
        } else {
            self.remove_free(b.start);
            if at > b.start {
                self.insert_free(b.start, at - b.start);
            }
            if end < b.start + b.size {
                self.insert_free(end, b.start + b.size - end);
            }
        }
        // Within the capacity make_room reserved: no allocation.
        insert_by_start(&mut self.busy, (at as u32, size as u32), |&(s, _)| s);
    }

    /// Allocates `size` bytes (rounded up to pages) aligned to `align`
    /// (a power of two; page alignment at least) at the lowest address
    /// Linux's rule finds.
    pub fn alloc(&mut self, size: u32, align: u32) -> Result<u32, VmapError> {
        if size == 0 {
            return Err(VmapError::ZeroSize);
        }
        if !align.is_power_of_two() {
            return Err(VmapError::BadAlign(align));
        }
        let align = align.max(PAGE_SIZE) as u64;
        let size = (size as u64).next_multiple_of(PAGE_SIZE as u64);
        let length = if align <= PAGE_SIZE as u64 {
            size
        } else {
            size + align - 1
        };
        let no_space = VmapError::NoSpace {
            size: size as u32,
            align: align as u32,
        };
        let b = self.lowest_match(length).ok_or(no_space)?;
        self.make_room()?;
        let at = b.start.next_multiple_of(align);
        self.take(b, at, size);
        Ok(at as u32)
    }

    /// Marks `[addr, addr + size)` busy: a static mapping made before the
    /// allocator existed (Linux's `vm_area_add_early`).
    pub fn reserve(&mut self, addr: u32, size: u32) -> Result<(), VmapError> {
        if size == 0 {
            return Err(VmapError::ZeroSize);
        }
        let (addr, size) = (
            addr as u64,
            (size as u64).next_multiple_of(PAGE_SIZE as u64),
        );
        let b = self.block_containing(addr).ok_or(VmapError::OutOfRange)?;
        if !addr.is_multiple_of(PAGE_SIZE as u64) || addr + size > b.start + b.size {
            return Err(VmapError::OutOfRange);
        }
        self.make_room()?;
        self.take(b, addr, size);
        Ok(())
    }

    /// Frees the area starting at `addr`, merging it with free neighbours;
    /// returns its size.
    /// Never allocates.
    pub fn free(&mut self, addr: u32) -> Result<u32, VmapError> {
        let i = self
            .busy
            .binary_search_by_key(&addr, |&(s, _)| s)
            .map_err(|_| VmapError::NotAllocated(addr))?;
        let (_, size) = self.busy.remove(i);
        let (mut start, mut len) = (addr as u64, size as u64);
        let (before, after) = self.neighbours(start, start + len);
        if let Some(b) = before {
            self.remove_free(b.start);
            start = b.start;
            len += b.size;
        }
        if let Some(a) = after {
            self.remove_free(a.start);
            len += a.size;
        }
        self.insert_free(start, len);
        Ok(size)
    }

    /// Busy areas `(start, size)` in address order.
    pub fn busy(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.busy.iter().copied()
    }

    pub fn busy_count(&self) -> usize {
        self.busy.len()
    }

    pub fn busy_bytes(&self) -> u64 {
        self.busy.iter().map(|&(_, s)| s as u64).sum()
    }

    /// The largest free block (Linux's VmallocChunk), saturated to u32.
    pub fn largest_free(&self) -> u32 {
        self.max_of(self.root).min(u32::MAX as u64) as u32
    }

    /// Number of free blocks.
    pub fn free_blocks(&self) -> usize {
        self.nodes.len() - self.free_slots.len()
    }

    /// Tree nodes the last `alloc` visited (for the complexity test and the
    /// benchmark).
    pub fn last_visits(&self) -> u32 {
        self.visits
    }

    /// The window `[start, end)`.
    pub fn window(&self) -> (u64, u64) {
        (self.start, self.end)
    }

    /// Panics unless the tree and the busy map agree: order, heap property,
    /// augmented maxima, no two touching free blocks, and free + busy cover
    /// the window exactly.
    pub fn check_invariants(&self) {
        let mut free = Vec::new();
        self.check_node(self.root, u32::MAX, &mut free);
        let mut spans: Vec<(u64, u64, bool)> = free.iter().map(|&(s, z)| (s, z, true)).collect();
        spans.extend(self.busy.iter().map(|&(s, z)| (s as u64, z as u64, false)));
        spans.sort();
        let mut cursor = self.start;
        let mut last_free = false;
        for (s, z, is_free) in spans {
            assert_eq!(s, cursor, "gap or overlap at {s:#x}");
            assert!(!(is_free && last_free), "touching free blocks at {s:#x}");
            cursor = s + z;
            last_free = is_free;
        }
        assert_eq!(cursor, self.end, "window not covered");
    }

    fn check_node(&self, n: u32, parent_prio: u32, out: &mut Vec<(u64, u64)>) -> u64 {
        if n == NIL {
            return 0;
        }
        let node = self.nodes[n as usize];
        assert!(node.prio <= parent_prio, "heap property");
        let lm = self.check_node(node.left, node.prio, out);
        out.push((node.start, node.size));
        let rm = self.check_node(node.right, node.prio, out);
        assert_eq!(node.max, node.size.max(lm).max(rm), "augmented max");
        node.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const MOD_START: u32 = 0xbf00_0000;
    const MOD_END: u32 = 0xbfe0_0000;

    #[test]
    fn first_fits_and_merges() {
        let mut a = VmapAllocator::new(MOD_START, MOD_END).unwrap();
        let x = a.alloc(with_guard(16 * 1024).unwrap(), PAGE_SIZE).unwrap();
        let y = a.alloc(with_guard(8 * 1024).unwrap(), 1).unwrap();
        assert_eq!(x, 0xbf00_0000, "first module at the bottom of the window");
        assert_eq!(y, 0xbf00_5000, "16 KB + guard page later");
        assert_eq!(a.busy_count(), 2);
        assert_eq!(a.free(x), Ok(0x5000));
        // The hole at the bottom is reused first.
        assert_eq!(a.alloc(0x1000, PAGE_SIZE), Ok(0xbf00_0000));
        assert_eq!(a.free(0xbf00_0000), Ok(0x1000));
        assert_eq!(a.free(y), Ok(0x3000));
        assert_eq!(a.free_blocks(), 1);
        assert_eq!(a.largest_free(), MOD_END - MOD_START);
        a.check_invariants();
    }

    #[test]
    fn alignment_reserve_and_errors() {
        let mut a = VmapAllocator::new(0xf000_0000, 0xff00_0000).unwrap();
        a.reserve(0xf800_0000, 0x10_0000).unwrap(); // the DEBUG_LL static map
        assert_eq!(a.reserve(0xf800_0000, 0x1000), Err(VmapError::OutOfRange));
        let small = a.alloc(0x1000, PAGE_SIZE).unwrap();
        assert_eq!(small, 0xf000_0000);
        let big = a.alloc(0x20_0000, 0x20_0000).unwrap();
        assert_eq!(big, 0xf020_0000, "2 MB aligned");
        assert_eq!(a.alloc(0, PAGE_SIZE), Err(VmapError::ZeroSize));
        assert_eq!(a.alloc(0x1000, 3), Err(VmapError::BadAlign(3)));
        assert_eq!(
            a.free(0x1234_5000),
            Err(VmapError::NotAllocated(0x1234_5000))
        );
        assert_eq!(
            a.alloc(0x1000_0000, PAGE_SIZE),
            Err(VmapError::NoSpace {
                size: 0x1000_0000,
                align: PAGE_SIZE
            })
        );
        a.check_invariants();
        for (s, _) in a.busy().collect::<Vec<_>>() {
            a.free(s).unwrap();
        }
        assert_eq!(a.free_blocks(), 1);
        a.check_invariants();
    }

    #[test]
    fn top_of_the_address_space() {
        let mut a = VmapAllocator::new(0xffc0_0000, 0).unwrap();
        assert_eq!(a.largest_free(), 0x40_0000);
        let x = a.alloc(0x40_0000, PAGE_SIZE).unwrap();
        assert_eq!(x, 0xffc0_0000);
        assert_eq!(
            a.alloc(0x1000, PAGE_SIZE).unwrap_err(),
            VmapError::NoSpace {
                size: 0x1000,
                align: 0x1000
            }
        );
        a.free(x).unwrap();
        a.check_invariants();
        assert!(VmapAllocator::new(0x1000, 0x1000).is_err());
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Allocating from the start of the only free block keeps it as the
    /// only node (no priority drawn); anything else takes the general
    /// path, and the results are the general path's (also checked by
    /// `random_sequences_against_a_model`, which starts from a fresh
    /// window every time).
    #[test]
    fn carving_the_lone_block_in_place() {
        let mut a = VmapAllocator::new(0xd080_0000, 0xff00_0000).unwrap();
        let seed = a.seed;
        assert_eq!(a.alloc(0x2000, PAGE_SIZE), Ok(0xd080_0000));
        assert_eq!(a.alloc(0x2000, PAGE_SIZE), Ok(0xd080_2000));
        assert_eq!(a.seed, seed, "the in-place path draws no priority");
        assert_eq!(a.nodes.len(), 1);
        let r = a.nodes[a.root as usize];
        assert_eq!(
            (r.start, r.size, r.max),
            (0xd080_4000, 0xff00_0000 - 0xd080_4000, r.size)
        );
        // An aligned area leaves a hole below it: the general path.
        assert_eq!(a.alloc(0x1000, 0x10_0000), Ok(0xd090_0000));
        assert_ne!(a.seed, seed);
        assert_eq!(a.alloc(0x1000, PAGE_SIZE), Ok(0xd080_4000));
        // Freeing merges back to one block, which is carved in place again.
        for at in [0xd080_0000, 0xd080_2000, 0xd090_0000, 0xd080_4000] {
            assert!(a.free(at).is_ok());
        }
        let seed = a.seed;
        assert_eq!(a.alloc(0x3000, PAGE_SIZE), Ok(0xd080_0000));
        assert_eq!(a.seed, seed);
        // The whole window: an exact fit removes the node (general path).
        let mut b = VmapAllocator::new(0x1000, 0x3000).unwrap();
        assert_eq!(b.alloc(0x2000, PAGE_SIZE), Ok(0x1000));
        assert_eq!(b.root, NIL);
        assert!(b.alloc(0x1000, PAGE_SIZE).is_err());
    }

    /// `new` builds the one-block tree directly; the general path
    /// (`make_room`, then `insert_free` into the empty tree) leaves the
    /// same node, priority, seed and vector capacities.
    #[test]
    fn first_window_as_before() {
        for (start, end) in [
            (0xd080_0000, 0xff00_0000),
            (MOD_START, MOD_END),
            (0xffc0_0000, 0),
        ] {
            let a = VmapAllocator::new(start, end).unwrap();
            let mut b = VmapAllocator {
                start: a.start,
                end: a.end,
                ..VmapAllocator::unset()
            };
            b.make_room().unwrap();
            b.insert_free(a.start, a.end - a.start);
            let key = |n: &Node| (n.start, n.size, n.prio, n.left, n.right, n.max);
            assert_eq!(
                a.nodes.iter().map(key).collect::<Vec<_>>(),
                b.nodes.iter().map(key).collect::<Vec<_>>()
            );
            assert_eq!((a.root, a.seed), (b.root, b.seed));
            assert_eq!(
                (
                    a.nodes.capacity(),
                    a.free_slots.capacity(),
                    a.busy.capacity()
                ),
                (
                    b.nodes.capacity(),
                    b.free_slots.capacity(),
                    b.busy.capacity()
                )
            );
            a.check_invariants();
        }
    }

    /// `insert_by_start` keeps the order whether the item goes on top, at
    /// the bottom or between.
    #[test]
    fn insert_by_start_keeps_the_order() {
        let mut v: Vec<(u32, char)> = Vec::new();
        for (s, c) in [
            (0x3000, 'c'),
            (0x5000, 'e'),
            (0x1000, 'a'),
            (0x4000, 'd'),
            (0x2000, 'b'),
        ] {
            insert_by_start(&mut v, (s, c), |&(s, _)| s);
        }
        let order: Vec<char> = v.iter().map(|&(_, c)| c).collect();
        assert_eq!(order, ['a', 'b', 'c', 'd', 'e']);
    }

    /// An unset allocator has nothing to give and nothing to free.
    #[test]
    fn unset_has_no_window() {
        let mut a = VmapAllocator::unset();
        assert_eq!(a.window(), (0, 0));
        assert_eq!(
            a.alloc(0x1000, PAGE_SIZE),
            Err(VmapError::NoSpace {
                size: 0x1000,
                align: PAGE_SIZE
            })
        );
        assert_eq!(a.reserve(0x1000, 0x1000), Err(VmapError::OutOfRange));
        assert_eq!(a.free(0x1000), Err(VmapError::NotAllocated(0x1000)));
        assert_eq!(
            (a.busy_count(), a.free_blocks(), a.largest_free()),
            (0, 0, 0)
        );
        assert_eq!(
            a.nodes.capacity() + a.free_slots.capacity() + a.busy.capacity(),
            0
        );
        a.check_invariants();
    }

    /// `set_window` sets up an unset allocator once; a failed or second
    /// call leaves it as it was.
    #[test]
    fn set_window_in_place() {
        let mut a = VmapAllocator::unset();
        assert_eq!(a.set_window(0x1000, 0x1000, 0), Err(VmapError::OutOfRange));
        assert_eq!(a.window(), (0, 0));
        assert!(a.alloc(0x1000, PAGE_SIZE).is_err());
        a.set_window(MOD_START, MOD_END, 0).unwrap();
        assert_eq!(
            a.set_window(MOD_START, MOD_END, 0),
            Err(VmapError::OutOfRange)
        );
        assert_eq!(a.free_blocks(), 1);
        assert_eq!(a.alloc(0x1000, PAGE_SIZE), Ok(MOD_START));
        a.check_invariants();
    }

    /// Room for more busy areas only reserves: the same areas at the same
    /// addresses as `new`, and no regrowth of the busy vector within it.
    #[test]
    fn room_for_the_first_areas() {
        let mut a = VmapAllocator::new(0xd080_0000, 0xff00_0000).unwrap();
        let mut b = VmapAllocator::unset();
        b.set_window(0xd080_0000, 0xff00_0000, 8).unwrap();
        assert_eq!(b.busy.capacity(), 8);
        let ptr = b.busy.as_ptr();
        for k in 0..8 {
            let align = [PAGE_SIZE, 0x2000, 0x10_0000][k % 3];
            assert_eq!(a.alloc(0x2000, align), b.alloc(0x2000, align));
        }
        assert_eq!(b.busy.as_ptr(), ptr, "not regrown");
        assert!(a.busy().eq(b.busy()));
        assert_eq!(a.seed, b.seed);
        b.check_invariants();
    }

    /// The same rule done the slow way: walk the free gaps in address order.
    fn model_alloc(
        busy: &BTreeMap<u32, u32>,
        start: u64,
        end: u64,
        size: u64,
        align: u64,
    ) -> Option<u64> {
        let length = if align <= PAGE_SIZE as u64 {
            size
        } else {
            size + align - 1
        };
        let mut cursor = start;
        let mut gaps = Vec::new();
        for (&s, &z) in busy {
            if s as u64 > cursor {
                gaps.push((cursor, s as u64));
            }
            cursor = s as u64 + z as u64;
        }
        if cursor < end {
            gaps.push((cursor, end));
        }
        gaps.into_iter()
            .find(|&(s, e)| e - s >= length)
            .map(|(s, _)| s.next_multiple_of(align))
    }

    #[test]
    fn random_sequences_against_a_model() {
        for seed in 1..=10u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let (start, end) = (0xbf00_0000u32, 0xbfe0_0000u32);
            let mut a = VmapAllocator::new(start, end).unwrap();
            let mut model: BTreeMap<u32, u32> = BTreeMap::new();
            for step in 0..4000 {
                if model.is_empty() || rng.next() % 5 < 3 {
                    let size = ((rng.next() % 24 + 1) as u32) * PAGE_SIZE;
                    let align = [1, PAGE_SIZE, 0x4000, 0x10_0000][(rng.next() % 4) as usize];
                    let expect = model_alloc(
                        &model,
                        start as u64,
                        end as u64,
                        size as u64,
                        align.max(PAGE_SIZE) as u64,
                    );
                    match a.alloc(size, align) {
                        Ok(x) => {
                            assert_eq!(Some(x as u64), expect, "seed {seed} step {step}");
                            assert_eq!(x % align.max(PAGE_SIZE), 0);
                            model.insert(x, size);
                        }
                        Err(VmapError::NoSpace { .. }) => assert_eq!(expect, None),
                        Err(e) => panic!("{e}"),
                    }
                } else {
                    let k = (rng.next() as usize) % model.len();
                    let (&s, &z) = model.iter().nth(k).unwrap();
                    assert_eq!(a.free(s), Ok(z));
                    model.remove(&s);
                }
                if step % 97 == 0 {
                    a.check_invariants();
                }
            }
            a.check_invariants();
            for (s, _) in model {
                a.free(s).unwrap();
            }
            assert_eq!(a.free_blocks(), 1, "everything coalesces back");
            assert_eq!(a.largest_free(), end - start);
            a.check_invariants();
        }
    }

    /// O(log n): with many live areas and holes everywhere, one search
    /// visits about the tree height, never the number of areas.
    #[test]
    fn search_cost_is_logarithmic() {
        for n in [1_000u32, 10_000, 100_000] {
            let mut a = VmapAllocator::new(0x4000_0000, 0xc000_0000).unwrap();
            let mut areas = Vec::new();
            for _ in 0..n {
                areas.push(a.alloc(PAGE_SIZE, PAGE_SIZE).unwrap());
            }
            // Free every other area: n/2 one-page holes, all too small for
            // a two-page request, which must find the big block at the end.
            for x in areas.iter().step_by(2) {
                a.free(*x).unwrap();
            }
            a.alloc(2 * PAGE_SIZE, PAGE_SIZE).unwrap();
            let log2 = 32 - n.leading_zeros();
            println!("{n} live areas: {} nodes visited", a.last_visits());
            assert!(
                a.last_visits() <= 4 * log2 + 8,
                "{n} areas: {} visits, bound {}",
                a.last_visits(),
                4 * log2 + 8
            );
        }
    }
}
