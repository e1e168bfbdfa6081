//! The fixed constants of the 3.18 layout and the linear-map conversions.
//!
//! These are compile-time values in Linux: `#define`s in
//! arch/arm/include/asm/{memory.h, pgtable.h, pgtable-2level.h, highmem.h,
//! fixmap.h}, `.equ`s in arch/arm/kernel/head.S, or Kconfig values
//! (`CONFIG_PAGE_OFFSET`, `CONFIG_VECTORS_BASE`). The configuration they
//! describe is ARMv7, ARM (not Thumb-2) kernel, no LPAE, `VMSPLIT_3G`.
//!
//! The `const _: () = assert!(..)` blocks at the end restate the build-time
//! checks Linux makes on these values, so a wrong edit fails to compile.

/// log2 of the page size: 4 KiB pages (asm/page.h).
pub const PAGE_SHIFT: u32 = 12;
/// The page size, 4 KiB.
pub const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;

/// log2 of a first-level section: 1 MiB (pgtable-2level.h). `map_lowmem`
/// maps RAM with sections, and memblock's 3.18 allocation limit is rounded
/// down to one.
pub const SECTION_SHIFT: u32 = 20;
/// The section size, 1 MiB.
pub const SECTION_SIZE: u32 = 1 << SECTION_SHIFT;

/// log2 of what Linux calls a PMD: 2 MiB (pgtable-2level.h). Linux's pgd
/// entry is a *pair* of hardware L1 entries, so its tables work in 2 MiB
/// steps; the pkmap area is one such step.
pub const PMD_SHIFT: u32 = 21;
/// The PMD size, 2 MiB.
pub const PMD_SIZE: u32 = 1 << PMD_SHIFT;

/// Start of the kernel's half of the address space (`CONFIG_PAGE_OFFSET`
/// with `VMSPLIT_3G`): user space gets the low 3 GiB.
pub const PAGE_OFFSET: u32 = 0xc000_0000;

/// Offset of the kernel image from the start of RAM (arch/arm/Makefile
/// `textofs-y := 0x00008000`). The 32 KiB below it hold the boot
/// parameters (ATAGs at +0x100) and the first-level page table.
pub const TEXT_OFFSET: u32 = 0x8000;

/// Physical address of the start of RAM on QEMU's vexpress-a9 (its
/// `loader_start`, hw/arm/vexpress.c).
///
/// This is a board fact, not a Linux one. Linux learns it at boot
/// (`CONFIG_ARM_PATCH_PHYS_VIRT` patches the kernel with it), while Kobold
/// only runs on this board and fixes it at build time.
pub const PHYS_OFFSET: u32 = 0x6000_0000;

/// Virtual address the kernel image is linked at (head.S).
pub const KERNEL_RAM_VADDR: u32 = PAGE_OFFSET + TEXT_OFFSET;
/// Physical address the kernel image runs from (head.S).
pub const KERNEL_RAM_PADDR: u32 = PHYS_OFFSET + TEXT_OFFSET;

/// Size of the first-level page table: 4096 four-byte entries (head.S,
/// non-LPAE).
pub const PG_DIR_SIZE: u32 = 0x4000;

/// Virtual address of the kernel's first-level page table,
/// `swapper_pg_dir` (head.S: `.equ swapper_pg_dir, KERNEL_RAM_VADDR -
/// PG_DIR_SIZE`): the 16 KiB just below the kernel image, 0xc0004000.
pub const SWAPPER_PG_DIR: u32 = KERNEL_RAM_VADDR - PG_DIR_SIZE;

/// End of user space (memory.h: `PAGE_OFFSET - SZ_16M`). User space stops
/// where the module area begins.
pub const TASK_SIZE: u32 = PAGE_OFFSET - 16 * MIB;

/// Start of the module area (memory.h: `PAGE_OFFSET - SZ_16M`).
///
/// Modules are placed within 16 MiB of the kernel text because an ARM `BL`
/// reaches only ±32 MiB. Any module can then call the kernel without
/// veneers. (A Thumb-2 kernel uses `PAGE_OFFSET - SZ_8M`; Kobold is not
/// Thumb-2.)
pub const MODULES_VADDR: u32 = PAGE_OFFSET - 16 * MIB;

/// Start of the pkmap area, the `kmap()` window for highmem pages
/// (highmem.h: `PAGE_OFFSET - PMD_SIZE`). It exists only with
/// `CONFIG_HIGHMEM`, and then the module area gives up its top 2 MiB (see
/// [`modules_end`]).
pub const PKMAP_BASE: u32 = PAGE_OFFSET - PMD_SIZE;

/// Number of pkmap slots (highmem.h: `PTRS_PER_PTE`): one second-level
/// table's worth, so the area is exactly one PMD, 0xbfe00000-0xc0000000.
pub const LAST_PKMAP: usize = 512;

/// The guard gap between lowmem and vmalloc, and the alignment of
/// `VMALLOC_START` (pgtable.h: `8*1024*1024`).
pub const VMALLOC_OFFSET: u32 = 8 * MIB;

/// End (exclusive) of the vmalloc area (pgtable.h, 3.18: `0xff000000UL`;
/// later kernels moved it to 0xff800000).
pub const VMALLOC_END: u32 = 0xff00_0000;

