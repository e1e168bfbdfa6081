//! The kernel heap: Rust's global allocator and Linux's `kmalloc`/`kfree`,
//! shaped like SLUB + `kmalloc_large` (mm/slub.c, include/linux/slab.h).
//!
//! **Small requests** (up to `KMALLOC_MAX_CACHE_SIZE`, two pages, as SLUB's)
//! are served from *regions*: 64 KB blocks (order 4) of lowmem taken from
//! the buddy allocator (GFP_KERNEL: the heap must be permanently mapped),
//! each managed by `linked_list_allocator` (first fit). A region's own first
//! bytes hold its bookkeeping — the links of an intrusive doubly-linked list
//! of regions and its free-list head — so the number of regions is bounded
//! only by memory, and the heap needs no memory of its own to grow. A
//! region's first page carries Linux's `PG_slab` flag in the mem_map, so
//! `kfree(ptr)` recognises a small block by looking at the page of the
//! 64 KB-aligned block around `ptr` (buddy blocks are naturally aligned),
//! as Linux's `kfree` looks at `PageSlab(virt_to_head_page(ptr))`.
//!
//! A region whose last block is freed goes back to the buddy allocator,
//! except that **one** empty region is kept as a spare (SLUB keeps
//! `min_partial` slabs per cache for the same reason): a loop that
//! allocates and frees one block while every other region is full would
//! otherwise take and return 16 pages each time. [`shrink`] returns the
//! spare too (Linux's `kmem_cache_shrink`); leak checks call it before
//! they count free pages.
//!
//! **The fast path: per-size freelists** (`super::kmalloc_caches`). In
//! front of the regions sits SLUB's per-cpu fast path: requests of up to
//! 2 KB aligned to at most 8 bytes belong to one of Linux's kmalloc size
//! classes (`kmalloc-8` … `kmalloc-2k`, chosen as `kmalloc_index` does),
//! and a class's blocks are taken from the regions with the class's whole
//! size. A freed class block goes on its class's LIFO freelist (its first
//! word links to the next), and the next request of the class pops it: a
//! few dozen instructions, where first fit over `linked_list_allocator`'s
//! holes and merging them again on free cost about 250 and 150 (measured
//! in the guest; one insmod makes about forty allocations). This is
//! SLUB's `slab_alloc_node` / `do_slab_free` fast path on `c->freelist`
//! (mm/slub.c); Kobold has one CPU and one heap lock, so one list per class
//! stands for the per-cpu one. Each list is bounded (4 KB worth of blocks,
//! at least two; about 44 KB for all of them): a free beyond the bound goes
//! back to its region. Blocks on a list are neither in use ([`stats`] does
//! not count them in `used`; it shows them as `cached`) nor free inside
//! their region, and they keep it from being emptied, so [`shrink`] first
//! gives every listed block back to its region (SLUB flushes its cpu slabs
//! in `kmem_cache_shrink` too) and then returns the empty regions. Every
//! request still asks fault injection first, fast path or not, and `kfree`
//! checks a pointer exactly as before (a listed block keeps the freed
//! magic `kfree` wrote in its header's second word, so a second `kfree`
//! is still refused).
//!
//! **Large requests** (above two pages, or aligned above a page) go straight
//! to `alloc_pages` as the smallest power-of-two number of pages, as Linux's
//! `kmalloc_large`; the pointer is the block's first page, whose order the
//! mem_map records with the `PG_head` flag (Linux's compound order), so
//! `kfree(ptr)` can give the pages back without knowing the size. The global allocator knows the size
//! and uses the same rule.
//!
//! `kmalloc(0)` returns Linux's `ZERO_SIZE_PTR` (0x10), which `kfree`
//! ignores, as it ignores NULL. `kmalloc` keeps the size and a magic number
//! in an 8-byte header before a small block; `kfree` of a pointer that is
//! neither a live small block nor the start of a large one is refused with
//! an error message instead of corrupting the heap.
//!
//! Nothing here panics or waits: a request the heap cannot satisfy —
//! including one larger than any buddy block (4 MB) — returns null /
//! `None`. Every request first asks fault injection (`failslab`).
//!
//! [`stats`] counts the bytes handed out exactly (small: the requested
//! layout sizes, kmalloc's header included; large: whole pages), which
//! /proc/meminfo shows as `Slab:` and the self-tests use as a leak check.

