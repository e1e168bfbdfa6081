//! The Cortex-A9 MPCore's interrupt controller, a GIC v1 (ARM IHI 0048B;
//! Cortex-A9 MPCore TRM, 1.5 "Private memory region"): the *distributor*
//! at periphbase + 0x1000 takes the device lines and forwards the enabled,
//! highest-priority pending one to the *CPU interface* at periphbase +
//! 0x100, which raises the CPU's IRQ. Linux: drivers/irqchip/irq-gic.c
//! (`gic_dist_init`, `gic_cpu_init`, `gic_handle_irq`, `gic_mask_irq`).
//!
//! periphbase is what the CPU reports in CBAR (cp15 c15, op1 4; Linux's
//! `scu_a9_get_base`); on QEMU's vexpress-a9 it is 0x1e000000
//! (hw/arm/vexpress.c, `VE_MPCORE_PRIV`; the device tree's
//! `interrupt-controller@1e001000`). As Linux's `gic_of_init` does with
//! `of_iomap`, the two register blocks are `ioremap`ed one by one (the
//! distributor, then the CPU interface), so they show in
//! `/proc/vmallocinfo` as Linux's do.
//!
//! Every SPI is configured as Linux does: level-sensitive, priority 0xa0,
//! routed to CPU 0, disabled until a handler is requested. The CPU
//! interface lets through priorities above 0xf0 (PMR).

use super::memory::MPCORE_PRIV_PHYS;
use crate::errno::Errno;
use crate::mm::vmalloc::ioremap;
use crate::{pr_info, pr_warn};
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

/// Where the distributor and the CPU interface are mapped (set once by
/// [`init`], before any interrupt can be taken; Linux's
/// `gic_data[0].dist_base` / `cpu_base`).
static DIST_BASE: AtomicU32 = AtomicU32::new(0);
static CPU_BASE: AtomicU32 = AtomicU32::new(0);

// Distributor registers (IHI 0048B, 4.3).
const GICD_CTLR: u32 = 0x000;
const GICD_TYPER: u32 = 0x004;
const GICD_ISENABLER: u32 = 0x100;
const GICD_ICENABLER: u32 = 0x180;
const GICD_ICPENDR: u32 = 0x280;
const GICD_IPRIORITYR: u32 = 0x400;
const GICD_ITARGETSR: u32 = 0x800;
const GICD_ICFGR: u32 = 0xc00;
// CPU interface registers (IHI 0048B, 4.4).
const GICC_CTLR: u32 = 0x00;
const GICC_PMR: u32 = 0x04;
const GICC_IAR: u32 = 0x0c;
const GICC_EOIR: u32 = 0x10;

/// The CPU interface's offset in the MPCore private region.
pub const CPU_OFFSET: u32 = 0x100;
/// The distributor's.
pub const DIST_OFFSET: u32 = 0x1000;
/// Linux's `GICD_INT_DEF_PRI` (0xa0), four at a time.
const DEF_PRI_X4: u32 = 0xa0a0_a0a0;

