//! Memory management: the layout (kobold-layout), boot-time bookkeeping
//! (memblock), the translation tables (pgtable) and, on the target, the code
//! that edits the live tables.
//!
//! Issue-2 scope: lowmem sections, a small static pool of second-level tables
//! for the vector page and the fixmap, and fixmap slots for temporary
//! mappings (`devmem`). The buddy allocator, vmalloc and highmem arrive with
//! the memory-management work.
pub mod buddy;
pub mod fault_inject;
pub mod fixmap;
#[cfg(target_arch = "arm")]
pub mod heap;
pub mod highmem;
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