/// Start of the fixmap, the `kmap_atomic()` slots (fixmap.h, 3.15-3.18).
pub const FIXADDR_START: u32 = 0xffc0_0000;
/// End (exclusive) of the fixmap (fixmap.h, 3.15-3.18): 512 slots, 2 MiB.
pub const FIXADDR_TOP: u32 = 0xffe0_0000;

/// The high vector page (`CONFIG_VECTORS_BASE`). `mem_init` reports one
/// page here; Linux also maps the stubs page at 0xffff1000.
pub const VECTORS_BASE: u32 = 0xffff_0000;

/// The default lowest `VMALLOC_START` (mmu.c: `vmalloc_min =
/// VMALLOC_END - (240 << 20) - VMALLOC_OFFSET`), 0xef800000.
///
/// This guarantees 240 MiB of vmalloc space after the 8 MiB hole, and is
/// why lowmem stops at 760 MiB: `0xef800000 - PAGE_OFFSET` is 760 MiB.
pub const VMALLOC_MIN_DEFAULT: u32 = VMALLOC_END - (240 << 20) - VMALLOC_OFFSET;

/// The most RAM QEMU's vexpress-a9 can model (hw/arm/vexpress.c: "cannot
/// model more than 1GB RAM"). This is a board limit for the tools; the
/// split itself accepts any RAM below 4 GiB, as Linux does.
pub const MAX_RAM_BYTES: u64 = 1 << 30;

/// The smallest vmalloc area `vmalloc=` accepts (mmu.c `early_vmalloc`:
/// `SZ_16M`).
pub const VMALLOC_RESERVE_MIN: u32 = 16 * MIB;

/// The largest vmalloc area `vmalloc=` accepts (mmu.c `early_vmalloc`:
/// `VMALLOC_END - (PAGE_OFFSET + SZ_32M)`), 976 MiB. It keeps at least
/// 32 MiB of lowmem for the kernel image and its early allocations.
pub const VMALLOC_RESERVE_MAX: u32 = VMALLOC_END - (PAGE_OFFSET + 32 * MIB);

/// End (exclusive) of the module area (memory.h `MODULES_END`).
///
/// With `CONFIG_HIGHMEM` the top PMD of the module area is the pkmap area,
/// so modules end at `PAGE_OFFSET - PMD_SIZE` (14 MiB of modules); without
/// it they run up to `PAGE_OFFSET` (16 MiB).
pub const fn modules_end(highmem: bool) -> u32 {
    if highmem {
        PAGE_OFFSET - PMD_SIZE
    } else {
        PAGE_OFFSET
    }
}

/// The linear-map address of a lowmem physical address (memory.h
/// `__phys_to_virt`: `x - PHYS_OFFSET + PAGE_OFFSET`).
///
/// The arithmetic wraps, as `unsigned long` arithmetic does in C. The
/// result is meaningful only for lowmem, i.e. for `p` in
/// `[PHYS_OFFSET, Layout::arm_lowmem_limit())`.
pub const fn phys_to_virt(p: u32) -> u32 {
    p.wrapping_sub(PHYS_OFFSET).wrapping_add(PAGE_OFFSET)
}

/// The physical address behind a linear-map virtual address (memory.h
/// `__virt_to_phys`: `x - PAGE_OFFSET + PHYS_OFFSET`).
///
/// The arithmetic wraps, as in C. The result is meaningful only for
/// addresses in `[PAGE_OFFSET, Layout::high_memory())`.
pub const fn virt_to_phys(v: u32) -> u32 {
    v.wrapping_sub(PAGE_OFFSET).wrapping_add(PHYS_OFFSET)
}

/// One mebibyte, for writing the constants above as Linux writes them.
const MIB: u32 = 1 << 20;

// head.S: "#error KERNEL_RAM_VADDR must start at 0xXXXX8000".
const _: () = assert!(KERNEL_RAM_VADDR & 0xffff == 0x8000);
// mem_init: BUILD_BUG_ON(TASK_SIZE > MODULES_VADDR).
const _: () = assert!(TASK_SIZE <= MODULES_VADDR);
// mem_init (HIGHMEM): BUG_ON(PKMAP_BASE + LAST_PKMAP * PAGE_SIZE > PAGE_OFFSET),
// and the pkmap area is exactly what MODULES_END leaves out.
const _: () = assert!(PKMAP_BASE + LAST_PKMAP as u32 * PAGE_SIZE == PAGE_OFFSET);
const _: () = assert!(modules_end(true) == PKMAP_BASE);
// The fixed areas above vmalloc do not overlap.
const _: () = assert!(VMALLOC_END <= FIXADDR_START && FIXADDR_TOP <= VECTORS_BASE);
// The default and the vmalloc= clamps give the values the logs show.
const _: () = assert!(VMALLOC_MIN_DEFAULT == 0xef80_0000);
const _: () = assert!(VMALLOC_RESERVE_MAX == 976 * MIB);
// The page table sits in the RAM below the kernel image.
const _: () = assert!(SWAPPER_PG_DIR == 0xc000_4000 && SWAPPER_PG_DIR >= PAGE_OFFSET);
