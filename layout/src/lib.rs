//! Linux 3.18's ARM32 virtual memory layout: the constants and the formulas.
//!
//! Kobold lays out its virtual address space exactly as a 32-bit ARM Linux
//! 3.18 kernel (non-LPAE, `VMSPLIT_3G`, 4 KiB pages) does on QEMU's
//! vexpress-a9. This crate is the one place where that layout is written
//! down. The kernel uses it at boot and the host tools (xtask, tests) use it
//! to predict what the kernel will print, so the two can never disagree.
//!
//! The crate is `no_std`, has no dependencies, never allocates and contains
//! no `unsafe` code. Every function is a pure computation over its
//! arguments.
//!
//! # The map, top to bottom (3.18, HIGHMEM, 1 GiB of RAM)
//!
//! | Virtual range             | What                         | Linux source                     |
//! |---------------------------|------------------------------|----------------------------------|
//! | `0xffff0000 - 0xffff1000` | vector page                  | `CONFIG_VECTORS_BASE`            |
//! | `0xffc00000 - 0xffe00000` | fixmap (kmap_atomic slots)   | asm/fixmap.h                     |
//! | `0xf0000000 - 0xff000000` | vmalloc                      | asm/pgtable.h                    |
//! | `0xc0000000 - 0xef800000` | lowmem (linear map of RAM)   | asm/memory.h, mm/mmu.c           |
//! | `0xbfe00000 - 0xc0000000` | pkmap (kmap), HIGHMEM only   | asm/highmem.h                    |
//! | `0xbf000000 - 0xbfe00000` | modules                      | asm/memory.h                     |
//!
//! # Where each piece comes from
//!
//! * The constants ([`PAGE_OFFSET`], [`MODULES_VADDR`], [`VMALLOC_END`],
//!   ...). These are compile-time facts of the 3.18 headers
//!   (arch/arm/include/asm/memory.h, pgtable.h, pgtable-2level.h,
//!   highmem.h, fixmap.h, arch/arm/kernel/head.S) plus one board fact,
//!   [`PHYS_OFFSET`].
//! * [`memparse`]: lib/cmdline.c `memparse`, the parser behind every
//!   size-valued command-line option.
//! * [`early_vmalloc`]: arch/arm/mm/mmu.c `early_vmalloc`, the `vmalloc=`
//!   option. It moves the boundary between lowmem and vmalloc.
//! * [`sanity_check_meminfo`] and [`compute`]: arch/arm/mm/mmu.c
//!   `sanity_check_meminfo` in its memblock form (3.16 to 4.0). It decides
//!   which RAM is lowmem (permanently mapped at `PAGE_OFFSET`), which is
//!   highmem (mapped on demand) and which is dropped, and from that where
//!   the vmalloc area starts.
//! * [`Layout::virtual_layout_lines`] and [`MemoryLine`]: what
//!   arch/arm/mm/init.c `mem_init` and mm/page_alloc.c
//!   `mem_init_print_info` print, byte for byte.
//!
//! # Why the boundary between lowmem and vmalloc moves
//!
//! Everything from `MODULES_VADDR` down to 0 belongs to user space, and
//! everything from `VMALLOC_END` up is fixed. That leaves 1008 MiB between
//! `PAGE_OFFSET` and `VMALLOC_END` to share between the linear map of RAM
//! (lowmem) and the vmalloc area. Linux gives lowmem as much RAM as it can,
//! but keeps at least 240 MiB of vmalloc space (plus the 8 MiB guard hole).
//! That is why lowmem stops at 760 MiB by default: 1008 - 240 - 8 = 760.
//! RAM beyond that is highmem, or is dropped when the kernel is built
//! without `CONFIG_HIGHMEM`. `vmalloc=` trades the two off the other way.
//!
//! The vmalloc area then starts at the first 8 MiB boundary strictly above
//! the end of lowmem (`VMALLOC_START` in pgtable.h), so an unmapped gap of
//! at most 8 MiB, never empty, separates the two. Stray accesses just past
//! the end of the linear map therefore fault instead of hitting a vmalloc
//! mapping.
//!
//! # Types
//!
//! Virtual addresses are `u32`, as they are `unsigned long` in Linux.
//! Physical addresses and sizes are `u64`. The physical addresses of
//! vexpress-a9 fit in 32 bits, but `base + size` of a 4 GiB-reaching bank
//! does not, and `u64` lets the input be checked instead of wrapping. Every
//! physical value a [`Layout`] holds has been checked to be below 4 GiB, as
//! a 32-bit `phys_addr_t` requires.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod constants;
mod mem_init;
mod memparse;
mod split;
mod vmalloc;

pub use constants::*;
pub use mem_init::{
    KernelSections, MemoryLine, MemorySizes, SizeUnit, VirtualLayoutLine, VirtualLayoutLines,
};
pub use memparse::{ParseError, memparse};
pub use split::{
    Layout, LayoutError, MAX_BANKS, MAX_NOTICES, MemRegion, Notice, compute, sanity_check_meminfo,
};
pub use vmalloc::{VmallocArg, VmallocWarning, early_vmalloc};

#[cfg(test)]
mod test;
