//! Memory management: the layout (kobold-layout), boot-time bookkeeping
//! (memblock), the translation tables (pgtable), the allocators (buddy
//! page allocator, heap, vmalloc/vmap, highmem's kmap), fault injection
//! and, on the target, the code that edits the live tables.
//!
//! `init` (target only) sets it all up at boot and keeps the global memory state (the
//! layout, memblock), as Linux's arch/arm/mm/init.c and mmu.c do. mm is
//! below init and the shell: nothing here imports them.
//!
//! # Lock order
//!
//! Kobold runs on one CPU. Its interrupt handlers (the timer tick) take
//! only `irq::IRQS` and `PRINTK`, and everyone else takes those two with
//! IRQs masked (`arch::armv7::irqflags::without_irqs`), so a handler never
//! finds them held by what it interrupted, and takes no other lock. So a
//! lock can only deadlock against itself: code that holds lock A and calls
//! something that takes A again spins forever (`sync::Mutex` does not
//! nest). The global locks are
//! therefore taken in one order, outermost first; a function holding one
//! may call only what takes locks further down the list.
//!
//! 1. `module::MODULES` and `fs::ROOTFS` (never nested in each other).
//!    `MODULES` is held while a module is prepared and freed (it calls
//!    `module_alloc`/`vfree`, the heap, `protect_range`, printk), but *not*
//!    while the module's init or exit runs, as in Linux, so those may use
//!    every export. `ROOTFS` is released by `fs::with_file` before its
//!    closure runs, so `insmod` reads its file without it; `read_file_pages`,
//!    `list` and the boot-time unpacking hold it while they work (kmap,
//!    vmap, the heap, the page allocator, printk, and their output, which
//!    goes to the console without a lock).
//! 2. `VM` (`mm::vmalloc`: the vm-area list and both vmap windows). Held
//!    while an area is reserved or freed: fault injection, the heap (the
//!    area list and the vmap arena are vectors), the page tables (`vfree`
//!    unmaps), the page allocator (`vfree` frees the pages), printk. Pages
//!    are taken and mapped *between* two short holds, not under it.
//! 3. `PKMAP` and the `kmap_atomic` slot count (`mm::highmem`): held while
//!    their slot is mapped, so they come before the page tables.
//! 4. `PGTABLE_LOCK` (`mm::live`: every table edit and the L2 supply).
//!    Takes the page allocator (and so fault injection) for a new
//!    second-level table. It and the heap never nest in each other.
//! 5. `HEAP` (`mm::heap`). Takes the page allocator (and so fault
//!    injection) to grow by a region or to give one back. The heap's own
//!    `failslab` check is made before `HEAP` is taken.
//! 6. The fault-injection `STATE` (`mm::fault_inject`): a leaf; its notice
//!    is printed after it is released.
//! 7. `PAGE_ALLOC` (`mm::page_alloc`): a leaf; `alloc_pages` consults fault
//!    injection before taking it.
//! 8. `IRQS` (`irq`, the handler registry): a leaf, taken with IRQs
//!    masked; the handlers run after it is released.
//! 9. `PRINTK` (`console::printk`), innermost, taken with IRQs masked:
//!    anything above may print while holding its lock, so printk takes no
//!    other lock and allocates nothing (a static ring and a fixed-size
//!    prefix; the console is written directly). What a message formats must
//!    not take a lock either.
//!
//! `MEMBLOCK` (`mm::init`) is a boot-time lock above the page allocator
//! (`bootmem_init` builds the buddy system from it). The oops path cannot
//! wait for a lock the faulting code may hold: it breaks `PRINTK`'s
//! (`bust_locks`, Linux's `bust_spinlocks`) and only `try_lock`s `MODULES`.
pub mod buddy;
pub mod fault_inject;
pub mod fixmap;
#[cfg(target_arch = "arm")]
pub mod heap;
pub mod highmem;
#[cfg(target_arch = "arm")]
pub mod init;
pub mod kmalloc_caches;
pub mod memblock;
#[cfg(target_arch = "arm")]
pub mod page_alloc;
pub mod pgtable;
#[cfg(target_arch = "arm")]
pub mod sections;
pub mod vm_areas;
#[cfg(target_arch = "arm")]
pub mod vmalloc;
pub mod vmap;

#[cfg(target_arch = "arm")]
mod live;
#[cfg(target_arch = "arm")]
pub use live::*;
