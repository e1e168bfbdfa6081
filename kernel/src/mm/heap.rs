//! The kernel heap: Rust's global allocator and Linux's `kmalloc`/`kfree`.
//!
//! Linux serves small kernel allocations from slab caches carved out of
//! pages; Kobold uses `linked_list_allocator` (a first-fit free list) behind
//! a `spin` lock over *regions* taken from the buddy allocator. When no
//! region has room, the heap grows by another block of lowmem pages
//! (GFP_KERNEL: a heap must be permanently mapped) — at least 64 KB, or the
//! request rounded up to a power-of-two number of pages. Allocation failure
//! is an error value (a null pointer from `GlobalAlloc`, `None` from
//! [`kmalloc`]), never a hang.
//!
//! `kmalloc` keeps the size in an 8-byte header before the block so that
//! `kfree(ptr)` needs no size, as in C.

use super::buddy::{Gfp, MAX_ORDER};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE, phys_to_virt};
use linked_list_allocator::Heap;
use spin::Mutex;

/// Most regions the heap can grow to.
const MAX_REGIONS: usize = 32;
/// Smallest growth step: 16 pages.
const MIN_GROW_ORDER: usize = 4;

struct Regions {
    heaps: [Heap; MAX_REGIONS],
    count: usize,
}

// SAFETY: the heaps' raw pointers refer to kernel lowmem owned by this
// allocator; all access is serialised by the mutex.
unsafe impl Send for Regions {}

static HEAP: Mutex<Regions> = Mutex::new(Regions {
    heaps: [const { Heap::empty() }; MAX_REGIONS],
    count: 0,
});

impl Regions {
    fn grow(&mut self, layout: Layout) -> Option<usize> {
        if self.count == MAX_REGIONS {
            return None;
        }
        // Room for the request plus the allocator's bookkeeping.
        let need = layout.size().checked_add(layout.align())?.checked_add(64)?;
        let pages = need.div_ceil(PAGE_SIZE as usize).next_power_of_two();
        let order = (pages.trailing_zeros() as usize).max(MIN_GROW_ORDER);
        if order >= MAX_ORDER {
            return None;
        }
        let pfn = super::page_alloc::alloc_pages(Gfp::KERNEL, order)?;
        let virt = phys_to_virt(pfn << PAGE_SHIFT) as *mut u8;
        let i = self.count;
        // SAFETY: the block is fresh from the page allocator, lowmem (so
        // mapped at `virt`), and from now on owned by this heap region.
        unsafe { self.heaps[i].init(virt, (1usize << order) * PAGE_SIZE as usize) };
        self.count += 1;
        Some(i)
    }

    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        for h in &mut self.heaps[..self.count] {
            if let Ok(p) = h.allocate_first_fit(layout) {
                return Some(p);
            }
        }
        let i = self.grow(layout)?;
        self.heaps[i].allocate_first_fit(layout).ok()
    }

    fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let owner = self.heaps[..self.count]
            .iter_mut()
            .find(|h| h.bottom() <= ptr && ptr < h.top());
        if let (Some(h), Some(p)) = (owner, NonNull::new(ptr)) {
            // SAFETY: `ptr` came from this region's allocate_first_fit with
            // `layout` (GlobalAlloc's contract).
            unsafe { h.deallocate(p, layout) };
        }
    }
}

/// Heap figures: bytes in use, bytes free inside the regions, regions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    pub used: usize,
    pub free: usize,
    pub regions: usize,
}

pub fn stats() -> HeapStats {
    let h = HEAP.lock();
    let live = &h.heaps[..h.count];
    HeapStats {
        used: live.iter().map(|r| r.used()).sum(),
        free: live.iter().map(|r| r.free()).sum(),
        regions: h.count,
    }
}

/// The global allocator behind `alloc::` collections in the kernel.
pub struct KernelHeap;

// SAFETY: `alloc` returns blocks from the locked first-fit heaps or null;
// `dealloc` hands them back to the region that owns them.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.lock()
            .alloc(layout)
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.lock().dealloc(ptr, layout);
    }
}

#[cfg(not(test))]
#[global_allocator]
static GLOBAL: KernelHeap = KernelHeap;

const HEADER: usize = 8;

/// Linux's `kmalloc(size, gfp)`: 8-byte aligned, `None` when out of memory.
pub fn kmalloc(size: usize, _gfp: Gfp) -> Option<NonNull<u8>> {
    let total = size.checked_add(HEADER)?;
    let layout = Layout::from_size_align(total, HEADER).ok()?;
    let block = HEAP.lock().alloc(layout)?;
    // SAFETY: the block is at least HEADER + size bytes, 8-byte aligned.
    unsafe {
        block.as_ptr().cast::<usize>().write(total);
        NonNull::new(block.as_ptr().add(HEADER))
    }
}

/// Linux's `kfree(ptr)`.
///
/// # Safety
/// `ptr` must come from [`kmalloc`] and not have been freed.
pub unsafe fn kfree(ptr: NonNull<u8>) {
    // SAFETY: per the contract the header sits HEADER bytes before `ptr`.
    unsafe {
        let block = ptr.as_ptr().sub(HEADER);
        let total = block.cast::<usize>().read();
        if let Ok(layout) = Layout::from_size_align(total, HEADER) {
            HEAP.lock().dealloc(block, layout);
        }
    }
}