use super::buddy::{Gfp, MAX_ORDER, PG_HEAD, PG_SLAB, PageState, Pfn};
use super::fault_inject::{self, Site};
use super::kmalloc_caches::{CLASSES, Caches, class_layout, class_of};
use crate::sync::Mutex;
use core::alloc::{GlobalAlloc, Layout};
use core::mem::size_of;
use core::ptr::NonNull;
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE, phys_to_virt, virt_to_phys};
use linked_list_allocator::Heap;

const PAGE: usize = PAGE_SIZE as usize;
/// Linux's `KMALLOC_MAX_CACHE_SIZE` for SLUB: two pages. Larger requests
/// are `kmalloc_large`.
pub const KMALLOC_MAX_CACHE_SIZE: usize = 2 * PAGE;
/// Linux's `ZERO_SIZE_PTR`: what `kmalloc(0)` returns.
pub const ZERO_SIZE_PTR: usize = 0x10;
/// Regions are order-4 buddy blocks: 64 KB, 64 KB aligned.
pub const REGION_ORDER: usize = 4;
const REGION_SIZE: usize = PAGE << REGION_ORDER;
/// Empty regions kept instead of returned to the page allocator.
pub const SPARE_REGIONS: usize = 1;

/// The bookkeeping at the start of every region.
#[repr(C)]
struct Region {
    next: *mut Region,
    prev: *mut Region,
    heap: Heap,
}

/// Bytes at the start of a region reserved for [`Region`].
const REGION_HEADER: usize = size_of::<Region>().next_multiple_of(16);

struct State {
    head: *mut Region,
    tail: *mut Region,
    regions: usize,
    /// Regions with nothing allocated.
    empty: usize,
    small_bytes: usize,
    small_allocs: usize,
    large_bytes: usize,
    large_allocs: usize,
    /// The per-size freelists in front of the regions.
    caches: Caches,
}

// SAFETY: the region pointers refer to kernel lowmem owned by this
// allocator; all access is serialised by the mutex.
unsafe impl Send for State {}

static HEAP: Mutex<State> = Mutex::new(State {
    head: core::ptr::null_mut(),
    tail: core::ptr::null_mut(),
    regions: 0,
    empty: 0,
    small_bytes: 0,
    small_allocs: 0,
    large_bytes: 0,
    large_allocs: 0,
    caches: Caches::new(),
});

fn pfn_of(addr: usize) -> Pfn {
    virt_to_phys(addr as u32) >> PAGE_SHIFT
}

fn virt_of(pfn: Pfn) -> usize {
    phys_to_virt(pfn << PAGE_SHIFT) as usize
}

/// Whether the global allocator serves `layout` from whole pages.
fn is_large(layout: Layout) -> bool {
    layout.size() > KMALLOC_MAX_CACHE_SIZE || layout.align() > PAGE
}

/// The buddy order that holds `bytes` aligned to `align`, if any does.
pub fn large_order(bytes: usize, align: usize) -> Option<usize> {
    let pages = bytes.max(align).max(1).div_ceil(PAGE);
    let order = pages.checked_next_power_of_two()?.trailing_zeros() as usize;
    (order < MAX_ORDER).then_some(order)
}

impl State {
    /// Takes a new region from the page allocator, at the tail of the list.
    fn grow(&mut self) -> Option<*mut Region> {
        let pfn = super::page_alloc::alloc_pages(Gfp::KERNEL, REGION_ORDER)?;
        if super::page_alloc::set_page_flags(pfn, PG_SLAB).is_err() {
            let _ = super::page_alloc::free_pages(pfn, REGION_ORDER);
            return None;
        }
        let r = virt_of(pfn) as *mut Region;
        // SAFETY: the block is fresh from the page allocator, lowmem (so
        // mapped at `r`), 64 KB aligned, and from now on owned by the heap;
        // the header fits before the area given to the region's allocator.
        unsafe {
            r.write(Region {
                next: core::ptr::null_mut(),
                prev: self.tail,
                heap: Heap::empty(),
            });
            (*r).heap.init(
                (r as *mut u8).add(REGION_HEADER),
                REGION_SIZE - REGION_HEADER,
            );
            match self.tail.as_mut() {
                Some(t) => t.next = r,
                None => self.head = r,
            }
        }
        self.tail = r;
        self.regions += 1;
        self.empty += 1;
        Some(r)
    }

