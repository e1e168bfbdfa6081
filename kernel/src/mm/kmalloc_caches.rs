//! The kmalloc size classes and their freelists: the fast path of the
//! kernel heap (`mm::heap`), shaped like SLUB's per-cpu freelist.
//!
//! **Why.** The heap's regions are managed by `linked_list_allocator`
//! (first fit over a list of holes, merging neighbours on free): about 250
//! instructions to allocate a small block and 150 to free it, measured in
//! the guest. One insmod makes a few dozen allocations (its tables, names,
//! the loader's vectors), most of them freed again before it returns, so
//! the same few sizes are allocated and freed over and over.
//!
//! **What Linux does.** SLUB (mm/slub.c) serves `kmalloc` from caches of
//! fixed sizes (`kmalloc-8` … `kmalloc-8k`; `kmalloc_index` picks the
//! smallest that holds the request, with 96 and 192 between the powers of
//! two). Its fast path (`slab_alloc_node` → `this_cpu_cmpxchg_double` on
//! `c->freelist`) takes the first object of the cpu slab's freelist, whose
//! link is stored in the free object itself, and `do_slab_free` pushes a
//! freed object back on it: a few dozen instructions, no search.
//!
//! **What Kobold does.** Requests of up to 2 KB aligned to at most 8 bytes
//! are rounded up to the size of their class ([`class_of`], Linux's
//! `kmalloc_index` and `size_index`), and the heap takes such a block from
//! the regions with the class's whole size ([`class_layout`]), so that once
//! freed it can serve any request of the class. A freed class block goes
//! on its class's LIFO freelist ([`Caches`], the link in its first word)
//! instead of back into its region, and the next request of the class
//! takes it from there. Kobold runs on one CPU and the heap is behind one
//! lock, so one list per class stands for SLUB's per-cpu one.
//!
//! **Bounds.** A list holds at most [`cache_limit`] blocks (4 KB worth,
//! at least two): a free beyond that goes back to its region, so the lists
//! hold at most about 44 KB in all. Blocks on a list are neither in use
//! (the heap's `stats()` counts only blocks handed out) nor free inside
//! their region, and they keep their region from being returned to the
//! page allocator; the heap's `shrink()` (Linux's `kmem_cache_shrink`,
//! which flushes the cpu slabs first) gives every listed block back to its
//! region before it returns the empty regions, and every leak check calls
//! it before it counts pages.

use core::alloc::Layout;
use core::ptr::NonNull;

/// The sizes of Linux's kmalloc caches up to 2 KB (`kmalloc-8` …
/// `kmalloc-2k`, include/linux/slab.h's `kmalloc_info`): each has a
/// freelist in front of the regions.
pub const CLASS_SIZES: [usize; 11] = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048];
/// How many size classes there are.
pub const CLASSES: usize = CLASS_SIZES.len();
/// The alignment every class block has (and the most a request may ask
/// for to be served from a class): kmalloc's 8 bytes.
pub const CLASS_ALIGN: usize = 8;
/// Bytes one class's freelist may hold; at least [`CACHE_MIN_BLOCKS`]
/// blocks whatever their size. With 11 classes the freelists hold at most
/// about 44 KB in all.
pub const CACHE_BYTES: usize = 4096;
/// The fewest blocks a class's freelist may hold.
pub const CACHE_MIN_BLOCKS: usize = 2;

/// Linux's `size_index` (mm/slab_common.c): the class of a size up to 192,
/// by `(size - 1) / 8`.
const SIZE_INDEX: [u8; 24] = [
    0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
];

/// The size class that serves `layout`, if any: sizes up to 2 KB aligned
/// to at most 8 bytes (Linux's `kmalloc_index`; above 192 bytes the power
/// of two, 256 … 2048). Larger or more aligned requests take a block of
/// their own size from a region.
pub fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    if size > CLASS_SIZES[CLASSES - 1] || layout.align() > CLASS_ALIGN {
        return None;
    }
    if size <= 192 {
        return SIZE_INDEX
            .get(size.saturating_sub(1) / 8)
            .map(|&c| c as usize);
    }
    // 193..=256 -> 7 (kmalloc-256), … 1025..=2048 -> 10 (kmalloc-2k).
    Some((usize::BITS - (size - 1).leading_zeros()) as usize - 1)
}

/// The layout a class's blocks are taken from a region with.
pub fn class_layout(class: usize) -> Layout {
    let size = CLASS_SIZES.get(class).copied().unwrap_or(CLASS_ALIGN);
    // A multiple of 8, aligned to 8: always a valid layout.
    Layout::from_size_align(size, CLASS_ALIGN).unwrap_or(Layout::new::<u64>())
}

/// How many blocks each class's freelist may hold, computed once (a
/// division on every free cost more than the rest of the fast path).
const LIMITS: [usize; CLASSES] = {
    let mut l = [0; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        let n = CACHE_BYTES / CLASS_SIZES[c];
        l[c] = if n < CACHE_MIN_BLOCKS {
            CACHE_MIN_BLOCKS
        } else {
            n
        };
        c += 1;
    }
    l
};

