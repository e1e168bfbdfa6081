//! Pulls in `boot.S` (the first instructions) and `entry.S` (the exception
//! vectors), and defines the absolute symbols `KOBOLD_*` that the assembly
//! loads its constants from — so every number has one home in Rust:
//! kobold-layout for the memory layout, `mm::pgtable` for descriptor bits,
//! `board::vexpress_a9::memory` for device addresses.

use crate::board::vexpress_a9::memory::{MB_PERIPH_PHYS, MB_PERIPH_VIRT};
use crate::mm::pgtable;
use kobold_layout as layout;

core::arch::global_asm!(
    ".globl KOBOLD_PAGE_OFFSET\n .set KOBOLD_PAGE_OFFSET, {page_offset}",
    ".globl KOBOLD_PHYS_OFFSET\n .set KOBOLD_PHYS_OFFSET, {phys_offset}",
    ".globl KOBOLD_KERNEL_RAM_PADDR\n .set KOBOLD_KERNEL_RAM_PADDR, {ram_paddr}",
    ".globl KOBOLD_PMD_SECT_KERNEL\n .set KOBOLD_PMD_SECT_KERNEL, {sect_kernel}",
    ".globl KOBOLD_PMD_SECT_DEVICE\n .set KOBOLD_PMD_SECT_DEVICE, {sect_device}",
    ".globl KOBOLD_DEBUG_LL_PHYS\n .set KOBOLD_DEBUG_LL_PHYS, {debug_phys}",
    ".globl KOBOLD_DEBUG_LL_VIRT\n .set KOBOLD_DEBUG_LL_VIRT, {debug_virt}",
    ".globl KOBOLD_TTB_FLAGS\n .set KOBOLD_TTB_FLAGS, {ttb_flags}",
    ".globl KOBOLD_DACR\n .set KOBOLD_DACR, {dacr}",
    ".globl KOBOLD_PRRR\n .set KOBOLD_PRRR, {prrr}",
    ".globl KOBOLD_NMRR\n .set KOBOLD_NMRR, {nmrr}",
    ".globl KOBOLD_SCTLR_CLEAR\n .set KOBOLD_SCTLR_CLEAR, {sctlr_clear}",
    ".globl KOBOLD_SCTLR_SET\n .set KOBOLD_SCTLR_SET, {sctlr_set}",
    page_offset = const layout::PAGE_OFFSET,
    phys_offset = const layout::PHYS_OFFSET,
    ram_paddr = const layout::KERNEL_RAM_PADDR,
    sect_kernel = const pgtable::PMD_SECT_KERNEL,
    sect_device = const pgtable::PMD_SECT_DEVICE,
    debug_phys = const MB_PERIPH_PHYS,
    debug_virt = const MB_PERIPH_VIRT,
    ttb_flags = const pgtable::TTB_FLAGS,
    dacr = const pgtable::DACR,
    prrr = const pgtable::PRRR,
    nmrr = const pgtable::NMRR,
    sctlr_clear = const pgtable::SCTLR_CLEAR,
    sctlr_set = const pgtable::SCTLR_SET,
);

// The assembly itself, verbatim (`raw`: ARM register lists use braces).
core::arch::global_asm!(include_str!("../../../../boot.S"), options(raw));
core::arch::global_asm!(include_str!("entry.S"), options(raw));