    /// Unlinks an empty region and gives its pages back.
    fn release(&mut self, r: *mut Region) {
        // SAFETY: `r` is a live region of this list.
        unsafe {
            let (next, prev) = ((*r).next, (*r).prev);
            match prev.as_mut() {
                Some(p) => p.next = next,
                None => self.head = next,
            }
            match next.as_mut() {
                Some(n) => n.prev = prev,
                None => self.tail = prev,
            }
        }
        self.regions -= 1;
        self.empty -= 1;
        let _ = super::page_alloc::free_pages(pfn_of(r as usize), REGION_ORDER);
    }

    /// A small block for `layout`: from its size class's freelist when
    /// one holds a block (the fast path), else from the regions (a block of
    /// the class's whole size, so that it can serve any request of the
    /// class once freed). Counts `layout.size()` as handed out.
    fn alloc_small(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let p = match class_of(layout) {
            Some(c) => match self.caches.pop(c) {
                Some(p) => p,
                None => self.alloc_region(class_layout(c))?,
            },
            None => self.alloc_region(layout)?,
        };
        self.small_bytes += layout.size();
        self.small_allocs += 1;
        Some(p)
    }

    /// First fit over the regions, growing the heap if none has room.
    fn alloc_region(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let mut r = self.head;
        while !r.is_null() {
            // SAFETY: `r` is a live region of this list.
            let region = unsafe { &mut *r };
            let was_empty = region.heap.used() == 0;
            if let Ok(p) = region.heap.allocate_first_fit(layout) {
                if was_empty {
                    self.empty -= 1;
                }
                return Some(p);
            }
            r = region.next;
        }
        let r = self.grow()?;
        // SAFETY: the region just made.
        let p = unsafe { (*r).heap.allocate_first_fit(layout) }.ok()?;
        self.empty -= 1;
        Some(p)
    }

    /// # Safety
    /// `ptr` came from [`State::alloc_small`] with `layout` and is live.
    unsafe fn dealloc_small(&mut self, ptr: NonNull<u8>, layout: Layout) {
        self.small_bytes -= layout.size();
        self.small_allocs -= 1;
        match class_of(layout) {
            Some(c) => {
                // SAFETY: per the contract the block is live, of class `c`
                // (alloc_small's rule), and from now on the heap's.
                if unsafe { self.caches.push(c, ptr) } {
                    return;
                }
                // SAFETY: the block was taken from a region with the
                // class's layout.
                unsafe { self.free_region(ptr, class_layout(c)) }
            }
            // SAFETY: taken from a region with `layout` itself.
            None => unsafe { self.free_region(ptr, layout) },
        }
    }

    /// Gives a block back to its region; releases the region if it is now
    /// empty and a spare is already kept.
    ///
    /// # Safety
    /// `ptr` came from [`State::alloc_region`] with `layout`, is live and
    /// not on a freelist.
    unsafe fn free_region(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let r = (ptr.as_ptr() as usize & !(REGION_SIZE - 1)) as *mut Region;
        // SAFETY: per the contract, `ptr` lies in a live region, which
        // starts at the 64 KB boundary below it.
        let region = unsafe { &mut *r };
        // SAFETY: per the contract.
        unsafe { region.heap.deallocate(ptr, layout) };
        if region.heap.used() == 0 {
            self.empty += 1;
            if self.empty > SPARE_REGIONS {
                self.release(r);
            }
        }
    }

    /// Gives every block on the freelists back to its region (SLUB's
    /// `flush_all` before `kmem_cache_shrink`).
    fn flush(&mut self) {
        for c in 0..CLASSES {
            while let Some(p) = self.caches.pop(c) {
                // SAFETY: a block on class `c`'s freelist was taken from a
                // region with the class's layout and is not in use.
                unsafe { self.free_region(p, class_layout(c)) };
            }
        }
    }

    /// Releases every empty region; returns the pages given back.
    fn shrink(&mut self) -> usize {
        self.flush();
        let mut pages = 0;
        let mut r = self.head;
        while !r.is_null() {
            // SAFETY: `r` is a live region of this list.
            let (next, empty) = unsafe { ((*r).next, (*r).heap.used() == 0) };
            if empty {
                self.release(r);
                pages += 1 << REGION_ORDER;
            }
            r = next;
        }
        pages
    }
}

/// Whole pages for a large request (`kmalloc_large`).
fn alloc_large(bytes: usize, align: usize) -> Option<NonNull<u8>> {
    let order = large_order(bytes, align)?;
    let pfn = super::page_alloc::alloc_pages(Gfp::KERNEL, order)?;
    if super::page_alloc::set_page_flags(pfn, PG_HEAD).is_err() {
        let _ = super::page_alloc::free_pages(pfn, order);
        return None;
    }
    let mut h = HEAP.lock();
    h.large_bytes += PAGE << order;
    h.large_allocs += 1;
    NonNull::new(virt_of(pfn) as *mut u8)
}

