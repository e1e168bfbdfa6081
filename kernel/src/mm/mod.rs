//! Memory management: the layout (kobold-layout), boot-time bookkeeping
//! (memblock), the translation tables (pgtable), the allocators (buddy
//! page allocator, heap, vmalloc/vmap, highmem's kmap), fault injection
//! and, on the target, the code that edits the live tables.
//!
//! `init` (target only) sets it all up at boot and keeps the global memory state (the
//! layout, memblock), as Linux's arch/arm/mm/init.c and mmu.c do. mm is
//! below init and the shell: nothing here imports them.
pub mod buddy;
pub mod fault_inject;
pub mod fixmap;
#[cfg(target_arch = "arm")]
pub mod heap;
pub mod highmem;
#[cfg(target_arch = "arm")]
pub mod init;
pub mod memblock;
#[cfg(target_arch = "arm")]
pub mod page_alloc;
pub mod pgtable;
#[cfg(target_arch = "arm")]
pub mod sections;
#[cfg(target_arch = "arm")]
pub mod vmalloc;
pub mod vmap;

#[cfg(target_arch = "arm")]
mod live;
#[cfg(target_arch = "arm")]
pub use live::*;