/// How many blocks class `class`'s freelist may hold.
pub fn cache_limit(class: usize) -> usize {
    LIMITS.get(class).copied().unwrap_or(0)
}

/// The per-size freelists: SLUB's per-cpu fast path (mm/slub.c,
/// `slab_alloc_node` / `do_slab_free`: an object is taken from, and freed
/// to, the head of the cpu slab's `freelist`, the link stored in the free
/// object itself). Here one LIFO list of freed blocks per size class, the
/// link in the block's first word, each list bounded by [`cache_limit`].
pub struct Caches {
    head: [*mut u8; CLASSES],
    count: [usize; CLASSES],
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

impl Caches {
    pub const fn new() -> Self {
        Caches {
            head: [core::ptr::null_mut(); CLASSES],
            count: [0; CLASSES],
        }
    }

    /// The block most recently freed to `class`, off the list.
    pub fn pop(&mut self, class: usize) -> Option<NonNull<u8>> {
        let head = self.head.get_mut(class)?;
        let p = NonNull::new(*head)?;
        // SAFETY: a block on the list is at least 8 bytes, 8-byte aligned
        // and not in use; its first word is the next block's address.
        *head = unsafe { p.as_ptr().cast::<*mut u8>().read() };
        if let Some(n) = self.count.get_mut(class) {
            *n -= 1;
        }
        Some(p)
    }

    /// Puts a freed block at the head of `class`'s list; false (nothing
    /// done) when the list is full.
    ///
    /// # Safety
    /// `p` is a block of at least `CLASS_SIZES[class]` bytes, 8-byte
    /// aligned, that nobody uses from now on.
    pub unsafe fn push(&mut self, class: usize, p: NonNull<u8>) -> bool {
        let (Some(head), Some(n)) = (self.head.get_mut(class), self.count.get_mut(class)) else {
            return false;
        };
        if *n >= cache_limit(class) {
            return false;
        }
        // SAFETY: per the contract, the block's first word is ours.
        unsafe { p.as_ptr().cast::<*mut u8>().write(*head) };
        *head = p.as_ptr();
        *n += 1;
        true
    }

    /// Bytes held on the lists.
    pub fn bytes(&self) -> usize {
        self.count
            .iter()
            .zip(CLASS_SIZES)
            .map(|(n, size)| n * size)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn size_classes_are_linux_kmalloc_index() {
        // The smallest class that holds the size, as kmalloc_index picks
        // (96 and 192 between the powers of two).
        for size in 1..=2048usize {
            let want = CLASS_SIZES.iter().position(|&c| c >= size).unwrap();
            for align in [1, 2, 4, 8] {
                assert_eq!(class_of(layout(size, align)), Some(want), "size {size}");
            }
        }
        assert_eq!(class_of(layout(0, 1)), Some(0));
        assert_eq!(class_of(layout(2049, 8)), None);
        assert_eq!(class_of(layout(8192, 8)), None);
        // More than 8 bytes of alignment: a block of its own.
        assert_eq!(class_of(layout(64, 16)), None);
        assert_eq!(class_of(layout(8, 4096)), None);
        for (c, &size) in CLASS_SIZES.iter().enumerate() {
            assert_eq!(class_layout(c), layout(size, 8));
            assert_eq!(class_of(class_layout(c)), Some(c));
        }
    }

    #[test]
    fn freelists_are_lifo_and_bounded() {
        let mut caches = Caches::new();
        // Blocks of 2 KB (class 10) in a host buffer, 8-byte aligned.
        let mut buf = alloc::vec![0u64; 16 * 2048 / 8];
        let base = buf.as_mut_ptr().cast::<u8>();
        let block = |i: usize| NonNull::new(base.wrapping_add(i * 2048)).unwrap();
        let class = 10;
        let limit = cache_limit(class);
        assert_eq!(limit, CACHE_MIN_BLOCKS.max(CACHE_BYTES / 2048));
        let mut kept = 0;
        for i in 0..16 {
            // SAFETY: each block is 2 KB of `buf`, used by nothing else.
            kept += unsafe { caches.push(class, block(i)) } as usize;
        }
        assert_eq!(kept, limit);
        assert_eq!(caches.bytes(), limit * 2048);
        assert!(caches.pop(0).is_none());
        for i in (0..limit).rev() {
            assert_eq!(caches.pop(class), Some(block(i)));
        }
        assert!(caches.pop(class).is_none());
        assert_eq!(caches.bytes(), 0);
        // Out-of-range classes are refused, not indexed.
        // SAFETY: refused before the block is touched.
        assert!(!unsafe { caches.push(CLASSES, block(0)) });
        assert!(caches.pop(CLASSES).is_none());
        drop(buf);
    }

    #[test]
    fn freelists_hold_at_most_about_44_kb() {
        let most: usize = (0..CLASSES).map(|c| cache_limit(c) * CLASS_SIZES[c]).sum();
        assert!(most <= 11 * CACHE_BYTES, "{most}");
        assert!((0..CLASSES).all(|c| cache_limit(c) >= CACHE_MIN_BLOCKS));
    }
}