/// Gives back the block of `order` at `ptr`; false if it is not one.
fn free_large(ptr: NonNull<u8>, order: usize) -> bool {
    let ok = super::page_alloc::free_pages(pfn_of(ptr.as_ptr() as usize), order).is_ok();
    if ok {
        let mut h = HEAP.lock();
        h.large_bytes -= PAGE << order;
        h.large_allocs -= 1;
    }
    ok
}

/// Heap figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes handed out and not yet freed: `small_bytes + large_bytes`
    /// (/proc/meminfo's `Slab:`).
    pub used: usize,
    /// Bytes of small blocks in use (requested sizes, kmalloc headers
    /// included) and how many blocks.
    pub small_bytes: usize,
    pub small_allocs: usize,
    /// Bytes of whole-page blocks in use and how many blocks.
    pub large_bytes: usize,
    pub large_allocs: usize,
    /// Bytes free inside the regions.
    pub free: usize,
    /// Bytes of freed blocks kept on the per-size freelists (neither in
    /// use nor free inside the regions; [`shrink`] gives them back).
    pub cached: usize,
    /// Regions (64 KB each), of them empty (the spare).
    pub regions: usize,
    pub empty_regions: usize,
}

pub fn stats() -> HeapStats {
    let h = HEAP.lock();
    let mut free = 0;
    let mut r = h.head;
    while !r.is_null() {
        // SAFETY: `r` is a live region of the list, read under the lock.
        unsafe {
            free += (*r).heap.free();
            r = (*r).next;
        }
    }
    HeapStats {
        used: h.small_bytes + h.large_bytes,
        small_bytes: h.small_bytes,
        small_allocs: h.small_allocs,
        large_bytes: h.large_bytes,
        large_allocs: h.large_allocs,
        free,
        cached: h.caches.bytes(),
        regions: h.regions,
        empty_regions: h.empty,
    }
}

/// Gives every block on the per-size freelists back to its region, then
/// returns every empty region (the spare too) to the page allocator
/// (Linux's `kmem_cache_shrink`, which flushes the cpu slabs first);
/// returns the number of pages freed.
pub fn shrink() -> usize {
    HEAP.lock().shrink()
}

/// The global allocator behind `alloc::` collections in the kernel.
pub struct KernelHeap;

// SAFETY: `alloc` returns blocks of at least `layout.size()` bytes aligned
// to `layout.align()` (region blocks from linked_list_allocator, or buddy
// blocks, which are aligned to their size) or null; `dealloc` hands them
// back by the same size rule.
unsafe impl GlobalAlloc for KernelHeap {
    /// Never inlined: with LTO, allocations of a constant size (the vmap
    /// windows' vectors at boot) got a copy of it all (fault injection, the
    /// lock, the size class, the region path), which QEMU translated once
    /// per copy.
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if fault_inject::should_fail(Site::Slab, layout.size()) {
            return core::ptr::null_mut();
        }
        let p = if is_large(layout) {
            alloc_large(layout.size(), layout.align())
        } else {
            HEAP.lock().alloc_small(layout)
        };
        p.map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(p) = NonNull::new(ptr) else { return };
        if is_large(layout) {
            if let Some(order) = large_order(layout.size(), layout.align()) {
                free_large(p, order);
            }
        } else {
            // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with
            // `layout`, which took the small path.
            unsafe { HEAP.lock().dealloc_small(p, layout) };
        }
    }
}

#[cfg(not(test))]
#[global_allocator]
static GLOBAL: KernelHeap = KernelHeap;

/// kmalloc's header: the block's total size and a magic number.
const HEADER: usize = 8;
const KMALLOC_MAGIC: u32 = 0x6b6d_616c;
/// Written over the magic by `kfree` (Linux's POISON_FREE bytes).
const KMALLOC_FREED: u32 = 0x6b6b_6b6b;

