//! CP15 operations `aarch32-cpu` does not provide, in its style (the
//! `SysReg` encoding traits), plus the barrier-wrapped TLB and cache
//! maintenance sequences the kernel needs (ARM ARM B3.10 "TLB maintenance
//! requirements", B3.11 "Caches and memory hierarchy").

use aarch32_cpu::register::{SysReg, SysRegRead, SysRegWrite};

/// TTBCR (*Translation Table Base Control Register*), B4.1.153.
pub struct Ttbcr;
impl SysReg for Ttbcr {
    const CP: u32 = 15;
    const CRN: u32 = 2;
    const OP1: u32 = 0;
    const CRM: u32 = 0;
    const OP2: u32 = 2;
}
impl SysRegRead for Ttbcr {}

/// TLBIMVA (*invalidate unified TLB entry by MVA and ASID*), B4.2.3.
pub struct Tlbimva;
impl SysReg for Tlbimva {
    const CP: u32 = 15;
    const CRN: u32 = 8;
    const OP1: u32 = 0;
    const CRM: u32 = 7;
    const OP2: u32 = 1;
}
impl SysRegWrite for Tlbimva {}

/// TLBIALL (*invalidate entire unified TLB*).
pub struct Tlbiall;
impl SysReg for Tlbiall {
    const CP: u32 = 15;
    const CRN: u32 = 8;
    const OP1: u32 = 0;
    const CRM: u32 = 7;
    const OP2: u32 = 0;
}
impl SysRegWrite for Tlbiall {}

/// BPIALL (*invalidate all branch predictors*).
pub struct Bpiall;
impl SysReg for Bpiall {
    const CP: u32 = 15;
    const CRN: u32 = 7;
    const OP1: u32 = 0;
    const CRM: u32 = 5;
    const OP2: u32 = 6;
}
impl SysRegWrite for Bpiall {}

#[inline(always)]
fn dsb() {
    #[cfg(target_arch = "arm")]
    // SAFETY: a barrier has no operands and no effect on memory safety.
    unsafe {
        core::arch::asm!("dsb", options(nostack, preserves_flags))
    };
}

#[inline(always)]
fn isb() {
    #[cfg(target_arch = "arm")]
    // SAFETY: as for `dsb`.
    unsafe {
        core::arch::asm!("isb", options(nostack, preserves_flags))
    };
}

/// Makes a changed translation-table entry for `virt` take effect: the
/// table write must complete before the TLB invalidate, which must complete
/// before anything uses the new mapping (ARM ARM B3.10.1; Linux's
/// `flush_pmd_entry` + `local_flush_tlb_kernel_page`). Cortex-A9 table walks
/// are coherent with its data cache, so no cache clean is needed.
pub fn flush_tlb_kernel_page(virt: u32) {
    dsb();
    // SAFETY: invalidating a TLB entry only makes the MMU re-read the table;
    // the table itself is valid by the caller's contract.
    unsafe { <Tlbimva as SysRegWrite>::write_raw(virt & !0xfff) };
    // SAFETY: invalidating branch predictors is always safe.
    unsafe { <Bpiall as SysRegWrite>::write_raw(0) };
    dsb();
    isb();
}

/// Invalidates the whole TLB (after removing the boot identity map).
pub fn flush_tlb_all() {
    dsb();
    // SAFETY: as in `flush_tlb_kernel_page`.
    unsafe { <Tlbiall as SysRegWrite>::write_raw(0) };
    // SAFETY: invalidating branch predictors is always safe.
    unsafe { <Bpiall as SysRegWrite>::write_raw(0) };
    dsb();
    isb();
}

/// ICIALLU (*invalidate all instruction caches to PoU*).
pub struct Iciallu;
impl SysReg for Iciallu {
    const CP: u32 = 15;
    const CRN: u32 = 7;
    const OP1: u32 = 0;
    const CRM: u32 = 5;
    const OP2: u32 = 0;
}
impl SysRegWrite for Iciallu {}

/// After cleaning the data cache for new code: wait for the cleans, drop
/// every stale instruction and prediction, and resynchronise the pipeline.
pub fn flush_icache_all() {
    dsb();
    // SAFETY: invalidating the instruction cache never loses data.
    unsafe { <Iciallu as SysRegWrite>::write_raw(0) };
    // SAFETY: invalidating branch predictors is always safe.
    unsafe { <Bpiall as SysRegWrite>::write_raw(0) };
    dsb();
    isb();
}