fn dist(offset: u32) -> *mut u32 {
    (DIST_BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

fn cpu(offset: u32) -> *mut u32 {
    (CPU_BASE.load(Ordering::Relaxed) + offset) as *mut u32
}

/// CBAR: the MPCore private region's physical base (Cortex-A9 TRM 4.3.24).
fn cbar() -> u32 {
    let v: u32;
    // SAFETY: reading CBAR has no side effect.
    unsafe {
        core::arch::asm!("mrc p15, 4, {}, c15, c0, 0", out(reg) v, options(nomem, nostack, preserves_flags))
    };
    v & 0xffff_8000
}

/// Maps the GIC and initialises it with every line masked; returns the
/// number of interrupt IDs it implements (GICD_TYPER).
#[unsafe(link_section = ".init.text")]
pub fn init() -> Result<u32, Errno> {
    let base = match cbar() {
        0 => MPCORE_PRIV_PHYS,
        b if b != MPCORE_PRIV_PHYS => {
            pr_warn!(
                "GIC: CBAR says periphbase {b:#010x}, the board map {MPCORE_PRIV_PHYS:#010x}; using CBAR"
            );
            b
        }
        b => b,
    };
    // The device tree's `reg` order: the distributor's 4 KB, then the CPU
    // interface's 256 bytes (each rounded to its page by `ioremap`).
    let caller = init as *const () as u32;
    let d = ioremap(base + DIST_OFFSET, 0x1000, caller)?;
    let c = match ioremap(base + CPU_OFFSET, 0x100, caller) {
        Ok(c) => c,
        Err(e) => {
            // Linux's `iounmap`: the area is the distributor's page.
            if let Err(e) = crate::mm::vmalloc::vfree(d) {
                pr_warn!("GIC: iounmap {d:#010x}: {}", e.name());
            }
            return Err(e);
        }
    };
    DIST_BASE.store(d, Ordering::Relaxed);
    CPU_BASE.store(c, Ordering::Relaxed);
    // The registers are written straight from the bases `d` and `c` (not
    // through `dist`/`cpu`, which reload them for every write).
    // SAFETY: `base` is `d` or `c`, mapped as device memory just above and
    // `offset` within its block; only this driver touches them, with IRQs
    // masked during boot.
    let w =
        |base: u32, offset: u32, v: u32| unsafe { write_volatile((base + offset) as *mut u32, v) };
    let dist_w = |offset, v| w(d, offset, v);
    let cpu_w = |offset, v| w(c, offset, v);
    dist_w(GICD_CTLR, 0);
    // SAFETY: as for `dist_w`; reading TYPER has no side effect.
    let typer = unsafe { read_volatile((d + GICD_TYPER) as *const u32) };
    let lines = (((typer & 0x1f) + 1) * 32).min(1020);
    // gic_dist_config: SPIs level-triggered, default priority, all to CPU
    // 0, all disabled. Plain loops over the register offsets: `step_by`
    // was ~20 more guest instructions for QEMU to translate at boot.
    let mut i = 32;
    while i < lines {
        dist_w(GICD_ICFGR + i / 4, 0); // 16 lines a register
        i += 16;
    }
    let mut i = 32;
    while i < lines {
        dist_w(GICD_ITARGETSR + i, 0x0101_0101); // 4 lines a register
        dist_w(GICD_IPRIORITYR + i, DEF_PRI_X4);
        i += 4;
    }
    let mut i = 32;
    while i < lines {
        dist_w(GICD_ICENABLER + i / 8, 0xffff_ffff); // 32 lines a register
        i += 32;
    }
    // gic_cpu_config: the banked PPIs off, SGIs on, default priority.
    dist_w(GICD_ICENABLER, 0xffff_0000);
    dist_w(GICD_ISENABLER, 0x0000_ffff);
    let mut i = 0;
    while i < 32 {
        dist_w(GICD_IPRIORITYR + i, DEF_PRI_X4);
        i += 4;
    }
    cpu_w(GICC_PMR, 0xf0);
    cpu_w(GICC_CTLR, 1);
    dist_w(GICD_CTLR, 1);
    pr_info!(
        "GIC: {} interrupt lines, distributor at {:#010x}, CPU interface at {:#010x}",
        lines,
        base + DIST_OFFSET,
        base + CPU_OFFSET
    );
    Ok(lines)
}

/// Enables `irq` at the distributor (Linux's `gic_unmask_irq`).
pub fn unmask(irq: u32) {
    // SAFETY: mapped by `init`; ISENABLER bits only enable, one line each;
    // the index is bounded by the table's nr_irqs (at most 1020 lines).
    unsafe { write_volatile(dist(GICD_ISENABLER + (irq / 32) * 4), 1 << (irq % 32)) };
}

/// Disables `irq` at the distributor (Linux's `gic_mask_irq`).
pub fn mask(irq: u32) {
    // SAFETY: as in `unmask`, with ICENABLER.
    unsafe {
        write_volatile(
            dist(GICD_ICENABLER + ((irq & 0x3ff) / 32) * 4),
            1 << (irq % 32),
        )
    };
}

/// Whether [`init`] has mapped the GIC (before that, and if it failed,
/// nothing here may be called).
pub fn ready() -> bool {
    DIST_BASE.load(Ordering::Relaxed) != 0
}

/// Clears `irq`'s pending state at the distributor (GICD_ICPENDR). For a
/// level-sensitive line the distributor latches pending when the line
/// rises while enabled; a line used only as a wake-up source (never
/// acknowledged) is cleared this way once it is masked again.
pub fn clear_pending(irq: u32) {
    // SAFETY: as in `mask`, with ICPENDR (write-1-to-clear, one line each).
    unsafe {
        write_volatile(
            dist(GICD_ICPENDR + ((irq & 0x3ff) / 32) * 4),
            1 << (irq % 32),
        )
    };
}

/// Reads GICC_IAR: acknowledges the highest pending interrupt and returns
/// the raw value (ID in bits 0-9; 1023 spurious).
pub fn ack() -> u32 {
    // SAFETY: mapped by `init`; reading IAR activates the interrupt it
    // returns, which the caller ends with `eoi`.
    unsafe { read_volatile(cpu(GICC_IAR)) }
}

/// Writes GICC_EOIR with what `ack` returned: the interrupt is no longer
/// active.
pub fn eoi(iar: u32) {
    // SAFETY: mapped by `init`; `iar` came from `ack`.
    unsafe { write_volatile(cpu(GICC_EOIR), iar) };
}