/// Linux's `kmalloc(size, gfp)`: 8-byte aligned (page aligned above two
/// pages); `ZERO_SIZE_PTR` for 0; `None` when out of memory, when no buddy
/// block is that large, or when `failslab` injects a failure.
pub fn kmalloc(size: usize, _gfp: Gfp) -> Option<NonNull<u8>> {
    if size == 0 {
        return NonNull::new(ZERO_SIZE_PTR as *mut u8);
    }
    if fault_inject::should_fail(Site::Slab, size) {
        return None;
    }
    if size > KMALLOC_MAX_CACHE_SIZE {
        return alloc_large(size, PAGE);
    }
    let total = size + HEADER;
    let layout = Layout::from_size_align(total, HEADER).ok()?;
    let block = HEAP.lock().alloc_small(layout)?;
    // SAFETY: the block is at least HEADER + size bytes, 8-byte aligned.
    unsafe {
        block.as_ptr().cast::<u32>().write(total as u32);
        block.as_ptr().cast::<u32>().add(1).write(KMALLOC_MAGIC);
        NonNull::new(block.as_ptr().add(HEADER))
    }
}

/// The magic of a block from [`kmalloc_aligned`]; its low byte is the
/// alignment's shift, which says where the block starts.
const KMALLOC_MAGIC_ALIGNED: u32 = 0x6b6d_6100;
/// Smallest and largest alignment shift [`kmalloc_aligned`] serves from a
/// region (above: whole pages).
const ALIGNED_SHIFTS: core::ops::RangeInclusive<u32> = 4..=PAGE_SHIFT;

/// `kmalloc(size)` aligned to `align` (a power of two), as SLUB's caches
/// are (Linux's `ARCH_KMALLOC_MINALIGN`, and the natural alignment of
/// power-of-two sizes): a small block is taken `align` bytes early, with
/// kmalloc's header just before the returned pointer saying how far back
/// the block starts, so [`kfree`] frees it like any other. Above a page of
/// alignment, or when the block would pass `KMALLOC_MAX_CACHE_SIZE`,
/// whole pages (aligned to their size). `None` as [`kmalloc`]; `gfp` is
/// read as [`kmalloc`] reads it (the heap is always lowmem).
pub fn kmalloc_aligned(size: usize, align: usize, gfp: Gfp) -> Option<NonNull<u8>> {
    if !align.is_power_of_two() {
        return None;
    }
    if align <= HEADER {
        return kmalloc(size, gfp);
    }
    if size == 0 {
        return NonNull::new(ZERO_SIZE_PTR as *mut u8);
    }
    if fault_inject::should_fail(Site::Slab, size) {
        return None;
    }
    let shift = align.trailing_zeros();
    let total = size.checked_add(align)?;
    if total > KMALLOC_MAX_CACHE_SIZE || !ALIGNED_SHIFTS.contains(&shift) {
        return alloc_large(size, align.max(PAGE));
    }
    let layout = Layout::from_size_align(total, align).ok()?;
    let block = HEAP.lock().alloc_small(layout)?;
    // SAFETY: the block is `total` = `align` + `size` bytes, `align`-aligned
    // (align >= 16): the header's 8 bytes end where the caller's begin.
    unsafe {
        let user = block.as_ptr().add(align);
        user.cast::<u32>().sub(2).write(total as u32);
        user.cast::<u32>()
            .sub(1)
            .write(KMALLOC_MAGIC_ALIGNED | shift);
        NonNull::new(user)
    }
}

/// Why `kfree` refused a pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KfreeError {
    /// Not from kmalloc, or already freed.
    NotAllocated,
}

/// Linux's `kfree(ptr)`: `ZERO_SIZE_PTR` is ignored; a pointer kmalloc
/// did not return (or already freed) is refused with an error message.
///
/// # Safety
/// `ptr` must come from [`kmalloc`] and not have been freed (the checks
/// catch common mistakes, not all: a small block's header may have been
/// overwritten by its owner).
pub unsafe fn kfree(ptr: NonNull<u8>) {
    // SAFETY: forwarded contract.
    if unsafe { try_kfree(ptr) }.is_err() {
        crate::pr_err!(
            "kfree: {:#010x} was not allocated by kmalloc",
            ptr.as_ptr() as usize
        );
    }
}

/// [`kfree`] returning the refusal instead of printing it.
///
/// # Safety
/// As [`kfree`].
pub unsafe fn try_kfree(ptr: NonNull<u8>) -> Result<(), KfreeError> {
    let addr = ptr.as_ptr() as usize;
    if addr == ZERO_SIZE_PTR {
        return Ok(());
    }
    // SAFETY: forwarded contract.
    match unsafe { find_block(addr) }? {
        Block::Small {
            header,
            start,
            layout,
            ..
        } => {
            // SAFETY: `find_block` checked the header lies in a live
            // region; the magic marks the block freed from now on.
            unsafe { (header as *mut u32).add(1).write(KMALLOC_FREED) };
            // SAFETY: the header says kmalloc (or kmalloc_aligned) made the
            // block at `start` with `layout`, in this region.
            unsafe {
                HEAP.lock()
                    .dealloc_small(NonNull::new_unchecked(start as *mut u8), layout)
            };
            Ok(())
        }
        Block::Large { order } if free_large(ptr, order) => Ok(()),
        Block::Large { .. } => Err(KfreeError::NotAllocated),
    }
}

/// Linux's `ksize(ptr)`: the bytes usable at a kmalloc block (what was
/// asked for a small block, whole pages for a large one); 0 for NULL,
/// `ZERO_SIZE_PTR` or a pointer kmalloc did not return.
///
/// # Safety
/// As [`kfree`], but nothing is freed: `ptr` is NULL or came from
/// [`kmalloc`] / [`kmalloc_aligned`] and was not freed.
pub unsafe fn ksize(ptr: *const u8) -> usize {
    let addr = ptr as usize;
    if addr <= ZERO_SIZE_PTR {
        return 0;
    }
    // SAFETY: forwarded contract.
    match unsafe { find_block(addr) } {
        Ok(Block::Small { usable, .. }) => usable,
        Ok(Block::Large { order }) => PAGE << order,
        Err(_) => 0,
    }
}

/// A live kmalloc block, as [`find_block`] found it.
enum Block {
    /// In a region: its header's address, where the block starts, its
    /// layout, the bytes the caller asked for.
    Small {
        header: usize,
        start: usize,
        layout: Layout,
        usable: usize,
    },
    /// Whole pages of this order.
    Large { order: usize },
}

/// The kmalloc block at `addr`, after every check `kfree` makes.
///
/// # Safety
/// `addr` is a pointer a caller hands to `kfree` (the checks catch common
/// mistakes, not all: see [`kfree`]).
unsafe fn find_block(addr: usize) -> Result<Block, KfreeError> {
    let pfn = pfn_of(addr);
    let base = pfn & !((1 << REGION_ORDER) - 1);
    let region = super::page_alloc::page_info(base).filter(|p| {
        p.state() == PageState::Allocated && p.order() == REGION_ORDER && p.flags() & PG_SLAB != 0
    });
    if region.is_some() {
        // A small block: its header is in the same region (the header
        // never crosses the region's start, which holds Region).
        if addr & (REGION_SIZE - 1) < REGION_HEADER + HEADER {
            return Err(KfreeError::NotAllocated);
        }
        let block = addr - HEADER;
        // SAFETY: `block` lies in a live region (lowmem, mapped), 8 bytes
        // inside it as checked above.
        let (total, magic) = unsafe {
            (
                (block as *const u32).read(),
                (block as *const u32).add(1).read(),
            )
        };
        // A block of kmalloc_aligned starts `1 << shift` bytes before
        // `addr` (its header still ends at `addr`).
        let (start, align, max) = if magic == KMALLOC_MAGIC {
            (block, HEADER, KMALLOC_MAX_CACHE_SIZE + HEADER)
        } else if magic & !0xff == KMALLOC_MAGIC_ALIGNED && ALIGNED_SHIFTS.contains(&(magic & 0xff))
        {
            let align = 1usize << (magic & 0xff);
            (addr.wrapping_sub(align), align, KMALLOC_MAX_CACHE_SIZE)
        } else {
            return Err(KfreeError::NotAllocated);
        };
        let layout =
            Layout::from_size_align(total as usize, align).map_err(|_| KfreeError::NotAllocated)?;
        if !(align + 1..=max).contains(&(total as usize))
            || !addr.is_multiple_of(align)
            || start & !(REGION_SIZE - 1) != addr & !(REGION_SIZE - 1)
            || start & (REGION_SIZE - 1) < REGION_HEADER
        {
            return Err(KfreeError::NotAllocated);
        }
        return Ok(Block::Small {
            header: block,
            start,
            layout,
            usable: total as usize - align,
        });
    }
    let large = super::page_alloc::page_info(pfn).filter(|p| {
        addr.is_multiple_of(PAGE) && p.state() == PageState::Allocated && p.flags() & PG_HEAD != 0
    });
    match large {
        Some(p) => Ok(Block::Large { order: p.order() }),
        None => Err(KfreeError::NotAllocated),
    }
}
